"""Security headers on every kind of response, no inline script anywhere, CSRF on every session
POST (console forms, the login, the API with a session), and the API docs under the policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from members.models import RosterImport
from members.tokens import issue_token

PASSWORD = "pingyi-test-pw"
ROOT = Path(__file__).resolve().parent.parent
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def assert_security_headers(response) -> None:
    assert response["Content-Security-Policy"] == POLICY
    assert response["Permissions-Policy"].startswith("camera=(), microphone=(), geolocation=()")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_login_page_carries_security_headers(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/console/", "/api/v1/openapi.json", "/api/v1/docs", "/no-such-page/", "/admin/login/"],
)
def test_every_kind_of_response_carries_the_headers(world, login, path):
    response = login(world.city_admin).get(path)

    assert response.status_code in (200, 302, 404)
    assert_security_headers(response)


@pytest.mark.django_db
def test_api_errors_carry_the_headers(client):
    response = client.get("/api/v1/members/me")

    assert response.status_code == 401
    assert_security_headers(response)


def test_the_policy_is_a_setting():
    assert settings.PINGYI_CONTENT_SECURITY_POLICY == POLICY


# Inline scripts and event handlers break under script-src 'self': none may come back.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in ROOT.glob("*/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []


@pytest.mark.django_db
def test_the_api_docs_page_loads_its_scripts_from_the_app(world, login):
    response = login(world.city_admin).get("/api/v1/docs")

    html = response.content.decode()
    assert response.status_code == 200
    assert not INLINE_SCRIPT.search(html) and not EVENT_HANDLER.search(html)
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(src.startswith("/static/") for src in sources)


# ---------------------------------------------------------------------------------------------
# CSRF.


@pytest.mark.django_db
def test_login_without_csrf_token_is_refused():
    User.objects.create_user(username="town_admin", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        reverse("accounts:login"), {"username": "town_admin", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


@pytest.mark.django_db
def test_login_with_csrf_token_succeeds():
    User.objects.create_user(username="town_admin", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("accounts:login"))
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        reverse("accounts:login"),
        {"username": "town_admin", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(User.objects.get().pk)


def cross_site(user) -> Client:
    """A logged-in admin's browser posting from another site: the session, no CSRF token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


@pytest.mark.django_db
def test_console_forms_refuse_a_post_without_csrf_token(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    browser = cross_site(world.city_admin)
    role = Role.objects.get(user=world.town_admin)

    revoke = browser.post(reverse("accounts:admin_revoke", args=[role.pk]))
    upload = browser.post(
        reverse("roster_imports:new"),
        {"parent": world.town.pk, "file": SimpleUploadedFile("名册.csv", b"a,b\n")},
    )
    logout = browser.post(reverse("accounts:logout"))

    assert (revoke.status_code, upload.status_code, logout.status_code) == (403, 403, 403)
    assert "CSRF" in revoke.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()
    assert not RosterImport.objects.exists()
    assert "_auth_user_id" in browser.session


@pytest.mark.django_db
def test_the_api_refuses_a_session_post_without_csrf_token_in_json(world):
    browser = cross_site(world.city_admin)

    response = browser.post(
        "/api/v1/cases/1/verify", {"finding": "属实"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert response.json()["message"] == "页面已过期，请刷新后重试"


@pytest.mark.django_db
def test_the_api_takes_a_bearer_token_without_csrf(world):
    """The mobile app's token is no cookie a foreign site could ride: no CSRF token needed."""
    token, _ = issue_token(user=world.city_admin)
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/cases/999999/verify",
        {"finding": "属实"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# In the browser: the browser fixture fails a test whose pages break the policy (tests/browser.py).

pytest_plugins = ["tests.browser"]


@pytest.fixture
def signed_in_city_admin(
    allow_orm_beside_playwright, transactional_db, world, browser, live_server
):
    """A browser page signed in as the federation's admin (through the login form)."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("city_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console/$"))
    return page


@pytest.mark.browser
def test_the_api_docs_and_django_admin_work_under_the_policy(signed_in_city_admin, live_server):
    page = signed_in_city_admin

    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert "工会会员网上评议 API" in page.inner_text(".swagger-ui .info")

    page.goto(f"{live_server.url}/admin/login/")
    assert page.locator("form").count() >= 1


@pytest.mark.browser
def test_the_console_script_asks_before_revoking_and_switches_campaigns(
    signed_in_city_admin, live_server, world
):
    """console.js replaces the inline handlers: the revoke form asks first, and choosing another
    campaign reloads the org page."""
    page = signed_in_city_admin
    role = Role.objects.get(user=world.town_admin)
    page.goto(f"{live_server.url}{reverse('accounts:admins')}")
    form = page.locator(f"form[action='{reverse('accounts:admin_revoke', args=[role.pk])}']")

    page.once("dialog", lambda dialog: dialog.dismiss())
    form.get_by_role("button").click()
    page.wait_for_timeout(300)
    assert Role.objects.filter(pk=role.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        form.get_by_role("button").click()
    assert not Role.objects.filter(pk=role.pk).exists()

    page.goto(f"{live_server.url}{reverse('orgs:detail', args=[world.city.pk])}")
    select = page.locator("select[name=campaign]")
    campaign = select.locator("option").first.get_attribute("value")
    with page.expect_navigation():
        page.evaluate(
            "() => { const s = document.querySelector('select[name=campaign]');"
            " s.dispatchEvent(new Event('change', {bubbles: true})); }"
        )
    assert f"campaign={campaign}" in page.url
