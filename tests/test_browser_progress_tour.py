"""评议进度, 每周通报, 提醒与宣传 and 差评处置 as admins and members use them.

The data: the test world with a campaign open now (it began 27 days ago, ends in 28), targets
and reported members set on the units, and sixty evaluations spread over its days:

| unit | reported | target | registered | evaluated | 完成率 |
|---|---|---|---|---|---|
| 真州镇中心小学工会 | 60 | 40 | 34 | 30 | 75.0% |
| 真州镇卫生院工会 | 30 | 25 | 10 | 6 | 24.0% (落后) |
| 枣林湾酒店工会 | 40 | 30 | 28 | 24 | 80.0% |
| 教育局 | 25 | 20 | 0 | 0 | 0.0% (落后) |

李华's 不满意 at 中心小学 is submitted today and opens the case the union admin handles; two
bulletins (cut off a week ago and today at 00:00) are built with reports.bulletins.

Run with PINGYI_SCREENSHOTS=docs/screenshots, it refreshes console_14 … console_21 and
member_25, member_26.
"""

import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from conftest import fake_id_number, register_member_account

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PHONE_WIDTH = 360
PHONE = {
    "viewport": {"width": PHONE_WIDTH, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
PASSWORD = "pingyi-test-pw"
LI_PHONE = "13905141234"
LI_SUGGESTION = "食堂饭菜太贵，向工会反映过也没有下文。"
FINDING = "经核实，食堂由后勤外包，价格半年未公示，职工意见属实。"
MEASURES = "已约谈食堂承包方，下周起公示菜价并增设平价窗口。"
REPLY = "感谢您的意见！食堂下周一起公示菜价，并增设两个平价窗口，欢迎继续监督。"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"

# union attribute → (reported, target, evaluated, registered but not evaluated, unregistered)
UNITS = {
    "town_union_a": (60, 40, 30, 4, 6),
    "town_union_b": (30, 25, 6, 4, 5),
    "park_union": (40, 30, 24, 4, 4),
}


class Tour:
    """What the test made, to compare with what the pages show."""


def _days_ago(i: int, n: int) -> int:
    """Evaluation i of n: from 26 days ago to yesterday, more of them lately."""
    return max(1, 26 - round(26 * ((i + 1) / n) ** 0.6))


@pytest.fixture
def tour(allow_orm_beside_playwright, transactional_db, world):
    from campaigns.services import create_campaign, record_reported_members, set_manual_target
    from cases.models import Outcome
    from cases.services import reply_case, verify_case
    from evaluations.models import Evaluation
    from evaluations.selectors import questionnaire
    from evaluations.services import Answers, submit_evaluation
    from members.counters import rebuild_registration_counts
    from members.models import Member
    from members.services import add_member
    from reports.bulletins import build_bulletin, cutoff_for_day, local_midnight

    w = world
    t = Tour()
    t.world = w
    today = timezone.localdate()
    t.today = today
    t.campaign = c = create_campaign(
        org=w.city,
        name=f"{today.year}年会员网上评议",
        year=today.year,
        starts_at=local_midnight(today - timedelta(days=27)),
        ends_at=local_midnight(today + timedelta(days=28)),
        target_rates={},  # targets are the units' own below; the town's is its unions' sum
    )
    items = questionnaire(c).items
    for attr, (reported, target, *_rest) in UNITS.items():
        union = getattr(w, attr)
        record_reported_members(org=union, year=c.year, count=reported)
        set_manual_target(campaign=c, org=union, value=target)
    record_reported_members(org=w.agency, year=c.year, count=25)
    set_manual_target(campaign=c, org=w.agency, value=20)

    number = iter(range(200, 400))
    t.pending, t.unregistered = {}, {}
    t.negatives = []
    for attr, (_reported, _target, evaluated, pending, unregistered) in UNITS.items():
        union = getattr(w, attr)
        # 李华 of 中心小学 evaluates today, in the browser's story below; here the others.
        if attr == "town_union_a":
            evaluated -= 1
            t.li = add_member(org=union, name="李华", id_number=fake_id_number(1), phone=LI_PHONE)
            register_member_account(t.li)
        people = []
        for _i in range(evaluated + pending + unregistered):
            n = next(number)
            people.append(
                add_member(
                    org=union,
                    name=SURNAMES[n % 20] + GIVEN[(n * 7) % 20] + ("" if n % 3 else GIVEN[n % 11]),
                    id_number=fake_id_number(n),
                    phone=f"1390514{n:04d}",
                )
            )
        voters = people[:evaluated]
        t.pending[attr] = people[evaluated : evaluated + pending]
        t.unregistered[attr] = people[evaluated + pending :]
        for i, member in enumerate(voters):
            day = today - timedelta(days=_days_ago(i, evaluated))
            when = timezone.make_aware(datetime.combine(day, time(9 + i % 10)))
            register_member_account(member)
            Member.objects.filter(pk=member.pk).update(registered_at=when - timedelta(hours=20))
            member.refresh_from_db()
            overall = 2 if i % 11 == 5 else (5, 4, 5, 3, 4)[i % 5]
            done = submit_evaluation(
                member=member,
                campaign=c,
                answers=Answers(
                    overall=overall,
                    ratings={items[0].pk: overall, items[3].pk: max(1, overall - 1)},
                    suggestion="希望多组织文体活动。" if i % 4 == 0 else "",
                ),
                now=when,
            )
            if done.evaluation.is_negative:
                t.negatives.append(done.evaluation)
        for member in t.pending[attr]:
            register_member_account(member)
            Member.objects.filter(pk=member.pk).update(
                registered_at=timezone.now() - timedelta(days=3)
            )
    rebuild_registration_counts()

    # Earlier cases of 中心小学 at other steps, so the queue shows more than 待核实.
    first, second = (e.case for e in t.negatives[:2])
    verify_case(case=first, by=w.union_admin, finding="反映的是职工代表大会未按期召开，属实。")
    reply_case(
        case=first,
        by=w.union_admin,
        outcome=Outcome.BY_DEADLINE,
        measures="12月中旬召开职工代表大会。",
        reply="职代会将于12月中旬召开，届时请您参加。",
        rectify_by=today + timedelta(days=20),
    )
    verify_case(case=second, by=w.union_admin, finding="文体活动确实偏少，正在制定计划。")

    # 李华's 不满意 of today, through the same service as the H5 form: it opens the case.
    t.li_evaluation = submit_evaluation(
        member=t.li,
        campaign=c,
        answers=Answers(
            overall=2,
            ratings={items[0].pk: 2, items[3].pk: 1},
            suggestion=LI_SUGGESTION,
            return_visit=True,
        ),
    ).evaluation
    t.case = t.li_evaluation.case

    # Two weekly bulletins of the city: last week's and this one's (counted to yesterday 24:00).
    build_bulletin(campaign=c, org=w.city, cutoff=cutoff_for_day(today - timedelta(days=7)))
    t.bulletin = build_bulletin(campaign=c, org=w.city, cutoff=cutoff_for_day(today))

    monday = today - timedelta(days=today.weekday())
    submitted = [
        (path, timezone.localtime(at).date())
        for path, at in Evaluation.objects.filter(campaign=c).values_list(
            "org__path", "submitted_at"
        )
    ]
    t.week_new = lambda org: sum(
        1 for path, day in submitted if path.startswith(org.path) and day >= monday
    )
    t.until_yesterday = sum(1 for _path, day in submitted if day < today)
    assert len(submitted) == 60
    return t


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))


