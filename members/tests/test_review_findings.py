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
