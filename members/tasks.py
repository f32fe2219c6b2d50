"""Background jobs of the members app: the roster import, on a Celery worker or in process."""

import logging

from celery import shared_task

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
    finally:
        upload_stash.discard(token=token, filename=record.filename)
    return record.status


@shared_task(name="members.deliver_reminders")
def deliver_reminders(reminder_ids: list[int], message: str) -> int:
    """Send reminders already planned and logged (members.reminders); returns the failures.

    Without a broker it runs on a thread of the web process (pingyi.jobs).
    """
    from .reminders import deliver_reminders as deliver

    return sum(deliver(reminder_ids=reminder_ids, message=message).values())
