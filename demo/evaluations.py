"""The demo's evaluations: who of each unit rated their union, when, how, and what they wrote.

Each unit below the federation gets a participation level against its target (参评目标): the
small Party and government offices, whose cadres are told to lead (工会干部要带头), and a
couple of large units finish at or above it; most land between 60% and 95%; three large units
stay far behind. Evaluators are the unit's registered members first; where the unit's drive
went further than the roster's registrations, more members register during the campaign,
minutes before they rate (the app's registration leads straight to the form).

Times follow a campaign's usual curve: a slow start before the notice of 2022-09-22, a surge
after each Monday's bulletin, a lull over National Day and a rush in the last ten days, in
waking hours weighted toward lunch and the evening; never before the member registered, never
after the window. Most rate 4–5 stars; three grassroots unions have many 1–2. About 70% rate
the work items, in step with their overall; about 30% write a suggestion, composed from the
sentences of data/suggestions.json (every item, praise and complaint, pay and thanks).

Rows are written in batches of plain INSERTs (submit_evaluation checks and counts one at a
time, right for a member and far too slow for 40,000): the caller rebuilds the counters
afterwards. The demo members printed by `manage.py demo_logins` get no evaluation, so a visitor
can try the form.
"""

import json
import math
import random
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate, chain, islice
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import connection

from campaigns.models import Campaign, Rollup
from evaluations.models import Answer, Channel, Evaluation
from evaluations.selectors import questionnaire
from evaluations.services import is_negative
from members.models import Member, MemberStatus
from members.selectors import member_by_id_number
from orgs.models import Org, OrgKind
from orgs.selectors import children_of, within

from .roster import DEMO_MEMBERS, _create_accounts

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUGGESTIONS = Path(__file__).resolve().parent / "data" / "suggestions.json"
BATCH = 2000
NOTICE_DAY = date(2022, 9, 22)  # the seed notice's date: before it, few knew of the campaign
NATIONAL_DAY = (date(2022, 10, 1), date(2022, 10, 7))
RUSH_DAYS = 10
# Waking hours (8–21 o'clock starts) and how often members rate in each: lunch and evening.
HOUR_WEIGHTS = {
    8: 3, 9: 5, 10: 5, 11: 6, 12: 10, 13: 8, 14: 4,
    15: 4, 16: 4, 17: 5, 18: 6, 19: 9, 20: 10, 21: 6,
}  # fmt: skip
# Monday's bulletin lifts the week's first days; weekends are quieter.
WEEKDAY_WEIGHTS = (1.8, 1.35, 1.1, 1.0, 0.9, 0.55, 0.5)
SMALL_OFFICE = 120  # an agency this small (市委办, 团市委 …) is led by its cadres: done early
# The overall's distribution (weights of 1★ … 5★): an ordinary unit, and a union in trouble.
ORDINARY = (0.02, 0.03, 0.09, 0.30, 0.56)
TROUBLED = (0.28, 0.24, 0.18, 0.16, 0.14)
SUGGESTION_SHARE = {5: 0.22, 4: 0.28, 3: 0.40, 2: 0.60, 1: 0.65}
RETURN_VISIT_SHARE = 0.4  # of negative reviews


@dataclass
class UnitPlan:
    unit: Org
    level: float  # evaluations ÷ target aimed at
    mood: float  # −1 (grumpy) … 1 (content): shifts the overall's distribution a little
    items_share: float  # of evaluators who also rate the work items
    weak_item: int  # the item (0–8) this unit's members rate lower than the rest
    members: list[tuple] = field(default_factory=list)  # (pk, org_id, user_id, registered_at)


