"""Without a broker a confirmed import runs on a thread: the admin's page returns at once and
shows the import's progress until it is done."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import fake_id_number
from members.models import ImportStatus, Member, RosterImport
from members.tests.test_roster_import import HEADER, csv_bytes, row


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_confirmed_import_runs_on_a_thread_and_the_page_follows_it(
    world, transactional_db, client, media_root, settings
):
    settings.PINGYI_JOBS_IN_THREAD = True
    # The test database is SQLite in memory with a shared cache, where a write lock held by the
    # job's thread fails another writer at once instead of making it wait (a file database, as
    # `make run` uses, waits): keep the session off the database so that the request's own
    # session save cannot race the thread it has just started.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client.force_login(world.town_admin)
    rows = [row(f"会员{chr(0x4E00 + n)}", fake_id_number(n)) for n in range(1, 41)]
    preview = client.post(
        reverse("roster_imports:new"),
        {"parent": world.town.pk, "file": SimpleUploadedFile("名册.csv", csv_bytes(HEADER, *rows))},
    )

    confirmed = client.post(reverse("roster_imports:confirm"), {"token": preview.context["token"]})

    record = RosterImport.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("roster_imports:detail", args=[record.pk])
    deadline = time.monotonic() + 30
    while record.status == ImportStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        record.refresh_from_db()
    assert record.status == ImportStatus.DONE
    assert Member.objects.count() == 40
    page = client.get(confirmed["Location"]).content.decode()
    assert 'data-count="create">40<' in page
