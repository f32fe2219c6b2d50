"""Rules that change campaigns: creation with a questionnaire, target rates, manual targets."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orgs.models import Org, OrgKind, ReportedMembers
from orgs.services import set_reported_members

from .models import (
    DEFAULT_SCALE_LABELS,
    DEFAULT_TRACE_RETENTION_DAYS,
    Campaign,
    NegativeRule,
    Question,
    QuestionKind,
    Target,
    TargetRate,
    TargetSource,
)
from .rollups import rebuild_rollups, refresh_for_org_change, refresh_rollups

# The seed's questionnaire. Marked for translation only: a new campaign stores its questions
# in the language active when it is created (create_campaign translates them then).
OVERALL_LABEL = gettext_noop("工作总体满意度")
SUGGESTION_LABEL = gettext_noop("您对所在工会工作的建议")

# The nine work items of 2022, in the seed's order (DESIGN.md).
ITEMS_2022 = [
    gettext_noop("职工(代表)大会"),
    gettext_noop("民主管理"),
    gettext_noop("培养、评选、表彰先进模范"),
    gettext_noop("职工文体活动"),
    gettext_noop("劳动竞赛、技能提升"),
    gettext_noop("帮助和指导签订劳动合同"),
    gettext_noop("维护女职工的特殊权益"),
    gettext_noop("困难职工帮扶救助"),
    gettext_noop("协助和督促劳动安全卫生"),
]

# The seed's rule: 70% for towns and parks, 100% for sectors, agencies and direct unions.
SEED_TARGET_RATES = {
    OrgKind.TOWN: Decimal("0.7"),
    OrgKind.PARK: Decimal("0.7"),
    OrgKind.SECTOR: Decimal("1"),
    OrgKind.AGENCY: Decimal("1"),
    OrgKind.DIRECT: Decimal("1"),
    OrgKind.ENTERPRISE: Decimal("1"),
}


@transaction.atomic
def create_campaign(
    *,
    org: Org,
    name: str,
    year: int,
    starts_at: datetime,
    ends_at: datetime,
    items: list[str] | None = None,
    target_rates: dict[str, Decimal] | None = None,
    negative_rule: str = NegativeRule.OVERALL,
    verify_days: int = 1,
    rectify_days: int = 15,
    trace_retention_days: int = DEFAULT_TRACE_RETENTION_DAYS,
    created_by=None,
) -> Campaign:
    """A campaign with its questionnaire: the overall rating, the work items, the suggestion."""
    campaign = Campaign.objects.create(
        org=org,
        name=name,
        year=year,
        starts_at=starts_at,
        ends_at=ends_at,
        scale_labels={value: str(label) for value, label in DEFAULT_SCALE_LABELS.items()},
        negative_rule=negative_rule,
        verify_days=verify_days,
        rectify_days=rectify_days,
        trace_retention_days=trace_retention_days,
        created_by=created_by,
    )
    items = [_(item) for item in ITEMS_2022] if items is None else items
    questions = [
        Question(
            campaign=campaign,
            kind=QuestionKind.OVERALL,
            label=_(OVERALL_LABEL),
            position=0,
            required=True,
        )
    ]
    questions += [
        Question(campaign=campaign, kind=QuestionKind.ITEM, label=label, position=i)
        for i, label in enumerate(items, start=1)
    ]
    questions.append(
        Question(
            campaign=campaign,
            kind=QuestionKind.SUGGESTION,
            label=_(SUGGESTION_LABEL),
            position=len(items) + 1,
            max_length=500,
        )
    )
    Question.objects.bulk_create(questions)
    set_target_rates(
        campaign=campaign, rates=SEED_TARGET_RATES if target_rates is None else target_rates
    )
    return campaign


@transaction.atomic
def set_target_rates(*, campaign: Campaign, rates: dict[str, Decimal | None]) -> None:
    """Replace the rule's rates; a kind set to None has no rule-derived target."""
    for kind, rate in rates.items():
        if rate is None:
            TargetRate.objects.filter(campaign=campaign, org_kind=kind).delete()
        else:
            TargetRate.objects.update_or_create(
                campaign=campaign, org_kind=kind, defaults={"rate": Decimal(rate)}
            )
    rebuild_rollups(campaign=campaign)


@transaction.atomic
def set_manual_target(*, campaign: Campaign, org: Org, value: int | None) -> None:
    """Set (or, with None, clear) a target typed in the console; it wins over the rule."""
    if value is None:
        Target.objects.filter(campaign=campaign, org=org).delete()
    else:
        Target.objects.update_or_create(
            campaign=campaign,
            org=org,
            defaults={"value": value, "source": TargetSource.MANUAL, "task_import": None},
        )
    refresh_rollups(campaign=campaign, orgs=[org])


@transaction.atomic
def record_reported_members(*, org: Org, year: int, count: int | None) -> None:
    """Set (or, with None, clear) an org's reported members and roll the change up."""
    if count is None:
        ReportedMembers.objects.filter(org=org, year=year).delete()
    else:
        set_reported_members(org=org, year=year, count=count)
    refresh_for_org_change(org=org, year=year)


@transaction.atomic
def save_questionnaire(*, campaign: Campaign, entries: list[dict]) -> None:
    """Apply an edited questionnaire: labels and order of existing questions, new items, removals.

    Each entry: {"id": int | None, "label": str, "position": int, "delete": bool}. The overall
    and suggestion questions may be relabelled and moved but never removed. Once members have
    evaluated, what they answered stays as they read it: no question is reworded and no rated
    item removed (QuestionnaireLocked); items may still be added and reordered.
    """
    existing = {q.pk: q for q in campaign.questions.all()}
    check_questionnaire_change(campaign=campaign, existing=existing, entries=entries)
    for entry in entries:
        question = existing.get(entry.get("id")) if entry.get("id") else None
        label = (entry.get("label") or "").strip()
        if question is None:
            if label and not entry.get("delete"):
                Question.objects.create(
                    campaign=campaign,
                    kind=QuestionKind.ITEM,
                    label=label,
                    position=entry["position"],
                )
            continue
        if entry.get("delete") and question.kind == QuestionKind.ITEM:
            question.delete()
            continue
        question.label = label or question.label
        question.position = entry["position"]
        question.save(update_fields=["label", "position"])
    # A new updated_at tells every process that its copy of the questions is stale.
    campaign.save(update_fields=["updated_at"])


class QuestionnaireLocked(Exception):
    """A change that would alter what members have already answered."""


def check_questionnaire_change(*, campaign: Campaign, existing: dict, entries: list[dict]) -> None:
    if not campaign.evaluations.exists():
        return
    refusals = []
    rated = set(
        Question.objects.filter(campaign=campaign, answers__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    for entry in entries:
        question = existing.get(entry.get("id"))
        if question is None:
            continue
        label = (entry.get("label") or "").strip()
        if entry.get("delete") and question.kind == QuestionKind.ITEM and question.pk in rated:
            refusals.append(_("“%(label)s”已有会员评分，不能删除。") % {"label": question.label})
        elif label and label != question.label:
            refusals.append(
                _("已有会员提交评议，“%(label)s”的题目不能再修改。") % {"label": question.label}
            )
    if refusals:
        raise QuestionnaireLocked(" ".join(refusals))
