"""What the integrity review pages read: flagged units, a union's findings and its flagged
evaluations, in words a reviewer can check.

Only the federation's admins review (their roles' subtrees): the units under review are the
ones whose admins would otherwise see how their own count is checked. Nothing here names a
member: an evaluation is its number, its time, its trace and its answers.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from accounts.models import RoleKind
from campaigns.models import Campaign
from orgs.models import Org
from orgs.scoping import in_scope, restrict_to_scope, scope_roots
from orgs.selectors import children_of, within
from pingyi.formatting import percent

from .counters import evaluated_counts, excluded_counts
from .integrity import latest_run
from .models import (
    Answer,
    Evaluation,
    Exclusion,
    ExclusionEvent,
    Finding,
    FindingEvaluation,
    FindingKind,
    ReviewRun,
    ReviewRunStatus,
    UnitReview,
)

REVIEWER_KINDS = frozenset({RoleKind.FEDERATION_ADMIN})
# The patterns as the review table's narrow column names them (the full names head the findings).
SHORT_LABELS = {
    FindingKind.BURST_ADDRESS: _("地址集中"),
    FindingKind.BURST_DEVICE: _("一机多号"),
    FindingKind.QUICK_REGISTER: _("注册即评"),
    FindingKind.FAST_STRAIGHT: _("秒填一致"),
    FindingKind.IDENTICAL_TEXT: _("建议雷同"),
}
PAGE_SIZE = 200


def may_review(user, org: Org) -> bool:
    return in_scope(user, org, REVIEWER_KINDS)


def reviewer_roots(user) -> list[Org]:
    return scope_roots(user, REVIEWER_KINDS)


def reviewable_evaluations(user, campaign: Campaign, org: Org) -> QuerySet[Evaluation]:
    """The campaign's evaluations under `org` that this reviewer may decide on."""
    evaluations = Evaluation.objects.filter(campaign=campaign).filter(within(org, "org__path"))
    return restrict_to_scope(evaluations, user, kinds=REVIEWER_KINDS)


# ---------------------------------------------------------------- flagged units


@dataclass
class UnitRow:
    org: Org
    submitted: int = 0  # evaluations received, excluded ones included
    excluded: int = 0
    flagged: int = 0  # distinct evaluations named by a finding
    kinds: set[str] = field(default_factory=set)
    flagged_unions: int = 0
    pending_unions: int = 0  # flagged unions without a conclusion covering their findings

    @property
    def counted(self) -> int:
        return self.submitted - self.excluded

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.submitted if self.submitted else None

    @property
    def kind_labels(self) -> list[str]:
        return [str(label) for kind, label in FindingKind.choices if kind in self.kinds]


@dataclass
class Overview:
    campaign: Campaign
    org: Org
    run: ReviewRun | None  # the latest finished scan
    total: UnitRow
    rows: list[UnitRow]  # sub-units with a flag or an exclusion, most flagged first
    clean: int  # sub-units with neither


def _union_flags(run: ReviewRun, org: Org) -> dict[int, tuple[str, int, set[str]]]:
    """union id → (its path, its distinct flagged evaluations, its finding kinds)."""
    counts = (
        FindingEvaluation.objects.filter(finding__run=run)
        .filter(within(org, "finding__org__path"))
        .values_list("finding__org_id", "finding__org__path")
        .annotate(n=Count("evaluation_id", distinct=True))
        .order_by()
    )
    kinds: dict[int, set[str]] = defaultdict(set)
    for org_id, kind in (
        Finding.objects.filter(run=run)
        .filter(within(org, "org__path"))
        .values_list("org_id", "kind")
        .distinct()
    ):
        kinds[org_id].add(kind)
    return {org_id: (path, n, kinds[org_id]) for org_id, path, n in counts}


