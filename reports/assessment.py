"""年度考核: each unit's score under its campaign's scheme, and the result published frozen.

The scored units are the direct sub-units of the campaign's org whose kind the scheme scores.
Five indicators, each read from the functions the other pages use, never from evaluation rows:

- 完成率 = evaluated ÷ target and 参评率 = evaluated ÷ reported members
  (reports.figures.progress_table: net of excluded evaluations);
- 满意度指数, 0–100 (analysis.selectors.satisfaction); withheld below 5 evaluations (样本不足);
- 按期整改率 and 整改满意率 (cases.selectors.figures_by_unit).

score_i = weight_i × min(value_i ÷ cap_i, 1), rounded half up to 0.01; total = Σ score_i. A missing
value (no target, 样本不足, no case to rate) earns the indicator's weight (full), 0 (zero), or is
left out (rescale): then total = Σ kept scores × Σ all weights ÷ Σ kept weights. Ranks go by the
total as shown, best 1, equal totals sharing a rank (1, 1, 3), overall and within each kind.
Why these rules and defaults: docs/decisions.md, 年度考核.

`compose` returns the whole result as JSON-ready data (decimals as strings, rounded as shown), so
that the page and the .xlsx render the same figures, and a published result is that data stored
in AssessmentScheme.result: later evaluations, exclusions or scheme edits change nothing on it.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.selectors import Figures, satisfaction
from campaigns.models import Campaign
from campaigns.selectors import visible_campaigns
from cases.selectors import CaseFigures, figures_by_unit
from orgs.models import OrgKind
from orgs.scoping import can_run_campaigns
from pingyi.formatting import cn_date, cn_datetime

from .figures import progress_table, share_ranks
from .models import (
    SCORABLE_KINDS,
    AssessmentIndicator,
    AssessmentKind,
    AssessmentScheme,
    AssessmentStatus,
    IndicatorKey,
    MissingPolicy,
)

DATA_VERSION = 1
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
WEIGHT_MAX = Decimal(1000)


@dataclass(frozen=True)
class Indicator:
    key: str
    scale: str  # "rate": percentage points; "index": 0–100
    cap_max: Decimal  # the highest cap that makes sense: no value can pass 100 on the others
    weight: Decimal  # the defaults of a new scheme
    cap: Decimal
    missing: str

    @property
    def label(self) -> str:
        return str(IndicatorKey(self.key).label)


# Default weights add up to 100. Participation's cap is 70%: towns and parks are set a target of
# 70% of their reported members, so a cap of 100% would cost a town that met its target 6 of 20
# points that an agency (target 100%) meeting its own gets in full. No target (or no reported
# members) scores 0 rather than being left out: left out, a unit missing from the task table
# would be scored on its cases alone and top the ranking with nothing evaluated.
INDICATORS = [
    Indicator(
        key=IndicatorKey.COMPLETION,
        scale="rate",
        cap_max=Decimal(200),
        weight=Decimal(40),
        cap=HUNDRED,
        missing=MissingPolicy.ZERO,
    ),
    Indicator(
        key=IndicatorKey.PARTICIPATION,
        scale="rate",
        cap_max=Decimal(200),
        weight=Decimal(20),
        cap=Decimal(70),
        missing=MissingPolicy.ZERO,
    ),
    Indicator(
        key=IndicatorKey.SATISFACTION,
        scale="index",
        cap_max=HUNDRED,
        weight=Decimal(20),
        cap=HUNDRED,
        missing=MissingPolicy.RESCALE,
    ),
    Indicator(
        key=IndicatorKey.ON_TIME,
        scale="rate",
        cap_max=HUNDRED,
        weight=Decimal(10),
        cap=HUNDRED,
        missing=MissingPolicy.FULL,
    ),
    Indicator(
        key=IndicatorKey.HANDLING,
        scale="rate",
        cap_max=HUNDRED,
        weight=Decimal(10),
        cap=HUNDRED,
        missing=MissingPolicy.FULL,
    ),
]
BY_KEY = {i.key: i for i in INDICATORS}

# Every kind of unit right under a federation; grassroots unions directly under it are not.
DEFAULT_KINDS = [
    OrgKind.TOWN,
    OrgKind.PARK,
    OrgKind.SECTOR,
    OrgKind.DIRECT,
    OrgKind.AGENCY,
    OrgKind.ENTERPRISE,
]


def missing_text(reason: str) -> str:
    """What a cell shows instead of a value it does not have."""
    return {
        "no_target": _("无目标"),
        "no_reported": _("无年报人数"),
        "insufficient": _("样本不足"),
        "no_cases": _("无差评"),
        "none_due": _("无到期"),
        "none_rated": _("无人评价"),
    }.get(reason, "—")


class AssessmentRefused(ValueError):
    """A change that must not happen (a published scheme edited, published again…); str() is
    the Chinese message, `field` the form field at fault if any."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------- the scheme


