"""The demo's submission traces, and the one union that padded its count.

Traces: where and how each demo evaluation was sent, as SubmissionTrace keeps it for integrity
review. A member rates from their own phone (a device of their own, a mobile address, IPv4 behind
one of a few carriers' prefixes or IPv6), or on a weekday at work from their union's office
network; they spend a minute or two on the form when they rate the work items, half a minute
when they only give the overall, more when they write. Nothing here is drawn from the random
stream of demo/evaluations.py, so the demo's evaluations are the same with or without traces.

The padded union (演示的异常单位): one company union of 汽车工业园 whose office, on the last Sunday
night of the campaign, registered its members' accounts and rated for them from one computer:
an account registered, five stars on every item in seconds, the next account a minute later,
a dozen with the same sentence. The integrity review page finds it; nothing else in the demo
should be found.
"""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count

from campaigns.models import Campaign
from evaluations.models import Answer, Channel, Evaluation, SubmissionTrace
from evaluations.selectors import questionnaire
from evaluations.services import device_hint, device_key
from members.models import Member, MemberStatus
from members.selectors import member_by_id_number
from orgs.models import Org, OrgKind
from orgs.selectors import within

from .evaluations import _insert, _register
from .roster import DEMO_MEMBERS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Mobile carriers' IPv4 prefixes seen in Jiangsu, and an IPv6 one.
MOBILE_V4 = ("112.2", "117.89", "223.104", "36.149", "183.206", "114.222", "49.77", "180.110")
MOBILE_V6 = "2409:8920"
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 "
    "MicroMessenger/8.0.29",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 12; HUAWEI NOH-AN00) AppleWebKit/537.36 Chrome/99.0 Mobile",
    "Mozilla/5.0 (Linux; Android 11; M2012K11AC) AppleWebKit/537.36 Chrome/96.0 Mobile",
    "Mozilla/5.0 (Linux; Android 12; V2154A) AppleWebKit/537.36 Chrome/98.0 Mobile",
    "Mozilla/5.0 (Linux; Android 10; OPPO PCLM10) AppleWebKit/537.36 Chrome/87.0 Mobile",
    "jsgh-app/3.2.1 (Android 12)",
    "jsgh-app/3.2.1 (iOS 15.6)",
)
AT_WORK_SHARE = 0.35  # of weekday office-hour evaluations, sent from the union's office network

FABRICATED_UNIT = "汽车工业园"
FABRICATED_SIZE = 36
FABRICATED_ADDRESS = "58.221.36.18"
FABRICATED_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/107.0"
FABRICATED_TEXT = "工会工作做得非常好，我们非常满意！"
FABRICATED_START = datetime(2022, 11, 27, 21, 36, tzinfo=SHANGHAI)


def _mobile_address(rng: random.Random) -> str:
    if rng.random() < 0.4:
        groups = (rng.randrange(0x10000), rng.randrange(0x10000), rng.randrange(1, 0xFFFF))
        return f"{MOBILE_V6}:{groups[0]:x}:{groups[1]:x}::{groups[2]:x}"
    prefix = rng.choice(MOBILE_V4)
    return f"{prefix}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _office_address(union_id: int) -> str:
    rng = random.Random(f"office:{union_id}")
    return f"58.{rng.randrange(192, 224)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _fill_seconds(rated_items: int, suggestion: str, rng: random.Random) -> float:
    """Time on the form: a minute or two with the items, half a minute without; writing adds."""
    median = 75 if rated_items else 25
    seconds = median * rng.lognormvariate(0, 0.5)
    return seconds + len(suggestion) * rng.uniform(0.8, 2.0)


def add_demo_traces(*, campaign: Campaign, seed: int) -> int:
    """A trace for every demo evaluation that has none; returns how many were written."""
    rng = random.Random(f"traces:{seed}")
    items_by_evaluation = dict(
        Evaluation.objects.filter(campaign=campaign, answers__isnull=False)
        .values_list("pk")
        .annotate(n=Count("answers"))
        .order_by()
    )
    rows = (
        Evaluation.objects.filter(campaign=campaign, trace__isnull=True)
        .order_by("pk")
        .values_list("pk", "member_id", "org_id", "submitted_at", "suggestion")
    )
    traces = []
    for pk, member_id, org_id, at, suggestion in rows.iterator(chunk_size=5000):
        local = at.astimezone(SHANGHAI)
        at_work = local.weekday() < 5 and 9 <= local.hour < 17 and rng.random() < AT_WORK_SHARE
        member_rng = random.Random(f"member:{seed}:{member_id}")
        traces.append(
            {
                "evaluation": pk,
                "address": _office_address(org_id) if at_work else _mobile_address(member_rng),
                "device": device_hint(member_rng.choice(USER_AGENTS)),
                "device_key": device_key(f"demo-device-{member_id}"),
                "form_opened_at": at
                - timedelta(seconds=_fill_seconds(items_by_evaluation.get(pk, 0), suggestion, rng)),
            }
        )
    _insert(SubmissionTrace, traces)
    return len(traces)