def overview(*, campaign: Campaign, org: Org) -> Overview:
    run = latest_run(campaign, status=ReviewRunStatus.DONE)
    units = list(children_of(org)) or [org]
    cut = len(units[0].path)
    ids = [org.pk, *[u.pk for u in units if u.pk != org.pk]]
    net = evaluated_counts(campaign=campaign, org_ids=ids)
    excluded = excluded_counts(campaign=campaign, org_ids=ids)
    rows = {
        u.path: UnitRow(org=u, submitted=net[u.pk] + excluded[u.pk], excluded=excluded[u.pk])
        for u in units
    }
    total = UnitRow(org=org, submitted=net[org.pk] + excluded[org.pk], excluded=excluded[org.pk])
    if run is not None:
        flags = _union_flags(run, org)
        verdicts = {
            r.org_id: r
            for r in UnitReview.objects.filter(campaign=campaign, org_id__in=flags.keys())
        }
        for union_id, (path, n, kinds) in flags.items():
            row = rows.get(path[:cut])
            review = verdicts.get(union_id)
            pending = review is None or review.flagged < n
            for target in (row, total):
                if target is None:
                    continue
                target.flagged += n
                target.kinds |= kinds
                target.flagged_unions += 1
                target.pending_unions += int(pending)
    shown = [r for r in rows.values() if r.flagged or r.excluded]
    shown.sort(key=lambda r: (-r.pending_unions, -r.flagged, -r.excluded, r.org.path))
    return Overview(
        campaign=campaign,
        org=org,
        run=run,
        total=total,
        rows=shown,
        clean=len(rows) - len(shown),
    )


# ---------------------------------------------------------------- one union


def chance_text(chance: float | None) -> str:
    """How likely by chance, in words an admin reads without statistics."""
    if chance is None:
        return ""
    for limit, words in (
        (1e-12, _("小于万亿分之一")),
        (1e-9, _("小于十亿分之一")),
        (1e-6, _("小于百万分之一")),
        (1e-4, _("小于万分之一")),
    ):
        if chance < limit:
            return str(words)
    return _("约 %(p)s") % {"p": percent(chance, 2)}


def _number(value: float) -> str:
    if 0 < value < 0.005:
        return _("不到 0.01")
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value < 100 else f"{value:,.0f}"


def _rate(value: float | None) -> str:
    if value is not None and 0 < value < 0.00005:
        return _("不到 0.01%")
    return percent(value, 2)


def describe(finding: Finding) -> str:
    """The evidence of a finding as a sentence."""
    e = finding.evidence or {}
    kind = finding.kind
    if kind == FindingKind.BURST_ADDRESS:
        return _(
            "同一网络地址 %(address)s 在 %(minutes)s 分钟内提交了 %(total)s 条评议"
            "（本工会 %(here)s 条，共涉及 %(unions)s 个工会）；标准为 %(window)s 分钟内至少 "
            "%(minimum)s 条。"
        ) % {
            "address": e.get("address", "—"),
            "minutes": _number(e.get("minutes", 0)),
            "total": e.get("total", finding.count),
            "here": finding.count,
            "unions": e.get("unions", 1),
            "window": e.get("window", ""),
            "minimum": e.get("minimum", ""),
        }
    if kind == FindingKind.BURST_DEVICE:
        return _(
            "同一台设备（标识 %(device)s）在 %(minutes)s 分钟内为 %(members)s 个会员账号提交了评议"
            "（本工会 %(here)s 条，共涉及 %(unions)s 个工会）。"
        ) % {
            "device": e.get("device", "—"),
            "minutes": _number(e.get("minutes", 0)),
            "members": e.get("members", finding.count),
            "here": finding.count,
            "unions": e.get("unions", 1),
        }
    if kind == FindingKind.IDENTICAL_TEXT:
        return _(
            "建议“%(text)s”由本工会 %(k)s 名会员逐字相同地填写（本工会共 %(n)s 条建议），"
            "其余单位写过 %(elsewhere)s 次；按其余单位的情况，本工会预计约 %(expected)s 条，"
            "偶然出现的可能性%(chance)s。"
        ) % {
            "text": e.get("text", ""),
            "k": e.get("k", finding.count),
            "n": e.get("n", ""),
            "elsewhere": e.get("elsewhere", 0),
            "expected": _number(e.get("expected", 0)),
            "chance": chance_text(e.get("chance")),
        }
    template = {
        FindingKind.QUICK_REGISTER: _(
            "本工会 %(n)s 条评议中有 %(k)s 条（%(share)s）在账号注册后 %(seconds)s 秒内提交；"
            "其余单位这一比例为 %(baseline)s，本工会预计约 %(expected)s 条，"
            "偶然出现的可能性%(chance)s。"
        ),
        FindingKind.FAST_STRAIGHT: _(
            "本工会 %(n)s 条评议中有 %(k)s 条（%(share)s）在打开评议页后 %(seconds)s 秒内提交，"
            "且评了至少 %(items)s 个分项、全部与总体评分相同；其余单位这一比例为 %(baseline)s，"
            "本工会预计约 %(expected)s 条，偶然出现的可能性%(chance)s。"
        ),
    }[kind]
    return template % {
        "n": e.get("n", ""),
        "k": e.get("k", finding.count),
        "share": percent(e.get("share"), 1),
        "seconds": e.get("seconds", ""),
        "items": e.get("min_items", ""),
        "baseline": _rate(e.get("baseline")),
        "expected": _number(e.get("expected", 0)),
        "chance": chance_text(e.get("chance")),
    }


