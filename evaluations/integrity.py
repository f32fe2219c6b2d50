"""The integrity scan (异常评议核查): patterns of fabricated evaluations, per union, with evidence.

Units are scored on their counts, so the count must be honest (DESIGN.md). The scan looks for
five patterns a union padding its count leaves, each a campaign setting (IntegritySettings):

- 同一网络地址集中提交: at least `burst_address_min` evaluations from one network address within
  `burst_minutes` (one office, one person, many members);
- 同一设备多个账号提交: at least `burst_device_min` members' evaluations from one device (the H5
  page's device cookie or the app's install id) within `device_minutes`;
- 注册即评: accounts that registered and evaluated within `quick_seconds`;
- 秒填一致: every rated item (at least `straight_min_items`) equal to the overall, submitted
  within `fast_seconds` of opening the form;
- 建议雷同: one suggestion, word for word, from at least `identical_min` members of a union.

Bursts are evidence on their own: a finding names the address or device, the window and the
evaluations of each union in it. The other three are what some members of any union do (a member
registers from the poster and rates at once; a content member taps five stars in ten seconds;
"希望工会越办越好" is written everywhere), so a union is flagged for them only when it holds
far more than the rest of the campaign would make likely: at least `unit_min` such evaluations,
and a chance below the sensitivity's alpha under a Poisson model whose rate is the rest of the
campaign's (leave-one-out, Laplace-smoothed). A suggestion written all over the city thus never
flags a union; the same sentence thirty times in one small union does.

One pass over the campaign's evaluations in submission order (the (campaign, submitted_at)
index) with their traces keeps the sliding windows and the per-union tallies; answers are read
only for the evaluations submitted fast enough to matter, and suggestions are grouped by the
database. The result is stored as a run's findings; the pages read the latest finished run.
"""

import logging
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign

from .models import (
    Answer,
    DailyCount,
    Evaluation,
    Finding,
    FindingEvaluation,
    FindingKind,
    IntegritySettings,
    ReviewRun,
    ReviewRunStatus,
)

logger = logging.getLogger(__name__)
CHUNK = 10_000
# A run whose progress has not moved for this long died with its worker: another may start.
STALLED_AFTER = timedelta(minutes=30)
# Characters that do not make two suggestions different: blanks and punctuation.
_NOT_WORDS = set(" \t\n，。、；：！？,.;:!?…—-～~·'\"“”‘’（）()【】[]《》<>")


def settings_for(campaign: Campaign) -> IntegritySettings:
    found, _created = IntegritySettings.objects.get_or_create(campaign=campaign)
    return found


@dataclass(frozen=True)
class Thresholds:
    burst_minutes: int = 10
    burst_address_min: int = 10
    device_minutes: int = 60
    burst_device_min: int = 3
    quick_seconds: int = 60
    fast_seconds: int = 20
    straight_min_items: int = 5
    identical_min: int = 3
    identical_min_length: int = 6
    unit_min: int = 5
    alpha: float = 1e-6

    @classmethod
    def of(cls, stored: IntegritySettings) -> "Thresholds":
        return cls(
            **{name: getattr(stored, name) for name in cls.__dataclass_fields__ if name != "alpha"},
            alpha=stored.alpha,
        )

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam). Only excesses matter here: for k ≤ lam it answers 1."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k <= lam:
        return 1.0
    log_first = -lam + k * math.log(lam) - math.lgamma(k + 1)
    total, term, i = 0.0, 1.0, k
    while term > 1e-17 * total or total == 0.0:
        total += term
        i += 1
        term *= lam / i
    return min(1.0, math.exp(log_first) * total)


def submitted_total(campaign: Campaign) -> int:
    """Evaluations submitted in the campaign, from the counters (for the progress bar)."""
    rows = DailyCount.objects.filter(campaign=campaign, org_id=campaign.org_id)
    return rows.aggregate(n=Sum("count"))["n"] or 0


def words_only(text: str) -> str:
    return "".join(ch for ch in text if ch not in _NOT_WORDS)


# ---------------------------------------------------------------- what a scan finds


@dataclass
class Found:
    """A finding before it is stored: one union, one pattern, its evaluations (pk → time)."""

    org_id: int
    kind: str
    evaluations: dict[int, datetime]
    evidence: dict = field(default_factory=dict)


@dataclass
class _Burst:
    key: str
    members: dict[int, tuple[datetime, int, int]]  # evaluation pk → (time, union, member)
    last: datetime


