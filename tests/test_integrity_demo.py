"""Issue 8's proof on the whole Yizheng demo (62,301 members, ~39,000 evaluations): a burst of
fabricated evaluations planted in one unit is named by the review page with exactly those
evaluations, no unit with ordinary submissions is flagged, and excluding them lowers the unit's
completion and score until they are restored."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from conftest import SHANGHAI, register_member_account
from demo.services import load_demo
from demo.traces import FABRICATED_ADDRESS, FABRICATED_UNIT, padded_union
from evaluations.integrity import scan_now
from evaluations.models import Evaluation, FindingKind
from evaluations.tests.integrity_world import rate
from members.models import Member, MemberStatus
from orgs.models import Org
from reports.assessment import compose, scheme_of
from reports.figures import progress_table

PLANTED_UNION = "真州农业农村服务中心工会"
PLANTED_AT = datetime(2022, 11, 20, 20, 5, tzinfo=SHANGHAI)
PLANTED = 15


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The full demo, 15 evaluations planted in one 真州镇 union from one office computer on a
    Sunday night, and the campaign scanned; rolled back at the module's end."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            PINGYI_JOBS_IN_THREAD=False,
        ),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            campaign = load_demo()
            union = Org.objects.get(name=PLANTED_UNION)
            waiting = list(
                Member.objects.filter(org=union, status=MemberStatus.ACTIVE, user__isnull=True)
                .exclude(evaluations__campaign=campaign)
                .order_by("pk")[:PLANTED]
            )
            assert len(waiting) == PLANTED
            planted = []
            for i, member in enumerate(waiting):
                at = PLANTED_AT + timedelta(seconds=45 * i)
                register_member_account(member)
                Member.objects.filter(pk=member.pk).update(registered_at=at - timedelta(seconds=25))
                member.refresh_from_db()
                planted.append(
                    rate(
                        member,
                        campaign,
                        at,
                        overall=5,
                        items=[5] * 9,
                        suggestion="感谢工会的关心，工作做得很到位！" if i % 2 else "",
                        address="61.155.2.77",
                        device="zz-office-pc",
                        fill_seconds=7,
                    )
                )
            scan_now(campaign=campaign)
            yield campaign, union, planted
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_the_review_page_names_the_planted_unit_and_evaluations_and_no_ordinary_one(
    demo, db, client
):
    campaign, union, planted = demo
    client.force_login(User.objects.get(username="yz_admin"))
    city = campaign.org

    view = client.get(reverse("integrity:unit", args=[city.pk])).context["view"]
    flagged = {row.org.name: row for row in view.rows}
    # The planted town, and the demo's own padded park union: nothing else of the 85 units.
    assert set(flagged) == {"真州镇", FABRICATED_UNIT}
    assert view.clean == 83
    town = flagged["真州镇"]
    assert town.flagged == PLANTED and town.flagged_unions == 1
    assert {
        FindingKind.BURST_ADDRESS,
        FindingKind.BURST_DEVICE,
        FindingKind.QUICK_REGISTER,
        FindingKind.FAST_STRAIGHT,
    } <= town.kinds

    town_view = client.get(reverse("integrity:unit", args=[town.org.pk])).context["view"]
    assert [r.org.name for r in town_view.rows] == [PLANTED_UNION]

    page = client.get(reverse("integrity:unit", args=[union.pk]))
    detail = page.context["detail"]
    assert {r.pk for r in detail.rows} == {e.pk for e in planted}
    html = page.content.decode()
    assert "同一网络地址 61.155.2.77" in html and "为 15 个会员账号提交了评议" in html

    # The demo's padded union: only its own night's evaluations, from the office address.
    padded = padded_union(campaign)
    park_view = client.get(reverse("integrity:unit", args=[padded.pk])).context["detail"]
    named = Evaluation.objects.filter(pk__in=[r.pk for r in park_view.rows])
    assert named.count() == park_view.flagged > 0
    assert set(named.values_list("trace__address", flat=True)) == {FABRICATED_ADDRESS}


def test_excluding_lowers_completion_and_score_and_restoring_brings_them_back(demo, db, client):
    campaign, union, _planted = demo
    client.force_login(User.objects.get(username="yz_admin"))
    town = Org.objects.get(path=union.parent_path)

    def town_row():
        table = progress_table(campaign=campaign, parent=campaign.org)
        return next(r for r in table.rows if r.org == town)

    def town_score():
        _record, scheme = scheme_of(campaign)
        row = next(
            r for r in compose(campaign=campaign, scheme=scheme)["rows"] if r["name"] == "真州镇"
        )
        completion = next(p for p in row["parts"] if p["key"] == "completion")
        return Decimal(row["total"]), Decimal(completion["points"]), row["excluded"]

    before = town_row()
    score_before, completion_points_before, _none = town_score()
    response = client.post(
        reverse("integrity:decide", args=[union.pk]),
        {"campaign": campaign.pk, "action": "exclude", "reason": "同一电脑代注册代评", "all": "1"},
    )
    assert response.status_code == 302
    after = town_row()
    assert after.excluded == PLANTED
    assert after.evaluated == before.evaluated - PLANTED
    assert after.completion == pytest.approx(before.completion - PLANTED / before.target)

    page = client.get(reverse("console:progress", args=[campaign.org.pk])).content.decode()
    assert 'data-stat="excluded">' in page

    # The score: completion is 40 × completion (under the 100% cap), rounded to 0.01.
    score, completion_points, excluded = town_score()
    assert excluded == PLANTED
    expected = (Decimal(40) * Decimal(after.evaluated) / Decimal(after.target)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert completion_points == expected < completion_points_before
    assert score < score_before

    client.post(
        reverse("integrity:decide", args=[union.pk]),
        {
            "campaign": campaign.pk,
            "action": "restore",
            "reason": "复核",
            "all": "1",
            "show": "excluded",
        },
    )
    assert town_row().evaluated == before.evaluated and town_row().excluded == 0
    assert town_score() == (score_before, completion_points_before, 0)
