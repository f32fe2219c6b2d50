"""已注册 counters: kept by registration, transfer and roster import; recounted and rebuilt."""

import re
from datetime import date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import SHANGHAI, fake_id_number
from members import counters, registration
from members.counters import registered_counts
from members.models import CodePurpose, Member, MemberStatus, RegistrationCount
from members.roster_import import file_sha256, run_roster_import, start_roster_import
from members.transfer import transfer_member

pytestmark = pytest.mark.django_db


def register(member, phone, outbox):
    """Register a roster member through the real service (SMS code, name, ID number)."""
    registration.send_code(phone=phone, purpose=CodePurpose.REGISTER)
    code = re.search(r"\d{6}", outbox[-1].message).group()
    return registration.register_member(
        name=member.name, id_number=member.id_number, phone=phone, code=code
    )


def counts(w, *names):
    orgs = [getattr(w, n) for n in names]
    found = registered_counts(org_ids=[o.pk for o in orgs])
    return [found[o.pk] for o in orgs]


def registered_in_subtree(org, until=None):
    """Straight from the roster: active members with an account in org's subtree."""
    rows = Member.objects.filter(
        org__path__startswith=org.path, registered_at__isnull=False, status=MemberStatus.ACTIVE
    )
    return sum(
        1
        for at in rows.values_list("registered_at", flat=True)
        if until is None or timezone.localtime(at).date() <= until
    )


def test_a_registration_counts_for_the_union_and_every_ancestor_to_the_root(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)

    assert counts(w, "town_union_a", "town", "city", "town_union_b", "park") == [1, 1, 1, 0, 0]
    today = timezone.localdate()
    assert set(RegistrationCount.objects.values_list("day", flat=True)) == {today}


def test_a_transfer_moves_the_registration_and_leaves_the_common_ancestors(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)
    register(w.zhao, "13805140001", sms_outbox)

    transfer_member(member=Member.objects.get(pk=w.li.pk), to_org=w.park_union)

    assert counts(w, "town_union_a", "town", "park_union", "park", "city") == [0, 0, 2, 2, 2]
    # the move wrote nothing on the city's rows: no −1 to cancel a +1
    assert not RegistrationCount.objects.filter(org=w.city, change__lt=0).exists()
    for org in (w.city, w.town, w.park, w.park_union, w.town_union_a):
        assert registered_counts(org_ids=[org.pk])[org.pk] == registered_in_subtree(org)


def test_a_transfer_within_the_town_leaves_the_town_alone(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)
    transfer_member(member=Member.objects.get(pk=w.li.pk), to_org=w.town_union_b)

    assert counts(w, "town_union_a", "town_union_b", "town", "city") == [0, 1, 1, 1]
    assert not RegistrationCount.objects.filter(org__in=[w.town, w.city], change__lt=0).exists()


def test_an_unregistered_members_transfer_moves_nothing(roster):
    w = roster
    transfer_member(member=w.wang, to_org=w.park_union)

    assert not RegistrationCount.objects.exists()


def import_roster(w, text: str):
    data = text.encode("utf-8")
    record = start_roster_import(
        parent=w.city, filename="名册.csv", sha256=file_sha256(data), keep_valid=False, user=None
    )
    return run_roster_import(record=record, data=data)


HEADER = "姓名,身份证号码,手机号码,所在工会,性别,入会时间"


def test_a_roster_import_moving_a_registered_member_moves_the_count(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)

    import_roster(w, f"{HEADER}\n李华,{fake_id_number(1)},13905141234,枣林湾酒店工会,,")

    assert Member.objects.get(pk=w.li.pk).org == w.park_union
    assert counts(w, "town_union_a", "town", "park_union", "park", "city") == [0, 0, 1, 1, 1]
    assert counters.recount_registrations() == []


def test_a_registered_member_made_active_again_by_an_import_counts_again(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)
    # left the union (the roster's doing, outside this test's concern): no longer registered
    Member.objects.filter(pk=w.li.pk).update(status=MemberStatus.LEFT)
    counters.rebuild_registration_counts()
    assert counts(w, "town_union_a", "city") == [0, 0]

    import_roster(w, f"{HEADER}\n李华,{fake_id_number(1)},13905141234,真州镇中心小学工会,,")

    assert counts(w, "town_union_a", "town", "city") == [1, 1, 1]
    assert counters.recount_registrations() == []


def test_recount_names_a_planted_drift_and_fix_repairs_it(roster, sms_outbox):
    w = roster
    register(w.li, "13905141234", sms_outbox)
    RegistrationCount.objects.create(org=w.park, day=date(2022, 9, 3), shard=5, change=3)

    with pytest.raises(CommandError, match="1 个组织不一致"):
        call_command("recount_registrations", stdout=(out := _Out()))
    assert "枣林湾旅游度假区：计数器 3，实际 0" in out.text
    assert counts(w, "park")[0] == 3

    call_command("recount_registrations", "--fix", stdout=(out := _Out()))
    assert "已按实际重新统计" in out.text
    assert counts(w, "park", "town_union_a", "town", "city") == [0, 1, 1, 1]
    call_command("recount_registrations", stdout=(out := _Out()))
    assert "注册计数一致" in out.text


def test_until_cuts_off_at_the_end_of_a_local_day(roster):
    w = roster
    # registered at 23:30 on 9 Sept and 00:30 on 10 Sept, Shanghai time (UTC 15:30 / 16:30)
    late = datetime(2022, 9, 9, 23, 30, tzinfo=SHANGHAI)
    early = datetime(2022, 9, 10, 0, 30, tzinfo=SHANGHAI)
    Member.objects.filter(pk=w.li.pk).update(user=w.nobody, registered_at=late)
    Member.objects.filter(pk=w.zhao.pk).update(user=w.viewer, registered_at=early)
    counters.rebuild_registration_counts()

    for until, expected in [(date(2022, 9, 8), 0), (date(2022, 9, 9), 1), (date(2022, 9, 10), 2)]:
        assert registered_counts(org_ids=[w.city.pk], until=until)[w.city.pk] == expected
        assert registered_in_subtree(w.city, until) == expected
    assert registered_counts(org_ids=[w.town.pk], until=date(2022, 9, 9))[w.town.pk] == 1
    assert registered_counts(org_ids=[w.park.pk], until=date(2022, 9, 9))[w.park.pk] == 0
    assert counters.registration_series(org=w.city) == [
        (date(2022, 9, 9), 1),
        (date(2022, 9, 10), 2),
    ]


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass
