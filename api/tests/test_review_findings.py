"""Defects found in the security review of the member API, each pinned by a test."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from conftest import fake_id_number
from members.models import CorrectionRequest

pytestmark = pytest.mark.django_db


def _registered(member) -> User:
    member.user = User.objects.create_user(username=f"m{member.pk}")
    member.registered_at = timezone.now()
    member.save()
    return member.user


def _details_for(roster, client):
    town = next(r for r in client.get("/api/v1/members/regions").json() if r["label"] == "真州镇")
    return {
        "kind": "details",
        "name": "李桦",
        "id_number": fake_id_number(1),
        "phone": "13912349999",
        "region_id": town["id"],
        "union_id": roster.town_union_a.pk,
    }


def test_a_cross_site_post_cannot_file_a_correction_in_a_logged_in_members_name(roster):
    # The browser sends the member's session cookie; the page posting is another site's, so it
    # holds no CSRF token. The route reads the session, so it must check the token.
    client = Client(enforce_csrf_checks=True)
    client.force_login(_registered(roster.li))
    payload = _details_for(roster, client)

    response = client.post("/api/v1/members/corrections", payload, content_type="application/json")

    assert response.status_code == 403
    assert not CorrectionRequest.objects.exists()


def test_a_visitor_without_a_session_still_files_without_a_csrf_token(roster):
    client = Client(enforce_csrf_checks=True)
    payload = _details_for(roster, client) | {"kind": "missing", "id_number": fake_id_number(60)}

    response = client.post("/api/v1/members/corrections", payload, content_type="application/json")

    assert response.status_code == 201


def test_the_members_own_page_files_with_its_csrf_token(roster):
    client = Client(enforce_csrf_checks=True)
    client.force_login(_registered(roster.li))
    client.cookies["csrftoken"] = token = "a" * 32
    payload = _details_for(roster, client)

    response = client.post(
        "/api/v1/members/corrections",
        payload,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 201
    assert CorrectionRequest.objects.get().member == roster.li


def test_logout_through_the_api_ends_a_session_too(roster, client):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    user = get_user_model().objects.create_user(username=f"m{roster.li.pk}")
    roster.li.user, roster.li.registered_at = user, timezone.now()
    roster.li.save()
    client.force_login(user)

    response = client.post("/api/v1/members/logout")

    assert response.status_code == 204
    assert client.get("/api/v1/members/me").status_code == 401
