"""What a submission leaves for integrity review (address, device, time on the form), and how
long it is kept: the campaign's retention, then it is deleted."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from conftest import SHANGHAI
from evaluations.forms_h5 import DEVICE_COOKIE
from evaluations.integrity import scan_now
from evaluations.models import Finding, FindingKind, IntegritySettings, SubmissionTrace
from evaluations.retention import purge_expired_traces, retention_ends
from evaluations.services import device_key
from evaluations.tasks import purge_expired_traces as purge_task

from .integrity_world import fabricated, ordinary

NIGHT = datetime(2022, 11, 27, 21, 30, tzinfo=SHANGHAI)


def test_the_h5_form_gives_a_device_cookie_and_the_submission_keeps_its_digest(evaluators, client):
    w = evaluators
    client.force_login(w.li.user)
    url = reverse("members:evaluate", args=[w.open_campaign.pk])
    form = client.get(url)
    cookie = form.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and len(cookie.value) >= 20
    token = form.context["token"]
    client.post(url, {"overall": "5", "form_token": token}, REMOTE_ADDR="10.2.3.4")
    trace = SubmissionTrace.objects.get(evaluation__member=w.li)
    assert trace.address == "10.2.3.4"
    assert trace.device_key == device_key(cookie.value) and cookie.value not in trace.device_key
    assert trace.form_opened_at is not None
    assert timezone.now() - trace.form_opened_at < timedelta(minutes=1)


def test_the_app_sends_its_install_id_and_the_questionnaires_form_token(evaluators, client):
    w = evaluators
    client.force_login(w.zhao.user)
    questionnaire = client.get(f"/api/v1/campaigns/{w.open_campaign.pk}/questionnaire").json()
    assert questionnaire["form_token"]
    response = client.post(
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        {"overall": 4, "form_token": questionnaire["form_token"]},
        content_type="application/json",
        headers={"X-Device-Id": "app-install-7f3a", "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 201
    trace = SubmissionTrace.objects.get(evaluation__member=w.zhao)
    assert trace.device_key == device_key("app-install-7f3a")
    assert trace.form_opened_at is not None


def test_a_form_token_of_another_member_is_ignored(evaluators, client):
    w = evaluators
    client.force_login(w.li.user)
    foreign = client.get(f"/api/v1/campaigns/{w.open_campaign.pk}/questionnaire").json()
    client.force_login(w.zhao.user)
    response = client.post(
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        {"overall": 4, "form_token": foreign["form_token"] + "x"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert SubmissionTrace.objects.get(evaluation__member=w.zhao).form_opened_at is None


@pytest.fixture
def scanned(world):
    w = world
    ordinary(w.town_union_a, w.campaign, 10, tag="a")
    fabricated(w.town_union_b, w.campaign, 12, start=NIGHT)
    scan_now(campaign=w.campaign)
    return w


def test_traces_are_kept_until_the_campaigns_retention_ends(scanned):
    w = scanned
    w.campaign.trace_retention_days = 90
    w.campaign.save()
    ends = retention_ends(w.campaign)
    assert ends == w.campaign.ends_at + timedelta(days=90)
    assert purge_expired_traces(now=ends - timedelta(minutes=1)) == {}
    assert SubmissionTrace.objects.filter(address__isnull=False).count() == 22


def test_after_the_retention_addresses_and_devices_are_deleted_everywhere(scanned):
    w = scanned
    ends = retention_ends(w.campaign)
    assert purge_expired_traces(now=ends + timedelta(minutes=1)) == {w.campaign.pk: 22}
    assert not SubmissionTrace.objects.filter(address__isnull=False).exists()
    assert not SubmissionTrace.objects.exclude(device="").exists()
    assert not SubmissionTrace.objects.exclude(device_key="").exists()
    # The time on the form stays: it names nobody.
    assert SubmissionTrace.objects.filter(form_opened_at__isnull=False).count() == 22
    burst = Finding.objects.get(kind=FindingKind.BURST_ADDRESS)
    assert burst.evidence["address"] == "—" and burst.evidence["purged"]
    assert "58.221.36.18" not in str(list(Finding.objects.values_list("evidence", flat=True)))
    assert IntegritySettings.objects.get().traces_purged_at is not None
    # Done once: the next day's purge finds nothing to do.
    assert purge_expired_traces(now=ends + timedelta(days=1)) == {}


def test_the_daily_task_and_the_command_purge(scanned, settings):
    w = scanned
    w.campaign.trace_retention_days = 1
    w.campaign.save()  # ended 2022-11-30: retention long over
    assert purge_task() == {str(w.campaign.pk): 22}
    assert "purge-traces" in settings.CELERY_BEAT_SCHEDULE
    out = StringIO()
    call_command("purge_traces", stdout=out)
    assert "没有到期" in out.getvalue()


def test_the_review_page_says_when_the_traces_were_deleted(scanned, login):
    w = scanned
    purge_expired_traces(now=retention_ends(w.campaign) + timedelta(minutes=1))
    html = (
        login(w.city_admin)
        .get(reverse("integrity:unit", args=[w.town_union_b.pk]), {"campaign": w.campaign.pk})
        .content.decode()
    )
    assert "已于" in html and "按保留期限删除" in html
    assert "58.221.36.18" not in html


def test_the_campaign_form_sets_the_retention_and_refuses_a_bad_one(world, login):
    w = world
    client = login(w.city_admin)
    url = reverse("campaigns:edit", args=[w.campaign.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    assert data["trace_retention_days"] == 180

    refused = client.post(url, data | {"trace_retention_days": "800"})
    assert refused.status_code == 200
    assert "730" in str(refused.context["form"].errors["trace_retention_days"])
    w.campaign.refresh_from_db()
    assert w.campaign.trace_retention_days == 180

    saved = client.post(url, data | {"trace_retention_days": "90"})
    assert saved.status_code == 302, saved.context["form"].errors
    w.campaign.refresh_from_db()
    assert w.campaign.trace_retention_days == 90
    detail = client.get(reverse("campaigns:detail", args=[w.campaign.pk])).content.decode()
    assert "评议结束后 90 天" in detail
    assert retention_ends(w.campaign) == w.campaign.ends_at + timedelta(days=90)
