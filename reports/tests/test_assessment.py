"""年度考核 scores: equal to the arithmetic done by hand on the small data set of
assessment_data.py, under the default scheme and under other caps, weights and policies."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from reports.assessment import (
    AssessmentRefused,
    Rule,
    Scheme,
    compose,
    default_scheme,
    publish_assessment,
    save_scheme,
    score_unit,
    share_ranks,
)
from reports.models import AssessmentIndicator, AssessmentScheme, MissingPolicy

from .assessment_data import build, evaluate, figures

pytestmark = pytest.mark.django_db

D = Decimal
KEYS = ["completion", "participation", "satisfaction", "on_time", "handling"]


@pytest.fixture
def assessed(world):
    return build(world)


def by_name(result: dict) -> dict[str, dict]:
    return {r["name"]: r for r in result["rows"]}


def points(row: dict) -> list[str | None]:
    return [p["points"] for p in row["parts"]]


def values(row: dict) -> list[str | None]:
    return [p["value"] for p in row["parts"]]


def with_rules(**changes) -> Scheme:
    """The default scheme with some rules changed: key=(weight, cap, missing)."""
    scheme = default_scheme()
    for rule in scheme.rules:
        if rule.key in changes:
            weight, cap, missing = changes[rule.key]
            rule.weight, rule.cap, rule.missing = D(str(weight)), D(str(cap)), missing
    return scheme


def test_the_default_scheme_scores_the_units_as_computed_by_hand(assessed):
    w = assessed
    result = compose(campaign=w.campaign, scheme=default_scheme())
    rows = by_name(result)

    # 真州镇: 7 evaluated of a target of 14 and 20 reported members.
    #   完成率 7 ÷ 14 = 50%            → 40 × 50/100            = 20.00
    #   参评率 7 ÷ 20 = 35% (cap 70%)  → 20 × 35/70             = 10.00
    #   指数 (5+5+4+4+3+2+1 − 7) × 25 ÷ 7 = 425/7 = 60.714…  → 20 × 60.714…/100 = 12.142… → 12.14
    #   按期整改率 1 ÷ 2 = 50%         → 10 × 50/100            =  5.00
    #   整改满意率 1 ÷ 2 = 50%         → 10 × 50/100            =  5.00
    #   total 20 + 10 + 12.14 + 5 + 5 = 52.14
    town = rows["真州镇"]
    assert values(town) == ["50.0", "35.0", "60.7", "50.0", "50.0"]
    assert points(town) == ["20.00", "10.00", "12.14", "5.00", "5.00"]
    assert town["total"] == "52.14" and not town["rescaled"]
    assert town["evaluated"] == 7

    # 枣林湾: 13 evaluated of a target of 10 and 20 reported members, all 5★, no negative review.
    #   完成率 130% is capped: 40 × min(130/100, 1) = 40.00 (not 52)
    #   参评率 13 ÷ 20 = 65%           → 20 × 65/70 = 18.571… → 18.57
    #   指数 100                       → 20.00
    #   no case: 按期整改率, 整改满意率 get their weight (full marks) → 10.00 + 10.00
    #   total 40 + 18.57 + 20 + 10 + 10 = 98.57
    park = rows["枣林湾旅游度假区"]
    assert values(park) == ["130.0", "65.0", "100.0", None, None]
    assert [p["missing"] for p in park["parts"]][3:] == ["no_cases", "no_cases"]
    assert points(park) == ["40.00", "18.57", "20.00", "10.00", "10.00"]
    assert park["total"] == "98.57"

    # 教育局: 3 evaluated of 10 (target and reported), 样本不足; its one case never answered.
    #   完成率 30%                    → 40 × 30/100 = 12.00
    #   参评率 30%                    → 20 × 30/70  =  8.571… → 8.57
    #   指数: 样本不足, left out (its 20 points rescale the rest); the index is not shown
    #   按期整改率 0 ÷ 1 = 0%          →  0.00
    #   整改满意率: nobody rated       → full marks 10.00
    #   total (12 + 8.57 + 0 + 10) × 100 ÷ 80 = 30.57 × 1.25 = 38.2125 → 38.21
    agency = rows["教育局"]
    assert values(agency) == ["30.0", "30.0", None, "0.0", None]
    assert [p["missing"] for p in agency["parts"]] == ["", "", "insufficient", "", "none_rated"]
    assert points(agency) == ["12.00", "8.57", None, "0.00", "10.00"]
    assert agency["total"] == "38.21" and agency["rescaled"]

    # 建设行业: nothing reported, no target, no evaluation, no case.
    #   完成率 无目标 → 0; 参评率 无年报人数 → 0; 指数 样本不足, left out; cases full marks
    #   total (0 + 0 + 10 + 10) × 100 ÷ 80 = 25.00
    sector = rows["建设行业"]
    assert [p["missing"] for p in sector["parts"]] == [
        "no_target",
        "no_reported",
        "insufficient",
        "no_cases",
        "no_cases",
    ]
    assert points(sector) == ["0.00", "0.00", None, "10.00", "10.00"]
    assert sector["total"] == "25.00"

    names = ["枣林湾旅游度假区", "真州镇", "教育局", "建设行业"]
    assert [r["name"] for r in result["rows"]] == names
    assert [r["rank"] for r in result["rows"]] == [1, 2, 3, 4]
    assert [r["kind_rank"] for r in result["rows"]] == [1, 1, 1, 1]
    assert result["full_marks"] == "100.00"


def test_a_grassroots_union_right_under_the_city_is_not_scored_by_default(assessed):
    result = compose(campaign=assessed.campaign, scheme=default_scheme())

    assert "市级机关直属基层工会" not in by_name(result)
    assert "grassroots" not in result["kinds"]


def test_kinds_left_out_of_the_scheme_are_absent_and_the_rest_ranked_alone(assessed):
    scheme = default_scheme()
    scheme.kinds = ["town", "agency", "grassroots"]

    result = compose(campaign=assessed.campaign, scheme=scheme)

    assert [(r["name"], r["rank"]) for r in result["rows"]] == [
        # 市级机关直属基层工会: 5 of 5, 5★; no reported members → 参评率 0 (zero policy):
        # 40 + 0 + 20 + 10 + 10 = 80.00
        ("市级机关直属基层工会", 1),
        ("真州镇", 2),
        ("教育局", 3),
    ]
    assert by_name(result)["市级机关直属基层工会"]["total"] == "80.00"


def test_caps_decide_when_an_indicator_earns_its_full_weight(assessed):
    # 参评率 capped at 100% instead of 70%: 真州镇 35% → 20 × 35/100 = 7.00; 枣林湾 65% → 13.00.
    # 完成率 capped at 120%: 枣林湾 130% still earns 40, 真州镇 50% → 40 × 50/120 = 16.666… → 16.67.
    scheme = with_rules(participation=(20, 100, "zero"), completion=(40, 120, "zero"))

    rows = by_name(compose(campaign=assessed.campaign, scheme=scheme))

    assert points(rows["真州镇"])[:2] == ["16.67", "7.00"]
    assert points(rows["枣林湾旅游度假区"])[:2] == ["40.00", "13.00"]
    # 真州镇 16.67 + 7 + 12.14 + 5 + 5 = 45.81
    assert rows["真州镇"]["total"] == "45.81"


@pytest.mark.parametrize(
    ("policy", "points_shown", "total"),
    [
        # 教育局 is 样本不足 on the index (20 points); the rest scores 12 + 8.57 + 0 + 10 = 30.57.
        ("full", "20.00", "50.57"),  # 30.57 + 20
        ("zero", "0.00", "30.57"),  # 30.57 + 0
        ("rescale", None, "38.21"),  # 30.57 × 100 ÷ 80 = 38.2125
    ],
)
def test_each_policy_for_a_missing_value(assessed, policy, points_shown, total):
    scheme = with_rules(satisfaction=(20, 100, policy))

    agency = by_name(compose(campaign=assessed.campaign, scheme=scheme))["教育局"]

    assert points(agency)[2] == points_shown
    assert agency["total"] == total
    assert agency["parts"][2]["value"] is None  # never the index of fewer than 5


def test_score_unit_by_hand_for_every_policy_and_weights_not_adding_to_100():
    scheme = Scheme(
        kinds=["town"],
        rules=[
            Rule("completion", D(30), D(100), MissingPolicy.RESCALE),
            Rule("participation", D(30), D(50), MissingPolicy.ZERO),
            Rule("satisfaction", D(25), D(80), MissingPolicy.FULL),
            Rule("on_time", D(15), D(100), MissingPolicy.FULL),
            Rule("handling", D(0), D(100), MissingPolicy.RESCALE),
        ],
    )
    values = {
        "completion": None,  # no target: left out
        "participation": D(20),  # 30 × 20/50 = 12.00
        "satisfaction": None,  # 样本不足: full, 25.00
        "on_time": D(200) / D(3),  # 15 × 66.666…/100 = 10.00
        "handling": None,  # weight 0, left out: changes nothing
    }

    score = score_unit(values=values, missing={}, scheme=scheme)

    assert [p.points for p in score.parts] == [None, D("12.00"), D("25.00"), D("10.00"), None]
    # (12 + 25 + 10) × 100 ÷ 70 = 47 × 100/70 = 67.142… → 67.14
    assert score.total == D("67.14") and score.rescaled


def test_a_unit_whose_every_weighted_indicator_is_left_out_has_no_total_and_no_rank():
    scheme = Scheme(
        kinds=["town"],
        rules=[Rule(k, D(20), D(100), MissingPolicy.RESCALE) for k in KEYS],
    )

    score = score_unit(values=dict.fromkeys(KEYS), missing={}, scheme=scheme)

    assert score.total is None
    assert share_ranks([D("10"), None, D("12")]) == [2, None, 1]


def test_equal_totals_share_a_rank_overall_and_within_their_kind(world):
    from orgs.models import OrgKind
    from orgs.services import create_child_org

    w = world
    c = w.campaign
    w.qingshan = create_child_org(parent=w.city, name="青山镇", kind=OrgKind.TOWN, seq=4)
    qingshan_union = create_child_org(
        parent=w.qingshan, name="青山镇中学工会", kind=OrgKind.GRASSROOTS
    )
    figures(w, c, [(w.town, 20, 10), (w.park, 20, 10), (w.agency, 10, 10), (w.qingshan, 20, 10)])
    evaluate(w.park_union, c, 5)
    evaluate(qingshan_union, c, 4)

    result = compose(campaign=c, scheme=default_scheme())

    # 枣林湾 and 青山镇: 1 of 10 → 4.00; 1 of 20 reported = 5% → 20 × 5/70 = 1.43; 样本不足;
    #   no case → 20; (4 + 1.43 + 20) × 100 ÷ 80 = 31.7875 → 31.79.
    # 真州镇 and 教育局: nothing evaluated → (0 + 0 + 20) × 100 ÷ 80 = 25.00.
    rows = by_name(result)
    assert [rows[n]["total"] for n in ("枣林湾旅游度假区", "青山镇", "真州镇", "教育局")] == [
        "31.79",
        "31.79",
        "25.00",
        "25.00",
    ]
    assert [r["name"] for r in result["rows"]] == ["枣林湾旅游度假区", "青山镇", "真州镇", "教育局"]
    assert [r["rank"] for r in result["rows"]] == [1, 1, 3, 3]
    assert rows["青山镇"]["kind_rank"] == 1 and rows["真州镇"]["kind_rank"] == 2
    assert rows["枣林湾旅游度假区"]["kind_rank"] == 1 and rows["教育局"]["kind_rank"] == 1


def test_a_saved_scheme_is_what_the_draft_and_the_publication_use(assessed):
    w = assessed
    scheme = with_rules(satisfaction=(20, 100, "zero"))
    save_scheme(campaign=w.campaign, scheme=scheme, by=w.city_admin)

    published = publish_assessment(campaign=w.campaign, by=w.city_admin)

    assert by_name(published.result)["教育局"]["total"] == "30.57"
    record = AssessmentScheme.objects.get(campaign=w.campaign)
    assert record.is_published and record.published_by == w.city_admin
    assert record.result["published_at"] and by_name(record.result)["真州镇"]["total"] == "52.14"


def test_a_published_assessment_cannot_be_edited_or_published_again(assessed):
    w = assessed
    publish_assessment(campaign=w.campaign, by=w.city_admin)

    with pytest.raises(AssessmentRefused, match="已经发布"):
        save_scheme(campaign=w.campaign, scheme=default_scheme(), by=w.city_admin)
    with pytest.raises(AssessmentRefused, match="已经发布"):
        publish_assessment(campaign=w.campaign, by=w.city_admin)


def test_the_published_result_stays_as_it_was_after_a_later_evaluation(assessed):
    w = assessed
    frozen = publish_assessment(campaign=w.campaign, by=w.city_admin).result

    evaluate(w.agency_union, w.campaign, 5)  # 教育局 now 4 of 10

    record = AssessmentScheme.objects.get(campaign=w.campaign)
    assert record.result == frozen
    assert by_name(record.result)["教育局"]["total"] == "38.21"
    # The same scheme computed now: 40 × 40% = 16; 20 × 40/70 = 11.43; (16 + 11.43 + 0 + 10)
    # × 100 ÷ 80 = 46.7875 → 46.79.
    fresh = compose(campaign=w.campaign, scheme=default_scheme())
    assert by_name(fresh)["教育局"]["total"] == "46.79"


def test_the_database_refuses_a_negative_weight_a_zero_cap_and_a_second_indicator(assessed):
    w = assessed
    save_scheme(campaign=w.campaign, scheme=default_scheme(), by=w.city_admin)
    record = AssessmentScheme.objects.get(campaign=w.campaign)

    for bad in (
        {"key": "completion", "weight": D(-1), "cap": D(100)},  # and a second completion
        {"key": "bogus", "weight": D(1), "cap": D(100)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            AssessmentIndicator.objects.create(scheme=record, missing="zero", **bad)
    record.indicators.filter(key="handling").delete()
    for bad in ({"weight": D(-1), "cap": D(100)}, {"weight": D(1), "cap": D(0)}):
        with pytest.raises(IntegrityError), transaction.atomic():
            AssessmentIndicator.objects.create(scheme=record, key="handling", missing="zero", **bad)


def test_the_service_refuses_a_scheme_that_breaks_the_rules(assessed):
    scheme = with_rules(completion=(40, 0, "zero"))

    with pytest.raises(AssessmentRefused, match=r"完成率的满分标准“0.*超出范围") as refused:
        save_scheme(campaign=assessed.campaign, scheme=scheme)
    assert refused.value.field == "completion_cap"
    assert not AssessmentScheme.objects.exists()


def test_a_campaign_that_has_not_begun_cannot_be_published(world):
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services import create_campaign

    later = create_campaign(
        org=world.city,
        name="下一年会员网上评议",
        year=2030,
        starts_at=timezone.now() + timedelta(days=10),
        ends_at=timezone.now() + timedelta(days=40),
    )

    with pytest.raises(AssessmentRefused, match="尚未开始"):
        publish_assessment(campaign=later, by=world.city_admin)
    assert not AssessmentScheme.objects.exists()


def test_a_scheme_without_its_five_indicators_is_refused(assessed):
    scheme = default_scheme()
    scheme.rules = scheme.rules[:4]

    with pytest.raises(AssessmentRefused, match="五项指标"):
        save_scheme(campaign=assessed.campaign, scheme=scheme)


def test_the_command_dry_run_writes_nothing_and_the_real_run_publishes(assessed, capsys):
    w = assessed

    call_command("publish_assessment", "--campaign", str(w.campaign.pk), "--dry-run")
    out = capsys.readouterr().out
    assert "98.57  枣林湾旅游度假区" in out and "未发布" in out
    assert not AssessmentScheme.objects.exists()

    call_command("publish_assessment", "--campaign", str(w.campaign.pk))
    assert AssessmentScheme.objects.get(campaign=w.campaign).is_published
    assert "已发布" in capsys.readouterr().out

    with pytest.raises(CommandError, match="已经发布"):
        call_command("publish_assessment", "--campaign", str(w.campaign.pk))
    with pytest.raises(CommandError, match="找不到"):
        call_command("publish_assessment", "--campaign", "999999")


def test_exclusions_reach_the_draft_through_the_figures_and_leave_the_published_alone(assessed):
    from evaluations.exclusions import exclude_evaluations
    from evaluations.models import Evaluation

    w = assessed
    frozen = publish_assessment(campaign=w.campaign, by=w.city_admin).result
    fives = Evaluation.objects.filter(campaign=w.campaign, org=w.town_union_a, overall=5)

    exclude_evaluations(
        campaign=w.campaign, evaluations=fives, actor=w.city_admin, reason="同一设备集中提交"
    )

    town = by_name(compose(campaign=w.campaign, scheme=default_scheme()))["真州镇"]
    # 真州镇 without its two 5★: 5 evaluated, 2 excluded.
    #   完成率 5 ÷ 14 = 35.714…%  → 40 × 35.714…/100 = 14.285… → 14.29
    #   参评率 5 ÷ 20 = 25%        → 20 × 25/70 = 7.142… → 7.14
    #   指数 (4+4+3+2+1 − 5) × 25 ÷ 5 = 45 → 20 × 45/100 = 9.00
    #   cases unchanged (the excluded evaluations had none): 5.00 + 5.00
    #   total 14.29 + 7.14 + 9 + 5 + 5 = 40.43
    assert (town["evaluated"], town["excluded"]) == (5, 2)
    assert points(town) == ["14.29", "7.14", "9.00", "5.00", "5.00"]
    assert town["total"] == "40.43"
    record = AssessmentScheme.objects.get(campaign=w.campaign)
    assert record.result == frozen and by_name(record.result)["真州镇"]["total"] == "52.14"
