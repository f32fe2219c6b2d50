"""How an assessment result (reports/assessment.py's data) reads: the cells of the page, the
formula's notes and the office's spreadsheet. Both the page and the .xlsx go through here, so
they show the same figures. Layout of the .xlsx: docs/data-formats.md."""

from decimal import Decimal

from django.utils.translation import gettext as _

from pingyi.xlsx import Column, OfficeSheet, office_xlsx

from .assessment import missing_text

# Points show their two places, as on the page.
POINTS_KIND = "points"


def value_text(part: dict, scale: str) -> str:
    """75.0% (a rate), 60.7 (the index) or why there is no value (样本不足, 无目标…)."""
    if part["value"] is None:
        return missing_text(part["missing"])
    return f"{part['value']}%" if scale == "rate" else part["value"]


def points_text(part: dict) -> str:
    return _("不计") if part["points"] is None else part["points"]


def subtitle(result: dict, kind_label: str = "") -> str:
    """截至2022年11月30日 · 2022年12月5日 10:00发布 (or 草稿), and the kind when filtered."""
    if result.get("published_at"):
        state = _("%(when)s发布") % {"when": result["published_at_text"]}
    else:
        state = _("草稿，按当前数据计算，未发布")
    parts = [_("截至%(date)s") % {"date": result["until_text"]}, state]
    if kind_label:
        parts.append(_("仅%(kind)s") % {"kind": kind_label})
    return " · ".join(parts)


def notes(result: dict) -> list[str]:
    """The formula, the scheme and the rules of missing values, as the page and sheet say them."""
    indicators = result["indicators"]

    def cap(i):
        return f"{plain_number(i['cap'])}%" if i["scale"] == "rate" else plain_number(i["cap"])

    return [
        _("得分 = 分值 × min(指标值 ÷ 满分标准, 1)，保留两位小数；总分 = 各项得分之和。"),
        _("分值与满分标准：%(list)s；满分 %(full)s 分。")
        % {
            "list": _("；").join(
                _("%(label)s %(weight)s 分（达到 %(cap)s 得满分）")
                % {"label": i["label"], "weight": plain_number(i["weight"]), "cap": cap(i)}
                for i in indicators
            ),
            "full": plain_number(result["full_marks"]),
        },
        _("无数据时（无目标、样本不足、无差评等）：%(list)s。")
        % {
            "list": _("；").join(
                f"{i['label']}{i['missing_label']}" for i in indicators if Decimal(i["weight"])
            )
        },
        _(
            "“不计”的指标不计入总分，总分按比例折算：各项得分之和 × 满分 ÷ 计入指标的分值之和"
            "（备注“折算”）。"
        ),
        _(
            "完成率 = 已评议 ÷ 参评目标；参评率 = 已评议 ÷ 年报工会会员人数；满意度指数评议不足 5 "
            "份显示“样本不足”。已剔除：经核查剔除的评议，已不计入任何指标。"
        ),
        _(
            "排名按总分，总分相同者并列；类内排名为同类型单位之间的排名。参加考核的单位类型：%(kinds)s。"
        )
        % {"kinds": _("、").join(result["kind_labels"])},
    ]


def plain_number(number: str | Decimal) -> str:
    """40.00 → 40, 12.50 → 12.5: weights and caps as a person writes them."""
    return f"{Decimal(number).normalize():f}"


def filtered_rows(result: dict, kind: str = "") -> list[dict]:
    return [r for r in result["rows"] if not kind or r["kind"] == kind]


def page_rows(result: dict, kind: str = "") -> list[dict]:
    """The table's rows: each indicator's value and points as text, in the result's order."""
    scales = {i["key"]: i["scale"] for i in result["indicators"]}
    out = []
    for row in filtered_rows(result, kind):
        out.append(
            {
                **row,
                "cells": [
                    {
                        "key": p["key"],
                        "value": value_text(p, scales[p["key"]]),
                        "missing": p["value"] is None,
                        "points": points_text(p),
                        "left_out": p["points"] is None,
                    }
                    for p in row["parts"]
                ],
            }
        )
    return out


def _value_cell(part: dict, scale: str):
    if part["value"] is None:
        return missing_text(part["missing"])
    value = Decimal(part["value"])
    return value / 100 if scale == "rate" else value


def assessment_xlsx(result: dict, kind: str = "", kind_label: str = "") -> bytes:
    """The result as the office's sheet: one row per unit in the page's order, then 满分."""
    columns = [
        Column(_("序号"), 6, "int"),
        Column(_("单位"), 28),
        Column(_("类型"), 14),
        Column(_("已评议(人)"), 10, "int"),
        Column(_("已剔除(人)"), 10, "int"),
    ]
    for i in result["indicators"]:
        columns.append(Column(i["label"], 11, "percent" if i["scale"] == "rate" else "decimal"))
        columns.append(Column(_("%(label)s得分") % {"label": i["label"]}, 11, POINTS_KIND))
    columns += [
        Column(_("总分"), 9, POINTS_KIND),
        Column(_("排名"), 7, "int"),
        Column(_("类内排名"), 9, "int"),
        Column(_("备注"), 10),
    ]
    scales = {i["key"]: i["scale"] for i in result["indicators"]}
    body = []
    for number, row in enumerate(filtered_rows(result, kind), start=1):
        cells = [number, row["name"], row["kind_label"], row["evaluated"], row["excluded"]]
        for part in row["parts"]:
            cells.append(_value_cell(part, scales[part["key"]]))
            cells.append(Decimal(part["points"]) if part["points"] is not None else _("不计"))
        cells += [
            Decimal(row["total"]) if row["total"] is not None else None,
            row["rank"],
            row["kind_rank"],
            _("折算") if row["rescaled"] else "",
        ]
        body.append(cells)
    full = [None, _("满分"), None, None, None]
    for i in result["indicators"]:
        full += [None, Decimal(i["weight"])]
    full += [Decimal(result["full_marks"]), None, None, ""]
    sheet = OfficeSheet(
        title=result["title"],
        subtitle=subtitle(result, kind_label),
        columns=columns,
        rows=body,
        totals=full,
        notes=notes(result),
        sheet_name=_("考核评分"),
    )
    return office_xlsx(sheet)
