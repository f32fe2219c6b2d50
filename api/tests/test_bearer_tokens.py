"""Bearer tokens: what the mobile app sends instead of a session cookie."""

from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import ApiToken
from members.tokens import issue_token, revoke_token

pytestmark = pytest.mark.django_db


def _get(client, url, token):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_token_reaches_the_api_like_a_session(world, client):
    token, _record = issue_token(user=world.town_admin)

    response = _get(client, "/api/v1/orgs", token)

    assert response.status_code == 200
    assert [o["name"] for o in response.json()] == ["真州镇"]


def test_only_the_tokens_hash_is_stored(world):
    token, record = issue_token(user=world.town_admin)

    assert token not in repr(ApiToken.objects.values().get(pk=record.pk))


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown"])
def test_dead_tokens_answer_401(world, client, state):
    token, record = issue_token(user=world.town_admin)
    if state == "revoked":
        assert revoke_token(token)
    elif state == "expired":
        ApiToken.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        token = "not-a-token"

    response = _get(client, "/api/v1/orgs", token)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_of_a_deactivated_user_answers_401(world, client):
    token, _record = issue_token(user=world.town_admin)
    world.town_admin.is_active = False
    world.town_admin.save()

    assert _get(client, "/api/v1/orgs", token).status_code == 401
