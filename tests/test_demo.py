"""The Yizheng 2022 demo as the federation, a town admin and a member see it."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.urls import reverse

from accounts.models import User
from campaigns.models import Campaign, Rollup
from campaigns.rollups import rebuild_rollups, recount
from demo.roster import DEMO_MEMBERS, REGISTERED_SHARE, load_demo_roster
from demo.services import load_demo
from evaluations import counters
from evaluations.models import Answer, Channel, Evaluation
from members.identity import parse_id_number, parse_mobile
from members.models import AuditAction, AuditEvent, Member
from members.selectors import member_by_id_number, registered_member_by_phone
from orgs.models import Org, OrgKind
from orgs.selectors import children_of, within

pytestmark = pytest.mark.django_db

# The whole roster (62,301 members) takes ~20 s to load: one test loads it, the others load
# the demo with ten members a union.
CAP = 10


@pytest.fixture
def demo(db):
    load_demo(members_per_union_cap=CAP)
    return Campaign.objects.get(name="2022年会员网上评议")


def test_demo_has_the_85_units_of_the_task_table(demo):
    root = Org.objects.get(code="321081")
    units = list(children_of(root))
    assert len(units) == 85
    assert [u.name for u in units[:3]] == ["经济开发区", "化学工业园区", "汽车工业园"]
    assert units[-1].name == "市汽车工业公司"
    assert all(children_of(unit).exists() for unit in units)
    assert {u.kind for u in units[4:13]} == {OrgKind.TOWN}
    assert demo.questions.count() == 11  # overall, nine items, suggestion


def test_federation_admin_sees_62301_members_and_50866_target_with_the_warning(demo, client):
    client.force_login(User.objects.get(username="yz_admin"))
    page = client.get(reverse("console:home"))
    html = page.content.decode()
    table = page.context["panels"][0]["table"]
    assert len(table.rows) == 85
    assert (table.own.reported, table.own.target) == (62301, 50866)
    assert (table.total_reported, table.total_target) == (62301, 50866)
    assert "62,301" in html and "50,866" in html
    assert "任务分解表合计栏参评目标为 50,867 人，各行相加为 50,866 人，相差 1 人" in html
    row = next(r for r in table.rows if r.org.name == "枣林湾旅游度假区")
    assert (row.figures.reported, row.figures.target) == (381, 267)


def test_town_admin_sees_only_their_town_and_its_undistributed_target(demo, client):
    client.force_login(User.objects.get(username="zhenzhou"))
    page = client.get(reverse("console:home"))
    html = page.content.decode()
    [panel] = page.context["panels"]
    assert panel["org"].name == "真州镇"
    assert (panel["table"].own.reported, panel["table"].own.target) == (4809, 3366)
    assert "经济开发区" not in html and "教育局" not in html
    assert "尚有 3,366 人未分解" in html
    root = Org.objects.get(code="321081")
    assert client.get(reverse("orgs:detail", args=[root.pk])).status_code == 404


def test_stored_rollups_equal_a_fresh_computation(demo):
    figures, drifted = recount(campaign=demo)
    assert drifted == []
    assert len(figures) == Org.objects.count()
    assert rebuild_rollups(campaign=demo) == demo.rollups.count() == 260


def test_load_demo_twice_changes_nothing(demo):
    before = (Org.objects.count(), User.objects.count(), Member.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (Org.objects.count(), User.objects.count(), Member.objects.count()) == before


def test_the_full_roster_matches_every_units_reported_members():
    # A demo loaded before it had rosters gets them from the next load_demo: the full size.
    load_demo(members_per_union_cap=0)
    assert not Member.objects.exists()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "62301" in out.getvalue()

    root = Org.objects.get(code="321081")
    units = list(children_of(root))
    assert Member.objects.count() == 62301
    for unit in units:
        roster = Member.objects.filter(within(unit, "org__path"))
        reported = unit.reported.get(year=2022).count
        assert roster.count() == reported, unit.name
        registered = roster.filter(user__isnull=False).count()
        # The roster registers a share of each unit; a unit's evaluation drive may add more.
        low, _high = REGISTERED_SHARE
        assert low * reported - 1 <= registered <= reported, unit.name
    by_name = {u.name: u for u in units}
    for name, reported in [("真州镇", 4809), ("枣林湾旅游度假区", 381), ("教育局", 4130)]:
        assert Member.objects.filter(within(by_name[name], "org__path")).count() == reported
    unions = Org.objects.filter(kind=OrgKind.GRASSROOTS).annotate(size=Count("members"))
    assert all(union.size == union.reported.get(year=2022).count for union in unions)
    assert "已为演示数据补充评议" in out.getvalue()
    registered = Member.objects.filter(user__isnull=False)
    assert 0.35 * 62301 <= registered.count() <= 0.80 * 62301

    ids, phones, ages = set(), set(), Counter()
    for member in Member.objects.only("id_cipher", "phone_cipher", "sex", "birth_date"):
        parsed = parse_id_number(member.id_number)
        assert (parsed.sex, parsed.birth_date) == (member.sex, member.birth_date)
        ids.add(parsed.number)
        phones.add(parse_mobile(member.phone))
        ages[(2022 - parsed.birth_date.year) // 10] += 1
    assert len(ids) == len(phones) == 62301
    assert set(ages) <= {1, 2, 3, 4, 5, 6}  # 20 to 60 on 2022-09-01 (by birth year: 19–60)
    hashes = registered.values_list("id_hash", "phone_hash")
    assert len({i for i, _p in hashes}) == len({p for _i, p in hashes}) == registered.count()

    accounts = User.objects.filter(member__isnull=False)
    assert accounts.count() == registered.count()
    assert not any(user.has_usable_password() for user in accounts[:50])
    member = registered.select_related("user").first()
    assert member.user.username == f"m{member.pk}" and member.user.display_name == member.name
    assert AuditEvent.objects.filter(action=AuditAction.ROSTER_CREATED).count() == 62301


def test_the_demo_member_logs_in_by_phone_and_another_can_register(demo):
    known, newcomer = DEMO_MEMBERS
    member = registered_member_by_phone(known.phone)
    assert member is not None
    assert (member.name, member.id_number, member.org.name) == (
        "张伟",
        known.id_number,
        "真州中心小学工会",
    )
    assert member.user.username == f"m{member.pk}"
    waiting = member_by_id_number(newcomer.id_number)
    assert waiting.name == newcomer.name and not waiting.is_registered
    assert registered_member_by_phone(newcomer.phone) is None


def test_demo_logins_print_the_member_login_and_the_registration_to_try(demo):
    _known, newcomer = DEMO_MEMBERS
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "会员登录：http://127.0.0.1:8000/m/login/  手机号 13900000001" in text
    assert "验证码显示在运行 make run 的终端里" in text
    assert f"会员注册：http://127.0.0.1:8000/m/register/  姓名 {newcomer.name}" in text
    assert newcomer.id_number in text and newcomer.phone in text


def test_a_unit_without_grassroots_unions_gets_one_named_after_it(world):
    load_demo_roster(root=world.city, seed=1, members_per_union_cap=5)
    [union] = children_of(world.agency)
    assert (union.name, union.kind) == ("教育局工会", OrgKind.GRASSROOTS)
    assert union.reported.get(year=2022).count == 4130
    assert union.members.count() == 5
    # The town's unions had no figures of their own: the town's 4,809 are split over them.
    split = [u.reported.get(year=2022).count for u in children_of(world.town)]
    assert sum(split) == 4809 and all(split)


def test_demo_evaluations_come_from_registered_members_once_inside_the_window(demo):
    evaluations = Evaluation.objects.filter(campaign=demo)
    assert evaluations.count() > 500
    assert not evaluations.filter(member__user__isnull=True).exists()
    assert not evaluations.filter(member__registered_at__isnull=True).exists()
    assert evaluations.values("member").distinct().count() == evaluations.count()
    assert not evaluations.filter(submitted_at__lt=F("member__registered_at")).exists()
    assert not evaluations.filter(
        Q(submitted_at__lt=demo.starts_at) | Q(submitted_at__gte=demo.ends_at)
    ).exists()
    assert not evaluations.exclude(org=F("member__org")).exists()  # nobody has transferred
    assert set(evaluations.values_list("channel", flat=True)) == {Channel.DEMO}
    # The counters the console reads agree with the evaluations.
    assert counters.recount(demo) == []


def test_demo_evaluations_rate_mostly_well_and_answer_items_in_step(demo):
    evaluations = Evaluation.objects.filter(campaign=demo)
    total = evaluations.count()
    good = evaluations.filter(overall__gte=4).count()
    assert good / total > 0.7
    with_items = evaluations.filter(answers__isnull=False).distinct().count()
    assert 0.55 <= with_items / total <= 0.85
    # Items follow the overall: an item is never rated more than one star above it.
    assert not Answer.objects.filter(rating__gt=F("evaluation__overall") + 1).exists()
    for evaluation in evaluations.filter(answers__isnull=False)[:200]:
        ratings = {a.question_id: a.rating for a in evaluation.answers.all()}
        negative = evaluation.overall <= 2  # the demo campaign's rule: the overall decides
        assert evaluation.is_negative == negative, ratings
    negatives = evaluations.filter(is_negative=True)
    assert not evaluations.filter(is_negative=False, return_visit=True).exists()
    assert 0.2 <= negatives.filter(return_visit=True).count() / negatives.count() <= 0.6


def test_some_demo_units_are_ahead_of_target_and_some_far_behind(demo):
    root = demo.org
    step = len(root.path) + Org.steplen
    done = Counter(
        path[:step]
        for path in Evaluation.objects.filter(campaign=demo).values_list("org__path", flat=True)
    )
    targets = dict(Rollup.objects.filter(campaign=demo).values_list("org_id", "target"))
    completion = {u.name: done[u.path] / targets[u.pk] for u in children_of(root)}
    assert sum(rate >= 1 for rate in completion.values()) >= 3
    assert any(rate < 0.3 for rate in completion.values())


def test_demo_negative_reviews_gather_in_a_few_unions(demo):
    evaluations = Evaluation.objects.filter(campaign=demo)
    assert evaluations.filter(is_negative=True).count() / evaluations.count() < 0.15
    by_union = evaluations.values("org").annotate(
        n=Count("pk"), negative=Count("pk", filter=Q(is_negative=True))
    )
    troubled = [u for u in by_union if u["n"] >= 5 and u["negative"] / u["n"] >= 0.4]
    assert 1 <= len(troubled) <= 4


def test_demo_suggestions_touch_every_item_and_pay(demo):
    suggestions = list(
        Evaluation.objects.filter(campaign=demo)
        .exclude(suggestion="")
        .values_list("suggestion", flat=True)
    )
    total = Evaluation.objects.filter(campaign=demo).count()
    assert 0.2 <= len(suggestions) / total <= 0.4
    assert len(set(suggestions)) >= 80
    keywords = {
        "职工(代表)大会": ("职工代表", "职代会"),
        "民主管理": ("民主", "厂务公开"),
        "培养、评选、表彰先进模范": ("先进", "劳模"),
        "职工文体活动": ("文体",),
        "劳动竞赛、技能提升": ("劳动竞赛", "技能"),
        "帮助和指导签订劳动合同": ("劳动合同",),
        "维护女职工的特殊权益": ("女职工",),
        "困难职工帮扶救助": ("困难职工", "帮扶"),
        "协助和督促劳动安全卫生": ("劳动安全", "劳保"),
        "工资": ("工资", "加班费"),
    }
    for item, words in keywords.items():
        assert any(w in s for s in suggestions for w in words), item


def test_the_demo_member_has_not_evaluated_and_the_newcomer_is_still_unregistered(demo):
    known, newcomer = DEMO_MEMBERS
    member = registered_member_by_phone(known.phone)
    assert not Evaluation.objects.filter(member=member).exists()
    assert Evaluation.objects.filter(campaign=demo, org=member.org).exists()
    assert not member_by_id_number(newcomer.id_number).is_registered


def test_demo_logins_explain_the_closed_window(demo):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "2022年9月1日至11月30日，已经结束" in out.getvalue()
    assert "yz_admin（仪征市总工会）" in out.getvalue()


def test_the_demo_has_traces_for_integrity_review_and_an_older_demo_gains_them(demo):
    from demo.traces import padded_union
    from evaluations.integrity import latest_run
    from evaluations.models import ReviewRun, SubmissionTrace

    evaluations = Evaluation.objects.filter(campaign=demo)
    traces = SubmissionTrace.objects.filter(evaluation__campaign=demo)
    assert traces.count() == evaluations.count()
    assert not traces.filter(address__isnull=True).exists()
    assert not traces.filter(device_key="").exists()
    # A demo loaded before integrity review: no traces, no run; the next load_demo adds both.
    SubmissionTrace.objects.all().delete()
    ReviewRun.objects.all().delete()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "已为演示数据补充提交痕迹" in out.getvalue()
    assert traces.count() == Evaluation.objects.filter(campaign=demo).count()
    run = latest_run(demo)
    assert run is not None and run.status == "done"
    # Loaded again, the demo is not padded twice: the same union, if any, is flagged.
    padded = padded_union(demo)
    flagged = set(run.findings.values_list("org_id", flat=True))
    assert flagged <= ({padded.pk} if padded else set())
