"""A roster import whose database went away mid-way ends 失败 (failed), never 导入中 for ever.

`make faults` (scenario a) restarted PostgreSQL under an import: nothing was written (one
transaction), but run_roster_import's own write of "failed" went down with the connection and
the record said 导入中 (running) for good. The task now records the failure on a fresh connection.
"""

import pytest
from django.db import OperationalError

from members import tasks
from members.models import ImportStatus, Member
from members.roster_import import start_roster_import

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_cut_off_from_the_database_ends_failed_with_nothing_written(world, monkeypatch):
    record = start_roster_import(
        parent=world.city, filename="名册.csv", sha256="0" * 64, keep_valid=False, rows_total=3
    )
    monkeypatch.setattr(tasks.upload_stash, "read", lambda **kwargs: b"roster")
    monkeypatch.setattr(tasks.upload_stash, "discard", lambda **kwargs: None)

    def database_gone(*, record, data):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "run_roster_import", database_gone)
    tasks.import_roster(record.pk, "token")
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED
    assert "数据库连接中断，未写入任何数据" in record.error
    assert not Member.objects.exists()


def test_a_failure_already_recorded_is_kept(world, monkeypatch):
    record = start_roster_import(
        parent=world.city, filename="名册.csv", sha256="0" * 64, keep_valid=False, rows_total=3
    )
    monkeypatch.setattr(tasks.upload_stash, "read", lambda **kwargs: b"roster")
    monkeypatch.setattr(tasks.upload_stash, "discard", lambda **kwargs: None)

    def fails_and_says_why(*, record, data):
        record.status, record.error = ImportStatus.FAILED, "第 3 行：身份证号码校验位不正确"
        record.save(update_fields=["status", "error"])
        raise RuntimeError("refused")

    monkeypatch.setattr(tasks, "run_roster_import", fails_and_says_why)
    tasks.import_roster(record.pk, "token")
    record.refresh_from_db()
    assert record.error == "第 3 行：身份证号码校验位不正确"


def test_an_import_handed_out_again_after_it_ended_is_not_run_twice(world, monkeypatch):
    record = start_roster_import(
        parent=world.city, filename="名册.csv", sha256="0" * 64, keep_valid=False, rows_total=3
    )
    record.status = ImportStatus.DONE
    record.save(update_fields=["status"])
    ran = []
    monkeypatch.setattr(tasks, "run_roster_import", lambda **kwargs: ran.append(kwargs))
    assert tasks.import_roster(record.pk, "token") == ImportStatus.DONE
    assert ran == []