def add_demo_evaluations(*, campaign: Campaign, seed: int) -> int:
    """Give the demo campaign its evaluations and answers; returns the evaluations stored.

    Counters are not touched: the caller runs evaluations.counters.rebuild_counts(campaign).
    """
    rng = random.Random(f"evaluations:{seed}")
    root = campaign.org
    items = questionnaire(campaign).items
    texts = Suggestions(json.loads(SUGGESTIONS.read_text(encoding="utf-8")), len(items))
    units = list(children_of(root))
    figures = {
        org_id: (reported or 0, target or 0)
        for org_id, reported, target in Rollup.objects.filter(
            campaign=campaign, org__in=units
        ).values_list("org_id", "reported", "target")
    }
    plans = _plan_units(units, {pk: r for pk, (r, _t) in figures.items()}, rng)
    unions = {o.pk: o for o in Org.objects.filter(within(root), kind=OrgKind.GRASSROOTS)}
    unit_of_path = {u.path: plans[u.pk] for u in units}
    step = len(root.path) + Org.steplen
    plan_of_union = {pk: unit_of_path[o.path[:step]] for pk, o in unions.items()}
    troubled = _troubled_unions(unions, rng)
    union_weight = {pk: rng.uniform(0.5, 1.5) for pk in sorted(unions)}

    # The members a visitor is invited to try with: no evaluation, and the newcomer stays
    # unregistered.
    kept_out = {m.pk for m in (member_by_id_number(p.id_number) for p in DEMO_MEMBERS) if m}
    rows = (
        Member.objects.filter(org_id__in=unions.keys(), status=MemberStatus.ACTIVE)
        .exclude(pk__in=kept_out)
        .order_by("pk")
        .values_list("pk", "org_id", "user_id", "registered_at")
    )
    for row in rows:
        plan_of_union[row[1]].members.append(row)

    clock = Clock(campaign)
    evaluators: list[tuple[int, int, datetime]] = []  # (member pk, union pk, submitted_at)
    newcomers: dict[int, datetime] = {}  # member pk → registered_at
    for unit in units:
        plan = plans[unit.pk]
        target = figures.get(unit.pk, (0, 0))[1]
        chosen, fresh = _evaluators(plan, target, union_weight, rng)
        for pk, org_id, _user, registered_at in chosen:
            evaluators.append((pk, org_id, clock.after(registered_at, rng)))
        for pk, org_id, _user, _at in fresh:
            at = clock.any(rng)
            evaluators.append((pk, org_id, at))
            newcomers[pk] = max(campaign.starts_at, at - timedelta(minutes=rng.uniform(3, 40)))

    _register(newcomers)
    evaluations, ratings = [], []
    for pk, org_id, at in evaluators:
        plan = plan_of_union[org_id]
        overall, answers = _ratings(plan, org_id in troubled, len(items), rng)
        by_question = {items[i].pk: r for i, r in answers.items()}
        negative = is_negative(campaign, overall, by_question)
        suggestion = ""
        if rng.random() < SUGGESTION_SHARE[overall]:
            suggestion = texts.compose(overall, answers, rng)
        return_visit = negative and rng.random() < RETURN_VISIT_SHARE
        evaluations.append(
            {
                "campaign": campaign.pk,
                "member": pk,
                "org": org_id,
                "overall": overall,
                "suggestion": suggestion,
                "return_visit": return_visit,
                "is_negative": negative,
                "submitted_at": at,
                "channel": Channel.DEMO.value,
                "request_key": "",
            }
        )
        ratings.append(by_question)

    _insert(Evaluation, evaluations)
    ids = dict(Evaluation.objects.filter(campaign=campaign).values_list("member_id", "pk"))
    _insert(
        Answer,
        (
            {"evaluation": ids[row["member"]], "question": question, "rating": rating}
            for row, by_question in zip(evaluations, ratings, strict=True)
            for question, rating in by_question.items()
        ),
    )
    return len(evaluations)


# ---------------------------------------------------------------- who


def _plan_units(
    units: list[Org], reported: dict[int, int], rng: random.Random
) -> dict[int, UnitPlan]:
    """A participation level per unit: small offices and two large units ahead, three behind."""
    large = [u for u in units if reported.get(u.pk, 0) >= 300 and u.kind != OrgKind.AGENCY]
    # 真州镇 is the demo's town admin's: an ordinary unit reads best there.
    large = [u for u in large if u.name != "真州镇"]
    picked = rng.sample(large, 5)
    ahead, behind = {u.pk for u in picked[:2]}, {u.pk for u in picked[2:]}
    plans = {}
    for unit in units:
        small_office = unit.kind == OrgKind.AGENCY and reported.get(unit.pk, 0) <= SMALL_OFFICE
        if unit.pk in behind:
            level, mood = rng.uniform(0.12, 0.28), rng.uniform(-1, 0)
        elif unit.pk in ahead or (small_office and rng.random() < 0.75):
            level, mood = rng.uniform(1.0, 1.12), rng.uniform(0, 1)
        else:
            level, mood = rng.uniform(0.60, 0.95), rng.uniform(-0.5, 1)
        plans[unit.pk] = UnitPlan(
            unit=unit,
            level=level,
            mood=mood,
            items_share=rng.uniform(0.6, 0.8),
            weak_item=rng.randrange(9),
        )
    return plans


