"""A tour of the console in Debian's chromium: what the Yizheng admins see, with screenshots.

Runs with `make test` (which installs chromium first) and `make screenshots`, which writes the
pictures into docs/screenshots for the README.
"""

import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from demo.services import DEMO_PASSWORD
from orgs.models import Org

DESKTOP = {"width": 1366, "height": 900}

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def demo(allow_orm_beside_playwright, transactional_db):
    call_command("load_demo")


def _log_in(page, username: str) -> None:
    """Fill in the login page the browser is on."""
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))


def _snap(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"))


def _town_task_table(folder: Path) -> str:
    """真州镇's own task table: its three unions, 3,366 in all, with a title row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["真州镇工会会员网上评议任务分解表"])
    sheet.append(["序号", "名称", "年报工会会员人数(人)", "参评目标工会会员数(人)"])
    sheet.append([1, "真州中心小学工会", 2572, 1800])
    sheet.append([2, "真州卫生院 工会", 1218, 853])
    sheet.append([3, "真州农业农村服务中心工会", 1019, 713])
    sheet.append(["", "合计", 4809, 3366])
    path = folder / "真州镇任务分解表.xlsx"
    book.save(path)
    return str(path)


def _town_roster(folder: Path) -> str:
    """A roster for 真州镇: one good row, one ID that Excel turned into a number, one mistyped."""
    from openpyxl import Workbook

    from members.identity import compose_id_number

    good = compose_id_number(region="321081", birth_date=date(1991, 5, 4), sequence=517)
    mistyped = good[:-1] + ("1" if good[-1] != "1" else "2")
    book = Workbook()
    sheet = book.active
    sheet.append(["真州镇工会会员名册"])
    sheet.append(["姓名", "身份证号码", "手机号码", "所在工会", "入会时间"])
    sheet.append(["周晓燕", good, "17099990001", "真州中心小学工会", "2015-03-01"])
    sheet.append(["吴建国", 3.21081199105045e17, "17099990002", "真州中心小学工会", ""])
    sheet.append(["郑丽", mistyped, "17099990003", "真州卫生院工会", ""])
    path = folder / "真州镇会员名册.xlsx"
    book.save(path)
    return str(path)


def _pending_correction() -> None:
    from members.corrections import file_correction
    from members.identity import compose_id_number

    union = Org.objects.get(name="真州卫生院工会")
    file_correction(
        kind="missing",
        name="王晓梅",
        id_number=compose_id_number(region="321081", birth_date=date(1988, 8, 8), sequence=246),
        phone="17099990009",
        org=union,
        note="新调入卫生院，名册里没有我",
    )


def test_tour_of_the_yizheng_2022_demo(demo, browser, live_server, screenshots, tmp_path):
    base = live_server.url
    _pending_correction()
    expect = sync_api.expect
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")

    # The federation admin logs in and sees the 85 units of the task table on the 工作台.
    page.goto(f"{base}/accounts/login/")
    expect(page.get_by_role("heading", name="管理员登录")).to_be_visible()
    expect(page.locator(".brand")).to_contain_text("工会会员网上评议")
    _snap(page, screenshots, "01-login")
    _log_in(page, "yz_admin")
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    panel = page.locator("section.card").filter(has_text="仪征市总工会")
    expect(panel.locator("table.units tbody tr")).to_have_count(85)
    expect(panel.locator("[data-stat=reported]")).to_have_text("62,301")
    expect(panel.locator("[data-stat=target]")).to_have_text("50,866")
    expect(panel.locator(".warning")).to_contain_text("50,867")
    _snap(page, screenshots, "02-workbench")

    # Drilling into 真州镇 shows its grassroots unions under the town's figures.
    panel.locator("table.units").get_by_role("link", name="真州镇", exact=True).click()
    expect(page.locator("h1")).to_contain_text("真州镇")
    expect(page.locator(".crumbs")).to_contain_text("仪征市总工会")
    expect(page.locator("table.units tbody tr").first).to_contain_text("真州")
    expect(page.locator("table.units tfoot")).to_contain_text("4,809")
    _snap(page, screenshots, "03-town")

    # The campaign, its settings and its questionnaire.
    page.locator(".sidenav").get_by_role("link", name="评议活动").click()
    expect(page.get_by_role("heading", name="评议活动", exact=True)).to_be_visible()
    _snap(page, screenshots, "04-campaigns")
    page.get_by_role("link", name="2022年会员网上评议").click()
    expect(page.locator("h1")).to_contain_text("2022年会员网上评议")
    expect(page.get_by_text("协助和督促劳动安全卫生")).to_be_visible()
    _snap(page, screenshots, "05-campaign")
    page.get_by_role("link", name="编辑问卷").click()
    expect(page.get_by_role("heading", name="编辑问卷")).to_be_visible()
    labels = page.locator("input[name^=label_]")
    expect(labels).to_have_count(11)  # overall, nine items, suggestion
    expect(labels.nth(1)).to_have_value("职工(代表)大会")
    _snap(page, screenshots, "06-questionnaire")
    page.close()

    # The town admin sees their town and nothing of the other units.
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    page.goto(f"{base}/accounts/login/")
    _log_in(page, "zhenzhou")
    expect(page.locator("section.card h2").first).to_contain_text("真州镇")
    expect(page.locator("main")).not_to_contain_text("经济开发区")
    expect(page.locator("main")).not_to_contain_text("62,301")
    _snap(page, screenshots, "07-town-admin")
    root = Org.objects.get(code="321081")
    assert page.goto(f"{base}/console/orgs/{root.pk}/").status == 404

    # The town decomposes its 3,366 target onto its unions with its own task table.
    page.goto(f"{base}/console/")
    page.locator(".sidenav").get_by_role("link", name="组织与目标").click()
    expect(page.locator("[data-undistributed]")).to_contain_text("尚有 3,366 人未分解")
    page.get_by_role("link", name="导入任务分解表").click()
    page.locator("input[type=file]").set_input_files(_town_task_table(tmp_path))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("h1")).to_contain_text("预览")
    expect(page.locator("main")).to_contain_text("真州卫生院工会")
    _snap(page, screenshots, "09-import-preview")
    page.get_by_role("button", name="确认导入 3 个单位").click()
    expect(page.locator("h1")).to_contain_text("导入结果")
    _snap(page, screenshots, "10-import-result")
    page.goto(f"{base}/console/orgs/")
    expect(page.locator("table.units tfoot")).to_contain_text("3,366")
    expect(page.locator("[data-undistributed]")).to_have_count(0)

    # The roster shows ID numbers and phones masked; its import refuses what Excel mangled.
    page.locator(".sidenav").get_by_role("link", name="会员名册").click()
    expect(page.get_by_role("heading", name="会员名册")).to_be_visible()
    expect(page.locator("main table")).to_contain_text("3210**********")
    _snap(page, screenshots, "11-roster")
    page.locator(".sidenav").get_by_role("link", name="名册导入").click()
    page.get_by_role("link", name="导入会员名册").click()
    page.locator("input[type=file]").set_input_files(_town_roster(tmp_path))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator("h1")).to_contain_text("预览")
    expect(page.locator("main")).to_contain_text("请把该列设为文本格式")
    expect(page.locator("main")).to_contain_text("校验位")
    _snap(page, screenshots, "12-roster-import-preview")

    # A member's correction request waits in the town's queue.
    page.locator(".sidenav").get_by_role("link", name="信息更正").click()
    expect(page.locator("h1")).to_contain_text("1 件待处理")
    expect(page.locator("main")).to_contain_text("王晓梅")
    _snap(page, screenshots, "13-corrections")

    # The API docs load from the app itself: no request leaves the live server.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{base}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("工会会员网上评议 API")
    expect(page.locator(".opblock").first).to_be_visible()
    _snap(page, screenshots, "08-api-docs")
    server = urlsplit(base).netloc
    outside = [
        url
        for url in requests
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and urlsplit(url).netloc != server
    ]
    assert requests
    assert outside == []
    page.close()
