"""The weekly bulletin (每周通报): its cut-off, what it says, and building it exactly once.

A bulletin is counted to a cut-off, the exclusive end of a local day (Monday 00:00 is Sunday
24:00): the counters are per local day, so `until`, the last day counted, is the day before.
`build_bulletin` reads the figures once (reports.figures.progress_table), writes every figure
and sentence the formats show into `Bulletin.data`, rounded as shown, and publishes it in one
transaction. A published bulletin is never written again; a failed or interrupted build leaves
a `failed`/`building` row that the next build of the same cut-off reuses.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from orgs.models import Org, OrgKind
from orgs.scoping import scope_roots
from orgs.selectors import ancestor_paths, within
from pingyi.formatting import cn_date

from .figures import ProgressTable, UnitProgress, progress_table
from .models import Bulletin, BulletinStatus

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
LAGGING_NAMED = 5  # the units furthest behind, named in the text
DATA_VERSION = 1


class BulletinRefused(ValueError):
    """A build that must not run (a cut-off in the future, before the campaign, …); str() is
    the Chinese message for the admin."""


# Cut-offs


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def cutoff_for_day(day: date) -> datetime:
    """The cut-off at the start of `day` (so `day - 1` is the last day counted)."""
    return local_midnight(day)


def normalise_cutoff(cutoff: datetime) -> datetime:
    """Counters are per local day: a cut-off inside a day moves to that day's start."""
    local = timezone.localtime(cutoff) if timezone.is_aware(cutoff) else cutoff
    return local_midnight(local.date())


def until_of(cutoff: datetime) -> date:
    """The last local day a bulletin cut off at `cutoff` counts."""
    return timezone.localtime(cutoff).date() - timedelta(days=1)


def _python_weekday(crontab_weekday: int) -> int:
    """crontab's 0/7 = Sunday, 1 = Monday … into Python's 0 = Monday … 6 = Sunday."""
    return (int(crontab_weekday) - 1) % 7


def weekly_cutoff(now: datetime | None = None) -> datetime:
    """The cut-off of the most recent scheduled build at or before `now`.

    The build runs on PINGYI_BULLETIN_WEEKDAY at PINGYI_BULLETIN_HOUR:MINUTE; it counts to 00:00
    of PINGYI_BULLETIN_CUTOFF_WEEKDAY on or before the build day (by default the build day
    itself: a Monday 08:00 build counts to Sunday 24:00).
    """
    now = timezone.localtime(now or timezone.now())
    build_weekday = _python_weekday(settings.PINGYI_BULLETIN_WEEKDAY)
    build_day = now.date() - timedelta(days=(now.weekday() - build_weekday) % 7)
    build_time = time(settings.PINGYI_BULLETIN_HOUR, settings.PINGYI_BULLETIN_MINUTE)
    if timezone.make_aware(datetime.combine(build_day, build_time)) > now:
        build_day -= WEEK
    cutoff_weekday = _python_weekday(
        getattr(settings, "PINGYI_BULLETIN_CUTOFF_WEEKDAY", settings.PINGYI_BULLETIN_WEEKDAY)
    )
    return local_midnight(build_day - timedelta(days=(build_day.weekday() - cutoff_weekday) % 7))


def campaigns_for_week(cutoff: datetime):
    """Campaigns whose window overlaps the week that ends at `cutoff` (the week a campaign
    closed in included, so its last figures are bulletined)."""
    return Campaign.objects.filter(starts_at__lt=cutoff, ends_at__gt=cutoff - WEEK).select_related(
        "org"
    )


def weekly_cutoffs(campaign: Campaign, now: datetime | None = None) -> list[datetime]:
    """Every weekly cut-off whose week overlaps the campaign's window, up to `now`."""
    now = now or timezone.now()
    last = weekly_cutoff(min(now, campaign.ends_at + WEEK))
    out = []
    cutoff = last
    while cutoff > campaign.starts_at:
        out.append(cutoff)
        cutoff = local_midnight(timezone.localtime(cutoff).date() - WEEK)
    return sorted(c for c in out if c - WEEK < campaign.ends_at)


# Words


