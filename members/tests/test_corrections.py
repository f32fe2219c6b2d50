"""信息更正: members (or visitors) file requests; admins or 客服 approve or refuse them."""

import pytest
from django.urls import reverse

from conftest import fake_id_number
from members.corrections import (
    FILINGS_PER_ADDRESS,
    CorrectionError,
    approve_correction,
    file_correction,
)
from members.models import (
    AuditAction,
    AuditEvent,
    CorrectionKind,
    CorrectionRequest,
    CorrectionStatus,
    Member,
)
from members.selectors import member_by_id_number

pytestmark = pytest.mark.django_db

URL = "/m/correction/"


def _form(org, *, n=50, name="张伟", kind="missing", phone="13912340000", note=""):
    return {
        "org": org.pk,
        "kind": kind,
        "name": name,
        "id_number": fake_id_number(n),
        "phone": phone,
        "note": note,
    }


def _file(org, *, n=50, name="张伟", kind=CorrectionKind.NOT_ON_ROSTER, **extra):
    return file_correction(
        kind=kind,
        name=name,
        id_number=fake_id_number(n),
        phone="13912340000",
        org=org,
        note="",
        **extra,
    )


# Filing -----------------------------------------------------------------------------------


def test_visitor_picks_the_union_from_a_list_before_the_form(roster, client):
    w = roster
    page = client.get(URL, {"kind": "missing", "region": w.town.pk, "q": "卫生院"}).content
    page = page.decode()
    assert "真州镇卫生院工会" in page
    assert f"org={w.town_union_b.pk}" in page
    form = client.get(URL, {"kind": "missing", "name": "张伟", "org": w.town_union_b.pk})
    html = form.content.decode()
    assert "正确身份证号码" in html and 'value="张伟"' in html and "真州镇卫生院工会" in html


def test_visitor_files_a_request_without_an_account(roster, client):
    w = roster
    response = client.post(URL, _form(w.town_union_b), follow=True)
    page = response.content.decode()
    assert "申请已提交" in page
    request = CorrectionRequest.objects.get()
    assert request.status == CorrectionStatus.PENDING
    assert (request.org, request.name, request.submitted_by) == (w.town_union_b, "张伟", None)
    assert request.id_number == fake_id_number(50)
    # The confirmation shows the ID masked only.
    assert fake_id_number(50) not in page and request.id_masked in page


def test_bad_id_number_is_explained_on_the_form(roster, client):
    data = _form(roster.town_union_b)
    data["id_number"] = data["id_number"][:-1] + ("0" if data["id_number"][-1] != "0" else "1")
    page = client.post(URL, data).content.decode()
    assert "校验位不正确" in page
    assert not CorrectionRequest.objects.exists()


