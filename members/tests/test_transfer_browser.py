"""我要转会 in Debian's chromium at 360 px: the typeahead fills the list as the member types."""

import pytest
from django.conf import settings as django_settings

from members.models import MemberTransfer

from .conftest import bind_account

PHONE = {"width": 360, "height": 740}

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser


@pytest.fixture
def page(transactional_db, live_server, browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2)


def _screenshot(tab, folder, name: str) -> None:
    tab.screenshot(path=str(folder / name), full_page=True)


def _log_in(context, client, member, live_server) -> None:
    client.force_login(bind_account(member))
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_member_picks_the_new_union_from_the_typeahead(
    page, roster, client, live_server, screenshots
):
    w = roster
    _log_in(page, client, w.li, live_server)
    tab = page.new_page()
    tab.goto(f"{live_server.url}/m/transfer/")
    tab.get_by_label("所在地区").select_option(label="真州镇")
    tab.get_by_label("所在单位").fill("卫生")
    option = tab.get_by_role("radio", name="真州镇卫生院工会")
    option.wait_for()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _screenshot(tab, screenshots, "member-transfer-typeahead.png")
    option.check()
    tab.get_by_role("button", name="确认转会").click()
    tab.get_by_text("转会成功").wait_for()
    _screenshot(tab, screenshots, "member-transfer-done.png")
    assert MemberTransfer.objects.get(member=w.li).to_org == w.town_union_b


def test_correction_form_fits_a_phone(page, roster, live_server, screenshots):
    tab = page.new_page()
    tab.goto(f"{live_server.url}/m/correction/?kind=missing")
    tab.get_by_label("所在地区").select_option(label="真州镇")
    tab.get_by_label("所在单位").fill("小学")
    tab.get_by_role("link", name="真州镇中心小学工会").click()
    tab.get_by_label("正确姓名").wait_for()
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _screenshot(tab, screenshots, "member-correction-form.png")
