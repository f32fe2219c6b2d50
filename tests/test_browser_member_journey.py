"""A member's journey on a phone (390×844) in Debian's chromium, with screenshots.

李华 of 真州镇中心小学工会 registers with the code texted to her phone, logs out and in again,
moves to 枣林湾酒店工会 by picking it from the list, and asks for her name to be corrected. A
stranger typing 王芳's ID number with the name 王方 is refused and pointed to 信息更正.

Run with PINGYI_SCREENSHOTS=docs/screenshots, it refreshes the README's member_*.png pictures.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db.models import F

from conftest import fake_id_number
from members.models import CorrectionRequest, CorrectionStatus, MemberTransfer, OneTimeCode
from pingyi.formatting import cn_date

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
LI_PHONE = "13905141234"
WANG_PHONE = "13905145678"


def _code_texted_to(outbox, phone: str) -> str:
    """The six digits of the last text to that phone (LocmemBackend, same process as the server)."""
    texts = [sms for sms in outbox if sms.phone == phone]
    assert texts, f"no text message to {phone}"
    return re.search(r"\d{6}", texts[-1].message).group()


def _snap(page, folder, name: str) -> None:
    """Every page fits the phone's width (no sideways scrolling) before its picture is taken."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_member_registers_logs_in_transfers_and_asks_for_a_correction(
    transactional_db, roster, browser, live_server, screenshots, sms_outbox
):
    w = roster
    base = live_server.url
    li_id = fake_id_number(1)
    li_id_masked = f"{li_id[:4]}{'*' * 10}{li_id[-4:]}"
    context = browser.new_context(**PHONE)
    page = context.new_page()

    # 会员实名注册: name, ID number and phone, then the code texted to the phone.
    page.goto(f"{base}/m/register/")
    expect(page.get_by_role("heading", name="会员实名注册")).to_be_visible()
    page.get_by_label("姓名", exact=True).fill("李华")
    page.get_by_label("身份证号码", exact=True).fill(li_id)
    page.get_by_label("手机号码", exact=True).fill(LI_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送至 139****1234")
    # The page came back with what was typed, and the button counts down to the next code.
    expect(page.get_by_label("姓名", exact=True)).to_have_value("李华")
    expect(page.locator("button[name=send_code]")).to_be_disabled()
    page.get_by_label("验证码", exact=True).fill(_code_texted_to(sms_outbox, LI_PHONE))
    _snap(page, screenshots, "member_01_register")
    page.get_by_role("button", name="注册", exact=True).click()

    # 我的: her name, the masked ID number and her union; the clear number nowhere on the page.
    page.wait_for_url(f"{base}/m/")
    expect(page.get_by_role("status")).to_contain_text("注册成功，欢迎您，李华！")
    expect(page.locator(".profile-name")).to_contain_text("李华")
    expect(page.locator(".profile")).to_contain_text(li_id_masked)
    expect(page.locator(".union-name")).to_have_text("真州镇中心小学工会")
    assert li_id not in page.content()
    assert li_id not in page.locator("body").inner_text()
    _snap(page, screenshots, "member_02_home")

    # 退出登录, then back in with the phone and a new code.
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/m/login/$"))
    expect(page.get_by_role("status").first).to_contain_text("您已退出登录")
    # A phone may ask one code a minute: the registration code was asked "two minutes ago".
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(minutes=2))
    page.get_by_label("手机号码", exact=True).fill(LI_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator(".field-note.sent")).to_contain_text("验证码已发送至 139****1234")
    page.get_by_label("验证码", exact=True).fill(_code_texted_to(sms_outbox, LI_PHONE))
    _snap(page, screenshots, "member_03_login")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/m/")
    expect(page.locator(".union-name")).to_have_text("真州镇中心小学工会")

    # 我要转会: region, a keyword, and the union picked from the list that appears.
    page.get_by_role("link", name="我要转会").click()
    expect(page.get_by_role("heading", name="我要转会")).to_be_visible()
    page.get_by_label("所在地区").select_option(label="枣林湾旅游度假区")
    page.get_by_label("所在单位").fill("酒店")
    hotel = page.get_by_role("radio", name="枣林湾酒店工会")
    expect(hotel).to_be_visible()
    _snap(page, screenshots, "member_04_transfer_pick")

    # Typing a name is not picking it: the browser holds the form until a union is chosen…
    confirm = page.get_by_role("button", name="确认转会")
    confirm.click()
    assert hotel.evaluate("radio => radio.validity.valueMissing")
    assert urlsplit(page.url).path == "/m/transfer/"
    # …and a form sent without a pick anyway (the check removed) is refused by the server.
    page.locator("input[name=org]").evaluate_all("radios => radios.forEach(r => r.remove())")
    confirm.click()
    expect(page.get_by_role("status")).to_contain_text(
        "请在搜索结果中选择正确的工会（必须在列表里选择，自行输入的名称无效）"
    )
    expect(page.locator(".ss-current")).to_have_text("真州镇中心小学工会")
    assert not MemberTransfer.objects.exists()
    _snap(page, screenshots, "member_05_transfer_refused")

    # The search comes back filled in; this time she picks the hotel's union.
    expect(page.get_by_label("所在单位")).to_have_value("酒店")
    hotel.check()
    page.get_by_role("button", name="确认转会").click()
    done = MemberTransfer.objects.get(member=w.li)
    assert done.to_org == w.park_union
    expect(page.get_by_role("status")).to_contain_text(
        f"转会成功：您已转入“枣林湾酒店工会”，转会日期 {cn_date(done.transferred_at)}。"
    )
    expect(page.locator(".ss-current")).to_have_text("枣林湾酒店工会")
    expect(page.get_by_text("由“真州镇中心小学工会”转入")).to_be_visible()
    _snap(page, screenshots, "member_06_transfer_done")
    page.get_by_role("link", name="返回").click()
    expect(page.locator(".union-name")).to_have_text("枣林湾酒店工会")
    expect(page.locator(".chain")).to_contain_text("枣林湾旅游度假区")

    # 信息更正: her name is 李桦 on her ID card; the roster says 李华.
    page.get_by_role("link", name="信息更正").click()
    expect(page.get_by_role("heading", name="信息更正")).to_be_visible()
    expect(page.locator(".ss-current")).to_have_text("枣林湾酒店工会")
    expect(page.get_by_label("更正类型")).to_have_value("details")  # 信息有误
    expect(page.get_by_label("正确姓名")).to_have_value("李华")
    page.get_by_label("正确姓名").fill("李桦")
    page.get_by_label("正确身份证号码").fill(li_id)
    page.get_by_label("联系电话").fill(LI_PHONE)
    page.get_by_label("说明").fill("身份证上的姓名是李桦，名册登记成了李华。")
    _snap(page, screenshots, "member_07_correction")
    page.get_by_role("button", name="提交申请").click()

    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    filed = CorrectionRequest.objects.get()
    assert (filed.member, filed.name, filed.org) == (w.li, "李桦", w.park_union)
    props = page.locator(".ss-props")
    expect(props).to_contain_text("李桦")
    expect(props).to_contain_text(li_id_masked)
    expect(page.get_by_text("结果将以短信发送到 139****1234")).to_be_visible()
    assert li_id not in page.content()
    _snap(page, screenshots, "member_08_correction_done")

    page.get_by_role("link", name="查看我的更正申请").click()
    expect(page.get_by_role("heading", name="我的更正申请")).to_be_visible()
    card = page.locator(".ss-card").filter(has_text="李桦")
    expect(card).to_contain_text("信息有误")
    expect(card.locator(".ss-status")).to_have_text("待处理")
    assert filed.status == CorrectionStatus.PENDING
    _snap(page, screenshots, "member_09_corrections_mine")
    context.close()

    # Another phone: 王芳's ID number under the name 王方 is refused, with the way to 信息更正.
    stranger = browser.new_context(**PHONE)
    page = stranger.new_page()
    page.goto(f"{base}/m/register/")
    page.get_by_label("姓名", exact=True).fill("王方")
    page.get_by_label("身份证号码", exact=True).fill(fake_id_number(2))
    page.get_by_label("手机号码", exact=True).fill(WANG_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送至 139****5678")
    page.get_by_label("验证码", exact=True).fill(_code_texted_to(sms_outbox, WANG_PHONE))
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator("#id_name_error")).to_contain_text("姓名与名册登记的不一致")
    expect(page.get_by_role("alert")).to_be_visible()
    correction = page.get_by_role("link", name="申请信息更正")
    expect(correction).to_be_visible()
    assert urlsplit(page.url).path == "/m/register/"
    assert w.wang.__class__.objects.get(pk=w.wang.pk).user_id is None
    _snap(page, screenshots, "member_10_register_refused")

    query = parse_qs(urlsplit(correction.get_attribute("href")).query)
    assert query["kind"] == ["mismatch"]
    correction.click()
    expect(page.get_by_role("heading", name="第一步：选择您所在的工会")).to_be_visible()
    page.get_by_label("所在地区").select_option(label="真州镇")
    page.get_by_label("所在单位").fill("小学")
    page.get_by_role("link", name="真州镇中心小学工会").click()
    expect(page.get_by_label("更正类型")).to_have_value("mismatch")  # 姓名与身份证号码不符
    expect(page.locator(".ss-current")).to_have_text("真州镇中心小学工会")
    _snap(page, screenshots, "member_11_correction_visitor")
    stranger.close()
