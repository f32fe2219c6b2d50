"""Who may evaluate in a campaign, and when: the checks every entry point shares."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from pingyi.formatting import cn_date, cn_datetime


class EvaluationError(Exception):
    """A refusal the member reads as it is; `code` is stable for the API, `field` marks a field."""

    code = "refused"
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotRegistered(EvaluationError):
    code = "not_registered"
    status = 403


class MemberLeft(EvaluationError):
    code = "member_left"
    status = 403


class NotInCampaign(EvaluationError):
    code = "not_in_campaign"
    status = 403


class NotOpenYet(EvaluationError):
    code = "not_open_yet"
    status = 409


class Closed(EvaluationError):
    code = "closed"
    status = 409


class InvalidAnswers(EvaluationError):
    code = "invalid_answers"
    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


class RequestKeyReused(EvaluationError):
    code = "request_key_reused"
    status = 409


def last_day(campaign: Campaign):
    """The last local day the window still covers (it closes at 24:00 of that day)."""
    return timezone.localtime(campaign.ends_at - timedelta(microseconds=1)).date()


def window_text(campaign: Campaign) -> str:
    """2022年9月1日至11月30日."""
    start = timezone.localtime(campaign.starts_at).date()
    end = last_day(campaign)
    if start.year == end.year:
        end_text = _("%(month)s月%(day)s日") % {"month": end.month, "day": end.day}
    else:
        end_text = cn_date(end)
    return _("%(start)s至%(end)s") % {"start": cn_date(start), "end": end_text}


def check_window(campaign: Campaign, now: datetime | None = None) -> None:
    status = campaign.status(now)
    if status == "upcoming":
        raise NotOpenYet(
            _("“%(name)s”尚未开始，将于%(when)s开放评议。")
            % {"name": campaign.name, "when": cn_datetime(campaign.starts_at)}
        )
    if status == "closed":
        raise Closed(
            _("“%(name)s”已于%(day)s结束，感谢您的关注。")
            % {"name": campaign.name, "day": cn_date(last_day(campaign))}
        )


def check_member(member, campaign: Campaign) -> None:
    """The member may take part: a verified account, still in the union, inside the campaign."""
    from members.models import MemberStatus

    if member.user_id is None or member.registered_at is None:
        raise NotRegistered(_("请先完成实名注册，再参加评议。"))
    if member.status != MemberStatus.ACTIVE:
        raise MemberLeft(_("您已不在工会会员名册中，不能参加评议；如有误，请申请信息更正。"))
    if not campaign.org.contains(member.org):
        raise NotInCampaign(
            _("您所在的“%(union)s”不在“%(name)s”的范围内（由%(org)s组织）。")
            % {"union": member.org.name, "name": campaign.name, "org": campaign.org.name}
        )


def check_can_evaluate(member, campaign: Campaign, now: datetime | None = None) -> None:
    check_member(member, campaign)
    check_window(campaign, now)
