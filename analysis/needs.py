"""Members' needs (会员需求) of a subtree, read from a finished needs run.

Category counts per unit come from one grouped query (a filtered COUNT per category); keywords
and phrases are counted over the stored words of the subtree's suggestions and cached per run,
org and filter. Every count under the anonymity threshold reads 样本不足, a keyword is listed
only when at least that many suggestions use it, and sample suggestions are shown only for a
category with enough suggestions, without anything that names their writer.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from orgs.models import Org
from orgs.selectors import within

from .models import AnalysedSuggestion, AnalysisRun
from .selectors import CACHE_SECONDS, THRESHOLD, units_of
from .text import count_terms, mask_digits

OTHER = _("其他")
SAMPLES = 3
TOP_WORDS = 40
TOP_PHRASES = 20


@dataclass
class NeedRow:
    org: Org
    suggestions: int
    categories: list[int]  # per category in the run's order, then 其他

    @property
    def sufficient(self) -> bool:
        return self.suggestions >= THRESHOLD


@dataclass
class Needs:
    run: AnalysisRun
    org: Org
    kind: str
    categories: list[str]  # the run's category names, then 其他
    total: NeedRow
    units: list[NeedRow]
    words: list[tuple[str, int]]
    phrases: list[tuple[str, int]]
    samples: dict[int, list[str]]  # category index → suggestions (masked), enough-count only


def _selection(run: AnalysisRun, org: Org, kind: str, units: list[Org]):
    cut = len(org.path) + Org.steplen
    rows = AnalysedSuggestion.objects.filter(within(org, "org__path"), run=run).annotate(
        unit=Substr("org__path", 1, cut)
    )
    if kind:
        rows = rows.filter(unit__in=[u.path for u in units])
    return rows


def _terms(run: AnalysisRun, org: Org, kind: str, rows) -> tuple[list, list]:
    key = f"analysis:terms:{run.pk}:{org.pk}:{kind}"
    found = cache.get(key)
    if found is None:
        words, phrases = count_terms(rows.values_list("terms", flat=True).iterator(chunk_size=5000))
        found = (
            [(w, n) for w, n in words.most_common(TOP_WORDS) if n >= THRESHOLD],
            [(p, n) for p, n in phrases.most_common(TOP_PHRASES) if n >= THRESHOLD],
        )
        cache.set(key, found, CACHE_SECONDS)
    return found


def needs(*, run: AnalysisRun, org: Org, kind: str = "") -> Needs:
    units = units_of(org, kind)
    names = run.category_names
    rows = _selection(run, org, kind, units)
    counts = {
        f"c{i}": Count("pk", filter=Q(categories__contains=f",{i},")) for i in range(len(names))
    }
    by_unit = {
        r["unit"]: r
        for r in rows.values("unit")
        .annotate(n=Count("pk"), other=Count("pk", filter=Q(categories=",")), **counts)
        .order_by()
    }

    def row(org_: Org, found: list[dict]) -> NeedRow:
        return NeedRow(
            org=org_,
            suggestions=sum(r["n"] for r in found),
            categories=[sum(r[f"c{i}"] for r in found) for i in range(len(names))]
            + [sum(r["other"] for r in found)],
        )

    unit_rows = [row(u, [by_unit[u.path]] if u.path in by_unit else []) for u in units]
    total = row(org, list(by_unit.values()))
    words, phrases = _terms(run, org, kind, rows) if total.sufficient else ([], [])
    samples: dict[int, list[str]] = {}
    for i in range(len(names) + 1):
        if total.categories[i] < THRESHOLD:
            continue
        match = Q(categories=",") if i == len(names) else Q(categories__contains=f",{i},")
        texts = rows.filter(match).order_by("-evaluation_id")[:SAMPLES]
        samples[i] = [
            mask_digits(t) for t in texts.values_list("evaluation__suggestion", flat=True)
        ]
    return Needs(
        run=run,
        org=org,
        kind=kind,
        categories=[*names, str(OTHER)],
        total=total,
        units=unit_rows,
        words=words,
        phrases=phrases,
        samples=samples,
    )