def _padded_night(campaign: Campaign):
    """The demo evaluations of the padded union's night (none before it is padded)."""
    return Evaluation.objects.filter(
        campaign=campaign,
        channel=Channel.DEMO,
        submitted_at__gte=FABRICATED_START,
        submitted_at__lt=FABRICATED_START + timedelta(hours=2),
        overall=5,
        suggestion__in=("", FABRICATED_TEXT),
        org__name__contains="有限公司",
    ).filter(within(campaign.org, "org__path"))


def padded_union(campaign: Campaign) -> Org | None:
    """The union the demo padded, once it has: the one holding most of that night's evaluations
    with the office's sentence."""
    org_id = (
        _padded_night(campaign)
        .filter(suggestion=FABRICATED_TEXT)
        .values_list("org_id", flat=True)
        .first()
    )
    return Org.objects.filter(pk=org_id).first() if org_id else None


def _union_to_pad(campaign: Campaign) -> Org | None:
    """The union to pad: the company union of 汽车工业园 with the most members who have not
    rated."""
    unit = Org.objects.filter(within(campaign.org), name=FABRICATED_UNIT).first()
    if unit is None:
        return None
    unions = Org.objects.filter(within(unit), kind=OrgKind.GRASSROOTS, name__contains="有限公司")
    rated = Evaluation.objects.filter(campaign=campaign).values("member_id")
    best, most = None, 0
    for union in unions.order_by("path"):
        waiting = Member.objects.filter(org=union, status=MemberStatus.ACTIVE).exclude(pk__in=rated)
        if (n := waiting.count()) > most:
            best, most = union, n
    return best


def add_demo_fabrication(*, campaign: Campaign, seed: int) -> int:
    """The padded union's evaluations (with their traces); returns how many were added.

    Counters are not touched: the caller rebuilds them, as after add_demo_evaluations.
    """
    if padded_union(campaign) is not None:  # padded before (load_demo run again)
        return 0
    union = _union_to_pad(campaign)
    if union is None:
        return 0
    rng = random.Random(f"fabrication:{seed}")
    kept_out = {m.pk for m in (member_by_id_number(p.id_number) for p in DEMO_MEMBERS) if m}
    rated = Evaluation.objects.filter(campaign=campaign).values("member_id")
    waiting = list(
        Member.objects.filter(org=union, status=MemberStatus.ACTIVE)
        .exclude(pk__in=rated)
        .exclude(pk__in=kept_out)
        .order_by("registered_at", "pk")
        .values_list("pk", "registered_at")[:FABRICATED_SIZE]
    )
    if not waiting:
        return 0
    items = questionnaire(campaign).items
    moment = FABRICATED_START
    newcomers, evaluations, traces = {}, [], []
    for number, (pk, registered_at) in enumerate(waiting):
        moment += timedelta(seconds=rng.uniform(55, 85))
        if registered_at is None:  # the office registers the account, then rates at once
            newcomers[pk] = moment - timedelta(seconds=rng.uniform(18, 40))
        evaluations.append(
            {
                "campaign": campaign.pk,
                "member": pk,
                "org": union.pk,
                "overall": 5,
                "suggestion": FABRICATED_TEXT if number % 3 == 0 else "",
                "return_visit": False,
                "is_negative": False,
                "submitted_at": moment,
                "channel": Channel.DEMO.value,
                "request_key": "",
            }
        )
        traces.append(
            {
                "address": FABRICATED_ADDRESS,
                "device": device_hint(FABRICATED_AGENT),
                "device_key": device_key(f"demo-office-{union.pk}"),
                "form_opened_at": moment - timedelta(seconds=rng.uniform(6, 12)),
            }
        )
    _register(newcomers)
    _insert(Evaluation, evaluations)
    ids = dict(
        Evaluation.objects.filter(
            campaign=campaign, member_id__in=[pk for pk, _at in waiting]
        ).values_list("member_id", "pk")
    )
    _insert(
        Answer,
        (
            {"evaluation": ids[row["member"]], "question": q.pk, "rating": 5}
            for row in evaluations
            for q in items
        ),
    )
    _insert(
        SubmissionTrace,
        (
            trace | {"evaluation": ids[row["member"]]}
            for row, trace in zip(evaluations, traces, strict=True)
        ),
    )
    return len(evaluations)