@dataclass
class FindingView:
    finding: Finding
    text: str

    @property
    def kind_label(self) -> str:
        return self.finding.get_kind_display()


@dataclass
class FlaggedRow:
    """One evaluation as the reviewer sees it: its trace and answers, never its member."""

    pk: int
    org: Org
    submitted_at: datetime
    overall: int
    suggestion: str
    ratings: list[int]
    address: str | None
    device: str
    registered_seconds: float | None  # from the account's registration to the submission
    fill_seconds: float | None  # from opening the form to the submission
    kinds: list[str]
    exclusion: Exclusion | None

    @property
    def kind_labels(self) -> list[str]:
        return [str(label) for kind, label in FindingKind.choices if kind in self.kinds]

    @property
    def short_labels(self) -> list[tuple[str, str]]:
        """(short, full) names of the patterns naming this evaluation."""
        return [
            (str(SHORT_LABELS[FindingKind(kind)]), str(label))
            for kind, label in FindingKind.choices
            if kind in self.kinds
        ]

    @property
    def straight(self) -> bool:
        return bool(self.ratings) and all(r == self.overall for r in self.ratings)

    @property
    def ratings_text(self) -> str:
        if not self.ratings:
            return _("未评分项")
        low, high = min(self.ratings), max(self.ratings)
        if low == high:
            return _("%(n)s项均为%(r)s星") % {"n": len(self.ratings), "r": low}
        return _("%(n)s项，%(low)s–%(high)s星") % {"n": len(self.ratings), "low": low, "high": high}


@dataclass
class UnionDetail:
    campaign: Campaign
    union: Org
    run: ReviewRun | None
    findings: list[FindingView]
    rows: list[FlaggedRow]
    total_rows: int
    page: int
    pages: int
    chosen: Finding | None
    show: str  # "flagged" or "excluded"
    verdict: UnitReview | None
    flagged: int
    excluded: int
    submitted: int

    @property
    def counted(self) -> int:
        return self.submitted - self.excluded

    @property
    def pending(self) -> bool:
        return self.flagged > 0 and (self.verdict is None or self.verdict.flagged < self.flagged)


def listed_ids(
    *,
    campaign: Campaign,
    union: Org,
    run: ReviewRun | None,
    finding_id: int | None = None,
    show: str = "flagged",
) -> QuerySet:
    """Ids of the evaluations a union's table lists: its excluded ones, or those the run
    flagged (by one finding when given), in number order. The page shows them; 对本表全部执行
    decides on them."""
    if show == "excluded":
        return (
            Exclusion.objects.filter(campaign=campaign, org=union)
            .values_list("evaluation_id", flat=True)
            .order_by("evaluation_id")
        )
    links = FindingEvaluation.objects.filter(finding__run=run, finding__org=union)
    if finding_id is not None:
        links = links.filter(finding_id=finding_id)
    return links.values_list("evaluation_id", flat=True).distinct().order_by("evaluation_id")


def flagged_count(*, campaign: Campaign, union: Org, run: ReviewRun | None) -> int:
    """The union's distinct evaluations that the run flagged."""
    return listed_ids(campaign=campaign, union=union, run=run).count() if run else 0


