"""Edits of a member in Django's admin (数据管理) are audit-logged like any other change."""

import pytest
from django.urls import reverse

from accounts.models import User
from members.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def test_superuser_edit_of_a_member_is_audited(roster, client):
    admin = User.objects.create_superuser(username="root", password="pingyi-test-pw")
    client.force_login(admin)
    member = roster.li
    url = reverse("admin:members_member_change", args=[member.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(name="李骅", org=str(member.org_id))
    data["user"] = ""
    data["registered_at_0"] = data["registered_at_1"] = ""

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=AuditAction.EDITED)
    assert event.actor == admin
    assert event.changes["name"] == ["李华", "李骅"]
