"""Defects found in the security review of the members app, each pinned by a test."""

import logging

import pytest

from accounts.models import Role, RoleKind, User
from conftest import fake_id_number
from members.corrections import CorrectionError, approve_correction, file_correction
from members.models import CorrectionKind

pytestmark = pytest.mark.django_db


def _visitor_files_with_zhaos_id(w):
    # A visitor picks 真州镇中心小学工会 and types 赵明's ID number (赵明 is on the park's roster):
    # the request is linked to 赵明, who lies outside the town admin's subtree.
    return file_correction(
        kind=CorrectionKind.NAME_ID_MISMATCH,
        name="李华",
        id_number=fake_id_number(3),
        phone="13912340000",
        org=w.town_union_a,
    )


def test_correction_page_does_not_name_a_roster_member_outside_the_subtree(roster, login):
    w = roster
    request = _visitor_files_with_zhaos_id(w)

    page = login(w.town_admin).get(f"/console/members/corrections/{request.pk}/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "赵明" not in text
    assert "枣林湾酒店工会" not in text


def test_correction_page_still_names_a_roster_member_inside_the_subtree(roster, login):
    w = roster
    request = _visitor_files_with_zhaos_id(w)

    text = login(w.city_admin).get(f"/console/members/corrections/{request.pk}/").content.decode()

    assert "赵明" in text and "枣林湾酒店工会" in text


def test_refusing_a_target_outside_the_subtree_does_not_name_their_union(roster):
    w = roster
    request = _visitor_files_with_zhaos_id(w)

    with pytest.raises(CorrectionError) as refused:
        approve_correction(request=request, by=w.town_admin)

    assert "枣林湾" not in str(refused.value)
    w.zhao.refresh_from_db()
    assert w.zhao.name == "赵明"


def test_a_viewer_role_does_not_let_a_decider_correct_a_member(roster):
    w = roster
    # 客服 of the town, and a viewer of the whole city: they read the park's roster, but may
    # correct the town's members only.
    user = User.objects.create_user(username="kefu_town")
    Role.objects.create(user=user, org=w.town, kind=RoleKind.SERVICE)
    Role.objects.create(user=user, org=w.city, kind=RoleKind.VIEWER)
    request = _visitor_files_with_zhaos_id(w)

    with pytest.raises(CorrectionError):
        approve_correction(request=request, by=user)

    w.zhao.refresh_from_db()
    assert w.zhao.name == "赵明"


@pytest.mark.parametrize(
    "phone", ["+8613905141234", "8613905141234", "139 0514 1234", "139-0514-1234"]
)
def test_log_filter_masks_phones_written_as_members_type_them(phone):
    from pingyi.logfilters import MaskPersonalData

    record = logging.getLogger("pingyi.test").makeRecord(
        "pingyi.test", logging.INFO, __file__, 1, "手机 %s 出错", (phone,), None
    )

    MaskPersonalData().filter(record)

    assert "1234" in record.getMessage()
    assert "0514" not in record.getMessage()


def test_tries_spent_by_parallel_guesses_stop_a_code_even_when_read_earlier(roster, sms_outbox):
    """A guess that read the code's tries before parallel guesses spent them is still refused."""
    import re
    from unittest import mock

    from django.conf import settings
    from django.utils import timezone

    from members import otp, registration
    from members.models import OneTimeCode

    registration.send_code(phone="13905141234", purpose="register")
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    real_now = timezone.now

    def others_guess_meanwhile():
        # Between this request's read and its comparison, other requests spend every try.
        OneTimeCode.objects.update(attempts=settings.PINGYI_OTP_MAX_ATTEMPTS)
        return real_now()

    with (
        mock.patch("members.otp.timezone.now", side_effect=others_guess_meanwhile),
        pytest.raises(otp.CodeWrong, match="错误次数过多"),
    ):
        otp.check_code(phone="13905141234", purpose="register", code=code)


def test_the_right_code_costs_no_try(roster, sms_outbox):
    import re

    from members import otp, registration
    from members.models import OneTimeCode

    registration.send_code(phone="13905141234", purpose="register")
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()

    otp.check_code(phone="13905141234", purpose="register", code=code)

    assert OneTimeCode.objects.get().attempts == 0


def test_a_viewer_reads_the_member_but_not_their_corrections_or_audit_trail(roster, login):
    w = roster
    file_correction(
        kind=CorrectionKind.WRONG_DETAILS,
        name="李桦",
        id_number=fake_id_number(1),
        phone="13905141234",
        org=w.town_union_a,
        member=w.li,
    )

    as_viewer = login(w.viewer).get(f"/console/members/{w.li.pk}/").content.decode()
    as_admin = login(w.town_admin).get(f"/console/members/{w.li.pk}/").content.decode()

    assert "李华" in as_viewer
    assert "李桦" not in as_viewer and "个人信息操作日志" not in as_viewer
    assert "李桦" in as_admin and "个人信息操作日志" in as_admin


def test_djangos_own_loggers_write_through_the_masking_filter(caplog):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    handlers = logging.getLogger("django.request").parent.handlers

    assert handlers
    assert all(
        any(type(f).__name__ == "MaskPersonalData" for f in handler.filters) for handler in handlers
    )
