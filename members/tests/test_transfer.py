"""我要转会: region + keyword → choose a union from the list; typed text alone is refused."""

import pytest
from django.urls import reverse

from members.models import AuditAction, AuditEvent, Member, MemberStatus, MemberTransfer
from members.transfer import TransferError, find_unions, regions, transfer_member
from orgs.models import OrgKind
from orgs.services import create_child_org

pytestmark = pytest.mark.django_db

URL = "/m/transfer/"


def test_regions_are_the_units_below_the_federation_that_hold_unions(roster):
    w = roster
    offered = [r.org for r in regions(w.li.org)]
    # 教育局 has no grassroots union below it: nothing could be chosen there.
    assert offered == [w.town, w.park]


def test_region_and_keyword_show_matching_unions_of_that_region_only(roster, member_client):
    w = roster
    create_child_org(parent=w.park, name="枣林湾中心小学工会", kind=OrgKind.GRASSROOTS)
    client = member_client(w.li)

    page = client.get(URL, {"region": w.town.pk, "q": "中心小学"}).content.decode()

    assert "真州镇中心小学工会" in page
    assert "枣林湾中心小学工会" not in page  # same keyword, other region
    assert "真州镇卫生院工会" not in page  # same region, other name
    assert 'type="radio" name="org"' in page


def test_keyword_matches_full_width_and_spaced_input(roster):
    w = roster
    assert [c.org for c in find_unions(w.town, " 卫生院 ")] == [w.town_union_b]
    assert find_unions(w.town, "") == []


def test_search_never_lists_a_non_grassroots_unit(roster, member_client):
    w = roster
    create_child_org(parent=w.town, name="真州镇工会联合会", kind=OrgKind.SECTOR)
    page = member_client(w.li).get(URL, {"region": w.town.pk, "q": "真州镇"}).content.decode()
    assert "真州镇卫生院工会" in page
    assert "真州镇工会联合会" not in page


def test_typeahead_json_lists_the_same_unions(roster, member_client):
    w = roster
    client = member_client(w.li)
    data = client.get(reverse("members:transfer_search"), {"region": w.town.pk, "q": "卫生"}).json()
    assert [u["name"] for u in data["results"]] == ["真州镇卫生院工会"]
    assert data["results"][0]["id"] == w.town_union_b.pk


def test_typeahead_ignores_control_characters_in_the_keyword(roster, member_client):
    # A NUL in the query string made PostgreSQL refuse the search with a server error.
    w = roster
    client = member_client(w.li)
    query = {"region": w.town.pk, "q": "卫\x00生"}
    response = client.get(reverse("members:transfer_search"), query)
    assert response.status_code == 200
    assert [u["name"] for u in response.json()["results"]] == ["真州镇卫生院工会"]


def test_typed_name_without_a_chosen_union_is_refused(roster, member_client):
    w = roster
    client = member_client(w.li)
    response = client.post(URL, {"region": w.town.pk, "q": "真州镇卫生院工会"}, follow=True)
    assert "必须在列表里选择" in response.content.decode()
    w.li.refresh_from_db()
    assert w.li.org == w.town_union_a
    assert not MemberTransfer.objects.exists()


def test_union_outside_the_chosen_region_is_refused(roster, member_client):
    w = roster
    client = member_client(w.li)
    response = client.post(URL, {"region": w.town.pk, "org": w.park_union.pk}, follow=True)
    assert "必须在列表里选择" in response.content.decode()
    w.li.refresh_from_db()
    assert w.li.org == w.town_union_a


def test_non_grassroots_org_is_refused(roster, member_client):
    w = roster
    client = member_client(w.li)
    response = client.post(URL, {"region": w.town.pk, "org": w.town.pk}, follow=True)
    assert "必须在列表里选择" in response.content.decode()
    with pytest.raises(TransferError):
        transfer_member(member=w.li, to_org=w.town, by=None)
    w.li.refresh_from_db()
    assert w.li.org == w.town_union_a


def test_transfer_moves_the_member_at_once_and_records_the_date(roster, member_client):
    w = roster
    client = member_client(w.li)

    response = client.post(URL, {"region": w.town.pk, "org": w.town_union_b.pk}, follow=True)
    page = response.content.decode()

    w.li.refresh_from_db()
    assert w.li.org == w.town_union_b
    transfer = MemberTransfer.objects.get(member=w.li)
    assert (transfer.from_org, transfer.to_org) == (w.town_union_a, w.town_union_b)
    assert transfer.by == w.li.user
    assert "转会成功" in page and "真州镇卫生院工会" in page
    # The member's page now names the new union and the date of the move.
    day = transfer.transferred_at.astimezone().date()
    assert f"{day.year}年{day.month}月{day.day}日" in page
    assert "由“真州镇中心小学工会”转入" in page
    event = AuditEvent.objects.get(action=AuditAction.TRANSFERRED)
    assert event.member == w.li and event.org == w.town_union_b
    assert event.changes == {"org": ["真州镇中心小学工会", "真州镇卫生院工会"]}


def test_the_old_union_keeps_only_the_transfer_record(roster, member_client, login):
    w = roster
    member_client(w.li).post(URL, {"region": w.park.pk, "org": w.park_union.pk})
    w.li.refresh_from_db()
    assert w.li.org == w.park_union

    # 真州镇中心小学工会's admin no longer finds the member on the roster …
    client = login(w.union_admin)
    roster_page = client.get("/console/members/").content.decode()
    assert "李华" not in roster_page and "王芳" in roster_page
    assert client.get(f"/console/members/{w.li.pk}/").status_code == 404
    assert not Member.objects.filter(org=w.town_union_a, name="李华").exists()
    # … only the record of the move names the old union.
    assert MemberTransfer.objects.filter(member=w.li, from_org=w.town_union_a).count() == 1
    # The park's admin now has them, with the move on the member's page.
    client = login(w.park_admin)
    detail = client.get(f"/console/members/{w.li.pk}/").content.decode()
    assert "真州镇中心小学工会" in detail and "枣林湾酒店工会" in detail


def test_moving_to_the_same_union_is_refused(roster, member_client):
    w = roster
    client = member_client(w.li)
    response = client.post(URL, {"region": w.town.pk, "org": w.town_union_a.pk}, follow=True)
    assert "无需转会" in response.content.decode()
    assert not MemberTransfer.objects.exists()


def test_a_member_who_left_cannot_transfer(roster):
    w = roster
    Member.objects.filter(pk=w.li.pk).update(status=MemberStatus.LEFT)
    with pytest.raises(TransferError, match="离会"):
        transfer_member(member=w.li, to_org=w.town_union_b, by=None)


def test_anonymous_visitor_is_sent_to_login(roster, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]
    response = client.post(URL, {"region": roster.town.pk, "org": roster.town_union_b.pk})
    assert response.status_code == 302
    assert not MemberTransfer.objects.exists()


def test_an_admin_account_cannot_transfer(roster, login):
    w = roster
    client = login(w.town_admin)
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"region": w.town.pk, "org": w.town_union_b.pk})
    assert response.status_code == 403
