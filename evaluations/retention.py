"""Network addresses and device hints are kept for integrity review only, and only as long as the
campaign says (Campaign.trace_retention_days after its window closes); then they are deleted.

The evaluation keeps nothing of them. The trace keeps when the form was opened (no personal data,
and the straight-lining evidence of a finding already stored); findings of bursts keep their
counts and times but lose the address and the device they named.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign

from .models import Finding, FindingKind, IntegritySettings, SubmissionTrace

PURGED = "—"


def retention_ends(campaign: Campaign) -> datetime:
    return campaign.ends_at + timedelta(days=campaign.trace_retention_days)


def purge_campaign_traces(campaign: Campaign, *, now: datetime | None = None) -> int:
    """Delete the campaign's addresses and device hints now; returns the traces blanked."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = (
            SubmissionTrace.objects.filter(evaluation__campaign=campaign)
            .filter(Q(address__isnull=False) | ~Q(device="") | ~Q(device_key=""))
            .update(address=None, device="", device_key="")
        )
        for finding in Finding.objects.filter(
            campaign=campaign, kind__in=(FindingKind.BURST_ADDRESS, FindingKind.BURST_DEVICE)
        ).only("pk", "evidence"):
            evidence = dict(finding.evidence)
            for key in ("address", "device"):
                if key in evidence:
                    evidence[key] = PURGED
            evidence["purged"] = True
            Finding.objects.filter(pk=finding.pk).update(evidence=evidence)
        IntegritySettings.objects.get_or_create(campaign=campaign)
        IntegritySettings.objects.filter(campaign=campaign).update(traces_purged_at=now)
    return rows


def purge_expired_traces(*, now: datetime | None = None) -> dict[int, int]:
    """Purge every campaign whose retention has ended and that still holds traces:
    {campaign id: traces blanked}."""
    now = now or timezone.now()
    done = {}
    candidates = Campaign.objects.filter(ends_at__lt=now).exclude(
        integrity_settings__traces_purged_at__isnull=False
    )
    for campaign in candidates:
        if retention_ends(campaign) <= now:
            done[campaign.pk] = purge_campaign_traces(campaign, now=now)
    return done
