"""Changes of the analysis: editing need rules, and starting and running the needs analysis."""

import hashlib
import json
import logging
from datetime import timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from evaluations.models import Evaluation
from orgs.models import Org
from orgs.selectors import ancestor_paths

from .models import MAX_CATEGORIES, AnalysedSuggestion, AnalysisRun, NeedRule, RunKind, RunStatus
from .selectors import campaign_marker
from .text import Rule, analyse, parse_keywords

logger = logging.getLogger(__name__)
DEFAULT_RULES = Path(__file__).resolve().parent / "data" / "default_rules.json"
BATCH = 2000
# A run whose progress has not moved for this long died with its worker: another may start.
STALLED_AFTER = timedelta(minutes=15)


class RuleError(ValueError):
    """Rules an admin typed that cannot be saved; str() names the row and the problem."""


class AnalysisBusy(RuntimeError):
    """A run of the campaign is already going."""


def effective_rules(org: Org) -> list[NeedRule]:
    """The rules a campaign of `org` applies: its own, else its nearest ancestor's, else the
    defaults."""
    paths = [*ancestor_paths(org), org.path]
    rules = list(
        NeedRule.objects.filter(org__path__in=paths).select_related("org")
        | NeedRule.objects.filter(org__isnull=True)
    )
    if not rules:
        return default_rules()
    depth = max((r.org.depth for r in rules if r.org_id), default=0)
    chosen = [r for r in rules if (r.org.depth if r.org_id else 0) == depth]
    return sorted(chosen, key=lambda r: (r.position, r.pk))


def default_rules() -> list[NeedRule]:
    """The defaults kept in the repository (analysis/data/default_rules.json), unsaved: the
    migration stores them, but a database emptied since (a test's flush) still has them."""
    rows = json.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    return [
        NeedRule(org=None, name=row["name"], keywords=row["keywords"], position=position)
        for position, row in enumerate(rows, start=1)
    ]


def as_rules(rules: list[NeedRule]) -> list[Rule]:
    return [Rule(r.name, parse_keywords(r.keywords)) for r in rules]


def rules_fingerprint(rules: list[Rule]) -> str:
    data = json.dumps([[r.name, list(r.keywords)] for r in rules], ensure_ascii=False)
    return hashlib.sha1(data.encode()).hexdigest()[:16]


def source_key(campaign: Campaign, rules: list[Rule]) -> str:
    return f"{campaign_marker(campaign)}:{rules_fingerprint(rules)}"


@transaction.atomic
def save_rules(*, org: Org, rows: list[tuple[str, str]]) -> list[NeedRule]:
    """Replace the org's own rules with these (name, keywords) rows, in order.

    A row with neither name nor keywords is dropped; a name without keywords, keywords without
    a name or a name twice is refused.
    """
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, (name, keywords) in enumerate(rows, start=1):
        name, keywords = (name or "").strip(), (keywords or "").strip()
        if not name and not keywords:
            continue
        if not name:
            raise RuleError(_("第%(row)s行：请填写需求类别名称") % {"row": number})
        if len(name) > 20:
            raise RuleError(
                _("第%(row)s行：类别名称“%(name)s”超过20个字") % {"row": number, "name": name}
            )
        if not parse_keywords(keywords):
            raise RuleError(
                _("第%(row)s行：类别“%(name)s”没有关键词") % {"row": number, "name": name}
            )
        if name == str(_("其他")):
            raise RuleError(
                _("第%(row)s行：“其他”是未匹配任何规则的建议所归的类别，无需设置") % {"row": number}
            )
        if name in seen:
            raise RuleError(_("第%(row)s行：类别“%(name)s”重复") % {"row": number, "name": name})
        seen.add(name)
        kept.append((name, " ".join(parse_keywords(keywords))))
    if len(kept) > MAX_CATEGORIES:
        raise RuleError(_("需求类别最多%(n)s个") % {"n": MAX_CATEGORIES})
    if not kept:
        raise RuleError(_("至少保留一个需求类别"))
    NeedRule.objects.filter(org=org).delete()
    return NeedRule.objects.bulk_create(
        NeedRule(org=org, name=name, keywords=keywords, position=position)
        for position, (name, keywords) in enumerate(kept, start=1)
    )


def latest_run(campaign: Campaign, *, status: str | None = None) -> AnalysisRun | None:
    runs = AnalysisRun.objects.filter(campaign=campaign, kind=RunKind.NEEDS)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-pk").first()


