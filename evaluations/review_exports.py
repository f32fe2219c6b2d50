"""The integrity review as a workbook: every flagged evaluation of a subtree with its evidence."""

from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from orgs.models import Org
from pingyi.formatting import cn_date
from pingyi.xlsx import Column, OfficeSheet

from .models import ReviewRun
from .review import flagged_rows

EXPORT_MAX = 100_000
CHUNK = 2000


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def flagged_sheet(*, campaign: Campaign, org: Org, run: ReviewRun | None, ids) -> OfficeSheet:
    """One row per flagged evaluation under `org`, in submission order within each chunk of
    ids; capped at EXPORT_MAX rows, with a note saying so."""
    chosen = list(ids[: EXPORT_MAX + 1])
    capped = len(chosen) > EXPORT_MAX
    chosen = chosen[:EXPORT_MAX]
    rows = []
    for start in range(0, len(chosen), CHUNK):
        for row in flagged_rows(chosen[start : start + CHUNK], run=run):
            local = timezone.localtime(row.submitted_at)
            rows.append(
                [
                    row.org.name,
                    row.pk,
                    f"{local:%Y-%m-%d %H:%M:%S}",
                    row.address or "",
                    row.device,
                    _seconds(row.registered_seconds),
                    _seconds(row.fill_seconds),
                    row.overall,
                    row.ratings_text,
                    row.suggestion,
                    "、".join(row.kind_labels),
                    _("已剔除") if row.exclusion else _("计入"),
                    row.exclusion.reason if row.exclusion else "",
                ]
            )
    notes = [
        _("网络地址和设备标识仅用于核查异常评议，按活动设置的保留期限删除；请勿外传。"),
        _("“注册后(秒)”为账号注册到提交评议的间隔；“填写用时(秒)”为打开评议页到提交的间隔。"),
    ]
    if run is not None and run.finished_at:
        finished = timezone.localtime(run.finished_at)
        notes.insert(0, _("核查时间：%(at)s") % {"at": f"{finished:%Y-%m-%d %H:%M}"})
    if capped:
        notes.append(_("仅导出前 %(n)s 条，请到下级单位分别导出。") % {"n": f"{EXPORT_MAX:,}"})
    return OfficeSheet(
        title=_("%(org)s异常评议核查表") % {"org": org.name},
        subtitle=_("%(campaign)s · 导出于%(day)s")
        % {"campaign": campaign.name, "day": cn_date(timezone.localdate())},
        columns=[
            Column(_("工会"), 26),
            Column(_("评议编号"), 10, "int"),
            Column(_("提交时间"), 19),
            Column(_("网络地址"), 22),
            Column(_("设备标识"), 10),
            Column(_("注册后(秒)"), 10, "int"),
            Column(_("填写用时(秒)"), 10, "int"),
            Column(_("总体评分(星)"), 9, "int"),
            Column(_("分项"), 14),
            Column(_("工作建议"), 30),
            Column(_("异常迹象"), 30),
            Column(_("状态"), 8),
            Column(_("剔除理由"), 24),
        ],
        rows=rows,
        notes=notes,
        sheet_name=_("异常评议"),
    )
