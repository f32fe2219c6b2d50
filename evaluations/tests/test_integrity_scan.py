"""The integrity scan: each pattern of fabricated evaluations is found in the union that shows it,
with its evidence, and ordinary submissions are never flagged."""

from datetime import datetime, timedelta

import pytest

from conftest import SHANGHAI
from evaluations.integrity import (
    Thresholds,
    latest_run,
    poisson_tail,
    scan,
    scan_now,
    settings_for,
)
from evaluations.models import Finding, FindingKind, ReviewRun, ReviewRunStatus
from orgs.models import OrgKind
from orgs.services import create_child_org

from .integrity_world import fabricated, members, ordinary, rate

NIGHT = datetime(2022, 11, 27, 21, 30, tzinfo=SHANGHAI)


@pytest.fixture
def town(world):
    """真州镇's two unions and the park's union, each with 30 ordinary evaluations."""
    w = world
    w.ordinary = {
        union.pk: ordinary(union, w.campaign, 30, tag=union.name)
        for union in (w.town_union_a, w.town_union_b, w.park_union)
    }
    return w


def kinds_by_union(result) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for found in result.found:
        out.setdefault(found.org_id, set()).add(found.kind)
    return out


def test_ordinary_submissions_are_not_flagged(town):
    result = scan(town.campaign, Thresholds())
    assert result.found == []
    assert result.stats["evaluations"] == 90 and result.stats["traced"] == 90


def test_a_burst_from_one_office_address_is_found_in_its_union_with_the_address(town):
    w = town
    planted = fabricated(w.town_union_b, w.campaign, 12, start=NIGHT, device="", quick=False)

    result = scan(w.campaign, Thresholds())

    bursts = [f for f in result.found if f.kind == FindingKind.BURST_ADDRESS]
    assert [f.org_id for f in bursts] == [w.town_union_b.pk]
    [burst] = bursts
    assert set(burst.evaluations) == {e.pk for e in planted}
    assert burst.evidence["address"] == "58.221.36.18"
    assert burst.evidence["total"] == 12 and burst.evidence["minutes"] == pytest.approx(7.3)
    assert set(kinds_by_union(result)) == {w.town_union_b.pk}


def test_nine_from_one_address_within_ten_minutes_is_not_a_burst(town):
    w = town
    fabricated(w.town_union_b, w.campaign, 9, start=NIGHT, device="", quick=False)
    found = scan(w.campaign, Thresholds()).found
    assert not [f for f in found if f.kind == FindingKind.BURST_ADDRESS]


def test_evaluations_spaced_wider_than_the_window_make_no_burst(town):
    w = town
    fabricated(
        w.town_union_b, w.campaign, 12, start=NIGHT, device="", quick=False, every_seconds=120
    )
    assert not [
        f for f in scan(w.campaign, Thresholds()).found if f.kind == FindingKind.BURST_ADDRESS
    ]


def test_a_carriers_shared_address_carrying_lone_members_of_many_unions_flags_none(town):
    w = town
    unions = [w.town_union_a, w.town_union_b, w.park_union] + [
        create_child_org(parent=w.town, name=f"真州镇第{i}企业工会", kind=OrgKind.GRASSROOTS)
        for i in range(1, 8)
    ]
    # Ten members of ten unions behind one carrier address within five minutes.
    for i, union in enumerate(unions):
        [member] = members(union, 1)
        rate(
            member,
            w.campaign,
            NIGHT + timedelta(seconds=30 * i),
            address="223.104.1.1",
            device=f"own-{i}",
        )
    assert scan(w.campaign, Thresholds()).found == []
    # Two of one union in such a burst are named, with the burst's size.
    [member] = members(w.town_union_a, 1)
    rate(member, w.campaign, NIGHT + timedelta(seconds=310), address="223.104.1.1")
    [finding] = scan(w.campaign, Thresholds()).found
    assert (finding.org_id, finding.kind) == (w.town_union_a.pk, FindingKind.BURST_ADDRESS)
    assert len(finding.evaluations) == 2
    assert (finding.evidence["total"], finding.evidence["unions"]) == (11, 10)