def area_word(org: Org) -> str:
    """How the headline names the whole of the org's area: 全市, 全镇, 全园区 or 本单位."""
    return {
        OrgKind.FEDERATION: _("全市"),
        OrgKind.TOWN: _("全镇"),
        OrgKind.PARK: _("全园区"),
    }.get(org.kind, _("本单位"))


def _salutation(kinds: list[str]) -> str:
    """各镇（园区）工会、各系统（行业）工会…: whom the notice is addressed to, from the kinds of
    the ranked units, in their order."""
    words = {
        OrgKind.TOWN: _("各镇（园区）工会"),
        OrgKind.PARK: _("各镇（园区）工会"),
        OrgKind.SECTOR: _("各系统（行业）工会"),
        OrgKind.DIRECT: _("各直属工会"),
        OrgKind.AGENCY: _("各机关事业单位工会"),
        OrgKind.ENTERPRISE: _("各企业工会"),
        OrgKind.GRASSROOTS: _("各基层工会"),
    }
    seen: list[str] = []
    for kind in kinds:
        word = words.get(kind, _("各有关单位工会"))
        if word not in seen:
            seen.append(word)
    return _("、").join(seen or [_("各有关单位工会")]) + _("：")


def month_day(day: date) -> str:
    return _("%(month)s月%(day)s日") % {"month": day.month, "day": day.day}