def _active_run(campaign: Campaign) -> AnalysisRun | None:
    run = AnalysisRun.objects.filter(
        campaign=campaign, kind=RunKind.NEEDS, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).first()
    if run is not None and run.updated_at < timezone.now() - STALLED_AFTER:
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=_("分析任务长时间无进展，已终止")
        )
        return None
    return run


def ensure_needs_run(*, campaign: Campaign) -> tuple[AnalysisRun | None, AnalysisRun | None]:
    """(the latest finished run, the run in progress) of the campaign's needs analysis.

    When no finished run matches the campaign's evaluations and rules of now, and none is in
    progress, one is started: the page that asked shows its progress.
    """
    from pingyi import jobs

    from .tasks import run_needs_task

    rules = as_rules(effective_rules(campaign.org))
    key = source_key(campaign, rules)
    done = latest_run(campaign, status=RunStatus.DONE)
    active = _active_run(campaign)
    if active is not None or (done is not None and done.source_key == key):
        return done, active
    try:
        active = create_run(campaign=campaign, rules=rules, key=key)
    except IntegrityError:  # another request started it a moment ago
        return done, _active_run(campaign)
    jobs.start(run_needs_task, active.pk)
    active.refresh_from_db()
    if active.status == RunStatus.DONE:  # ran before the response (tests, eager jobs)
        return active, None
    return done, active


def create_run(*, campaign: Campaign, rules: list[Rule], key: str) -> AnalysisRun:
    """A queued run with the rules it will apply; IntegrityError when one is already active."""
    with transaction.atomic():
        return AnalysisRun.objects.create(
            campaign=campaign,
            kind=RunKind.NEEDS,
            source_key=key,
            result={"rules": [{"name": r.name, "keywords": list(r.keywords)} for r in rules]},
        )


def run_needs_now(*, campaign: Campaign) -> AnalysisRun:
    """Analyse the campaign's suggestions here and now (the operator's command)."""
    rules = as_rules(effective_rules(campaign.org))
    active = _active_run(campaign)
    if active is not None:
        raise AnalysisBusy(
            _("该活动的会员需求分析正在进行（%(p)s%%），请稍后再试") % {"p": active.progress}
        )
    return run_needs(create_run(campaign=campaign, rules=rules, key=source_key(campaign, rules)))


def run_needs(run: AnalysisRun) -> AnalysisRun:
    """Segment and sort every suggestion of the run's campaign; older runs are dropped at the end.

    Reads in primary-key batches (never the whole campaign in memory) and records its progress
    after each batch, so the page can show it.
    """
    started = timezone.now()
    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=started)
    rules = [Rule(r["name"], tuple(r["keywords"])) for r in run.result.get("rules", [])]
    suggestions = Evaluation.objects.filter(campaign_id=run.campaign_id).exclude(suggestion="")
    total = suggestions.count()
    done, last, per_category, other = 0, 0, [0] * len(rules), 0
    try:
        while True:
            batch = list(
                suggestions.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "org_id", "suggestion")[:BATCH]
            )
            if not batch:
                break
            rows = []
            for pk, org_id, text in batch:
                found, terms = analyse(text, rules)
                for index in found:
                    per_category[index] += 1
                other += not found
                rows.append(
                    AnalysedSuggestion(
                        run_id=run.pk,
                        evaluation_id=pk,
                        org_id=org_id,
                        categories="," + "".join(f"{i}," for i in found),
                        terms=terms,
                    )
                )
            done, last = done + len(batch), batch[-1][0]
            with transaction.atomic():  # one commit a batch, the rows and the progress together
                AnalysedSuggestion.objects.bulk_create(rows)
                AnalysisRun.objects.filter(pk=run.pk).update(
                    progress=min(99, done * 100 // max(total, 1)), updated_at=timezone.now()
                )
    except Exception as exc:
        logger.exception("会员需求分析 #%s 失败", run.pk)
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        AnalysedSuggestion.objects.filter(run_id=run.pk).delete()
        run.refresh_from_db()
        return run
    finished = timezone.now()
    result = {
        **run.result,
        "suggestions": done,
        "per_category": per_category,
        "other": other,
        "seconds": round((finished - started).total_seconds(), 1),
    }
    with transaction.atomic():
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE, progress=100, finished_at=finished, result=result
        )
        # The previous results are of no more use; their rows go with them (one DELETE).
        AnalysisRun.objects.filter(campaign_id=run.campaign_id, kind=run.kind).exclude(
            pk=run.pk
        ).exclude(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).delete()
    run.refresh_from_db()
    return run