def test_one_device_used_for_three_members_accounts_is_found(town):
    w = town
    planted = fabricated(
        w.town_union_a,
        w.campaign,
        3,
        start=NIGHT,
        address=None,
        device="admin-phone",
        every_seconds=600,
        quick=False,
    )
    [finding] = [
        f for f in scan(w.campaign, Thresholds()).found if f.kind == FindingKind.BURST_DEVICE
    ]
    assert finding.org_id == w.town_union_a.pk
    assert set(finding.evaluations) == {e.pk for e in planted}
    assert finding.evidence["members"] == 3 and len(finding.evidence["device"]) == 8


def test_two_members_sharing_a_phone_are_not_flagged(town):
    w = town
    fabricated(
        w.town_union_a, w.campaign, 2, start=NIGHT, address=None, device="family-phone", quick=False
    )
    assert scan(w.campaign, Thresholds()).found == []


def test_accounts_registered_and_rated_within_moments_flag_their_union(town):
    w = town
    planted = fabricated(
        w.park_union, w.campaign, 8, start=NIGHT, address=None, device="", every_seconds=3600
    )
    [finding] = [
        f for f in scan(w.campaign, Thresholds()).found if f.kind == FindingKind.QUICK_REGISTER
    ]
    assert finding.org_id == w.park_union.pk
    assert set(finding.evaluations) == {e.pk for e in planted}
    evidence = finding.evidence
    assert (evidence["k"], evidence["n"], evidence["seconds"]) == (8, 38, 60)
    # The rest of the campaign had none: the smoothed rate is 1 in 62, expected 38/62.
    assert evidence["baseline"] == pytest.approx(1 / 62)
    assert evidence["expected"] == pytest.approx(38 / 62)
    assert evidence["chance"] < 1e-6


def test_a_few_quick_registrations_among_many_stay_unflagged(town):
    w = town
    # Four members of the park rated right after registering: fewer than the five a union
    # needs to be looked at, however unlikely.
    fabricated(
        w.park_union, w.campaign, 4, start=NIGHT, address=None, device="", every_seconds=3600
    )
    assert scan(w.campaign, Thresholds()).found == []


def test_straight_lined_answers_in_seconds_flag_the_union(town):
    w = town
    planted = fabricated(
        w.town_union_a,
        w.campaign,
        8,
        start=NIGHT,
        address=None,
        device="",
        quick=False,
        every_seconds=3600,
    )
    [finding] = [
        f for f in scan(w.campaign, Thresholds()).found if f.kind == FindingKind.FAST_STRAIGHT
    ]
    assert finding.org_id == w.town_union_a.pk
    assert set(finding.evaluations) == {e.pk for e in planted}


def test_fast_but_varied_or_straight_but_slow_answers_are_not_straight_lining(town):
    w = town
    for i, member in enumerate(members(w.town_union_a, 6)):
        rate(
            member,
            w.campaign,
            NIGHT + timedelta(hours=i),
            overall=5,
            items=[5, 5, 4, 5, 5, 5, 5, 5, 5],
            fill_seconds=8,
            address=None,
        )
    for i, member in enumerate(members(w.town_union_b, 6)):
        rate(
            member,
            w.campaign,
            NIGHT + timedelta(hours=i),
            overall=5,
            items=[5] * 9,
            fill_seconds=95,
            address=None,
        )
    for i, member in enumerate(members(w.park_union, 6)):  # only three items: too few to tell
        rate(
            member,
            w.campaign,
            NIGHT + timedelta(hours=i),
            overall=5,
            items=[5] * 3,
            fill_seconds=8,
            address=None,
        )
    assert scan(w.campaign, Thresholds()).found == []


