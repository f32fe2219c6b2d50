"""Third-party login: an interface with no provider switched on; a fake one shows the flow."""

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from members import providers
from members.models import ProviderIdentity

pytestmark = pytest.mark.django_db


class FakeWechat(providers.LoginProvider):
    key = "fakewechat"
    label = "微信登录"

    def authorization_url(self, state: str) -> str:
        return f"https://open.example/authorize?state={state}"

    def identity_from_callback(self, params: Mapping[str, str]) -> str:
        if params.get("code") != "granted":
            raise providers.ProviderError("微信授权未完成")
        return params["openid"]


FAKE = f"{__name__}.FakeWechat"


@pytest.fixture
def li(roster):
    member = roster.li
    member.user = get_user_model().objects.create_user(username=f"m{member.pk}", password=None)
    member.registered_at = timezone.now()
    member.save()
    return member


def start(client) -> str:
    response = client.get(reverse("members:provider_start", args=["fakewechat"]))
    assert response.status_code == 302
    return parse_qs(urlsplit(response.url).query)["state"][0]


def callback(client, **params):
    return client.get(reverse("members:provider_callback", args=["fakewechat"]), params)


def test_no_provider_is_switched_on_by_default(client, settings, db):
    assert settings.PINGYI_LOGIN_PROVIDERS == []
    assert providers.enabled_providers() == []
    html = client.get("/m/login/").content.decode()
    assert "其他登录方式" not in html
    assert client.get("/m/login/via/wechat/").status_code == 404


def test_an_enabled_provider_shows_its_button(client, settings, db):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    html = client.get("/m/login/").content.decode()
    assert "微信登录" in html and 'href="/m/login/via/fakewechat/"' in html


def test_a_bound_provider_identity_logs_the_member_in(client, settings, li):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    ProviderIdentity.objects.create(user=li.user, provider="fakewechat", subject="openid-li")
    state = start(client)
    response = callback(client, state=state, code="granted", openid="openid-li")
    assert response.url == reverse("members:home")
    assert "李华" in client.get(reverse("members:home")).content.decode()


def test_an_unbound_provider_identity_logs_no_one_in(client, settings, li):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    state = start(client)
    response = callback(client, state=state, code="granted", openid="openid-stranger")
    assert response.url == reverse("members:login")
    assert "尚未绑定会员" in client.get(response.url).content.decode()
    assert "_auth_user_id" not in client.session


def test_a_forged_state_is_refused(client, settings, li):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    ProviderIdentity.objects.create(user=li.user, provider="fakewechat", subject="openid-li")
    start(client)
    response = callback(client, state="forged", code="granted", openid="openid-li")
    assert response.url == reverse("members:login")
    assert "_auth_user_id" not in client.session


def test_a_logged_in_member_binds_a_provider(client, settings, li):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    client.force_login(li.user)
    assert "绑定" in client.get(reverse("members:home")).content.decode()
    state = start(client)
    callback(client, state=state, code="granted", openid="openid-li")
    assert ProviderIdentity.objects.get().user == li.user
    assert "已绑定" in client.get(reverse("members:home")).content.decode()


def test_one_provider_identity_binds_one_member(settings, roster, li):
    other = get_user_model().objects.create_user(username="m-other", password=None)
    fake = FakeWechat()
    providers.bind_subject(user=li.user, provider=fake, subject="openid-li")
    with pytest.raises(providers.ProviderError, match="已绑定其他会员"):
        providers.bind_subject(user=other, provider=fake, subject="openid-li")


def test_a_refused_authorization_says_so(client, settings, li):
    settings.PINGYI_LOGIN_PROVIDERS = [FAKE]
    state = start(client)
    response = callback(client, state=state, code="denied")
    assert "微信授权未完成" in client.get(response.url).content.decode()
