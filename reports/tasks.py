"""Background jobs of the reports app: the weekly bulletins (Celery beat) and one on demand."""

import logging

from celery import shared_task
from django.utils import timezone

from . import bulletins
from .models import Bulletin

logger = logging.getLogger(__name__)


@shared_task(name="reports.tasks.build_weekly_bulletins")
def build_weekly_bulletins() -> list[int]:
    """The beat schedule's weekly build (settings.CELERY_BEAT_SCHEDULE["weekly-bulletins"]);
    returns the ids of the bulletins it published or found published."""
    outcomes = bulletins.build_weekly_bulletins(timezone.now())
    for outcome in outcomes:
        if outcome.error:
            logger.error(
                "每周通报未生成：活动 %s，单位 %s：%s",
                outcome.campaign.pk,
                outcome.org.pk,
                outcome.error,
            )
    return [o.bulletin.pk for o in outcomes if o.bulletin is not None]


@shared_task(name="reports.build_bulletin")
def build_bulletin(bulletin_id: int) -> str:
    """Build a bulletin an admin asked for (its row claimed by the view); the row says how it
    ended. Without a broker it runs on a thread of the web process (pingyi.jobs)."""
    record = Bulletin.objects.select_related("campaign__org", "org", "built_by").get(pk=bulletin_id)
    if record.is_published:
        return record.status
    try:
        record = bulletins.build_bulletin(
            campaign=record.campaign, org=record.org, cutoff=record.cutoff, by=record.built_by
        )
    except Exception:
        # Recorded as failed on the row by build_bulletin.
        logger.exception("通报 #%s 生成失败", bulletin_id)
        record.refresh_from_db()
    return record.status