def test_filing_is_rate_limited_per_address(roster, client):
    w = roster
    for n in range(FILINGS_PER_ADDRESS):
        response = client.post(URL, _form(w.town_union_b, n=100 + n))
        assert response.status_code == 302, n
    response = client.post(URL, _form(w.town_union_b, n=200))
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert CorrectionRequest.objects.count() == FILINGS_PER_ADDRESS
    # Another address is not held back.
    other = client.post(URL, _form(w.town_union_b, n=201), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_a_second_pending_request_for_the_same_id_is_refused(roster, client):
    w = roster
    client.post(URL, _form(w.town_union_b))
    page = client.post(URL, _form(w.town_union_b)).content.decode()
    assert "已有一份待处理的更正申请" in page
    assert CorrectionRequest.objects.count() == 1


def test_logged_in_members_request_is_linked_to_them(roster, member_client):
    w = roster
    client = member_client(w.li)
    form = client.get(URL, {"kind": "mismatch"}).content.decode()
    # The union comes from the member's roster entry; the name is prefilled.
    assert "真州镇中心小学工会" in form and 'value="李华"' in form
    client.post(URL, _form(w.town_union_a, n=60, name="李桦", kind="mismatch"))
    request = CorrectionRequest.objects.get()
    assert request.member == w.li
    assert request.submitted_by == w.li.user


# Deciding ---------------------------------------------------------------------------------


def test_town_admins_queue_holds_its_own_unions_only(roster, login):
    w = roster
    town_request = _file(w.town_union_b, n=51, name="孙丽")
    park_request = _file(w.park_union, n=52, name="周强")

    client = login(w.town_admin)
    page = client.get("/console/members/corrections/").content.decode()
    assert "孙丽" in page and "周强" not in page
    assert client.get(f"/console/members/corrections/{town_request.pk}/").status_code == 200
    assert client.get(f"/console/members/corrections/{park_request.pk}/").status_code == 404
    response = client.post(f"/console/members/corrections/{park_request.pk}/approve/")
    assert response.status_code == 404
    response = client.post(
        f"/console/members/corrections/{park_request.pk}/refuse/", {"reason": "不符"}
    )
    assert response.status_code == 404
    park_request.refresh_from_db()
    assert park_request.status == CorrectionStatus.PENDING


def test_viewer_cannot_work_the_queue(roster, login):
    _file(roster.town_union_b)
    assert login(roster.viewer).get("/console/members/corrections/").status_code == 403


def test_pending_requests_come_first(roster, login, service_user):
    w = roster
    decided = _file(w.town_union_b, n=53, name="钱多")
    approve_correction(request=decided, by=service_user)
    _file(w.town_union_b, n=54, name="吴用")
    page = login(service_user).get("/console/members/corrections/", {"status": "all"})
    html = page.content.decode()
    assert html.index("吴用") < html.index("钱多")
    pending_only = login(service_user).get("/console/members/corrections/").content.decode()
    assert "吴用" in pending_only and "钱多" not in pending_only


def test_service_staff_approve_and_the_roster_is_corrected(roster, login, service_user, sms_outbox):
    w = roster
    # 李华's roster entry holds the wrong name; she asks for 李桦 with her own ID number.
    request = _file(w.town_union_a, n=1, name="李桦", kind=CorrectionKind.NAME_ID_MISMATCH)
    assert request.member == w.li  # found through the ID number

    client = login(service_user)
    response = client.post(f"/console/members/corrections/{request.pk}/approve/", follow=True)
    assert "已更正" in response.content.decode()

    w.li.refresh_from_db()
    assert w.li.name == "李桦"
    request.refresh_from_db()
    assert request.status == CorrectionStatus.APPROVED
    assert request.decided_by == service_user and request.decided_at is not None
    event = AuditEvent.objects.get(action=AuditAction.CORRECTED)
    assert event.actor == service_user and event.member == w.li
    assert event.changes == {"name": ["李华", "李桦"]}
    assert [sms.phone for sms in sms_outbox] == ["13912340000"]
    assert "您的信息更正申请已通过" in sms_outbox[0].message
    assert fake_id_number(1) not in sms_outbox[0].message


def test_approving_a_new_id_number_audits_it_masked(roster, service_user, sms_outbox):
    w = roster
    new_number = fake_id_number(77)
    request = _file(
        w.town_union_a, n=77, name="王芳", kind=CorrectionKind.NAME_ID_MISMATCH, member=w.wang
    )
    approve_correction(request=request, by=service_user)

    w.wang.refresh_from_db()
    assert w.wang.id_number == new_number
    assert member_by_id_number(new_number) == w.wang
    assert member_by_id_number(fake_id_number(2)) is None
    event = AuditEvent.objects.get(action=AuditAction.CORRECTED)
    before, after = event.changes["id_number"]
    assert (before, after) == ("3210**********" + fake_id_number(2)[-4:], w.wang.id_masked)
    assert new_number not in str(event.changes) and fake_id_number(2) not in str(event.changes)


def test_a_mismatch_picks_the_roster_entry_with_the_wrong_id(roster, login, service_user):
    w = roster
    # 王芳 cannot register: the roster holds a wrong ID. Her request carries the right one.
    request = _file(w.town_union_a, n=88, name="王芳", kind=CorrectionKind.NAME_ID_MISMATCH)
    assert request.member is None
    client = login(service_user)
    page = client.get(f"/console/members/corrections/{request.pk}/").content.decode()
    assert "更正 王芳" in page and w.wang.id_masked in page

    client.post(f"/console/members/corrections/{request.pk}/approve/", {"member": w.wang.pk})
    w.wang.refresh_from_db()
    assert w.wang.id_number == fake_id_number(88)
    assert Member.objects.filter(name="王芳").count() == 1


def test_an_id_number_of_another_member_is_refused(roster, service_user):
    w = roster
    request = _file(
        w.town_union_a, n=2, name="李华", kind=CorrectionKind.NAME_ID_MISMATCH, member=w.li
    )
    with pytest.raises(CorrectionError, match="另一位会员"):
        approve_correction(request=request, by=service_user)
    w.li.refresh_from_db()
    assert w.li.id_number == fake_id_number(1)


def test_union_admin_of_the_request_may_approve(roster, login):
    w = roster
    request = _file(w.town_union_a, n=1, name="李桦", kind=CorrectionKind.NAME_ID_MISMATCH)
    login(w.union_admin).post(f"/console/members/corrections/{request.pk}/approve/")
    w.li.refresh_from_db()
    assert w.li.name == "李桦"


def test_refusing_without_a_reason_is_refused(roster, login, service_user, sms_outbox):
    w = roster
    request = _file(w.town_union_b)
    client = login(service_user)
    response = client.post(
        f"/console/members/corrections/{request.pk}/refuse/", {"reason": "  "}, follow=True
    )
    assert "请填写驳回理由" in response.content.decode()
    request.refresh_from_db()
    assert request.status == CorrectionStatus.PENDING
    assert sms_outbox == []


def test_refusal_reason_reaches_the_member_by_sms_and_on_their_page(
    roster, member_client, login, service_user, sms_outbox
):
    w = roster
    client = member_client(w.li)
    client.post(URL, _form(w.town_union_a, n=61, name="李桦", kind="mismatch"))
    request = CorrectionRequest.objects.get()

    login(service_user).post(
        f"/console/members/corrections/{request.pk}/refuse/",
        {"reason": "身份证号码与户籍信息不一致，请携带身份证到工会办理"},
    )
    request.refresh_from_db()
    assert request.status == CorrectionStatus.REFUSED
    assert AuditEvent.objects.filter(
        action=AuditAction.CORRECTION_REFUSED, actor=service_user
    ).exists()
    assert len(sms_outbox) == 1
    assert "身份证号码与户籍信息不一致" in sms_outbox[0].message

    client.force_login(w.li.user)
    mine = client.get(reverse("members:corrections_mine")).content.decode()
    assert "已驳回" in mine and "身份证号码与户籍信息不一致，请携带身份证到工会办理" in mine


def test_approving_a_missing_person_adds_them_to_the_roster(roster, client, login, service_user):
    w = roster
    number = fake_id_number(90, born="1985-06-01")
    data = _form(w.town_union_b, name="陈静", kind="missing")
    data["id_number"] = number
    client.post(URL, data)
    request = CorrectionRequest.objects.get()
    assert member_by_id_number(number) is None

    login(service_user).post(f"/console/members/corrections/{request.pk}/approve/")

    member = member_by_id_number(number)
    assert member is not None
    assert (member.name, member.org, member.phone) == ("陈静", w.town_union_b, "13912340000")
    request.refresh_from_db()
    assert request.member == member and request.status == CorrectionStatus.APPROVED
    # The roster search by ID number now finds them.
    page = login(w.town_admin).post("/console/members/", {"q": number}, follow=True)
    assert "陈静" in page.content.decode()


def test_a_decided_request_cannot_be_decided_again(roster, service_user):
    request = _file(roster.town_union_b)
    approve_correction(request=request, by=service_user)
    with pytest.raises(CorrectionError, match="已处理"):
        approve_correction(request=request, by=service_user)


def test_anonymous_cannot_see_my_requests(roster, client):
    response = client.get(reverse("members:corrections_mine"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_holder_of_the_id_outside_the_deciders_subtree_is_not_named(roster):
    w = roster
    # 李华 (真州镇) asks for 赵明's ID number; 赵明 is on the park's roster, outside the town.
    request = _file(
        w.town_union_a, n=3, name="李华", kind=CorrectionKind.NAME_ID_MISMATCH, member=w.li
    )

    with pytest.raises(CorrectionError) as refused:
        approve_correction(request=request, by=w.town_admin)

    assert "其他工会" in str(refused.value)
    assert "赵明" not in str(refused.value)
    assert "枣林湾" not in str(refused.value)
