"""工作评议 on a small phone (360×780) in Debian's chromium, with screenshots.

李华 registers, opens 工作评议 from 我的, sends the form without the overall rating and finds
it marked with everything else kept, rates with stars, writes a suggestion, agrees to a return
visit and submits; she reads 我的评议记录 and its detail, and opening the form again shows
what she sent. 赵明, on a phone without JavaScript, evaluates too: the form needs no script.

Run with PINGYI_SCREENSHOTS=docs/screenshots, it refreshes the member_2*.png pictures.
"""

import re

import pytest

from conftest import fake_id_number, register_member_account
from evaluations.models import Evaluation
from evaluations.selectors import questionnaire

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

WIDTH = 360
PHONE = {
    "viewport": {"width": WIDTH, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
LI_PHONE = "13905141234"
ZHAO_PHONE = "13805140001"
SUGGESTION = "希望多组织<职工文体活动>，\n篮球赛可以每季度一次。"


def _code_texted_to(outbox, phone: str) -> str:
    texts = [sms for sms in outbox if sms.phone == phone]
    assert texts, f"no text message to {phone}"
    return re.search(r"\d{6}", texts[-1].message).group()


def _fits(page) -> None:
    """No sideways scrolling on a 360 px phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def _snap(page, folder, name: str) -> None:
    _fits(page)
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky bar is drawn mid-page
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _question(page, label: str):
    return page.get_by_role("group", name=re.compile(f"^{re.escape(label)}"))


def _rate(group, level: str) -> None:
    """Tap the star of that level (the radio itself is drawn as the star's label)."""
    radio = group.get_by_role("radio", name=level, exact=True)
    group.locator(f"label[for='{radio.get_attribute('id')}']").click()
    expect(radio).to_be_checked()


def test_a_member_evaluates_reads_the_history_and_cannot_evaluate_twice(
    transactional_db, roster, open_campaign, browser, live_server, screenshots, sms_outbox
):
    w = roster
    base = live_server.url
    context = browser.new_context(**PHONE)
    page = context.new_page()

    # 会员实名注册 with the code texted to her phone.
    page.goto(f"{base}/m/register/")
    page.get_by_label("姓名", exact=True).fill("李华")
    page.get_by_label("身份证号码", exact=True).fill(fake_id_number(1))
    page.get_by_label("手机号码", exact=True).fill(LI_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送至 139****1234")
    page.get_by_label("验证码", exact=True).fill(_code_texted_to(sms_outbox, LI_PHONE))
    page.get_by_role("button", name="注册", exact=True).click()
    page.wait_for_url(f"{base}/m/")

    # 我的 → 工作评议: one campaign waits for her, so its form opens.
    entry = page.get_by_role("link", name=re.compile("工作评议"))
    expect(entry).to_contain_text("待参与 1")
    entry.click()
    page.wait_for_url(f"{base}/m/campaigns/{open_campaign.pk}/")
    expect(page.get_by_role("heading", name="2026年会员网上评议")).to_be_visible()
    expect(page.get_by_text("评议对象：真州镇中心小学工会")).to_be_visible()
    overall = _question(page, "工作总体满意度")
    expect(overall.locator(".ev-level:visible")).to_have_text("请评分")
    star = overall.locator("label.ev-star").first.bounding_box()
    assert star["width"] >= 44 and star["height"] >= 44
    _fits(page)

    # A work item, a suggestion and the consent, but no overall rating: sent anyway.
    sports = _question(page, "职工文体活动")
    _rate(sports, "满意")
    expect(sports.locator(".ev-level:visible")).to_have_text("满意")
    suggestion = page.get_by_label("您对所在工会工作的建议")
    suggestion.fill(SUGGESTION)
    expect(page.locator("#id_suggestion_count")).to_have_text(f"已输入 {len(SUGGESTION)}/500 字")
    consent = page.get_by_label("愿意接受回访")
    consent.check()
    expect(page.get_by_text("工会可以看到您的姓名和联系电话并与您联系")).to_be_visible()
    page.get_by_role("button", name="提交评议").click()

    # The overall is marked, with its message by it; what she filled in is still there.
    expect(page.locator("#overall_error")).to_have_text("请选择“工作总体满意度”。")
    overall = _question(page, "工作总体满意度")
    expect(overall).to_have_class(re.compile("has-error"))
    expect(overall.get_by_role("radio", name="满意", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_role("alert")).to_contain_text("请选择“工作总体满意度”。")
    sports = _question(page, "职工文体活动")
    expect(sports.get_by_role("radio", name="满意", exact=True)).to_be_checked()
    expect(page.get_by_label("您对所在工会工作的建议")).to_have_value(SUGGESTION)
    expect(page.get_by_label("愿意接受回访")).to_be_checked()
    assert not Evaluation.objects.exists()
    _snap(page, screenshots, "member_21_evaluate_error")

    # Stars: the level's name appears as each is chosen.
    _rate(overall, "非常满意")
    expect(overall.locator(".ev-level:visible")).to_have_text("非常满意")
    _rate(overall, "满意")
    expect(overall.locator(".ev-level:visible")).to_have_text("满意")
    democracy = _question(page, "民主管理")
    _rate(democracy, "基本满意")
    expect(democracy.locator(".ev-level:visible")).to_have_text("基本满意")
    suggestion = page.get_by_label("您对所在工会工作的建议")
    suggestion.fill("希望多组织文体活动。")
    expect(page.locator("#id_suggestion_count")).to_have_text("已输入 10/500 字")
    _snap(page, screenshots, "member_20_evaluate")

    # A double tap sends once.
    page.get_by_role("button", name="提交评议").dblclick()
    page.wait_for_url(re.compile(r"/m/history/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("提交成功，感谢您参与评议！")
    evaluation = Evaluation.objects.get()
    assert (evaluation.member, evaluation.overall, evaluation.return_visit) == (w.li, 4, True)
    assert evaluation.suggestion == "希望多组织文体活动。"
    rated = dict(evaluation.answers.values_list("question__label", "rating"))
    assert rated == {"职工文体活动": 4, "民主管理": 3}
    detail = page.url
    expect(page.locator(".ev-answers li").filter(has_text="职工文体活动")).to_contain_text("满意")
    expect(page.locator(".ev-answers li").filter(has_text="劳动竞赛")).to_contain_text("未评")
    expect(page.get_by_text("希望多组织文体活动。")).to_be_visible()
    expect(page.get_by_text("工会答复")).to_have_count(0)
    _snap(page, screenshots, "member_23_history_detail")

    # 我的评议记录: the campaign, her union then, the time and the overall rating.
    page.get_by_role("link", name="返回", exact=True).click()
    page.wait_for_url(f"{base}/m/history/")
    record = page.locator(".ev-record")
    expect(record).to_have_count(1)
    expect(record).to_contain_text("2026年会员网上评议")
    expect(record).to_contain_text("真州镇中心小学工会")
    expect(record).to_contain_text("满意")
    _snap(page, screenshots, "member_22_history")
    record.click()
    page.wait_for_url(detail)

    # The form again: she is shown what she sent, and there is still one evaluation.
    page.goto(f"{base}/m/campaigns/{open_campaign.pk}/")
    page.wait_for_url(detail)
    expect(page.get_by_role("status")).to_contain_text("您已参加过本次评议，以下是您提交的内容")
    expect(page.locator("input[name=overall]")).to_have_count(0)
    page.goto(f"{base}/m/")
    entry = page.get_by_role("link", name=re.compile("工作评议"))
    expect(entry).not_to_contain_text("待参与")
    # Nothing waits now: 工作评议 lists each campaign with where it stands.
    entry.click()
    page.wait_for_url(f"{base}/m/campaigns/")
    done = page.locator(".ev-campaign").filter(has_text="2026年会员网上评议")
    expect(done).to_contain_text("已评议")
    expect(page.locator(".ev-campaign").filter(has_text="2022年会员网上评议")).to_contain_text(
        "已于2022年11月30日结束"
    )
    _snap(page, screenshots, "member_24_campaigns")
    assert Evaluation.objects.count() == 1
    context.close()

    # 赵明, on a phone without JavaScript: stars, the level's name and the post all still work.
    register_member_account(w.zhao)
    plain = browser.new_context(**PHONE, java_script_enabled=False)
    page = plain.new_page()
    page.goto(f"{base}/m/login/")
    page.get_by_label("手机号码", exact=True).fill(ZHAO_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("验证码", exact=True).fill(_code_texted_to(sms_outbox, ZHAO_PHONE))
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/m/")
    page.get_by_role("link", name=re.compile("工作评议")).click()
    page.wait_for_url(f"{base}/m/campaigns/{open_campaign.pk}/")
    expect(page.locator("#id_suggestion_count")).to_have_text("最多500字")
    overall = _question(page, "工作总体满意度")
    _rate(overall, "不满意")
    expect(overall.locator(".ev-level:visible")).to_have_text("不满意")
    first_item = questionnaire(open_campaign).items[0].label
    _rate(_question(page, first_item), "非常不满意")
    page.get_by_label("您对所在工会工作的建议").fill("工会活动太少")
    _fits(page)
    page.get_by_role("button", name="提交评议").click()
    page.wait_for_url(re.compile(r"/m/history/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("提交成功，感谢您参与评议！")
    theirs = Evaluation.objects.get(member=w.zhao)
    assert theirs.overall == 2 and theirs.org == w.park_union and theirs.is_negative
    assert theirs.suggestion == "工会活动太少" and not theirs.return_visit
    assert len(theirs.request_key) == 64
    plain.close()
