"""The login page carries the security headers and refuses a POST without a CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

PASSWORD = "pingyi-test-pw"


def test_login_page_carries_security_headers(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


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