class _Windows:
    """Sliding windows per key (an address, a device); a window holding enough evaluations
    opens a burst, which grows while the window stays full and closes after a gap."""

    def __init__(self, minutes: int, minimum: int, *, distinct_members: bool):
        self.span = timedelta(minutes=minutes)
        self.minimum = minimum
        self.distinct_members = distinct_members
        self.windows: dict[str, deque] = {}
        self.open: dict[str, _Burst] = {}
        self.closed: list[_Burst] = []

    def add(self, key: str, at: datetime, pk: int, org_id: int, member_id: int) -> None:
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = deque()
        window.append((at, pk, org_id, member_id))
        while window[0][0] < at - self.span:
            window.popleft()
        if len(window) < self.minimum:
            return
        if self.distinct_members and len({row[3] for row in window}) < self.minimum:
            return
        burst = self.open.get(key)
        if burst is not None and burst.last < window[0][0]:
            self.closed.append(self.open.pop(key))  # a gap: that burst ended before this window
            burst = None
        if burst is None:
            burst = self.open[key] = _Burst(key=key, members={}, last=at)
        for row_at, row_pk, row_org, row_member in window:
            burst.members[row_pk] = (row_at, row_org, row_member)
        burst.last = at

    def sweep(self, now: datetime) -> None:
        """Forget the windows no new evaluation can reach (keeps memory to the recent)."""
        stale = [k for k, w in self.windows.items() if w[-1][0] < now - self.span]
        for key in stale:
            del self.windows[key]
            if key in self.open:
                self.closed.append(self.open.pop(key))

    def bursts(self) -> list[_Burst]:
        return self.closed + list(self.open.values())


@dataclass
class ScanResult:
    found: list[Found]
    stats: dict


