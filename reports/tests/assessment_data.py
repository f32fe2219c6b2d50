"""A small data set whose assessment is computed by hand in the tests (test_assessment*.py).

World (root conftest): 仪征市总工会 → 真州镇 (town), 枣林湾旅游度假区 (park), 教育局 (agency);
added here: 教育局机关工会 under 教育局, 建设行业 (sector, nothing reported, no target, no
evaluation) and 市级机关直属基层工会 (a grassroots union right under the city: a kind the default
scheme does not score). In world.campaign (2022年9月1日—11月30日):

- 真州镇: 20 reported, target 14; 7 evaluations (5 5 4 4 3 2 1); 2 cases: one answered on
  time and rated 满意, one answered late and rated 不满意.
- 枣林湾旅游度假区: 20 reported, target 10; 13 evaluations, all 5; no case.
- 教育局: 10 reported, target 10; 3 evaluations (4 4 2: 样本不足); 1 case, never answered (past
  its deadline).
- 建设行业: nothing reported, no target, no evaluation, no case.
- 市级机关直属基层工会: target 5; 5 evaluations, all 5.
"""

from datetime import datetime

from campaigns.services import record_reported_members, set_manual_target
from cases.models import Case, Outcome
from cases.services import rate_handling, reply_case, verify_case
from conftest import SHANGHAI, fake_id_number, register_member_account
from evaluations.services import Answers, submit_evaluation
from members.models import Member
from members.services import add_member
from orgs.models import OrgKind
from orgs.services import create_child_org

# The Friday before National Day 2022: a review then is due for its reply on 2022-10-26.
REVIEW_DAY = datetime(2022, 9, 30, 15, 0, tzinfo=SHANGHAI)
EARLY = datetime(2022, 9, 10, 10, 0, tzinfo=SHANGHAI)


def at(day: str, hour: int = 10) -> datetime:
    y, m, d = (int(p) for p in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def _name(n: int) -> str:
    """A fictitious name for the nth member (names take only Chinese characters)."""
    digits = "零一二三四五六七八九"
    return "会员" + "".join(digits[int(d)] for d in str(n))


def evaluate(union, campaign, overall: int, when: datetime | None = None):
    """A new member of `union` registers and rates it `overall`; returns the evaluation (a
    case opens with it when it is a negative review)."""
    n = 500 + Member.objects.count()  # unique in the test's database, under the ID's 999
    member = add_member(
        org=union, name=_name(n), id_number=fake_id_number(n), phone=f"1390000{n:04d}"
    )
    register_member_account(member)
    when = when or (REVIEW_DAY if overall <= 2 else EARLY)
    done = submit_evaluation(
        member=member,
        campaign=campaign,
        answers=Answers(overall=overall, ratings={}),
        now=when,
    )
    return done.evaluation


def figures(w, campaign, rows) -> None:
    """(org, reported members, target) of the campaign's year."""
    for org, reported, target in rows:
        record_reported_members(org=org, year=campaign.year, count=reported)
        set_manual_target(campaign=campaign, org=org, value=target)


def build(world):
    """The data set of the module docstring in world.campaign; returns the world."""
    w = world
    c = w.campaign
    w.agency_union = create_child_org(
        parent=w.agency, name="教育局机关工会", kind=OrgKind.GRASSROOTS
    )
    w.sector = create_child_org(parent=w.city, name="建设行业", kind=OrgKind.SECTOR, seq=4)
    w.city_union = create_child_org(
        parent=w.city, name="市级机关直属基层工会", kind=OrgKind.GRASSROOTS, seq=5
    )
    figures(w, c, [(w.town, 20, 14), (w.park, 20, 10), (w.agency, 10, 10)])
    set_manual_target(campaign=c, org=w.city_union, value=5)

    for overall in (5, 5, 4, 4, 3):
        evaluate(w.town_union_a, c, overall)
    on_time = evaluate(w.town_union_a, c, 2)
    late = evaluate(w.town_union_a, c, 1)
    for _i in range(13):
        evaluate(w.park_union, c, 5)
    for overall in (4, 4, 2):
        evaluate(w.agency_union, c, overall)
    for _i in range(5):
        evaluate(w.city_union, c, 5)

    handler = w.town_admin
    for evaluation, replied in ((on_time, "2022-10-20"), (late, "2022-11-02")):
        case = Case.objects.get(evaluation=evaluation)
        verify_case(case=case, by=handler, finding="属实", now=at("2022-10-08"))
        reply_case(
            case=case,
            by=handler,
            outcome=Outcome.FIXED,
            measures="整改",
            reply="已整改",
            now=at(replied),
        )
    rate_handling(
        case=Case.objects.get(evaluation=on_time),
        member=on_time.member,
        rating="satisfied",
        now=at("2022-10-21"),
    )
    rate_handling(
        case=Case.objects.get(evaluation=late),
        member=late.member,
        rating="dissatisfied",
        now=at("2022-11-04"),
    )
    return w