@dataclass
class Rule:
    key: str
    weight: Decimal
    cap: Decimal
    missing: str

    @property
    def indicator(self) -> Indicator:
        return BY_KEY[self.key]


@dataclass
class Scheme:
    """A scheme as the scoring reads it: saved (AssessmentScheme) or the defaults."""

    kinds: list[str]
    rules: list[Rule]  # one per indicator, in INDICATORS order

    @property
    def full_marks(self) -> Decimal:
        return sum((r.weight for r in self.rules), Decimal(0))


def default_scheme() -> Scheme:
    return Scheme(
        kinds=[str(k) for k in DEFAULT_KINDS],
        rules=[Rule(i.key, i.weight, i.cap, i.missing) for i in INDICATORS],
    )


def scheme_from(record: AssessmentScheme) -> Scheme:
    """The saved scheme; an indicator without a row (never, after save_scheme) takes its
    default so that the scoring always has all five."""
    saved = {i.key: i for i in record.indicators.all()}
    rules = []
    for indicator in INDICATORS:
        row = saved.get(indicator.key)
        rules.append(
            Rule(indicator.key, row.weight, row.cap, row.missing)
            if row is not None
            else Rule(indicator.key, indicator.weight, indicator.cap, indicator.missing)
        )
    chosen = {k.kind for k in record.scored_kinds.all()}
    return Scheme(kinds=[k for k in SCORABLE_KINDS if k in chosen], rules=rules)


def scheme_record(campaign: Campaign) -> AssessmentScheme | None:
    return (
        AssessmentScheme.objects.filter(campaign=campaign)
        .select_related("published_by", "updated_by")
        .prefetch_related("indicators", "scored_kinds")
        .first()
    )


def scheme_of(campaign: Campaign) -> tuple[AssessmentScheme | None, Scheme]:
    """The campaign's saved scheme (or None) and the scheme to score with (the defaults when
    none is saved)."""
    record = scheme_record(campaign)
    return record, (scheme_from(record) if record is not None else default_scheme())


def scheme_errors(*, kinds: list[str], rules: list[Rule]) -> list[tuple[str, str]]:
    """(form field, Chinese message naming the field and the value) for each rule broken."""
    if [r.key for r in rules] != [i.key for i in INDICATORS]:
        names = _("、").join(i.label for i in INDICATORS)
        return [("", _("评分方案应依次包含%(names)s五项指标。") % {"names": names})]
    errors = []
    if not kinds:
        errors.append(("kinds", _("请至少选择一种参加考核的单位类型。")))
    for kind in kinds:
        if kind not in SCORABLE_KINDS:
            errors.append(("kinds", _("单位类型“%(kind)s”不能参加考核。") % {"kind": kind}))
    for rule in rules:
        indicator = rule.indicator
        values = {"indicator": indicator.label}
        if not Decimal(0) <= rule.weight <= WEIGHT_MAX:
            errors.append(
                (
                    f"{rule.key}_weight",
                    _("%(indicator)s的分值“%(value)s”超出范围：应在 0 至 %(max)s 之间。")
                    % {**values, "value": rule.weight, "max": WEIGHT_MAX},
                )
            )
        if not Decimal(0) < rule.cap <= indicator.cap_max:
            errors.append(
                (
                    f"{rule.key}_cap",
                    _("%(indicator)s的满分标准“%(value)s”超出范围：应大于 0、不超过 %(max)s。")
                    % {**values, "value": rule.cap, "max": indicator.cap_max},
                )
            )
        if rule.missing not in MissingPolicy.values:
            errors.append(
                (
                    f"{rule.key}_missing",
                    _("%(indicator)s的无数据处理“%(value)s”无效。")
                    % {**values, "value": rule.missing},
                )
            )
    if not errors and sum((r.weight for r in rules), Decimal(0)) <= 0:
        errors.append(("", _("各项分值合计为 0：至少一项指标的分值应大于 0。")))
    return errors