def scan(campaign: Campaign, thresholds: Thresholds, *, progress=None) -> ScanResult:
    """Every finding of the campaign's evaluations under these thresholds (nothing stored)."""
    t = thresholds
    total_expected = max(1, submitted_total(campaign))
    addresses = _Windows(t.burst_minutes, t.burst_address_min, distinct_members=False)
    devices = _Windows(t.device_minutes, t.burst_device_min, distinct_members=True)
    per_union: Counter = Counter()
    quick: dict[int, dict[int, datetime]] = defaultdict(dict)
    fast: list[tuple[int, int, int, datetime]] = []  # (pk, union, overall, time)
    seen = traced = 0
    rows = (
        Evaluation.objects.filter(campaign=campaign)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "org_id",
            "member_id",
            "overall",
            "submitted_at",
            "trace__address",
            "trace__device_key",
            "trace__form_opened_at",
            "member__registered_at",
        )
        .iterator(chunk_size=CHUNK)
    )
    for pk, org_id, member_id, overall, at, address, device, opened, registered in rows:
        seen += 1
        per_union[org_id] += 1
        if address or device or opened:
            traced += 1
        if address:
            addresses.add(address, at, pk, org_id, member_id)
        if device:
            devices.add(device, at, pk, org_id, member_id)
        if registered is not None and 0 <= (at - registered).total_seconds() <= t.quick_seconds:
            quick[org_id][pk] = at
        if opened is not None and 0 <= (at - opened).total_seconds() <= t.fast_seconds:
            fast.append((pk, org_id, overall, at))
        if seen % CHUNK == 0:
            addresses.sweep(at)
            devices.sweep(at)
            if progress:
                progress(min(80, 80 * seen // total_expected))

    found: list[Found] = []
    found += _burst_findings(addresses.bursts(), FindingKind.BURST_ADDRESS, t, per_union)
    found += _burst_findings(devices.bursts(), FindingKind.BURST_DEVICE, t, per_union)
    found += _concentrations(
        quick, per_union, t, FindingKind.QUICK_REGISTER, {"seconds": t.quick_seconds}
    )
    if progress:
        progress(85)
    straight = _straight_lined(fast, t)
    found += _concentrations(
        straight,
        per_union,
        t,
        FindingKind.FAST_STRAIGHT,
        {"seconds": t.fast_seconds, "min_items": t.straight_min_items},
    )
    if progress:
        progress(90)
    found += _identical_texts(campaign, t)
    return ScanResult(
        found=found,
        stats={
            "evaluations": seen,
            "traced": traced,
            "unions": len(per_union),
            "quick": sum(len(v) for v in quick.values()),
            "fast_straight": sum(len(v) for v in straight.values()),
        },
    )


def _burst_findings(bursts: list[_Burst], kind: str, t: Thresholds, per_union) -> list[Found]:
    """A finding for each union in a burst: every union in a device's burst (one phone, many
    members' accounts); for an address, the unions with two or more of its evaluations (a
    carrier's shared address may carry a lone member of another union by chance)."""
    out = []
    for burst in bursts:
        by_union: dict[int, dict[int, datetime]] = defaultdict(dict)
        for pk, (at, org_id, _member) in burst.members.items():
            by_union[org_id][pk] = at
        times = [at for at, _o, _m in burst.members.values()]
        first, last = min(times), max(times)
        members = len({m for _a, _o, m in burst.members.values()})
        address = kind == FindingKind.BURST_ADDRESS
        window = t.burst_minutes if address else t.device_minutes
        minimum = t.burst_address_min if address else t.burst_device_min
        for org_id, evaluations in by_union.items():
            if kind == FindingKind.BURST_ADDRESS and len(evaluations) < 2 and len(by_union) > 1:
                continue
            evidence = {
                "total": len(burst.members),
                "members": members,
                "unions": len(by_union),
                "minutes": round((last - first).total_seconds() / 60, 1),
                "window": window,
                "minimum": minimum,
                "union_evaluations": per_union[org_id],
            }
            if kind == FindingKind.BURST_ADDRESS:
                evidence["address"] = burst.key
            else:
                evidence["device"] = burst.key[:8]
            out.append(Found(org_id=org_id, kind=kind, evaluations=evaluations, evidence=evidence))
    return out


def _concentrations(
    flagged: dict[int, dict[int, datetime]], per_union: Counter, t: Thresholds, kind: str, extra
) -> list[Found]:
    """Unions holding far more of a signal than the rest of the campaign makes likely."""
    total_n = sum(per_union.values())
    total_k = sum(len(v) for v in flagged.values())
    out = []
    for org_id, evaluations in flagged.items():
        k, n = len(evaluations), per_union[org_id]
        if k < t.unit_min:
            continue
        rate = (total_k - k + 1) / (total_n - n + 2)  # the rest of the campaign, smoothed
        expected = n * rate
        chance = poisson_tail(k, expected)
        if chance >= t.alpha:
            continue
        out.append(
            Found(
                org_id=org_id,
                kind=kind,
                evaluations=evaluations,
                evidence={
                    **extra,
                    "k": k,
                    "n": n,
                    "share": k / n,
                    "baseline": rate,
                    "expected": expected,
                    "chance": chance,
                },
            )
        )
    return out


def _straight_lined(
    fast: list[tuple[int, int, int, datetime]], t: Thresholds
) -> dict[int, dict[int, datetime]]:
    """Of the evaluations submitted fast, those whose rated items all equal the overall."""
    out: dict[int, dict[int, datetime]] = defaultdict(dict)
    for start in range(0, len(fast), 2000):
        chunk = fast[start : start + 2000]
        ratings: dict[int, list[int]] = defaultdict(list)
        for evaluation_id, rating in Answer.objects.filter(
            evaluation_id__in=[row[0] for row in chunk]
        ).values_list("evaluation_id", "rating"):
            ratings[evaluation_id].append(rating)
        for pk, org_id, overall, at in chunk:
            rated = ratings.get(pk, [])
            if len(rated) >= t.straight_min_items and all(r == overall for r in rated):
                out[org_id][pk] = at
    return out


def _identical_texts(campaign: Campaign, t: Thresholds) -> list[Found]:
    """Suggestions written word for word by several members of one union, far more often than
    the rest of the campaign writes them."""
    with_text = Evaluation.objects.filter(campaign=campaign).exclude(suggestion="")
    groups = [
        (org_id, text, n)
        for org_id, text, n in with_text.values_list("org_id", "suggestion")
        .annotate(n=Count("pk"))
        .filter(n__gte=t.identical_min)
        .order_by()
        if len(words_only(text)) >= t.identical_min_length
    ]
    if not groups:
        return []
    texts = {text for _o, text, _n in groups}
    everywhere: Counter = Counter()
    for start in range(0, len(texts), 500):
        batch = sorted(texts)[start : start + 500]
        everywhere.update(
            dict(
                with_text.filter(suggestion__in=batch)
                .values_list("suggestion")
                .annotate(n=Count("pk"))
                .order_by()
            )
        )
    per_union = dict(with_text.values_list("org_id").annotate(n=Count("pk")).order_by())
    total = sum(per_union.values())
    out = []
    for org_id, text, k in groups:
        n = per_union[org_id]
        rate = (everywhere[text] - k + 1) / (total - n + 2)
        expected = n * rate
        chance = poisson_tail(k, expected)
        if chance >= t.alpha:
            continue
        evaluations = dict(
            with_text.filter(org_id=org_id, suggestion=text).values_list("pk", "submitted_at")
        )
        out.append(
            Found(
                org_id=org_id,
                kind=FindingKind.IDENTICAL_TEXT,
                evaluations=evaluations,
                evidence={
                    "text": text[:200],
                    "k": k,
                    "n": n,
                    "elsewhere": everywhere[text] - k,
                    "expected": expected,
                    "chance": chance,
                },
            )
        )
    return out


# ---------------------------------------------------------------- runs


class ScanBusy(RuntimeError):
    """A scan of the campaign is already going."""


def latest_run(campaign: Campaign, *, status: str | None = None) -> ReviewRun | None:
    runs = ReviewRun.objects.filter(campaign=campaign)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-pk").first()


def active_run(campaign: Campaign) -> ReviewRun | None:
    active = (ReviewRunStatus.QUEUED, ReviewRunStatus.RUNNING)
    run = ReviewRun.objects.filter(campaign=campaign, status__in=active).first()
    if run is not None and run.updated_at < timezone.now() - STALLED_AFTER:
        ReviewRun.objects.filter(pk=run.pk).update(
            status=ReviewRunStatus.FAILED, error=_("核查任务长时间无进展，已终止")
        )
        return None
    return run


def start_scan(*, campaign: Campaign, user=None) -> ReviewRun:
    """Queue a scan of the campaign and start it in the background; a scan already going is
    answered instead of starting a second."""
    from pingyi import jobs

    from .tasks import scan_task

    running = active_run(campaign)
    if running is not None:
        return running
    try:
        with transaction.atomic():
            run = _queue(campaign, user)
    except IntegrityError:  # another click queued one meanwhile
        return active_run(campaign) or latest_run(campaign)
    jobs.start(scan_task, run.pk)
    run.refresh_from_db()  # done already when the job ran in this request (no broker, tests)
    return run


def run_scan(run: ReviewRun) -> ReviewRun:
    """Do a queued run: scan, store its findings, and drop the campaign's older runs."""
    claimed = ReviewRun.objects.filter(pk=run.pk, status=ReviewRunStatus.QUEUED).update(
        status=ReviewRunStatus.RUNNING, progress=1
    )
    if not claimed:  # already done (a job handed out twice) or failed meanwhile
        run.refresh_from_db()
        return run
    campaign = run.campaign
    thresholds = Thresholds(**run.thresholds) if run.thresholds else Thresholds()

    def progress(percent: int) -> None:
        ReviewRun.objects.filter(pk=run.pk).update(progress=max(1, percent))

    try:
        result = scan(campaign, thresholds, progress=progress)
        with transaction.atomic():
            _store(run, campaign, result.found)
            ReviewRun.objects.filter(campaign=campaign).exclude(pk=run.pk).exclude(
                status__in=(ReviewRunStatus.QUEUED, ReviewRunStatus.RUNNING)
            ).delete()
            flagged = FindingEvaluation.objects.filter(finding__run=run)
            stats = result.stats | {
                "findings": len(result.found),
                "flagged_unions": len({f.org_id for f in result.found}),
                "flagged_evaluations": flagged.values("evaluation_id").distinct().count(),
            }
            ReviewRun.objects.filter(pk=run.pk).update(
                status=ReviewRunStatus.DONE,
                progress=100,
                finished_at=timezone.now(),
                stats=stats,
            )
    except Exception as error:
        logger.exception("异常评议核查失败（活动 %s）", campaign.pk)
        ReviewRun.objects.filter(pk=run.pk).update(
            status=ReviewRunStatus.FAILED, error=str(error)[:500] or error.__class__.__name__
        )
    run.refresh_from_db()
    return run


def _store(run: ReviewRun, campaign: Campaign, found: list[Found]) -> None:
    findings = Finding.objects.bulk_create(
        Finding(
            run=run,
            campaign=campaign,
            org_id=f.org_id,
            kind=f.kind,
            count=len(f.evaluations),
            first_at=min(f.evaluations.values()),
            last_at=max(f.evaluations.values()),
            evidence=f.evidence,
        )
        for f in found
    )
    FindingEvaluation.objects.bulk_create(
        (
            FindingEvaluation(finding=finding, evaluation_id=pk)
            for finding, f in zip(findings, found, strict=True)
            for pk in f.evaluations
        ),
        batch_size=5000,
    )


def scan_now(*, campaign: Campaign, user=None) -> ReviewRun:
    """A scan run here and now (the command, tests): queued and done in this process."""
    running = active_run(campaign)
    if running is not None:
        raise ScanBusy(_("该活动的核查正在进行，请稍后再试"))
    return run_scan(_queue(campaign, user))


def _queue(campaign: Campaign, user) -> ReviewRun:
    """A queued run with the campaign's thresholds of now (the unique constraint refuses a
    second active one)."""
    return ReviewRun.objects.create(
        campaign=campaign,
        started_by=user if getattr(user, "is_authenticated", False) else None,
        thresholds=Thresholds.of(settings_for(campaign)).as_dict(),
    )
