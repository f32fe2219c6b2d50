"""The console's roster: masked, scoped, searchable; full numbers only on an audited reveal."""

import pytest

from accounts.models import Role, RoleKind, User
from conftest import fake_id_number
from members.corrections import approve_correction, file_correction
from members.models import AuditAction, AuditEvent, CorrectionKind
from members.services import add_member
from members.transfer import transfer_member
from orgs.models import OrgKind
from orgs.services import create_child_org, create_root_org

pytestmark = pytest.mark.django_db

LIST = "/console/members/"


def test_roster_lists_members_in_scope_masked(roster, login):
    w = roster
    page = login(w.town_admin).get(LIST).content.decode()
    assert "李华" in page and "王芳" in page and "赵明" not in page
    assert w.li.id_masked in page and "139****1234" in page
    assert fake_id_number(1) not in page and "13905141234" not in page
    assert "未注册" in page


def test_search_by_exact_id_number_goes_through_the_hash(roster, login):
    w = roster
    client = login(w.city_admin)
    response = client.post(LIST, {"q": fake_id_number(3)})
    # The ID number travels in the POST only; the page's URL carries its keyed hash.
    assert response.status_code == 302
    assert fake_id_number(3) not in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "赵明" in page and "李华" not in page
    assert fake_id_number(3) not in page


def test_search_by_phone_and_by_name(roster, login):
    w = roster
    client = login(w.city_admin)
    by_phone = client.post(LIST, {"q": "139 0514 5678"}, follow=True).content.decode()
    assert "王芳" in by_phone and "李华" not in by_phone
    by_name = client.post(LIST, {"q": "李"}, follow=True).content.decode()
    assert "李华" in by_name and "王芳" not in by_name


def test_search_of_a_member_outside_scope_finds_nothing(roster, login):
    page = login(roster.town_admin).post(LIST, {"q": fake_id_number(3)}, follow=True)
    assert "赵明" not in page.content.decode()


def test_filter_by_union(roster, login):
    w = roster
    client = login(w.city_admin)
    page = client.get(LIST, {"union": "酒店"}).content.decode()
    assert "赵明" in page and "李华" not in page
    page = client.get(LIST, {"org": w.town.pk}).content.decode()
    assert "李华" in page and "赵明" not in page
    assert client.get(LIST, {"org": w.park.pk}, follow=True).status_code == 200
    assert login(w.town_admin).get(LIST, {"org": w.park.pk}).status_code == 404


def test_roster_pages_without_counting(roster, login):
    w = roster
    for n in range(60):
        add_member(org=w.town_union_b, name="测试", id_number=fake_id_number(300 + n))
    client = login(w.town_admin)
    first = client.get(LIST).content.decode()
    assert first.count("测试") == 50 and "下一页" in first and "上一页" not in first
    last_id = sorted(m.pk for m in w.town_union_b.members.all())[-50]
    second = client.get(LIST, {"after": last_id}).content.decode()
    # 10 more of them and the two of 真州镇中心小学工会, oldest last.
    assert second.count("测试") == 10 and "李华" in second and "下一页" not in second
    assert "上一页" in second


def test_member_outside_scope_answers_404(roster, login):
    w = roster
    assert login(w.town_admin).get(f"{LIST}{w.zhao.pk}/").status_code == 404
    assert login(w.town_admin).post(f"{LIST}{w.zhao.pk}/reveal/").status_code == 404
    other_root = create_root_org(name="扬州市总工会", code="321000")
    other_union = create_child_org(parent=other_root, name="扬州某工会", kind=OrgKind.GRASSROOTS)
    stranger = add_member(org=other_union, name="外人", id_number=fake_id_number(400))
    assert login(w.viewer).get(f"{LIST}{stranger.pk}/").status_code == 404
    assert login(w.viewer).get(f"{LIST}{w.zhao.pk}/").status_code == 200