def test_the_same_suggestion_word_for_word_in_one_union_is_found(town):
    w = town
    text = "工会工作做得非常好，我们非常满意！"
    planted = fabricated(
        w.town_union_b,
        w.campaign,
        10,
        start=NIGHT,
        address=None,
        device="",
        quick=False,
        every_seconds=7200,
        suggestion=text,
    )
    findings = [
        f for f in scan(w.campaign, Thresholds()).found if f.kind == FindingKind.IDENTICAL_TEXT
    ]
    [finding] = findings
    assert finding.org_id == w.town_union_b.pk
    assert set(finding.evaluations) == {e.pk for e in planted}
    assert finding.evidence["text"] == text and finding.evidence["elsewhere"] == 0


def test_a_stock_phrase_written_all_over_the_city_flags_no_union(town):
    w = town
    text = "希望工会越办越好！"
    for union in (w.town_union_a, w.town_union_b, w.park_union):
        for i, member in enumerate(members(union, 4)):
            rate(
                member,
                w.campaign,
                NIGHT + timedelta(hours=3 * i),
                suggestion=text,
                address=None,
                items=[4, 3, 5],
            )
    assert scan(w.campaign, Thresholds()).found == []


def test_short_identical_answers_are_not_compared(town):
    w = town
    for i, member in enumerate(members(w.town_union_a, 8)):
        rate(member, w.campaign, NIGHT + timedelta(hours=i), suggestion="没有意见", address=None)
    assert scan(w.campaign, Thresholds()).found == []


def test_the_campaigns_thresholds_decide(town):
    w = town
    fabricated(w.town_union_b, w.campaign, 12, start=NIGHT, device="", quick=False)
    stored = settings_for(w.campaign)
    stored.burst_address_min = 20
    stored.save()
    bursts = Finding.objects.filter(kind=FindingKind.BURST_ADDRESS)
    run = scan_now(campaign=w.campaign)
    assert not bursts.filter(run=run).exists()
    assert run.thresholds["burst_address_min"] == 20
    stored.burst_address_min = 10
    stored.save()
    run = scan_now(campaign=w.campaign)
    assert bursts.filter(run=run).get().count == 12
    assert run.thresholds["burst_address_min"] == 10


def test_a_stored_run_replaces_the_previous_and_counts_what_it_found(town):
    w = town
    fabricated(w.town_union_b, w.campaign, 12, start=NIGHT)
    first = scan_now(campaign=w.campaign)
    second = scan_now(campaign=w.campaign)
    assert not ReviewRun.objects.filter(pk=first.pk).exists()
    assert latest_run(w.campaign) == second and second.status == ReviewRunStatus.DONE
    assert second.stats["flagged_unions"] == 1 and second.stats["flagged_evaluations"] == 12
    assert second.stats["evaluations"] == 102
    kinds = set(Finding.objects.filter(run=second).values_list("kind", flat=True))
    assert kinds == {
        FindingKind.BURST_ADDRESS,
        FindingKind.BURST_DEVICE,
        FindingKind.QUICK_REGISTER,
        FindingKind.FAST_STRAIGHT,
    }


def test_a_failed_scan_keeps_the_last_results(town, monkeypatch):
    w = town
    fabricated(w.town_union_b, w.campaign, 12, start=NIGHT)
    good = scan_now(campaign=w.campaign)

    def broken(*args, **kwargs):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr("evaluations.integrity.scan", broken)
    failed = scan_now(campaign=w.campaign)
    assert failed.status == ReviewRunStatus.FAILED and "数据库连接中断" in failed.error
    assert latest_run(w.campaign, status=ReviewRunStatus.DONE) == good
    assert good.findings.exists()


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        (3, 1.0, 1 - 2.5 * 2.718281828459045**-1),  # 1 − e⁻¹(1 + 1 + ½)
        (1, 0.5, 1 - 2.718281828459045**-0.5),
        (2, 3.0, 1.0),  # no excess: never flagged
        (5, 0.0, 0.0),
    ],
)
def test_poisson_tail(k, lam, expected):
    assert poisson_tail(k, lam) == pytest.approx(expected, rel=1e-9)


def test_poisson_tail_of_a_far_excess_stays_finite():
    assert 0 < poisson_tail(36, 0.03) < 1e-90
    assert poisson_tail(10_000, 9_000.0) < 1e-20
