"""异常核查 in Debian's chromium: a federation admin follows the flagged town down to the union,
reads the evidence, excludes the planted evaluations with a reason and sees the town's progress
drop; screenshots of each step.

Run with PINGYI_SCREENSHOTS=docs/screenshots, it refreshes console_45_integrity_units.png …
console_48_integrity_progress.png.
"""

import re
from datetime import datetime

import pytest

from conftest import SHANGHAI
from evaluations.integrity import scan_now
from evaluations.models import Exclusion
from evaluations.tests.integrity_world import fabricated, ordinary
from members.counters import rebuild_registration_counts

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}
NIGHT = datetime(2022, 11, 27, 21, 36, tzinfo=SHANGHAI)


@pytest.fixture
def flagged_world(allow_orm_beside_playwright, transactional_db, world):
    from campaigns.services import set_manual_target

    w = world
    for union in (w.town_union_a, w.park_union):
        ordinary(union, w.campaign, 25, tag=union.name)
    ordinary(w.town_union_b, w.campaign, 10, tag="b")
    w.planted = fabricated(
        w.town_union_b,
        w.campaign,
        14,
        start=NIGHT,
        suggestion="工会工作做得非常好，我们非常满意！",
    )
    set_manual_target(campaign=w.campaign, org=w.town, value=60)
    set_manual_target(campaign=w.campaign, org=w.park, value=30)
    rebuild_registration_counts()  # the world registers its members "today"; date them as set
    scan_now(campaign=w.campaign)
    return w


def _snap(page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_reviewer_finds_the_planted_burst_and_excludes_it(
    flagged_world, browser, live_server, screenshots
):
    w = flagged_world
    page = browser.new_context(**DESKTOP).new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # 确定对所选评议执行此操作吗？
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("city_admin")
    page.get_by_label("密码").fill("pingyi-test-pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))

    page.get_by_role("link", name="异常核查").click()
    expect(page.get_by_role("heading", name="异常核查 · 仪征市总工会")).to_be_visible()
    row = page.locator("table.review-units tbody tr")
    expect(row).to_have_count(1)
    expect(row.first.locator("td").first).to_have_text("真州镇")
    expect(row.first.locator('[data-col="flagged"]')).to_have_text("14")
    expect(page.locator('[data-stat="pending"]')).to_have_text("1")
    _snap(page, screenshots, "console_45_integrity_units")

    page.locator("table.review-units").get_by_role("link", name="真州镇").click()
    page.get_by_role("link", name="真州镇卫生院工会").click()
    expect(page.locator("ol.findings li")).to_have_count(5)
    expect(page.locator("ol.findings")).to_contain_text("同一网络地址 58.221.36.18")
    expect(page.locator("table.review-rows tbody tr")).to_have_count(14)
    _snap(page, screenshots, "console_46_integrity_union")

    page.get_by_label("理由（必填，记入核查记录）").fill(
        "经电话核实，14 名会员均未本人参加评议，系工会办公室代注册代评"
    )
    page.get_by_label(re.compile("对本表全部 14 条执行")).check()
    page.get_by_role("button", name="剔除所选").click()
    expect(page.locator(".messages")).to_contain_text("已剔除 14 条评议")
    expect(page.locator('[data-stat="excluded"]')).to_have_text("14")
    assert Exclusion.objects.filter(campaign=w.campaign).count() == 14
    page.locator('input[name="verdict"][value="confirmed"]').check()
    page.get_by_label("核查说明").fill("工会办公室于11月27日晚集中代注册代评，已剔除并约谈。")
    page.get_by_role("button", name="记录结论").click()
    expect(page.locator("[data-verdict]")).to_contain_text("已核查，确认存在异常")
    _snap(page, screenshots, "console_47_integrity_excluded")

    page.get_by_role("link", name="评议进度").click()
    town = page.locator("table.progress tbody tr", has_text="真州镇")
    expect(town.locator('[data-col="evaluated"]')).to_have_text("35")
    expect(town.locator('[data-col="excluded"]')).to_have_text("14")
    expect(town.locator('[data-col="completion"]')).to_have_text("58.3%")
    _snap(page, screenshots, "console_48_integrity_progress")