def _troubled_unions(unions: dict[int, Org], rng: random.Random) -> set[int]:
    """Three company unions (有限公司), under three different units, with many negative reviews."""
    candidates = sorted((o for o in unions.values() if "有限公司" in o.name), key=lambda o: o.path)
    chosen: dict[str, Org] = {}
    for union in rng.sample(candidates, len(candidates)):
        chosen.setdefault(union.path[: -Org.steplen], union)
        if len(chosen) == 3:
            break
    return {o.pk for o in chosen.values()}


def _evaluators(plan: UnitPlan, target: int, union_weight, rng: random.Random):
    """(registered members who rate, members who register to rate) of one unit.

    Registered members come first: a unit that needs more than ~90% of them got the rest to
    register during the campaign. Within the unit, some unions are keener than others.
    """
    pool = plan.members
    wanted = min(len(pool), math.ceil(plan.level * target))
    registered = [m for m in pool if m[2] is not None]
    unregistered = [m for m in pool if m[2] is None]
    keen = rng.uniform(0.85, 0.95)
    from_registered = min(
        wanted, len(registered), max(round(len(registered) * keen), wanted - len(unregistered))
    )
    return (
        _weighted_sample(registered, from_registered, union_weight, rng),
        _weighted_sample(unregistered, wanted - from_registered, union_weight, rng),
    )


def _weighted_sample(rows: list[tuple], k: int, union_weight, rng: random.Random) -> list[tuple]:
    """k rows without replacement, each row's chance by its union's weight (Efraimidis–Spirakis)."""
    if k >= len(rows):
        return list(rows)
    keyed = sorted(rows, key=lambda row: -(rng.random() ** (1 / union_weight[row[1]])))
    return keyed[:k]