# ------------------------------------------------------------------------------- scoring


@dataclass
class Part:
    """One indicator of one unit: its value (None: missing, `missing` says why) and points
    (None: left out of the total)."""

    key: str
    value: Decimal | None
    missing: str = ""
    points: Decimal | None = None


@dataclass
class Score:
    parts: list[Part]
    total: Decimal | None  # None: every weighted indicator was left out
    rescaled: bool = False


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def score_unit(*, values: dict[str, Decimal | None], missing: dict[str, str], scheme: Scheme):
    """The unit's points per indicator and its total.

    Each part is rounded to 0.01 as shown; the total adds the shown parts (so a printed row adds
    up), rescaled when an indicator was left out and rounded again.
    """
    parts, kept_weight, kept_points = [], Decimal(0), Decimal(0)
    for rule in scheme.rules:
        value = values.get(rule.key)
        if value is not None:
            points = _cents(rule.weight * min(value / rule.cap, Decimal(1)))
        elif rule.missing == MissingPolicy.FULL:
            points = _cents(rule.weight)
        elif rule.missing == MissingPolicy.ZERO:
            points = _cents(Decimal(0))
        else:
            points = None
        reason = missing.get(rule.key, "") if value is None else ""
        parts.append(Part(rule.key, value, reason, points))
        if points is not None:
            kept_weight += rule.weight
            kept_points += points
    full = scheme.full_marks
    if kept_weight == full:
        return Score(parts, kept_points)
    if kept_weight <= 0:
        return Score(parts, None, rescaled=True)
    return Score(parts, _cents(kept_points * full / kept_weight), rescaled=True)


# ----------------------------------------------------------------------- values of units


def _ratio_points(part: int, whole: int | None) -> Decimal | None:
    """part ÷ whole in percentage points; None without a whole."""
    return Decimal(part) * HUNDRED / Decimal(whole) if whole else None


def satisfaction_index(figures: Figures) -> Decimal | None:
    """满意度指数 (mean − 1) ÷ 4 × 100 = (Σ ratings − n) × 25 ÷ n, exact, from the counts the
    analysis read; None below the anonymity threshold (never revealed, never scored)."""
    if not figures.sufficient:
        return None
    n = figures.n
    total = sum(rating * count for rating, count in figures.counts.items())
    return Decimal(total - n) * 25 / Decimal(n)


