"""Background jobs of the members app: the roster import, on a Celery worker or in process."""

import logging
import time

from celery import shared_task
from django.db import DatabaseError, connection
from django.utils.translation import gettext as _

from pingyi.spreadsheets import SpreadsheetError

from .models import ImportStatus, RosterImport
from .roster_import import RosterImportRefused, run_roster_import, upload_stash

logger = logging.getLogger(__name__)


@shared_task(name="members.import_roster")
def import_roster(import_id: int, token: str) -> str:
    """Run a confirmed roster import from its stashed upload; the record says how it ended.

    Without a broker (the embedded default) it runs on a thread of the web process (pingyi.jobs).
    """
    record = RosterImport.objects.select_related("parent", "imported_by").get(pk=import_id)
    if record.status != ImportStatus.RUNNING:
        # Handed out again after it ended (a worker lost before acknowledging it): done once.
        return record.status
    try:
        data = upload_stash.read(token=token, filename=record.filename)
        run_roster_import(record=record, data=data)
    except (SpreadsheetError, RosterImportRefused) as exc:
        if record.status == ImportStatus.RUNNING:  # the stash was gone before anything ran
            record.status, record.error = ImportStatus.FAILED, str(exc)
            record.save(update_fields=["status", "error"])
    except Exception:
        # Recorded as failed by run_roster_import; the log filter masks any personal data.
        logger.exception("名册导入 #%s 失败", import_id)
        _fail_if_still_running(import_id)
    finally:
        upload_stash.discard(token=token, filename=record.filename)
    return record.status


def _fail_if_still_running(import_id: int, *, tries: int = 10, pause: float = 3.0) -> None:
    """Record the failure that run_roster_import could not: when the database itself went away
    (a restart), its own write of "failed" went down with the connection and the record would
    say 导入中 for ever. Nothing of the roster was written (one transaction); a fresh connection
    records that, waiting while the database comes back (`make faults`, scenario a)."""
    for attempt in range(tries):
        try:
            connection.close_if_unusable_or_obsolete()
            RosterImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
                status=ImportStatus.FAILED,
                error=_("导入时数据库连接中断，未写入任何数据；请重新上传名册后再导入。"),
            )
            return
        except DatabaseError:
            if attempt + 1 == tries:
                logger.error("名册导入 #%s 的失败状态无法写入数据库", import_id)
                return
            time.sleep(pause)


@shared_task(name="members.deliver_reminders")
def deliver_reminders(reminder_ids: list[int], message: str) -> int:
    """Send reminders already planned and logged (members.reminders); returns the failures.

    Without a broker it runs on a thread of the web process (pingyi.jobs).
    """
    from .reminders import deliver_reminders as deliver

    return sum(deliver(reminder_ids=reminder_ids, message=message).values())