def test_member_page_shows_transfers_corrections_and_audit(roster, login, service_user):
    w = roster
    transfer_member(member=w.li, to_org=w.town_union_b, by=None)
    request = file_correction(
        kind=CorrectionKind.NAME_ID_MISMATCH,
        name="李桦",
        id_number=fake_id_number(1),
        phone="13912340000",
        org=w.town_union_b,
    )
    approve_correction(request=request, by=service_user)
    page = login(w.town_admin).get(f"{LIST}{w.li.pk}/").content.decode()
    assert "真州镇中心小学工会" in page and "真州镇卫生院工会" in page  # the transfer
    assert "已更正" in page  # the correction
    assert "信息更正" in page and "李华 → 李桦" in page.replace("：", " ").replace("  ", " ")
    assert "kefu" in page  # who corrected


def test_reveal_shows_the_full_numbers_once_and_is_audited(roster, login):
    w = roster
    client = login(w.town_admin)
    detail = client.get(f"{LIST}{w.li.pk}/").content.decode()
    assert "显示完整号码" in detail and fake_id_number(1) not in detail

    response = client.post(f"{LIST}{w.li.pk}/reveal/")
    page = response.content.decode()
    assert fake_id_number(1) in page and "13905141234" in page
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action=AuditAction.REVEALED)
    assert (event.actor, event.member, event.org) == (w.town_admin, w.li, w.town_union_a)
    assert event.address == "127.0.0.1"
    # The audit log says who looked, and when.
    log = client.get(f"{LIST}audit/").content.decode()
    assert "查看完整个人信息" in log and "town_admin" in log


def test_reveal_is_a_post(roster, login):
    assert login(roster.town_admin).get(f"{LIST}{roster.li.pk}/reveal/").status_code == 405


def test_viewer_sees_masked_values_only(roster, login):
    w = roster
    client = login(w.viewer)
    detail = client.get(f"{LIST}{w.li.pk}/").content.decode()
    assert "显示完整号码" not in detail
    assert client.post(f"{LIST}{w.li.pk}/reveal/").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.REVEALED).exists()


def test_service_staff_may_reveal(roster, login, service_user):
    page = login(service_user).post(f"{LIST}{roster.zhao.pk}/reveal/").content.decode()
    assert fake_id_number(3) in page


def test_audit_log_is_scoped_to_the_subtree(roster, login):
    w = roster
    client = login(w.park_admin)
    page = client.get(f"{LIST}audit/").content.decode()
    assert "赵明" in page and "李华" not in page
    assert fake_id_number(3) not in page  # imported values are logged masked
    assert login(w.viewer).get(f"{LIST}audit/").status_code == 403


def test_no_console_page_shows_a_clear_id_number(roster, login, service_user):
    w = roster
    request = file_correction(
        kind=CorrectionKind.NOT_ON_ROSTER,
        name="陈静",
        id_number=fake_id_number(90),
        phone="13912340000",
        org=w.town_union_b,
    )
    secrets = [fake_id_number(n) for n in (1, 2, 3, 90)] + ["13905141234", "13912340000"]
    client = login(service_user)
    urls = [
        LIST,
        f"{LIST}{w.li.pk}/",
        f"{LIST}{w.zhao.pk}/",
        f"{LIST}corrections/",
        f"{LIST}corrections/?status=all",
        f"{LIST}corrections/{request.pk}/",
        f"{LIST}audit/",
    ]
    approve_correction(request=request, by=service_user)
    urls.append(f"{LIST}corrections/{request.pk}/")
    for url in urls:
        page = client.get(url).content.decode()
        assert not [s for s in secrets if s in page], url


def test_a_user_without_a_role_is_refused(roster, client):
    user = User.objects.create_user(username="plain")
    client.force_login(user)
    assert client.get(LIST).status_code == 403
    Role.objects.create(user=user, org=roster.park_union, kind=RoleKind.GRASSROOTS_ADMIN)
    page = client.get(LIST).content.decode()
    assert "赵明" in page and "李华" not in page