@dataclass
class UnitValues:
    org: Any
    evaluated: int
    excluded: int
    values: dict[str, Decimal | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def unit_values(*, campaign: Campaign, kinds: list[str]):
    """(the day counted to, the values of each scored unit in the org's order)."""
    parent = campaign.org
    progress = progress_table(campaign=campaign, parent=parent)
    rated = {u.org.pk: u.overall for u in satisfaction(campaign=campaign, org=parent).units}
    cases = {r.org.pk: r.figures for r in figures_by_unit(campaign=campaign, parent=parent).rows}
    out = []
    for unit in progress.rows:
        org = unit.org
        if org.kind not in kinds:
            continue
        index = satisfaction_index(rated.get(org.pk) or Figures())
        case = cases.get(org.pk) or CaseFigures()
        on_time, handled = case.on_time_rate, case.satisfaction_rate
        values = {
            IndicatorKey.COMPLETION: _ratio_points(unit.evaluated, unit.target),
            IndicatorKey.PARTICIPATION: _ratio_points(unit.evaluated, unit.reported),
            IndicatorKey.SATISFACTION: index,
            IndicatorKey.ON_TIME: on_time * HUNDRED if on_time is not None else None,
            IndicatorKey.HANDLING: handled * HUNDRED if handled is not None else None,
        }
        no_cases = case.cases == 0
        missing = {
            IndicatorKey.COMPLETION: "no_target",
            IndicatorKey.PARTICIPATION: "no_reported",
            IndicatorKey.SATISFACTION: "insufficient",
            IndicatorKey.ON_TIME: "no_cases" if no_cases else "none_due",
            IndicatorKey.HANDLING: "no_cases" if no_cases else "none_rated",
        }
        out.append(
            UnitValues(
                org=org,
                evaluated=unit.evaluated,
                excluded=unit.excluded,
                values={str(k): v for k, v in values.items()},
                missing={str(k): v for k, v in missing.items()},
            )
        )
    return progress.until, out


# ------------------------------------------------------------------------ the result data


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def title_of(campaign: Campaign) -> str:
    """e.g. 2022年会员网上评议考核评分（仪征市总工会）"""
    return _("%(campaign)s考核评分（%(org)s）") % {
        "campaign": campaign.name,
        "org": campaign.org.name,
    }


def compose(*, campaign: Campaign, scheme: Scheme) -> dict:
    """The whole result, JSON-ready and rounded as shown: what a page, an .xlsx and a
    published snapshot hold. Values to 0.1 (percentage points or index), points to 0.01."""
    until, units = unit_values(campaign=campaign, kinds=scheme.kinds)
    scores = [score_unit(values=u.values, missing=u.missing, scheme=scheme) for u in units]
    totals = [s.total for s in scores]
    ranks = share_ranks(totals)
    kind_ranks: list[int | None] = [None] * len(units)
    for kind in {u.org.kind for u in units}:
        members = [i for i, u in enumerate(units) if u.org.kind == kind]
        for i, rank in zip(members, share_ranks([totals[i] for i in members]), strict=True):
            kind_ranks[i] = rank
    kind_labels = dict(OrgKind.choices)
    rows = []
    for seq, (unit, score) in enumerate(zip(units, scores, strict=True)):
        rows.append(
            {
                "org_id": unit.org.pk,
                "name": unit.org.name,
                "kind": unit.org.kind,
                "kind_label": str(kind_labels.get(unit.org.kind, unit.org.kind)),
                "seq": seq,
                "evaluated": unit.evaluated,
                "excluded": unit.excluded,
                "parts": [
                    {
                        "key": p.key,
                        "value": _text(
                            p.value.quantize(TENTH, rounding=ROUND_HALF_UP)
                            if p.value is not None
                            else None
                        ),
                        "missing": p.missing,
                        "points": _text(p.points),
                    }
                    for p in score.parts
                ],
                "total": _text(score.total),
                "rescaled": score.rescaled,
                "rank": ranks[seq],
                "kind_rank": kind_ranks[seq],
            }
        )
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["seq"]))
    return {
        "version": DATA_VERSION,
        "campaign_id": campaign.pk,
        "campaign": campaign.name,
        "org_id": campaign.org.pk,
        "org": campaign.org.name,
        "title": title_of(campaign),
        "until": until.isoformat(),
        "until_text": cn_date(until),
        "computed_at": timezone.now().isoformat(),
        "kinds": list(scheme.kinds),
        "kind_labels": [str(kind_labels[k]) for k in scheme.kinds],
        "full_marks": _text(_cents(scheme.full_marks)),
        "indicators": [
            {
                "key": r.key,
                "label": r.indicator.label,
                "scale": r.indicator.scale,
                "weight": _text(_cents(r.weight)),
                "cap": _text(_cents(r.cap)),
                "missing": r.missing,
                "missing_label": str(MissingPolicy(r.missing).label),
            }
            for r in scheme.rules
        ],
        "rows": rows,
        "published_at": None,
        "published_at_text": "",
        "published_by": "",
    }


# --------------------------------------------------------------------------- who may read


def runs_assessment(user, campaign: Campaign) -> bool:
    """Drafts, the scheme and publishing: the federation admins over the campaign's org."""
    return can_run_campaigns(user, campaign.org)


