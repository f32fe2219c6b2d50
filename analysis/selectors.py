"""Satisfaction figures and pain points of a subtree in a campaign, as pages, exports and the API
read them.

Figures follow DESIGN.md: 满意率 = share of 3★–5★, 好评率 = 4★–5★, 差评率 = 1★–2★, 满意度指数 =
(mean − 1) ÷ 4 × 100; per item over those who rated it. An evaluation counts for its union at
submission, and a unit's figure includes its subtree. Any breakdown of fewer than
`THRESHOLD` evaluations is withheld: `Figures.sufficient` is False and every caller shows
样本不足 instead of the figure.

The counts come from two grouped queries per campaign (overall by unit and rating; answers by
unit, item and rating), the unit being the evaluation's path cut at the depth of the chosen
org's children, so the number of queries does not grow with the number of units. The counts
are cached per campaign, org and filter, keyed on the campaign's evaluation count (the
counters) and the exclusions, so a new evaluation, an upheld appeal or an evaluation excluded
(or restored) by integrity review shows at once; both kinds of exclusion leave every figure.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Question, QuestionKind
from cases.selectors import excluded_from_satisfaction
from evaluations.counters import evaluated_counts
from evaluations.exclusions import excluded_ids, exclusion_marker
from evaluations.models import Answer, Evaluation
from orgs.models import Org
from orgs.selectors import children_of, within

THRESHOLD = 5
INSUFFICIENT = _("样本不足")
CACHE_SECONDS = 24 * 3600


@dataclass
class Figures:
    """Counts of each rating (1–5) in a breakdown, and the rates DESIGN.md defines over them."""

    counts: dict[int, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def sufficient(self) -> bool:
        return self.n >= THRESHOLD

    def _share(self, ratings) -> float | None:
        n = self.n
        return sum(self.counts.get(r, 0) for r in ratings) / n if n else None

    @property
    def satisfied_rate(self) -> float | None:
        """满意率: 3★–5★."""
        return self._share((3, 4, 5))

    @property
    def good_rate(self) -> float | None:
        """好评率: 4★–5★."""
        return self._share((4, 5))

    @property
    def bad_rate(self) -> float | None:
        """差评率: 1★–2★."""
        return self._share((1, 2))

    @property
    def index(self) -> float | None:
        """满意度指数: the mean rating mapped to 0–100."""
        n = self.n
        if not n:
            return None
        mean = sum(r * c for r, c in self.counts.items()) / n
        return (mean - 1) / 4 * 100

    def add(self, other: "Figures") -> None:
        for rating, count in other.counts.items():
            self.counts[rating] = self.counts.get(rating, 0) + count


@dataclass
class UnitFigures:
    org: Org
    overall: Figures
    items: dict[int, Figures]  # question pk → figures over those who rated it

    def item(self, question_id: int) -> Figures:
        return self.items.get(question_id) or Figures()


@dataclass
class Comparison:
    """The same subtree in the org's previous campaign; items matched by their label."""

    campaign: Campaign
    total: UnitFigures
    units: dict[int, UnitFigures]  # org pk → figures
    items_by_label: dict[str, int]  # label → question pk of the previous campaign


@dataclass
class Satisfaction:
    campaign: Campaign
    org: Org
    kind: str
    items: list[Question]
    total: UnitFigures
    units: list[UnitFigures]
    previous: Comparison | None

    @property
    def ranking(self) -> list[UnitFigures]:
        """Units with enough evaluations, best index first; the rest cannot be ranked."""
        ranked = [u for u in self.units if u.overall.sufficient]
        return sorted(ranked, key=lambda u: (-u.overall.index, u.org.path))

    def previous_unit(self, org_id: int) -> UnitFigures | None:
        return self.previous.units.get(org_id) if self.previous else None

    def previous_item(self, unit: UnitFigures | None, question: Question) -> Figures | None:
        if self.previous is None or unit is None:
            return None
        pk = self.previous.items_by_label.get(question.label)
        return unit.items.get(pk) if pk else None


def excluded_evaluations(campaign: Campaign) -> list[QuerySet]:
    """Subqueries of the evaluations left out of satisfaction: those an upheld appeal excluded
    (cases), and those an integrity reviewer excluded (evaluations.exclusions)."""
    return [excluded_from_satisfaction(campaign), excluded_ids(campaign)]


def _exclusion_marker(campaign: Campaign) -> str:
    """Changes whenever an appeal is upheld or an evaluation is excluded or restored."""
    return f"{excluded_from_satisfaction(campaign).count()}.{exclusion_marker(campaign)}"


def campaign_marker(campaign: Campaign) -> int:
    """The campaign's evaluation count from the counters: changes with every new evaluation."""
    return evaluated_counts(campaign=campaign, org_ids=[campaign.org_id])[campaign.org_id]


def units_of(org: Org, kind: str = "") -> list[Org]:
    """The direct sub-units the figures are broken down by, those of one kind if asked."""
    units = children_of(org)
    return list(units.filter(kind=kind) if kind else units)


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The same org's campaign before this one, if any."""
    return (
        Campaign.objects.filter(org_id=campaign.org_id, starts_at__lt=campaign.starts_at)
        .order_by("-starts_at", "-pk")
        .first()
    )


