"""Fixtures of the members app's tests: a member logged in on the H5 pages, service staff."""

import pytest
from django.utils import timezone

from accounts.models import Role, RoleKind, User


def bind_account(member) -> User:
    """Give a roster member the account registration would have made (实名注册)."""
    user = User.objects.create_user(username=f"m{member.pk}")
    member.user = user
    member.registered_at = timezone.now()
    member.save()
    return user


@pytest.fixture
def member_client(client):
    """Log a roster member in (binding an account first) and return the client."""

    def _login(member):
        client.force_login(bind_account(member))
        return client

    return _login


@pytest.fixture
def service_user(world):
    """客服 at the city federation: works every correction request of Yizheng."""
    user = User.objects.create_user(username="kefu", password="pingyi-test-pw")
    Role.objects.create(user=user, org=world.city, kind=RoleKind.SERVICE)
    return user