def readable_campaigns(user) -> list[tuple[Campaign, AssessmentScheme | None, bool]]:
    """(campaign, its scheme or None, may run it) for each campaign whose assessment the user
    may read: drafts for those who run it, the published result for any admin whose scope lies
    in the campaign's tree (as bulletins: a town reads the city's)."""
    campaigns = list(visible_campaigns(user).order_by("-starts_at", "-pk"))
    records = {
        s.campaign_id: s
        for s in AssessmentScheme.objects.filter(campaign__in=[c.pk for c in campaigns])
    }
    out = []
    for campaign in campaigns:
        record = records.get(campaign.pk)
        runs = runs_assessment(user, campaign)
        if runs or (record is not None and record.is_published):
            out.append((campaign, record, runs))
    return out


# ------------------------------------------------------------------------------ services


def _locked_record(campaign: Campaign) -> AssessmentScheme:
    """The campaign's scheme row, created with the defaults if there is none, locked for the
    rest of the transaction."""
    record, created = AssessmentScheme.objects.get_or_create(campaign=campaign)
    record = AssessmentScheme.objects.select_for_update().get(pk=record.pk)
    if created:
        _write_rules(record, default_scheme())
    return record


def _write_rules(record: AssessmentScheme, scheme: Scheme) -> None:
    record.indicators.all().delete()
    record.scored_kinds.all().delete()
    AssessmentIndicator.objects.bulk_create(
        AssessmentIndicator(
            scheme=record, key=r.key, weight=_cents(r.weight), cap=_cents(r.cap), missing=r.missing
        )
        for r in scheme.rules
    )
    AssessmentKind.objects.bulk_create(AssessmentKind(scheme=record, kind=k) for k in scheme.kinds)


def _already_published(campaign: Campaign) -> AssessmentRefused:
    return AssessmentRefused(
        _("“%(campaign)s”的考核结果已经发布，评分方案和结果不能再修改。")
        % {"campaign": campaign.name}
    )


@transaction.atomic
def save_scheme(*, campaign: Campaign, scheme: Scheme, by=None) -> AssessmentScheme:
    """Save the draft scheme of a campaign; refused once published or when a rule is broken
    (the database's constraints hold the same ranges)."""
    errors = scheme_errors(kinds=scheme.kinds, rules=scheme.rules)
    if errors:
        field_name, message = errors[0]
        raise AssessmentRefused(message, field_name)
    record = _locked_record(campaign)
    if record.is_published:
        raise _already_published(campaign)
    _write_rules(record, scheme)
    record.updated_by = by
    record.save(update_fields=["updated_by", "updated_at"])
    return record


@dataclass
class Publication:
    result: dict
    record: AssessmentScheme | None  # None for a dry run


def publish_assessment(*, campaign: Campaign, by=None, dry_run: bool = False) -> Publication:
    """Compute the result with the campaign's scheme (the defaults if none is saved) and, unless
    dry_run, store it frozen and mark the scheme published, in one transaction."""
    now = timezone.now()
    if now < campaign.starts_at:
        raise AssessmentRefused(
            _("“%(campaign)s”尚未开始，没有可以考核的评议。") % {"campaign": campaign.name}
        )
    if dry_run:
        record, scheme = scheme_of(campaign)
        if record is not None and record.is_published:
            raise _already_published(campaign)
        return Publication(compose(campaign=campaign, scheme=scheme), None)
    with transaction.atomic():
        record = _locked_record(campaign)
        if record.is_published:
            raise _already_published(campaign)
        record = scheme_record(campaign)  # re-read with its rules, still locked
        result = compose(campaign=campaign, scheme=scheme_from(record))
        result["published_at"] = now.isoformat()
        result["published_at_text"] = cn_datetime(now)
        result["published_by"] = str(by) if by is not None else ""
        record.status = AssessmentStatus.PUBLISHED
        record.published_at = now
        record.published_by = by
        record.result = result
        record.save(update_fields=["status", "published_at", "published_by", "result"])
    return Publication(result, record)