def _counts(campaign: Campaign, org: Org, kind: str, unit_paths: list[str]) -> tuple[dict, dict]:
    """(unit path → rating → n, unit path → question → rating → n), cached.

    Evaluations directly at the chosen org (it is a grassroots union) group under its own path.
    """
    key = (
        f"analysis:counts:{campaign.pk}:{org.pk}:{org.path}:{kind}:"
        f"{campaign_marker(campaign)}:{_exclusion_marker(campaign)}"
    )
    found = cache.get(key)
    if found is not None:
        return found
    cut = len(org.path) + Org.steplen
    evaluations = Evaluation.objects.filter(within(org, "org__path"), campaign=campaign)
    answers = Answer.objects.filter(
        within(org, "evaluation__org__path"), evaluation__campaign=campaign
    )
    for excluded in excluded_evaluations(campaign):
        evaluations = evaluations.exclude(pk__in=excluded)
        answers = answers.exclude(evaluation_id__in=excluded)
    evaluations = evaluations.annotate(unit=Substr("org__path", 1, cut))
    answers = answers.annotate(unit=Substr("evaluation__org__path", 1, cut))
    if kind:
        # Only the chosen kind's units (and never the org's own evaluations) are counted.
        evaluations = evaluations.filter(unit__in=unit_paths)
        answers = answers.filter(unit__in=unit_paths)
    overall: dict = defaultdict(dict)
    for unit, rating, n in (
        evaluations.values_list("unit", "overall").annotate(n=Count("pk")).order_by()
    ):
        overall[unit][rating] = n
    items: dict = defaultdict(lambda: defaultdict(dict))
    for unit, question_id, rating, n in (
        answers.values_list("unit", "question_id", "rating").annotate(n=Count("pk")).order_by()
    ):
        items[unit][question_id][rating] = n
    found = (dict(overall), {u: dict(q) for u, q in items.items()})
    cache.set(key, found, CACHE_SECONDS)
    return found


def _figures(campaign: Campaign, org: Org, kind: str, units: list[Org]):
    overall, items = _counts(campaign, org, kind, [u.path for u in units])
    rows = [
        UnitFigures(
            org=u,
            overall=Figures(dict(overall.get(u.path, {}))),
            items={q: Figures(dict(c)) for q, c in items.get(u.path, {}).items()},
        )
        for u in units
    ]
    total = UnitFigures(org=org, overall=Figures(), items=defaultdict(Figures))
    for counts in overall.values():
        total.overall.add(Figures(counts))
    for by_question in items.values():
        for question_id, counts in by_question.items():
            total.items[question_id].add(Figures(counts))
    total.items = dict(total.items)
    return total, rows


def item_questions(campaign: Campaign) -> list[Question]:
    return list(campaign.questions.filter(kind=QuestionKind.ITEM).order_by("position", "pk"))


def satisfaction(*, campaign: Campaign, org: Org, kind: str = "") -> Satisfaction:
    """The figures of `org`'s subtree, of each direct sub-unit (of `kind` if given) and of each
    item, with the org's previous campaign beside them where there is one."""
    units = units_of(org, kind)
    total, rows = _figures(campaign, org, kind, units)
    comparison = None
    before = previous_campaign(campaign)
    if before is not None:
        before_total, before_rows = _figures(before, org, kind, units)
        comparison = Comparison(
            campaign=before,
            total=before_total,
            units={r.org.pk: r for r in before_rows},
            items_by_label={q.label: q.pk for q in item_questions(before)},
        )
    return Satisfaction(
        campaign=campaign,
        org=org,
        kind=kind,
        items=item_questions(campaign),
        total=total,
        units=rows,
        previous=comparison,
    )


@dataclass
class ItemPoint:
    question: Question
    figures: Figures
    gap: float | None = None  # the unit's index minus the parent's, for the same item


@dataclass
class PainPoints:
    """堵点痛点 of one unit: its weakest items three ways."""

    unit: UnitFigures
    lowest_index: list[ItemPoint]
    most_negative: list[ItemPoint]
    below_parent: list[ItemPoint]

    @property
    def sufficient(self) -> bool:
        return self.unit.overall.sufficient


def pain_points(report: Satisfaction, top: int = 3) -> list[PainPoints]:
    """For each unit: the items of lowest index, of largest share of 1★–2★, and furthest
    below the parent's (the chosen org's) index; only items rated by enough members count."""
    parent = {q.pk: report.total.item(q.pk) for q in report.items}
    out = []
    for unit in report.units:
        points = []
        for q in report.items:
            figures = unit.item(q.pk)
            if not figures.sufficient:
                continue
            above = parent[q.pk]
            gap = figures.index - above.index if above.sufficient else None
            points.append(ItemPoint(question=q, figures=figures, gap=gap))
        if not unit.overall.sufficient:
            points = []
        out.append(
            PainPoints(
                unit=unit,
                lowest_index=sorted(points, key=lambda p: (p.figures.index, p.question.position))[
                    :top
                ],
                most_negative=sorted(
                    (p for p in points if p.figures.bad_rate),
                    key=lambda p: (-p.figures.bad_rate, p.question.position),
                )[:top],
                below_parent=sorted(
                    (p for p in points if p.gap is not None and p.gap < 0),
                    key=lambda p: (p.gap, p.question.position),
                )[:top],
            )
        )
    return out
