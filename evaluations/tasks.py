"""Background jobs of integrity review: a scan (the 重新核查 button, the nightly schedule) and
the daily purge of network addresses and device hints past their campaign's retention."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import ReviewRun


@shared_task(name="evaluations.scan_integrity")
def scan_task(run_id: int) -> str:
    from .integrity import run_scan

    run = ReviewRun.objects.filter(pk=run_id).first()
    if run is None:  # dropped by a newer run meanwhile
        return "gone"
    return run_scan(run).status


@shared_task(name="evaluations.tasks.nightly_scans")
def nightly_scans() -> list[int]:
    """Scan every campaign open now or closed within the last week (Celery beat)."""
    from campaigns.models import Campaign

    from .integrity import start_scan

    now = timezone.now()
    campaigns = Campaign.objects.filter(starts_at__lte=now, ends_at__gte=now - timedelta(days=7))
    return [start_scan(campaign=c).pk for c in campaigns]


@shared_task(name="evaluations.tasks.purge_expired_traces")
def purge_expired_traces() -> dict:
    """Blank the addresses and device hints whose campaign's retention has ended (Celery beat)."""
    from .retention import purge_expired_traces as purge

    return {str(campaign_id): rows for campaign_id, rows in purge().items()}
