"""Reminders (提醒): which members of a union have not registered or evaluated, and the SMS.

Who took part is not secret; what they answered is: nothing here reads a rating or a
suggestion, only whether an evaluation exists. Rows show the name and the masked phone.

Sending is in two steps so that the limits hold when two admins press 发送 at once: `plan`
decides, under a lock on the union's and the sender's rows, who gets a message and who is
skipped (and why), and writes every decision to the log at once, a message to be sent as
`sent`; `deliver` then sends the messages and turns the ones the gateway refused into
`failed`. A large send delivers on a background job (members.tasks.deliver_reminders), so the
admin's request does not wait for a slow gateway. If the process dies between the two steps a
reminder may be logged as sent without having left: the limits then err on the side of fewer
messages, never more.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign
from evaluations.models import Evaluation
from evaluations.rules import last_day
from orgs.models import Org
from pingyi.formatting import cn_date, cn_datetime

from .models import Member, MemberStatus, Reminder, ReminderKind, ReminderStatus
from .sms import SmsError, send_sms

logger = logging.getLogger(__name__)

# The list's filters: (key, label). "pending" = registered, not yet evaluated.
FILTERS = [
    ("all", gettext_lazy("全部")),
    ("unregistered", gettext_lazy("未注册")),
    ("pending", gettext_lazy("已注册未评议")),
    ("evaluated", gettext_lazy("已评议")),
]
FILTER_KEYS = {key for key, _label in FILTERS}
# Which reminder a filter's members are sent.
KIND_OF_FILTER = {"unregistered": ReminderKind.REGISTER, "pending": ReminderKind.EVALUATE}

# Why a member was not sent a message: the log's `detail` and the page's summary.
REASON_INTERVAL = gettext_lazy("距上次提醒不足%(hours)d小时")
REASON_MAX = gettext_lazy("本次活动已提醒%(count)d次")
REASON_DAILY = gettext_lazy("已达到每人每天%(count)d条的发送上限")
REASON_NO_PHONE = gettext_lazy("名册中没有手机号码")


class ReminderRefused(Exception):
    """A send refused as a whole (outside the campaign's window); str() is for the admin."""


# Reads -------------------------------------------------------------------------------------


def _evaluated(campaign: Campaign) -> Exists:
    # Probes the unique (campaign, member) index: one lookup a member, no answer is read.
    return Exists(Evaluation.objects.filter(campaign=campaign, member=OuterRef("pk")))


def union_members(*, union: Org, campaign: Campaign, show: str = "all") -> QuerySet[Member]:
    """Active members on the union's roster, each with `evaluated` (True/False), filtered."""
    members = Member.objects.filter(org=union, status=MemberStatus.ACTIVE).annotate(
        evaluated=_evaluated(campaign)
    )
    if show == "unregistered":
        members = members.filter(user__isnull=True)
    elif show == "pending":
        members = members.filter(user__isnull=False, evaluated=False)
    elif show == "evaluated":
        members = members.filter(evaluated=True)
    return members


@dataclass
class UnionFacts:
    active: int
    registered: int
    evaluated: int

    @property
    def unregistered(self) -> int:
        return self.active - self.registered

    @property
    def pending(self) -> int:
        """Registered, not evaluated. An evaluation needs an account, so evaluated ⊆ registered."""
        return self.registered - self.evaluated


def union_facts(*, union: Org, campaign: Campaign) -> UnionFacts:
    """The counts behind the filters, in one pass over the union's (org, id) index range."""
    figures = (
        Member.objects.filter(org=union, status=MemberStatus.ACTIVE)
        .annotate(done=_evaluated(campaign))
        .aggregate(
            active=Count("pk"),
            registered=Count("pk", filter=Q(user__isnull=False)),
            evaluated=Count("pk", filter=Q(done=True)),
        )
    )
    return UnionFacts(**figures)


def page_of_members(members: QuerySet[Member], *, after: int | None, size: int) -> dict:
    """One page in roster order (by id), after a given id: an index range, however deep."""
    if after is not None:
        members = members.filter(pk__gt=after)
    rows = list(members.order_by("pk")[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    return {"rows": rows, "next": rows[-1].pk if has_next and rows else None}


@dataclass
class ReminderHistory:
    count: int
    last_at: datetime


def reminder_history(*, campaign: Campaign, member_ids: list[int]) -> dict[int, ReminderHistory]:
    """Messages sent to each of these members in the campaign: how many and the last one."""
    rows = (
        Reminder.objects.filter(
            campaign=campaign, member_id__in=member_ids, status=ReminderStatus.SENT
        )
        .values("member_id")
        .annotate(count=Count("pk"), last_at=Max("sent_at"))
    )
    return {r["member_id"]: ReminderHistory(r["count"], r["last_at"]) for r in rows}


def reminder_counts(*, union: Org, campaign: Campaign) -> dict[str, int]:
    """The union's log in this campaign by status: {"sent": n, "failed": n, "skipped": n}."""
    rows = (
        Reminder.objects.filter(org=union, campaign=campaign)
        .values("status")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(ReminderStatus.values, 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def union_log(*, union: Org, campaign: Campaign) -> QuerySet[Reminder]:
    return (
        Reminder.objects.filter(org=union, campaign=campaign)
        .select_related("member", "sent_by")
        .order_by("-sent_at", "-pk")
    )


def sent_today(user, now: datetime | None = None) -> int:
    """Messages this admin sent since local midnight (the reminder_sender_time index)."""
    now = now or timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return Reminder.objects.filter(
        sent_by=user, status=ReminderStatus.SENT, sent_at__gte=midnight
    ).count()


# The message -------------------------------------------------------------------------------


def _end_text(campaign: Campaign, now: datetime) -> str:
    end = last_day(campaign)
    if end.year == timezone.localtime(now).year:
        return _("%(month)s月%(day)s日") % {"month": end.month, "day": end.day}
    return cn_date(end)


def reminder_message(*, kind: str, union: Org, campaign: Campaign, link: str, now=None) -> str:
    """The text of a reminder: the union, the campaign, its end and the union's signed link.

    Kept under 70 characters before the link (one SMS segment) for the usual names.
    """
    values = {
        "union": union.name,
        "campaign": campaign.name,
        "end": _end_text(campaign, now or timezone.now()),
        "link": link,
    }
    if kind == ReminderKind.REGISTER:
        text = _("%(union)s提醒您：%(campaign)s将于%(end)s截止，请实名注册后参加评议：%(link)s")
    else:
        text = _("%(union)s提醒您：%(campaign)s将于%(end)s截止，您尚未评议，请登录参评：%(link)s")
    return text % values


# Sending -----------------------------------------------------------------------------------


@dataclass
class SendResult:
    """What one press of 发送 did; `skipped` counts members by reason."""

    to_send: list[int] = field(default_factory=list)  # Reminder ids logged as sent
    skipped: dict[str, int] = field(default_factory=dict)
    not_eligible: int = 0  # selected members the kind does not apply to (any more)
    failed: dict[str, int] = field(default_factory=dict)
    background: bool = False

    @property
    def sent(self) -> int:
        return len(self.to_send) - self.failed_count

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def failed_count(self) -> int:
        return sum(self.failed.values())

    def summary(self) -> str:
        """已发送 N 条，因频率限制跳过 M 人，失败 K 条 — with the reasons."""
        if self.background:
            text = _("已提交发送 %(n)d 条（后台发送中，发送失败的会在提醒记录中标出）") % {
                "n": len(self.to_send)
            }
        else:
            text = _("已发送 %(n)d 条") % {"n": self.sent}
        limited = {r: n for r, n in self.skipped.items() if r != str(REASON_NO_PHONE)}
        if limited:
            reasons = "；".join(f"{reason} {n} 人" for reason, n in limited.items())
            text += _("，因频率限制跳过 %(m)d 人（%(reasons)s）") % {
                "m": sum(limited.values()),
                "reasons": reasons,
            }
        no_phone = self.skipped.get(str(REASON_NO_PHONE), 0)
        if no_phone:
            text += _("，%(n)d 人名册中没有手机号码") % {"n": no_phone}
        if self.not_eligible:
            text += _("，%(n)d 人已不需要此项提醒") % {"n": self.not_eligible}
        if not self.background:
            text += _("，失败 %(k)d 条") % {"k": self.failed_count}
            if self.failed:
                text += "（" + "；".join(f"{e} {n} 条" for e, n in self.failed.items()) + "）"
        return text + _("。")


def check_window(campaign: Campaign, now: datetime | None = None) -> None:
    status = campaign.status(now)
    if status == "upcoming":
        raise ReminderRefused(
            _("“%(name)s”尚未开始（%(when)s开始），开始前不能发送提醒。")
            % {"name": campaign.name, "when": cn_datetime(campaign.starts_at)}
        )
    if status == "closed":
        raise ReminderRefused(
            _("“%(name)s”已于%(when)s结束，不能再发送提醒。")
            % {"name": campaign.name, "when": cn_datetime(campaign.ends_at)}
        )


def _eligible(*, union: Org, campaign: Campaign, kind: str) -> QuerySet[Member]:
    show = "unregistered" if kind == ReminderKind.REGISTER else "pending"
    return union_members(union=union, campaign=campaign, show=show)


def plan_reminders(
    *,
    union: Org,
    campaign: Campaign,
    kind: str,
    sent_by,
    member_ids: list[int] | None = None,
    now: datetime | None = None,
) -> SendResult:
    """Decide and log who of the union gets a reminder of `kind`; nothing is sent yet.

    member_ids=None means every member the kind applies to (提醒注册: the unregistered;
    提醒评议: the registered who have not evaluated); a list keeps to those of them. Each member
    is skipped when reminded within PINGYI_REMINDER_MEMBER_INTERVAL_HOURS, when already
    reminded PINGYI_REMINDER_MEMBER_MAX times in the campaign, when the sender reached
    PINGYI_REMINDER_DAILY_LIMIT today, or when the roster has no phone for them.
    """
    if kind not in ReminderKind.values:
        raise ValueError(f"unknown reminder kind {kind!r}")
    now = now or timezone.now()
    check_window(campaign, now)
    result = SendResult()
    interval = timedelta(hours=settings.PINGYI_REMINDER_MEMBER_INTERVAL_HOURS)
    most = settings.PINGYI_REMINDER_MEMBER_MAX
    with transaction.atomic():
        # Serialise sends to one union and by one admin, so that two presses of 发送 cannot
        # both pass a limit (PostgreSQL; SQLite serialises writers anyway).
        Org.objects.select_for_update().filter(pk=union.pk).first()
        get_user_model().objects.select_for_update().filter(pk=sent_by.pk).first()
        members = _eligible(union=union, campaign=campaign, kind=kind)
        if member_ids is not None:
            wanted = set(member_ids)
            members = list(members.filter(pk__in=wanted).order_by("pk"))
            result.not_eligible = len(wanted) - len(members)
        else:
            members = list(members.order_by("pk"))
        history = {}
        for start in range(0, len(members), 1000):
            chunk = [m.pk for m in members[start : start + 1000]]
            history.update(reminder_history(campaign=campaign, member_ids=chunk))
        room = settings.PINGYI_REMINDER_DAILY_LIMIT - sent_today(sent_by, now)
        rows = []
        for member in members:
            reason = _skip_reason(member, history.get(member.pk), now, interval, most, room)
            if reason is None:
                room -= 1
            else:
                result.skipped[reason] = result.skipped.get(reason, 0) + 1
            rows.append(
                Reminder(
                    campaign=campaign,
                    member=member,
                    org=union,
                    kind=kind,
                    status=ReminderStatus.SENT if reason is None else ReminderStatus.SKIPPED,
                    detail=reason or "",
                    sent_by=sent_by,
                )
            )
        created = Reminder.objects.bulk_create(rows, batch_size=1000)
    result.to_send = [r.pk for r in created if r.status == ReminderStatus.SENT]
    logger.info(
        "reminders planned: union=%s campaign=%s kind=%s to_send=%d skipped=%d",
        union.pk,
        campaign.pk,
        kind,
        len(result.to_send),
        result.skipped_count,
    )
    return result


def _skip_reason(member, past, now, interval, most, room) -> str | None:
    if not member.phone_cipher:
        return str(REASON_NO_PHONE)
    if past is not None and past.count >= most:
        return str(REASON_MAX % {"count": past.count})
    if past is not None and now - past.last_at < interval:
        return str(REASON_INTERVAL % {"hours": interval.total_seconds() // 3600})
    if room <= 0:
        return str(REASON_DAILY % {"count": settings.PINGYI_REMINDER_DAILY_LIMIT})
    return None


def deliver_reminders(*, reminder_ids: list[int], message: str) -> dict[str, int]:
    """Send the planned messages; those the gateway refuses become `failed` with its reason.

    Returns {reason: count} of the failures. Phones are decrypted here, one member at a time,
    and never logged.
    """
    failed: dict[str, list[int]] = {}
    reminders = Reminder.objects.filter(pk__in=reminder_ids, status=ReminderStatus.SENT)
    for reminder in reminders.select_related("member").order_by("pk").iterator(chunk_size=500):
        try:
            send_sms(phone=reminder.member.phone, message=message)
        except SmsError as error:
            failed.setdefault(str(error)[:200], []).append(reminder.pk)
    for reason, ids in failed.items():
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.FAILED, detail=reason)
    if failed:
        count = sum(map(len, failed.values()))
        logger.warning("reminders failed: %d of %d", count, len(reminder_ids))
    return {reason: len(ids) for reason, ids in failed.items()}


def send_reminders(
    *,
    union: Org,
    campaign: Campaign,
    kind: str,
    sent_by,
    link: str,
    member_ids: list[int] | None = None,
    now: datetime | None = None,
) -> SendResult:
    """Plan, then deliver: here when the send is small, on a background job when it is large.

    Above PINGYI_REMINDER_SYNC_MAX messages the gateway's time per message (an HTTP call each)
    would hold the admin's request too long; the log already says who was planned, and the
    job marks the failures.
    """
    result = plan_reminders(
        union=union,
        campaign=campaign,
        kind=kind,
        sent_by=sent_by,
        member_ids=member_ids,
        now=now,
    )
    if not result.to_send:
        return result
    message = reminder_message(kind=kind, union=union, campaign=campaign, link=link, now=now)
    if len(result.to_send) > settings.PINGYI_REMINDER_SYNC_MAX:
        from pingyi import jobs

        from .tasks import deliver_reminders as deliver_task

        result.background = True
        jobs.start(deliver_task, result.to_send, message)
    else:
        result.failed = deliver_reminders(reminder_ids=result.to_send, message=message)
    return result