def percent_shown(ratio: float | None) -> float | None:
    """A ratio as the percentage shown, to one decimal, half up (0.87349 → 87.3)."""
    if ratio is None:
        return None
    return float(Decimal(repr(ratio * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def pct_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def rank_change_text(change: int | None, *, had_previous: bool) -> str:
    if not had_previous:
        return ""
    if change is None:
        return "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


# The snapshot


def _unit_figures(unit: UnitProgress) -> dict:
    return {
        "org_id": unit.org.pk,
        "name": unit.org.name,
        "reported": unit.reported,
        "target": unit.target,
        "registered": unit.registered,
        "evaluated": unit.evaluated,
        "week_new": unit.week_new,
        "completion": percent_shown(unit.completion),
        "participation": percent_shown(unit.participation),
        "registration_rate": percent_shown(unit.registration_rate),
        "rank": unit.rank,
        "behind": unit.behind,
    }


def compose(
    *, table: ProgressTable, cutoff: datetime, number: int, previous: Bulletin | None
) -> dict:
    """Every figure and sentence of the bulletin, from the progress table at its cut-off."""
    campaign, org = table.campaign, table.parent
    prev = previous.data if previous is not None else None
    prev_rows = {r["org_id"]: r for r in prev["rows"]} if prev else {}

    rows = []
    ordered = sorted(enumerate(table.rows), key=lambda p: (p[1].rank is None, p[1].rank or 0, p[0]))
    for seq, (_position, unit) in enumerate(ordered, start=1):
        row = {"seq": seq, **_unit_figures(unit)}
        before = prev_rows.get(unit.org.pk)
        row["previous_evaluated"] = before["evaluated"] if before else None
        row["previous_rank"] = before["rank"] if before else None
        row["evaluated_change"] = unit.evaluated - before["evaluated"] if before else None
        row["rank_change"] = (
            before["rank"] - unit.rank if before and before["rank"] and unit.rank else None
        )
        row["rank_change_text"] = rank_change_text(row["rank_change"], had_previous=bool(prev))
        rows.append(row)

    total = _unit_figures(table.total)
    issued = timezone.localtime(cutoff).date()
    until = table.until
    expected = percent_shown(table.expected)
    title = _("关于%(campaign)s工作进展情况的通报（第%(number)s期）") % {
        "campaign": campaign.name,
        "number": number,
    }
    change = None
    if prev:
        before_total = prev["total"]
        change = {
            "number": prev["number"],
            "until": prev["until"],
            "evaluated": total["evaluated"] - before_total["evaluated"],
            "registered": total["registered"] - before_total["registered"],
            "completion_points": (
                round(total["completion"] - before_total["completion"], 1)
                if total["completion"] is not None and before_total["completion"] is not None
                else None
            ),
        }
    completed = [r["name"] for r in rows if r["completion"] is not None and r["completion"] >= 100]
    behind = sorted((r for r in rows if r["behind"]), key=lambda r: (r["completion"], r["seq"]))
    lagging = [{"name": r["name"], "completion": r["completion"]} for r in behind[:LAGGING_NAMED]]

    headline = _headline(org=org, until=until, total=total)
    paragraphs = _paragraphs(
        campaign=campaign,
        table=table,
        headline=headline,
        total=total,
        change=change,
        expected=expected,
        completed=completed,
        behind_count=len(behind),
        lagging=lagging,
        salutation=_salutation([u.org.kind for u in table.rows]),
    )
    return {
        "version": DATA_VERSION,
        "title": title,
        "number": number,
        "campaign": {"id": campaign.pk, "name": campaign.name, "year": campaign.year},
        "org": {"id": org.pk, "name": org.name, "kind": org.kind},
        "issuer": org.name,  # the org whose units are ranked issues the notice
        "issued_on": issued.isoformat(),
        "issued_text": cn_date(issued),
        "cutoff": cutoff.isoformat(),
        "until": until.isoformat(),
        "until_text": cn_date(until),
        "week_start": table.week_start.isoformat(),
        "week_text": _("%(start)s至%(end)s")
        % {
            "start": month_day(table.week_start),
            "end": month_day(until),
        },
        "area": area_word(org),
        "expected": expected,
        "headline": headline,
        "total": total,
        "rows": rows,
        "completed": completed,
        "behind_count": len(behind),
        "lagging": lagging,
        "previous": (
            {
                "number": prev["number"],
                "until": prev["until"],
                "until_text": prev["until_text"],
                "total": {k: prev["total"][k] for k in ("evaluated", "registered", "completion")},
            }
            if prev
            else None
        ),
        "change": change,
        "paragraphs": paragraphs,
        "table_title": _("各单位评议进展情况排名表（截至%(until)s）") % {"until": cn_date(until)},
    }


def _headline(*, org: Org, until: date, total: dict) -> str:
    values = {
        "until": month_day(until),
        "area": area_word(org),
        "evaluated": total["evaluated"],
        "completion": pct_text(total["completion"]),
    }
    if total["completion"] is None:
        return _("截至%(until)s，%(area)s已有%(evaluated)s名会员参与评议。") % values
    return (
        _("截至%(until)s，%(area)s已有%(evaluated)s名会员参与评议，完成目标任务的%(completion)s。")
        % values
    )


def _paragraphs(
    *,
    campaign: Campaign,
    table: ProgressTable,
    headline: str,
    total: dict,
    change: dict | None,
    expected: float | None,
    completed: list[str],
    behind_count: int,
    lagging: list[dict],
    salutation: str,
) -> list[dict]:
    """The notice's body: ("text" | "heading", text) in reading order."""
    until = table.until
    out = [
        {"style": "salutation", "text": salutation},
        {
            "style": "text",
            "text": _(
                "%(campaign)s开展以来，各单位高度重视、积极组织，广大会员踊跃参与。"
                "现将截至%(until)s的工作进展情况通报如下："
            )
            % {"campaign": campaign.name, "until": cn_date(until)},
        },
        {"style": "heading", "text": _("一、总体进展")},
    ]
    progress = [headline]
    progress.append(
        _("本周（%(week)s）新增%(count)s名。")
        % {
            "week": _("%(start)s至%(end)s")
            % {"start": month_day(table.week_start), "end": month_day(until)},
            "count": total["week_new"],
        }
    )
    if change is not None:
        sentence = _("较上期（第%(number)s期）增加%(evaluated)s名") % {
            "number": change["number"],
            "evaluated": change["evaluated"],
        }
        points = change["completion_points"]
        if points is not None:
            sentence += (
                _("，完成率提高%(points)s个百分点")
                if points >= 0
                else _("，完成率下降%(points)s个百分点")
            ) % {"points": f"{abs(points):.1f}"}
        progress.append(sentence + _("。"))
    if expected is not None:
        progress.append(
            _("按评议时间进度，应完成目标任务的%(expected)s。") % {"expected": pct_text(expected)}
        )
    out.append({"style": "text", "text": "".join(progress)})

    out.append({"style": "heading", "text": _("二、各单位完成情况")})
    if completed:
        text = _("已完成目标任务的单位有%(count)s个：%(names)s。") % {
            "count": len(completed),
            "names": _("、").join(completed),
        }
    else:
        text = _("目前尚无单位完成目标任务。")
    if lagging:
        names = _("、").join(f"{u['name']}（{pct_text(u['completion'])}）" for u in lagging)
        values = {"count": behind_count, "shown": len(lagging), "names": names}
        if table.elapsed_share >= 1:  # the window has closed: behind means short of the target
            text += (
                _(
                    "未完成目标任务的单位有%(count)s个，其中完成率最低的%(shown)s个单位是：%(names)s。"
                )
                % values
            )
        else:
            text += (
                _(
                    "完成率低于时间进度的单位有%(count)s个，"
                    "其中完成率最低的%(shown)s个单位是：%(names)s。"
                )
                % values
            )
    elif table.rows:
        text += _("各单位完成率均已达到时间进度。")
    out.append({"style": "text", "text": text})
    out.append({"style": "text", "text": _("各单位具体情况见附表。")})

    out.append({"style": "heading", "text": _("三、下一步工作要求")})
    if table.elapsed_share >= 1:
        text = _(
            "本次评议活动已结束。请各单位认真梳理会员意见建议，做好差评核实、整改和回访工作，"
            "以评促建，切实提升工会工作水平。"
        )
    else:
        text = _(
            "请各单位对照目标任务和时间进度，加强宣传发动，引导会员实名注册、积极参与评议。"
            "完成率低于时间进度的单位要认真分析原因，压实工作责任，确保按期完成目标任务。"
        )
    out.append({"style": "text", "text": text})
    return out


# Building


@dataclass
class BuildOutcome:
    campaign: Campaign
    org: Org
    cutoff: datetime
    bulletin: Bulletin | None
    created: bool
    error: str = ""


def check_buildable(*, campaign: Campaign, org: Org, cutoff: datetime) -> None:
    """Refuse what must not be built, with a message for the admin (BulletinRefused)."""
    if not campaign.org.contains(org):
        raise BulletinRefused(
            _("%(org)s不在评议活动“%(campaign)s”的范围内")
            % {"org": org.name, "campaign": campaign.name}
        )
    if cutoff > timezone.now():
        raise BulletinRefused(
            _("统计截止时间 %(cutoff)s 尚未到来，不能生成通报")
            % {"cutoff": cn_date(until_of(cutoff)) + _("24时")}
        )
    if cutoff <= campaign.starts_at:
        raise BulletinRefused(
            _("统计截止时间早于评议活动开始时间（%(start)s），没有可通报的数据")
            % {"start": cn_date(campaign.starts_at)}
        )
    later = (
        Bulletin.objects.filter(
            campaign=campaign, org=org, status=BulletinStatus.PUBLISHED, cutoff__gt=cutoff
        )
        .order_by("cutoff")
        .first()
    )
    if later is not None:
        # Issues are numbered in order: an earlier one cannot be slipped in behind them.
        raise BulletinRefused(
            _("已发布截至%(until)s的第%(number)s期通报，不能补发统计截止更早的通报")
            % {"until": cn_date(until_of(later.cutoff)), "number": later.number}
        )


def claim_bulletin(*, campaign: Campaign, org: Org, cutoff: datetime, by=None) -> Bulletin:
    """The published bulletin of this cut-off, or its row marked `building` for this build
    (a failed or abandoned build's row is reused)."""
    cutoff = normalise_cutoff(cutoff)
    published = Bulletin.objects.filter(
        campaign=campaign, org=org, cutoff=cutoff, status=BulletinStatus.PUBLISHED
    ).first()
    if published is not None:
        return published
    check_buildable(campaign=campaign, org=org, cutoff=cutoff)
    with transaction.atomic():
        bulletin, created = Bulletin.objects.select_for_update().get_or_create(
            campaign=campaign, org=org, cutoff=cutoff, defaults={"built_by": by}
        )
        if not created and not bulletin.is_published:
            bulletin.status, bulletin.error = BulletinStatus.BUILDING, ""
            bulletin.built_by, bulletin.started_at = by, timezone.now()
            bulletin.save(update_fields=["status", "error", "built_by", "started_at"])
    return bulletin


def build_bulletin(*, campaign: Campaign, org: Org, cutoff: datetime, by=None) -> Bulletin:
    """Build and publish the bulletin of `org`'s sub-units counted to `cutoff`.

    Idempotent per cut-off: the published bulletin is returned as it is. On any error the row
    is marked failed with the error kept, and the error is raised again.
    """
    bulletin = claim_bulletin(campaign=campaign, org=org, cutoff=cutoff, by=by)
    if bulletin.is_published:
        return bulletin
    try:
        previous = (
            Bulletin.objects.filter(
                campaign=campaign,
                org=org,
                status=BulletinStatus.PUBLISHED,
                cutoff__lt=bulletin.cutoff,
            )
            .order_by("-cutoff")
            .first()
        )
        table = progress_table(campaign=campaign, parent=org, until=until_of(bulletin.cutoff))
        number = previous.number + 1 if previous else 1
        data = compose(table=table, cutoff=bulletin.cutoff, number=number, previous=previous)
        with transaction.atomic():
            locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
            if locked.is_published:  # a concurrent build of the same cut-off won
                return locked
            locked.data, locked.number = data, number
            locked.status, locked.error = BulletinStatus.PUBLISHED, ""
            locked.built_at = timezone.now()
            locked.save(update_fields=["data", "number", "status", "error", "built_at"])
        return locked
    except Exception as exc:
        Bulletin.objects.filter(pk=bulletin.pk).exclude(status=BulletinStatus.PUBLISHED).update(
            status=BulletinStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


def build_bulletins_at(
    *,
    cutoff: datetime,
    campaigns: list[Campaign] | None = None,
    org: Org | None = None,
    by=None,
) -> list[BuildOutcome]:
    """Build, for each campaign (by default those of the week ending at `cutoff`), the bulletin
    of `org` (by default the campaign's own org). One failure does not stop the others."""
    cutoff = normalise_cutoff(cutoff)
    if campaigns is None:
        campaigns = list(campaigns_for_week(cutoff).order_by("pk"))
        if org is not None:
            campaigns = [c for c in campaigns if c.org.contains(org)]
    outcomes = []
    for campaign in campaigns:
        target = org or campaign.org
        existed = Bulletin.objects.filter(
            campaign=campaign, org=target, cutoff=cutoff, status=BulletinStatus.PUBLISHED
        ).exists()
        try:
            bulletin = build_bulletin(campaign=campaign, org=target, cutoff=cutoff, by=by)
        except BulletinRefused as exc:
            outcomes.append(BuildOutcome(campaign, target, cutoff, None, False, str(exc)))
        except Exception as exc:
            logger.exception("每周通报生成失败：活动 %s，单位 %s", campaign.pk, target.pk)
            outcomes.append(BuildOutcome(campaign, target, cutoff, None, False, str(exc)))
        else:
            outcomes.append(BuildOutcome(campaign, target, cutoff, bulletin, not existed))
    return outcomes


def build_weekly_bulletins(now: datetime | None = None) -> list[BuildOutcome]:
    """The scheduled build: each campaign of the week ending at the latest weekly cut-off."""
    return build_bulletins_at(cutoff=weekly_cutoff(now))


def build_weekly_series(*, campaign: Campaign, org: Org | None = None) -> list[Bulletin]:
    """Every weekly bulletin of a campaign up to now, oldest first (the demo's history)."""
    return [
        build_bulletin(campaign=campaign, org=org or campaign.org, cutoff=cutoff)
        for cutoff in weekly_cutoffs(campaign)
    ]


# Reads


def bulletins_visible_to(user):
    """Published bulletins an admin may read: of orgs in their scope and of those orgs'
    ancestors (a town admin reads the city's bulletins, not another town's)."""
    q = Q(pk__in=[])
    for root in scope_roots(user):
        q |= within(root, "org__path") | Q(org__path__in=ancestor_paths(root))
    return Bulletin.objects.filter(q).select_related("campaign", "org")
