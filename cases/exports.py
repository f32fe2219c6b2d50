"""The case queue and the case figures as the office's spreadsheets (pingyi.xlsx).

No member is named in either: the queue carries the case, the union, what was rated and how
it was handled; a return visit shows only whether the member agreed to one and whether it was
made.
"""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from evaluations.models import Answer
from pingyi.formatting import cn_date, cn_datetime
from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .models import Appeal, Case
from .selectors import LOW_RATING, FigureTable, is_overdue

EXPORT_LIMIT = 100_000


def _appeal_of(case: Case) -> Appeal | None:
    try:
        return case.appeal
    except Appeal.DoesNotExist:
        return None


def queue_xlsx(cases: QuerySet[Case], *, campaign: Campaign) -> bytes:
    today = timezone.localdate()
    rows = []
    cases = (
        cases.select_related("org", "escalated_to", "evaluation", "campaign", "appeal")
        .prefetch_related(
            Prefetch(
                "evaluation__answers",
                queryset=Answer.objects.filter(rating__lte=LOW_RATING).select_related("question"),
            )
        )
        .order_by("-pk")[:EXPORT_LIMIT]
    )
    for case in cases.iterator(chunk_size=2000):
        evaluation = case.evaluation
        appeal = _appeal_of(case)
        low_items = "、".join(
            a.question.label
            for a in sorted(evaluation.answers.all(), key=lambda a: a.question.position)
        )
        rows.append(
            [
                case.number,
                case.org.name,
                cn_datetime(case.opened_at),
                campaign.label_for(evaluation.overall),
                low_items,
                evaluation.suggestion,
                case.get_state_display(),
                cn_date(case.verify_due),
                cn_date(case.rectify_due),
                _("是") if is_overdue(case, today) else "",
                case.escalated_to.name if case.escalated_to else "",
                case.get_outcome_display() if case.outcome else "",
                cn_datetime(case.replied_at),
                cn_date(case.rectify_by),
                _("同意") if evaluation.return_visit else _("未同意"),
                cn_datetime(case.visited_at),
                case.get_handling_rating_display() if case.handling_rating else "",
                f"{appeal.get_claim_display()}·{appeal.get_decision_display()}" if appeal else "",
            ]
        )
    sheet = OfficeSheet(
        title=_("%(campaign)s差评处置清单") % {"campaign": campaign.name},
        subtitle=_("导出日期：%(day)s") % {"day": cn_date(today)},
        columns=[
            Column(_("编号"), 14),
            Column(_("被评工会"), 26),
            Column(_("受理时间"), 18),
            Column(_("总体评价"), 10),
            Column(_("不满意的分项"), 28),
            Column(_("工作建议"), 40),
            Column(_("状态"), 12),
            Column(_("核实时限"), 14),
            Column(_("整改答复时限"), 14),
            Column(_("逾期"), 6),
            Column(_("升级至"), 18),
            Column(_("处理结果"), 10),
            Column(_("答复时间"), 18),
            Column(_("承诺整改完成日期"), 14),
            Column(_("回访意愿"), 8),
            Column(_("回访时间"), 18),
            Column(_("处置评价"), 10),
            Column(_("申诉"), 22),
        ],
        rows=rows,
        notes=[_("本表不含评议人身份信息。")]
        + (
            [_("仅导出最新的 %(n)s 件，请按条件筛选后分批导出。") % {"n": EXPORT_LIMIT}]
            if len(rows) >= EXPORT_LIMIT
            else []
        ),
        sheet_name=_("差评处置清单"),
    )
    return office_xlsx(sheet)


def figures_xlsx(table: FigureTable) -> bytes:
    def row(name: str, f) -> list:
        return [
            name,
            f.cases,
            f.replied,
            f.reply_rate,
            f.consented,
            f.visited,
            f.visit_rate,
            f.on_time,
            f.due,
            f.on_time_rate,
            f.rated,
            f.satisfied,
            f.satisfaction_rate,
            f.overdue,
            f.excluded,
        ]

    sheet = OfficeSheet(
        title=_("%(campaign)s差评处置情况") % {"campaign": table.campaign.name},
        subtitle=_("%(org)s · 统计日期：%(day)s")
        % {"org": table.parent.name, "day": cn_date(timezone.localdate())},
        columns=[
            Column(_("单位"), 26),
            Column(_("差评件数"), 10, "int"),
            Column(_("已答复"), 10, "int"),
            Column(_("回复率"), 10, "percent"),
            Column(_("同意回访"), 10, "int"),
            Column(_("已回访"), 10, "int"),
            Column(_("回访率"), 10, "percent"),
            Column(_("按期答复"), 10, "int"),
            Column(_("应答复"), 10, "int"),
            Column(_("按期整改率"), 10, "percent"),
            Column(_("已评价"), 10, "int"),
            Column(_("满意及基本满意"), 12, "int"),
            Column(_("整改满意率"), 10, "percent"),
            Column(_("当前逾期"), 10, "int"),
            Column(_("申诉成立"), 10, "int"),
        ],
        rows=[row(r.org.name, r.figures) for r in table.rows],
        totals=row(_("合计"), table.total),
        notes=[
            _("回复率＝已答复÷差评件数；回访率＝已回访÷同意回访；"),
            _("按期整改率＝首次答复在整改答复时限内÷（已答复或已过时限）；"),
            _("整改满意率＝（满意＋基本满意）÷已评价。"),
        ],
        sheet_name=_("差评处置情况"),
    )
    return office_xlsx(sheet)
