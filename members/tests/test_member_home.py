"""我的 (the member centre), the campaigns and history entries, and the help page.

The 工作评议 form and 我的评议记录 themselves are tested in evaluations/tests/test_h5.py.
"""

from datetime import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from campaigns.services import create_campaign
from conftest import SHANGHAI, fake_id_number
from evaluations.rules import window_text
from orgs.services import create_root_org

pytestmark = pytest.mark.django_db

HOME = "/m/"


def registered(member):
    member.user = get_user_model().objects.create_user(
        username=f"m{member.pk}", password=None, display_name=member.name
    )
    member.registered_at = timezone.now()
    member.save()
    return member


@pytest.fixture
def li(roster):
    return registered(roster.li)


def test_my_page_needs_login(client, db):
    response = client.get(HOME)
    assert response.status_code == 302 and response.url == "/m/login/?next=/m/"


def test_my_page_shows_name_masked_id_and_union_chain(client, li):
    client.force_login(li.user)
    html = client.get(HOME).content.decode()
    assert "李华" in html
    masked = fake_id_number(1)[:4] + "**********" + fake_id_number(1)[-4:]
    assert masked in html
    assert "仪征市总工会 › 真州镇 › 真州镇中心小学工会" in html
    for entry in ("工作评议", "我的评议记录", "我要转会", "信息更正", "帮助与客服", "退出登录"):
        assert entry in html
    assert fake_id_number(1) not in html and "13905141234" not in html


def test_my_page_links_to_every_entry(client, li):
    client.force_login(li.user)
    html = client.get(HOME).content.decode()
    for name in ("members:campaigns", "members:history", "members:transfer", "members:help"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("members:correction")}?kind=details"' in html


def test_my_page_is_not_cached(client, li):
    client.force_login(li.user)
    assert "no-store" in client.get(HOME)["Cache-Control"]


def test_another_members_session_sees_only_their_own_page(client, roster, li):
    wang = registered(roster.wang)
    client.force_login(wang.user)
    html = client.get(HOME).content.decode()
    assert "王芳" in html and "李华" not in html
    assert li.id_masked not in html


def test_admin_visiting_the_member_area_is_told_where_they_are(client, world):
    client.force_login(world.town_admin)
    response = client.get(HOME)
    assert response.status_code == 403
    html = response.content.decode()
    assert "这里是工会会员的个人页面" in html and f'href="{reverse("console:home")}"' in html


def test_campaigns_page_lists_the_campaigns_covering_the_members_union(
    client, roster, li, monkeypatch
):
    other = create_root_org(name="扬州市总工会", code="321000")
    create_campaign(
        org=other,
        name="扬州评议",
        year=2022,
        starts_at=roster.campaign.starts_at,
        ends_at=roster.campaign.ends_at,
    )
    moment = datetime(2022, 10, 8, 10, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    client.force_login(li.user)
    # The one open campaign waits for her: 工作评议 opens its form.
    response = client.get(reverse("members:campaigns"))
    assert response.url == reverse("members:evaluate", args=[roster.campaign.pk])
    html = client.get(reverse("members:campaigns") + "?all=1").content.decode()
    assert "2022年会员网上评议" in html and "扬州评议" not in html
    assert "2022年9月1日至11月30日" in html
    assert "待参与" in html


def test_campaign_state_before_and_after_the_window(client, li, monkeypatch):
    client.force_login(li.user)
    monkeypatch.setattr(timezone, "now", lambda: datetime(2022, 8, 1, tzinfo=SHANGHAI))
    assert "未开始" in client.get(reverse("members:campaigns")).content.decode()
    monkeypatch.setattr(timezone, "now", lambda: datetime(2022, 12, 1, tzinfo=SHANGHAI))
    assert "已结束" in client.get(reverse("members:campaigns")).content.decode()


def test_window_reads_like_chinese():
    def window(starts_at, ends_at):
        return window_text(SimpleNamespace(starts_at=starts_at, ends_at=ends_at))

    assert (
        window(datetime(2022, 9, 1, tzinfo=SHANGHAI), datetime(2022, 12, 1, 0, 0, tzinfo=SHANGHAI))
        == "2022年9月1日至11月30日"
    )
    assert (
        window(datetime(2022, 12, 1, tzinfo=SHANGHAI), datetime(2023, 2, 1, tzinfo=SHANGHAI))
        == "2022年12月1日至2023年1月31日"
    )


def test_history_is_honestly_empty(client, li):
    client.force_login(li.user)
    html = client.get(reverse("members:history")).content.decode()
    assert "暂无评议记录" in html


def test_help_page_answers_the_seeds_questions(client, db):
    html = client.get(reverse("members:help")).content.decode()
    assert "姓名与身份证号码不符" in html and "信息更正" in html
    assert "工会名称不对" in html and "我要转会" in html
    assert "必须在列表里选择，自行输入无效" in html
    assert "“工作总体满意度”必须评议" in html and "历史评议记录" in html
    for contact in ("19951961330", "760103600", "jsghfw"):
        assert contact in html
    assert 'href="tel:19951961330"' in html


def test_service_contacts_come_from_settings(client, db, settings):
    settings.PINGYI_SERVICE_CONTACTS = [{"label": "客服电话", "value": "0514-83456771"}]
    html = client.get(reverse("members:help")).content.decode()
    assert "0514-83456771" in html and "jsghfw" not in html


def test_member_pages_use_no_external_assets(client, li):
    pages = ["/m/login/", "/m/register/", HOME, reverse("members:campaigns"), "/m/help/"]
    for url in pages:
        if url == HOME:
            client.force_login(li.user)
        html = client.get(url).content.decode()
        assert 'src="http' not in html and 'href="http' not in html, url
        assert "/static/members/h5.css" in html
