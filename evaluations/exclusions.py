"""Excluding evaluations after integrity review, restoring them, and the exclusion counters.

A reviewer excludes an evaluation with a reason; it stays stored and flagged, and leaves
completion, participation, satisfaction and the assessment's scores. Restoring brings it back.
Both are logged as append-only ExclusionEvent rows (who, when, why, from where), in the same
transaction as the Exclusion row and the counters, so the log, the flag and the figures never
disagree.

The counters (ExclusionCount) keep excluded evaluations per org and local day of submission,
for the evaluation's union and every ancestor up to the campaign's org, as DailyCount keeps
the submissions: figures "as of a day" subtract the exclusions of the evaluations submitted up
to that day, so an excluded evaluation leaves every figure from its submission on.
"""

from collections import Counter
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from orgs.models import Org

from .counters import Drift, chain_paths, drifts, local_day, roll_up
from .models import Evaluation, Exclusion, ExclusionAction, ExclusionCount, ExclusionEvent

REASON_MAX = 500
# One click handles a burst or a union's findings; a bigger batch is a job for the command.
BATCH_MAX = 5000


class ExclusionError(ValueError):
    """A decision that cannot be recorded; str() says why in Chinese, `field` names the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ExclusionError(_("请填写理由：剔除和恢复都要写明依据"), field="reason")
    if len(reason) > REASON_MAX:
        raise ExclusionError(
            _("理由最多 %(max)s 字，您写了 %(n)s 字") % {"max": REASON_MAX, "n": len(reason)},
            field="reason",
        )
    return reason


def _chosen(evaluations: QuerySet[Evaluation], campaign: Campaign) -> list[Evaluation]:
    rows = list(
        evaluations.filter(campaign=campaign)
        .select_related("org")
        .only("pk", "org__path", "org_id", "submitted_at", "campaign_id")
        .order_by("pk")[: BATCH_MAX + 1]
    )
    if not rows:
        raise ExclusionError(_("没有选中任何评议"), field="evaluations")
    if len(rows) > BATCH_MAX:
        raise ExclusionError(
            _("一次最多处理 %(max)s 条评议，请缩小范围后分批操作") % {"max": BATCH_MAX},
            field="evaluations",
        )
    return rows


def exclude_evaluations(
    *,
    campaign: Campaign,
    evaluations: QuerySet[Evaluation],
    actor,
    reason: str,
    address: str = "",
) -> int:
    """Exclude these evaluations of the campaign (the caller has limited them to the actor's
    scope). Those already excluded are left as they are. Returns how many were excluded now."""

    def exclude(evaluation: Evaluation, reason: str, at) -> bool:
        try:
            with transaction.atomic():
                Exclusion.objects.create(
                    evaluation=evaluation,
                    campaign=campaign,
                    org_id=evaluation.org_id,
                    reason=reason,
                    excluded_by=actor,
                    excluded_at=at,
                )
        except IntegrityError:  # already excluded, by another click or reviewer
            return False
        return True

    return _decide(campaign, evaluations, actor, reason, address, ExclusionAction.EXCLUDE, exclude)


def restore_evaluations(
    *,
    campaign: Campaign,
    evaluations: QuerySet[Evaluation],
    actor,
    reason: str,
    address: str = "",
) -> int:
    """Undo the exclusion of these evaluations. Returns how many were restored now."""

    def restore(evaluation: Evaluation, reason: str, at) -> bool:
        deleted, _by_model = Exclusion.objects.filter(pk=evaluation.pk).delete()
        return bool(deleted)  # not excluded (or restored meanwhile): nothing to do

    return _decide(campaign, evaluations, actor, reason, address, ExclusionAction.RESTORE, restore)


def _decide(campaign, evaluations, actor, reason, address, action, step) -> int:
    """Apply `step` to each chosen evaluation; log and count those it changed, in one
    transaction with the counters."""
    reason = clean_reason(reason)
    now = timezone.now()
    sign = +1 if action == ExclusionAction.EXCLUDE else -1
    with transaction.atomic():
        changes: Counter = Counter()
        done = 0
        for evaluation in _chosen(evaluations, campaign):
            if not step(evaluation, reason, now):
                continue
            _log(evaluation, campaign, action, reason, actor, now, address)
            _count(changes, campaign, evaluation, sign)
            done += 1
        _apply(campaign, changes)
    return done


def _log(evaluation, campaign, action, reason, actor, at, address) -> None:
    ExclusionEvent.objects.create(
        evaluation=evaluation,
        campaign=campaign,
        org_id=evaluation.org_id,
        action=action,
        reason=reason,
        actor=actor,
        at=at,
        address=(address or "")[:45],
    )


def _count(changes: Counter, campaign: Campaign, evaluation: Evaluation, step: int) -> None:
    day = local_day(evaluation.submitted_at)
    for path in chain_paths(campaign, evaluation.org.path):
        changes[(path, day)] += step


def _apply(campaign: Campaign, changes: Counter) -> None:
    """Add each (org path, day) change to its counter row, rows taken in path order."""
    changes = Counter({k: v for k, v in changes.items() if v})
    if not changes:
        return
    ids = dict(Org.objects.filter(path__in={p for p, _d in changes}).values_list("path", "pk"))
    table = ExclusionCount._meta.db_table
    with connection.cursor() as cursor:
        for (path, day), step in sorted(changes.items()):
            if step > 0:
                cursor.execute(
                    f"INSERT INTO {table} (campaign_id, org_id, day, count) "
                    f"VALUES (%s, %s, %s, %s) "
                    f"ON CONFLICT (campaign_id, org_id, day) "
                    f"DO UPDATE SET count = {table}.count + excluded.count",
                    [campaign.pk, ids[path], day, step],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET count = count + %s "
                    f"WHERE campaign_id = %s AND org_id = %s AND day = %s",
                    [step, campaign.pk, ids[path], day],
                )


# ---------------------------------------------------------------- reads


def excluded_ids(campaign: Campaign) -> QuerySet:
    """Ids of the campaign's excluded evaluations, as a subquery:
    `.exclude(pk__in=excluded_ids(c))`."""
    return Exclusion.objects.filter(campaign=campaign).values_list("evaluation_id", flat=True)


def exclusion_marker(campaign: Campaign) -> int:
    """Changes with every exclusion and restoration of the campaign (for cache keys)."""
    return ExclusionEvent.objects.filter(campaign=campaign).aggregate(last=Max("pk"))["last"] or 0


# ---------------------------------------------------------------- recount


def fresh_exclusion_counts(campaign: Campaign) -> dict[tuple[int, date], int]:
    """(org, day) → excluded evaluations, computed from the exclusions themselves."""
    leaves: Counter = Counter()
    for path, submitted_at in Exclusion.objects.filter(campaign=campaign).values_list(
        "evaluation__org__path", "evaluation__submitted_at"
    ):
        leaves[(path, local_day(submitted_at))] += 1
    return roll_up(campaign, leaves)


def recount_exclusions(campaign: Campaign) -> list[Drift]:
    """Every (org, day) whose exclusion counter differs from a count of the exclusions."""
    stored = {
        (org_id, day): n
        for org_id, day, n in ExclusionCount.objects.filter(campaign=campaign).values_list(
            "org_id", "day", "count"
        )
        if n
    }
    return drifts(fresh_exclusion_counts(campaign), stored)


@transaction.atomic
def rebuild_exclusion_counts(campaign: Campaign) -> int:
    fresh = fresh_exclusion_counts(campaign)
    ExclusionCount.objects.filter(campaign=campaign).delete()
    created = ExclusionCount.objects.bulk_create(
        ExclusionCount(campaign=campaign, org_id=org_id, day=day, count=n)
        for (org_id, day), n in fresh.items()
    )
    return len(created)
