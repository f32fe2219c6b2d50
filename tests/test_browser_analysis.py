"""数据分析 in Debian's chromium: 满意度 with its charts and heatmap, 堵点痛点, 会员需求 with the
word cloud drawn by the server; screenshots of each.

The data: the test world with two hundred evaluations written from the demo's suggestion
sentences, and a 2021 campaign to compare with. Run with PINGYI_SCREENSHOTS=docs/screenshots,
it refreshes console_30_satisfaction.png … console_33_rules.png.
"""

import json
import random
import re
from datetime import datetime

import pytest

from analysis.tests.factories import add_evaluations
from conftest import SHANGHAI
from demo.evaluations import SUGGESTIONS

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


def _rows(rng: random.Random, union: str, n: int, mood: tuple) -> list:
    data = json.loads(SUGGESTIONS.read_text(encoding="utf-8"))
    rows = []
    for _i in range(n):
        overall = rng.choices((1, 2, 3, 4, 5), weights=mood)[0]
        ratings = {
            i: max(1, min(5, overall + rng.choice((-1, 0, 0, 1)) - (i == 3))) for i in range(9)
        }
        topic = rng.choice(data["items"])
        tone = "praise" if overall >= 4 else "complaint" if overall <= 2 else "wish"
        text = rng.choice(topic[tone]) if rng.random() < 0.6 else ""
        if text and rng.random() < 0.3:
            text += rng.choice(data["general"][tone])
        rows.append((union, overall, ratings, text))
    return rows


@pytest.fixture
def analysed_world(allow_orm_beside_playwright, transactional_db, world):
    from campaigns.services import create_campaign

    w = world
    rng = random.Random(7)
    add_evaluations(w, w.campaign, _rows(rng, "town_union_a", 90, (2, 3, 10, 30, 55)))
    add_evaluations(w, w.campaign, _rows(rng, "town_union_b", 40, (20, 20, 20, 20, 20)))
    add_evaluations(w, w.campaign, _rows(rng, "park_union", 70, (3, 5, 12, 35, 45)))
    w.campaign_2021 = create_campaign(
        org=w.city,
        name="2021年会员网上评议",
        year=2021,
        starts_at=datetime(2021, 9, 1, tzinfo=SHANGHAI),
        ends_at=datetime(2021, 11, 30, tzinfo=SHANGHAI),
    )
    add_evaluations(w, w.campaign_2021, _rows(rng, "town_union_a", 30, (1, 2, 10, 40, 47)))
    add_evaluations(w, w.campaign_2021, _rows(rng, "park_union", 30, (1, 2, 10, 40, 47)))
    return w


def _snap(page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_three_analysis_pages_render_with_their_charts(
    analysed_world, browser, live_server, screenshots
):
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("city_admin")
    page.get_by_label("密码").fill("pingyi-test-pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))

    page.get_by_role("link", name="数据分析").click()
    expect(page.get_by_role("heading", name="数据分析 · 仪征市总工会")).to_be_visible()
    expect(page.locator("figure svg").first).to_be_visible()  # the distribution
    expect(page.get_by_text("各单位满意度指数排名")).to_be_visible()
    expect(page.locator("table.heat td[style*='hsl']").first).to_be_visible()
    expect(page.locator(".arrow").first).to_be_visible()  # against 2021
    expect(page.locator("table.heat").first).to_contain_text("样本不足")  # 教育局: none
    _snap(page, screenshots, "console_30_satisfaction")

    page.get_by_role("link", name="堵点痛点").click()
    expect(page.get_by_role("heading", name="各单位的堵点痛点 2022年会员网上评议")).to_be_visible()
    expect(page.locator("table.heat")).to_contain_text("真州镇")
    _snap(page, screenshots, "console_31_pain_points")

    page.get_by_role("link", name="会员需求").click()
    cloud = page.get_by_role("img", name="工作建议词云")
    expect(cloud).to_be_visible()
    # Drawn by the server: the PNG arrives and decodes at its full width.
    page.wait_for_function(
        "() => { const i = document.querySelector('img.wordcloud');"
        " return i && i.complete && i.naturalWidth === 720; }"
    )
    expect(page.get_by_text("建议摘录")).to_be_visible()
    expect(page.locator("figure svg").first).to_be_visible()  # the categories
    _snap(page, screenshots, "console_32_needs")

    page.get_by_role("link", name="需求分类规则").first.click()
    expect(page.get_by_role("textbox", name="文体活动的关键词")).to_be_visible()
    _snap(page, screenshots, "console_33_rules")