def _snap(page, folder, name: str, *, phone: bool = False) -> None:
    if phone:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _fits_console(page) -> None:
    """No sideways scrolling of the console page at 1280 px."""
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["viewport"]["width"]


def _download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    with open(download.path(), "rb") as f:
        return download.suggested_filename, f.read()


def _row(table, name: str):
    return table.locator("tbody tr").filter(
        has=table.page.get_by_role("link", name=name, exact=True)
    )


def _sheet_rows(content: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_progress_bulletins_reminders_and_cases_as_the_admins_and_a_member_see_them(
    tour, browser, live_server, screenshots, sms_outbox
):
    t, w = tour, tour.world
    base = live_server.url
    admin = browser.new_context(**DESKTOP)
    page = admin.new_page()
    _log_in(page, base, "city_admin")

    # ---- 评议进度: the city's units, two charts, the laggards marked.
    page.locator(".sidenav").get_by_role("link", name="评议进度").click()
    expect(page.get_by_role("heading", name="评议进度 · 仪征市总工会")).to_be_visible()
    expect(page.locator("[data-stat=target]")).to_have_text("115")
    expect(page.locator("[data-stat=evaluated]")).to_have_text("60")
    expect(page.locator("[data-stat=completion]")).to_have_text("52.2%")
    table = page.locator("table.progress")
    headers = ("已注册(人)", "已评议(人)", "完成率", "参评率", "注册率", "本周新增(人)", "排名")
    for header in headers:
        expect(table.locator("thead")).to_contain_text(header)
    expect(table.locator("tbody tr")).to_have_count(3)
    town = _row(table, "真州镇")
    expect(town.locator("[data-col=registered]")).to_have_text("44")
    expect(town.locator("[data-col=evaluated]")).to_have_text("36")
    expect(town.locator("[data-col=completion]")).to_have_text("55.4%")
    expect(town.locator("[data-col=participation]")).to_have_text("40.0%")
    expect(town.locator("[data-col=registration]")).to_have_text("48.9%")
    expect(town.locator("[data-col=week_new]")).to_have_text(str(t.week_new(w.town)))
    expect(town.locator("[data-col=rank]")).to_have_text("2")
    agency = _row(table, "教育局")
    expect(agency).to_have_class(re.compile("behind"))
    expect(agency).to_contain_text("落后")
    expect(agency.locator("[data-col=completion]")).to_have_text("0.0%")
    expect(town).not_to_have_class(re.compile("behind"))
    charts = page.locator("figure.chart svg")
    expect(charts).to_have_count(2)
    expect(charts.first).to_be_visible()
    expect(charts.nth(1)).to_be_visible()
    expect(charts.nth(1)).to_contain_text("枣林湾旅游度假区")
    _fits_console(page)
    _snap(page, screenshots, "console_14_progress")

    # Sorted by 完成率, best first: 枣林湾 (80.0%) above 真州镇.
    table.get_by_role("link", name="完成率").click()
    page.wait_for_url(re.compile(r"sort=completion"))
    expect(table.locator("tbody tr").first).to_contain_text("枣林湾旅游度假区")
    expect(table.locator("tbody tr").first.locator("[data-col=completion]")).to_have_text("80.0%")
    expect(table.locator("tbody tr").last).to_contain_text("教育局")
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("完成率")

    # 导出 Excel answers a spreadsheet with the units' figures.
    name, content = _download(page, page.get_by_role("link", name="导出 Excel"))
    assert name.endswith(".xlsx") and "评议进度" in name
    rows = _sheet_rows(content)
    park_row = next(r for r in rows if "枣林湾旅游度假区" in r)
    assert 24 in park_row and 30 in park_row

    # Drill down to 真州镇: 卫生院 lags at 24.0%.
    _row(table, "真州镇").get_by_role("link", name="真州镇", exact=True).click()
    expect(page.get_by_role("heading", name="评议进度 · 真州镇")).to_be_visible()
    expect(page.locator(".crumbs")).to_contain_text("仪征市总工会")
    clinic = _row(table, "真州镇卫生院工会")
    expect(clinic).to_have_class(re.compile("behind"))
    expect(clinic.locator("[data-col=completion]")).to_have_text("24.0%")
    school = _row(table, "真州镇中心小学工会")
    expect(school.locator("[data-col=evaluated]")).to_have_text("30")
    expect(school.locator("[data-col=completion]")).to_have_text("75.0%")
    expect(school.locator("[data-col=week_new]")).to_have_text(str(t.week_new(w.town_union_a)))
    _fits_console(page)
    _snap(page, screenshots, "console_15_progress_town")

    # …and to the grassroots union itself: its own figures, no sub-units.
    school.get_by_role("link", name="真州镇中心小学工会").click()
    expect(page.get_by_role("heading", name="评议进度 · 真州镇中心小学工会")).to_be_visible()
    expect(page.locator("[data-stat=evaluated]")).to_have_text("30")
    expect(page.locator("[data-stat=registered]")).to_have_text("34")
    expect(page.locator("table.progress")).to_have_count(0)

    # ---- 每周通报: two issues; the latest with its headline, table and files.
    page.locator(".sidenav").get_by_role("link", name="每周通报").click()
    expect(page.get_by_role("heading", name="每周通报")).to_be_visible()
    listed = page.locator("tr[data-bulletin]")
    expect(listed).to_have_count(2)
    expect(listed.first).to_contain_text("（第2期）")
    expect(listed.first.locator("td").nth(3)).to_have_text(str(t.until_yesterday))
    _fits_console(page)
    _snap(page, screenshots, "console_16_bulletins")

    listed.first.get_by_role("link").click()
    expect(page.locator("article.notice h1")).to_contain_text("工作进展情况的通报（第2期）")
    expect(page.locator("article.notice")).to_contain_text(f"已有{t.until_yesterday}名会员参与评议")
    notice_table = page.locator("#bulletin-table")
    expect(notice_table.locator("tbody tr")).to_have_count(4)  # three units and the total
    expect(notice_table.locator("tr.behind")).to_contain_text("教育局")
    _fits_console(page)
    _snap(page, screenshots, "console_17_bulletin")
    for label, ext, magic in (
        ("下载 PDF", "pdf", b"%PDF"),
        ("下载 Word", "docx", b"PK"),
        ("下载 Excel", "xlsx", b"PK"),
    ):
        name, content = _download(page, page.get_by_role("link", name=label))
        assert name.endswith(f".{ext}") and content.startswith(magic), (label, name)
        if ext == "xlsx":
            assert any("教育局" in r for r in _sheet_rows(content))

    # ---- 差评处置: the city's queue holds every negative review, 李华's the newest.
    page.locator(".sidenav").get_by_role("link", name="差评处置").click()
    expect(page.get_by_role("heading", name=re.compile("^差评处置"))).to_be_visible()
    queue_rows = page.locator("main table.grid tr").filter(has=page.locator("td a"))
    expect(queue_rows).to_have_count(len(t.negatives) + 1)
    expect(queue_rows.first).to_contain_text(t.case.number)
    expect(queue_rows.first).to_contain_text("待核实")
    expect(queue_rows.filter(has_text=t.negatives[0].case.number)).to_contain_text("待会员评价")
    expect(queue_rows.filter(has_text=t.negatives[1].case.number)).to_contain_text("整改答复中")
    _fits_console(page)
    _snap(page, screenshots, "console_20_cases")
    admin.close()

    # ---- 提醒与宣传, as 中心小学's union admin.
    admin = browser.new_context(**DESKTOP)
    page = admin.new_page()
    _log_in(page, base, "union_admin")
    page.locator(".sidenav").get_by_role("link", name="提醒与宣传").click()
    page.get_by_role("link", name="会员提醒").first.click()
    expect(page.get_by_role("heading", name=re.compile("会员提醒"))).to_be_visible()
    filters = page.get_by_role("navigation", name="筛选")
    expect(filters.get_by_role("link", name="未注册（6）")).to_be_visible()
    expect(filters.get_by_role("link", name="已注册未评议（4）")).to_be_visible()
    filters.get_by_role("link", name="已注册未评议（4）").click()
    expect(page.locator("main table.grid tr").filter(has=page.locator("td"))).to_have_count(4)
    filters = page.get_by_role("navigation", name="筛选")
    filters.get_by_role("link", name="未注册（6）").click()
    members_table = page.locator("main table.grid")
    expect(members_table.locator("tr").filter(has=page.locator("td"))).to_have_count(6)
    expect(members_table).to_contain_text("139****")  # phones masked
    chosen = t.unregistered["town_union_a"][:2]
    for member in chosen:
        page.get_by_role("checkbox", name=member.name, exact=True).check()
    page.get_by_role("button", name=re.compile("向勾选的会员发送")).click()
    expect(page.locator(".messages")).to_contain_text("已发送 2 条")
    texted = {sms.phone for sms in sms_outbox}
    assert texted == {m.phone for m in chosen}
    assert all("真州镇中心小学工会" in sms.message for sms in sms_outbox)
    expect(
        members_table.locator("tr").filter(has_text=chosen[0].name).locator("td").last
    ).to_contain_text("1 次")
    _fits_console(page)
    _snap(page, screenshots, "console_18_reminders")

    # The poster: the QR code of the signed link, laid out on one A4 page when printed.
    page.get_by_role("link", name="宣传海报").click()
    expect(page.get_by_role("heading", name=re.compile("宣传海报"))).to_be_visible()
    qr = page.get_by_role("img", name="评议链接二维码")
    expect(qr).to_be_visible()
    box = qr.locator("svg").bounding_box()
    assert box["width"] > 300 and abs(box["width"] - box["height"]) < 2
    link = page.locator("main code").inner_text().strip()
    assert link.startswith(f"{base}/m/u/")
    expect(page.locator("article.poster .url")).to_have_text(link)
    _snap(page, screenshots, "console_19_poster")
    page.emulate_media(media="print")
    expect(page.locator(".sidenav")).to_be_hidden()
    expect(qr).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # the poster fits one sheet
    page.emulate_media(media="screen")

    # The member's landing page from that link, on a 360 px phone.
    phone = browser.new_context(**PHONE)
    member_page = phone.new_page()
    member_page.goto(link)
    expect(member_page.get_by_role("heading", name=t.campaign.name)).to_be_visible()
    expect(member_page.locator(".union-name")).to_have_text("真州镇中心小学工会")
    expect(member_page.get_by_role("link", name="实名注册")).to_be_visible()
    expect(member_page.get_by_role("link", name="已注册，登录评议")).to_be_visible()
    _snap(member_page, screenshots, "member_25_unit_link", phone=True)
    # Edited to name another unit, the link is refused.
    assert member_page.goto(link[:-3] + "xyz/").status == 404

    # ---- The union admin handles 李华's case: verifies, then replies.
    page.locator(".sidenav").get_by_role("link", name="差评处置").click()
    page.get_by_role("link", name=t.case.number).click()
    expect(page.locator("h1")).to_contain_text("待核实")
    expect(page.locator("main")).to_contain_text(LI_SUGGESTION)
    page.get_by_label("核实情况").fill(FINDING)
    page.get_by_role("button", name="记录核实情况").click()
    expect(page.locator(".messages")).to_contain_text("已记录核实情况")
    expect(page.locator("h1")).to_contain_text("整改答复中")
    page.get_by_label("立行立改").check()
    page.get_by_label("整改措施（解释说明可不填）").fill(MEASURES)
    page.get_by_label("给会员的答复（会员在“我的评议记录”中看到）").fill(REPLY)
    page.get_by_role("button", name="答复会员").click()
    expect(page.locator(".messages")).to_contain_text("已答复会员")
    expect(page.locator("h1")).to_contain_text("待会员评价")
    timeline = page.locator(".card").filter(has_text="处置过程").locator("table")
    expect(timeline.locator("tr").filter(has=page.locator("td"))).to_have_count(3)
    expect(timeline).to_contain_text("受理")

    def step(name: str):
        return timeline.locator("tr").filter(has=page.get_by_role("cell", name=name, exact=True))

    expect(step("核实")).to_contain_text(FINDING)
    expect(step("整改答复")).to_contain_text("立行立改")
    expect(timeline).to_contain_text(REPLY)
    _fits_console(page)
    _snap(page, screenshots, "console_21_case")
    admin.close()

    # ---- 李华 reads the reply on her phone, and rates the handling.
    member_page.goto(f"{base}/m/login/")
    member_page.get_by_label("手机号码", exact=True).fill(LI_PHONE)
    member_page.get_by_role("button", name="获取验证码").click()
    code = re.search(r"\d{6}", [s for s in sms_outbox if s.phone == LI_PHONE][-1].message).group()
    member_page.get_by_label("验证码", exact=True).fill(code)
    member_page.get_by_role("button", name="登录", exact=True).click()
    member_page.wait_for_url(re.compile(r"/m/"))
    member_page.goto(f"{base}/m/history/{t.li_evaluation.pk}/")
    answer = member_page.locator("section.card").filter(has_text="工会答复")
    expect(answer).to_contain_text("已答复，请评价处理情况")
    expect(answer).to_contain_text(REPLY)
    expect(answer).to_contain_text(MEASURES)
    expect(answer).to_contain_text("立行立改")
    expect(answer.get_by_role("radio", name="满意", exact=True)).to_be_visible()
    _snap(member_page, screenshots, "member_26_case_reply", phone=True)
    answer.get_by_role("radio", name="满意", exact=True).check()
    answer.get_by_role("button", name="提交评价").click()
    expect(member_page.get_by_role("status")).to_contain_text("感谢您的评价")
    expect(member_page.locator("section.card").filter(has_text="工会答复")).to_contain_text(
        "您对处理情况的评价：满意"
    )
    phone.close()
    t.case.refresh_from_db()
    assert t.case.state == "closed" and t.case.handling_rating == "satisfied"
