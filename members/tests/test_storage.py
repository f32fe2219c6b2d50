"""ID numbers and phones are encrypted at rest, found by keyed hash, and never logged."""

import logging

from django.db import connection

from conftest import fake_id_number
from members import crypto
from members.models import AuditAction, AuditEvent, Member
from members.selectors import member_by_id_number


def test_database_holds_no_id_number_or_phone_in_clear(roster):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_member")
        stored = repr(cursor.fetchall())

    assert fake_id_number(1) not in stored
    assert "13905141234" not in stored
    assert "3210**********" in stored  # the masked form is what people see


def test_member_is_found_by_id_number_and_decrypts(roster):
    member = member_by_id_number(fake_id_number(2))

    assert member.name == "王芳"
    assert member.id_number == fake_id_number(2)
    assert member.phone == "13905145678"


def test_rotated_key_still_decrypts_old_values(roster, settings):
    from cryptography.fernet import Fernet

    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    settings.PINGYI_FIELD_KEYS = [old]
    token = crypto.encrypt("13905141234")

    settings.PINGYI_FIELD_KEYS = [new, old]
    rotated = crypto.rotate(token)
    settings.PINGYI_FIELD_KEYS = [new]

    assert crypto.decrypt(rotated) == "13905141234"


def test_adding_a_member_is_audited_masked(roster):
    event = AuditEvent.objects.get(member=roster.li, action=AuditAction.ROSTER_CREATED)

    assert event.changes["id_number"] == ["", "3210**********" + fake_id_number(1)[-4:]]
    assert fake_id_number(1) not in repr(event.changes)


def test_log_records_are_masked(caplog):
    from pingyi.logfilters import MaskPersonalData

    logger = logging.getLogger("pingyi.test")
    handler_filter = MaskPersonalData()
    record = logger.makeRecord(
        "pingyi.test",
        logging.INFO,
        __file__,
        1,
        "会员 %s 手机 %s",
        (fake_id_number(1), "13905141234"),
        None,
    )

    handler_filter.filter(record)

    assert fake_id_number(1) not in record.getMessage()
    assert "13905141234" not in record.getMessage()
    assert "139****1234" in record.getMessage()


def test_member_count(roster):
    assert Member.objects.count() == 3


def test_registered_count_covers_the_subtree(roster):
    from django.utils import timezone

    from accounts.models import User
    from members.selectors import registered_count

    for member in (roster.li, roster.zhao):
        member.user = User.objects.create_user(username=f"m{member.pk}")
        member.registered_at = timezone.now()
        member.save()

    assert registered_count(roster.city) == 2
    assert registered_count(roster.town) == 1
    assert registered_count(roster.town_union_b) == 0
