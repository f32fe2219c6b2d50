"""考核评分 in Debian's chromium: the draft table, the scheme form, 发布 (the confirm dialog),
the frozen result; no Content-Security-Policy violation on the way. Run with
PINGYI_SCREENSHOTS=docs/screenshots, it refreshes console_40_assessment.png …
console_42_assessment_published.png."""

import re

import pytest

from .assessment_data import build

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def assessed_world(allow_orm_beside_playwright, transactional_db, world):
    return build(world)


def test_score_set_the_scheme_and_publish_in_the_browser(
    assessed_world, browser, live_server, screenshots
):
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("city_admin")
    page.get_by_label("密码").fill("pingyi-test-pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))

    page.get_by_role("link", name="考核评分").click()
    page.get_by_role("link", name="2022年会员网上评议").click()
    title = "2022年会员网上评议考核评分（仪征市总工会）"
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    town = page.locator("tr", has_text="真州镇")
    expect(town.locator('[data-col="total"]')).to_have_text("52.14")
    page.screenshot(path=str(screenshots / "console_40_assessment.png"), full_page=True)

    page.get_by_role("link", name="设置评分方案").click()
    page.get_by_label("满意度指数无数据时").select_option("zero")
    page.get_by_role("checkbox", name="系统(行业)工会").uncheck()
    page.screenshot(path=str(screenshots / "console_41_assessment_scheme.png"), full_page=True)
    page.get_by_role("button", name="保存方案").click()
    expect(page.get_by_text("评分方案已保存")).to_be_visible()
    agency = page.locator("tr", has_text="教育局")
    expect(agency.locator('[data-col="total"]')).to_have_text("30.57")
    expect(page.locator("tbody")).not_to_contain_text("建设行业")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_text("考核结果已发布并冻结")).to_be_visible()
    expect(page.get_by_role("button", name="发布")).to_have_count(0)
    page.screenshot(path=str(screenshots / "console_42_assessment_published.png"), full_page=True)