def union_detail(
    *,
    campaign: Campaign,
    union: Org,
    finding_id: int | None = None,
    show: str = "flagged",
    page: int = 1,
) -> UnionDetail:
    run = latest_run(campaign, status=ReviewRunStatus.DONE)
    findings = list(
        Finding.objects.filter(run=run, org=union).order_by("kind", "first_at", "pk") if run else []
    )
    chosen = next((f for f in findings if f.pk == finding_id), None)
    show = "excluded" if show == "excluded" else "flagged"
    ids = listed_ids(
        campaign=campaign, union=union, run=run, finding_id=chosen.pk if chosen else None, show=show
    )
    total_rows = ids.count()
    pages = max(1, -(-total_rows // PAGE_SIZE))
    page = min(max(1, page), pages)
    page_ids = list(ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    flagged = flagged_count(campaign=campaign, union=union, run=run)
    net = evaluated_counts(campaign=campaign, org_ids=[union.pk])[union.pk]
    excluded = excluded_counts(campaign=campaign, org_ids=[union.pk])[union.pk]
    return UnionDetail(
        campaign=campaign,
        union=union,
        run=run,
        findings=[FindingView(f, describe(f)) for f in findings],
        rows=flagged_rows(page_ids, run=run),
        total_rows=total_rows,
        page=page,
        pages=pages,
        chosen=chosen,
        show=show,
        verdict=UnitReview.objects.filter(campaign=campaign, org=union)
        .select_related("reviewed_by")
        .first(),
        flagged=flagged,
        excluded=excluded,
        submitted=net + excluded,
    )


def flagged_rows(ids: list[int], *, run: ReviewRun | None) -> list[FlaggedRow]:
    """The evaluations with these ids, in submission order, as the review table shows them."""
    if not ids:
        return []
    evaluations = (
        Evaluation.objects.filter(pk__in=ids)
        .select_related("org", "trace")
        .only(
            "pk",
            "org__name",
            "org__path",
            "submitted_at",
            "overall",
            "suggestion",
            "member__registered_at",
            "trace__address",
            "trace__device_key",
            "trace__form_opened_at",
        )
        .select_related("member")
        .order_by("submitted_at", "pk")
    )
    ratings: dict[int, list[int]] = defaultdict(list)
    for evaluation_id, rating in Answer.objects.filter(evaluation_id__in=ids).values_list(
        "evaluation_id", "rating"
    ):
        ratings[evaluation_id].append(rating)
    kinds: dict[int, set[str]] = defaultdict(set)
    if run is not None:
        for evaluation_id, kind in FindingEvaluation.objects.filter(
            finding__run=run, evaluation_id__in=ids
        ).values_list("evaluation_id", "finding__kind"):
            kinds[evaluation_id].add(kind)
    exclusions = {
        x.pk: x for x in Exclusion.objects.filter(pk__in=ids).select_related("excluded_by")
    }
    rows = []
    for e in evaluations:
        trace = getattr(e, "trace", None)
        registered = e.member.registered_at
        opened = trace.form_opened_at if trace else None
        rows.append(
            FlaggedRow(
                pk=e.pk,
                org=e.org,
                submitted_at=e.submitted_at,
                overall=e.overall,
                suggestion=e.suggestion,
                ratings=sorted(ratings.get(e.pk, [])),
                address=trace.address if trace else None,
                device=(trace.device_key[:8] if trace else ""),
                registered_seconds=(e.submitted_at - registered).total_seconds()
                if registered
                else None,
                fill_seconds=(e.submitted_at - opened).total_seconds() if opened else None,
                kinds=sorted(kinds.get(e.pk, ())),
                exclusion=exclusions.get(e.pk),
            )
        )
    return rows


def subtree_flagged_ids(*, run: ReviewRun | None, org: Org) -> QuerySet:
    """Every flagged evaluation under `org`, for the export."""
    if run is None:
        return FindingEvaluation.objects.none().values_list("evaluation_id", flat=True)
    return (
        FindingEvaluation.objects.filter(finding__run=run)
        .filter(within(org, "finding__org__path"))
        .values_list("evaluation_id", flat=True)
        .distinct()
        .order_by("evaluation_id")
    )


def review_log(user, *, campaign: Campaign | None = None) -> QuerySet[ExclusionEvent]:
    """The exclusions and restorations of the reviewer's scope, newest first."""
    events = restrict_to_scope(ExclusionEvent.objects.all(), user, kinds=REVIEWER_KINDS)
    if campaign is not None:
        events = events.filter(campaign=campaign)
    return events.select_related("actor", "org", "campaign").order_by("-pk")