def _insert(model, rows: Iterable[dict]) -> None:
    """INSERT rows (field name → value) with executemany, in batches.

    bulk_create builds a model instance and prepares each value through its field: for
    40,000 evaluations and 220,000 answers that is most of the demo's load time.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    fields = [model._meta.get_field(name) for name in first]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    # Datetimes go through their field (SQLite stores them as UTC text); the rest as they are.
    stamps = [f for f in fields if f.get_internal_type() == "DateTimeField"]

    def values(row: dict) -> tuple:
        if stamps:
            row = row | {f.name: f.get_db_prep_value(row[f.name], connection) for f in stamps}
        return tuple(row[f.name] for f in fields)

    rows = chain([first], rows)
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH * 5)):
            cursor.executemany(sql, [values(row) for row in batch])


def _register(newcomers: dict[int, datetime]) -> None:
    """Accounts for the members who registered to rate, as demo.roster makes them."""
    members = Member.objects.filter(pk__in=newcomers).only("pk", "name").order_by("pk")
    _create_accounts([(m, newcomers[m.pk]) for m in members])


# ---------------------------------------------------------------- when


class Clock:
    """Moments in the campaign's window, drawn from the campaign's daily and hourly curves."""

    def __init__(self, campaign: Campaign):
        self.start = campaign.starts_at.astimezone(SHANGHAI).date()
        last = (campaign.ends_at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
        self.days = (last - self.start).days + 1
        self.cumulative = list(accumulate(self._weight(d) for d in range(self.days)))
        self.hours = list(HOUR_WEIGHTS)
        self.hour_weights = list(HOUR_WEIGHTS.values())
        self.ends_at = campaign.ends_at

    def _weight(self, index: int) -> float:
        day = self.start + timedelta(days=index)
        if day < NOTICE_DAY:  # word spreads slowly before the notice
            weight = 0.25 + 0.35 * index / max(1, (NOTICE_DAY - self.start).days)
        else:
            weight = 1.0
        weight *= WEEKDAY_WEIGHTS[day.weekday()]
        if NATIONAL_DAY[0] <= day <= NATIONAL_DAY[1]:
            weight *= 0.35
        left = self.days - 1 - index
        if left < RUSH_DAYS:  # the deadline: bulletins name the units behind, units push
            weight *= 1.5 + 0.15 * (RUSH_DAYS - left)
        return weight

    def _moment(self, first_day: int, rng: random.Random) -> datetime:
        low = self.cumulative[first_day - 1] if first_day > 0 else 0.0
        index = bisect_left(self.cumulative, rng.uniform(low, self.cumulative[-1]))
        day = self.start + timedelta(days=min(index, self.days - 1))
        hour = rng.choices(self.hours, weights=self.hour_weights)[0]
        return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI) + timedelta(
            seconds=rng.randrange(3600)
        )

    def any(self, rng: random.Random) -> datetime:
        return self._moment(0, rng)

    def after(self, registered_at: datetime, rng: random.Random) -> datetime:
        """A moment after the member registered (a few tries, then minutes after it)."""
        first_day = max(0, (registered_at.astimezone(SHANGHAI).date() - self.start).days)
        for _try in range(5):
            moment = self._moment(first_day, rng)
            if moment > registered_at:
                return moment
        moment = registered_at + timedelta(minutes=rng.uniform(2, 30))
        return min(moment, self.ends_at - timedelta(seconds=1))


# ---------------------------------------------------------------- what


def _ratings(
    plan: UnitPlan, troubled: bool, item_count: int, rng: random.Random
) -> tuple[int, dict[int, int]]:
    """The overall and the items rated (item index → 1..5), items in step with the overall."""
    if troubled:
        weights = TROUBLED
    else:
        shift = 0.12 * plan.mood  # content units: more 5★, fewer 1–3★
        weights = (
            ORDINARY[0] * (1 - shift),
            ORDINARY[1] * (1 - shift),
            ORDINARY[2] * (1 - shift),
            ORDINARY[3],
            ORDINARY[4] * (1 + shift),
        )
    overall = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
    if rng.random() >= plan.items_share:
        return overall, {}
    rated = range(item_count)
    if rng.random() < 0.3:  # some rate only what they know of
        rated = sorted(rng.sample(range(item_count), rng.randint(3, item_count - 1)))
    answers = {}
    for index in rated:
        delta = rng.choices((-2, -1, 0, 1), weights=(0.03, 0.17, 0.6, 0.2))[0]
        if index == plan.weak_item and rng.random() < 0.35:
            delta -= 1
        answers[index] = min(5, max(1, overall + delta))
    return overall, answers


class Suggestions:
    """Suggestions composed from the sentences of data/suggestions.json.

    A member who rated high praises (or wishes for more of) the item they rated best, one who
    rated low complains of the item they rated worst, or of pay, or of the union's silence;
    an opening and a closing phrase sometimes frame it.
    """

    def __init__(self, data: dict, item_count: int):
        self.items = data["items"][:item_count]
        self.general = data["general"]
        self.openers = data["openers"]
        self.closers = data["closers"]

    def compose(self, overall: int, answers: dict[int, int], rng: random.Random) -> str:
        if overall >= 4:
            tone = "praise" if rng.random() < 0.8 else "wish"
        elif overall == 3:
            tone = "wish" if rng.random() < 0.6 else "complaint"
        else:
            tone = "complaint"
        topic = self._topic(tone, answers, rng)
        parts = [self._sentence(topic, tone, rng)]
        if rng.random() < 0.35:  # a second thought, on another item or in general
            second = rng.choice([t for t in range(-1, len(self.items)) if t != topic])
            parts.append(self._sentence(second, "wish" if tone == "praise" else tone, rng))
        if rng.random() < 0.3:
            mood = {"praise": "praise", "complaint": "complaint"}.get(tone)
            mood = mood or ("praise" if overall >= 4 else "neutral")
            parts.insert(0, rng.choice(self.openers[mood]))
        if rng.random() < 0.4:
            parts.append(rng.choice(self.closers["complaint" if overall <= 3 else "praise"]))
        return "".join(parts)

    def _topic(self, tone: str, answers: dict[int, int], rng: random.Random) -> int:
        """An item index, or −1 for the union in general (pay, thanks, the union's presence)."""
        if rng.random() < 0.25:
            return -1
        if not answers:
            return rng.randrange(len(self.items))
        extreme = min(answers.values()) if tone == "complaint" else max(answers.values())
        return rng.choice([i for i, r in answers.items() if r == extreme])

    def _sentence(self, topic: int, tone: str, rng: random.Random) -> str:
        pool = self.general if topic < 0 else self.items[topic]
        return rng.choice(pool[tone])
