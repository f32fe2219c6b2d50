"""Charts drawn by the server as inline SVG: no script, no library, no CDN.

Each chart is an <svg role="img"> with a <title> and a <desc> saying in words what it shows;
the numbers themselves are in the table beside it, which is what a screen reader reads.
Text is drawn in the page's own font, so Chinese labels need nothing extra.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from pingyi.formatting import percent, thousands

RED, GREY, GREEN, INK, MUTED, LINE, AMBER = (
    "#c8161d",
    "#8f959e",
    "#237804",
    "#1f2329",
    "#646a73",
    "#dee0e3",
    "#d46b08",
)


def _short_date(day: date) -> str:
    return _("%(month)s月%(day)s日") % {"month": day.month, "day": day.day}


def _nice_step(top: float, ticks: int = 5) -> int:
    """A round step (1, 2, 5 × 10ⁿ) giving about `ticks` gridlines up to `top`."""
    raw = max(top / ticks, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{css_class}-title {css_class}-desc">'
        f'<title id="{css_class}-title">{escape(title)}</title>'
        f'<desc id="{css_class}-desc">{escape(desc)}</desc>'
        f'<g font-size="12" fill="{INK}">{"".join(body)}</g></svg>'
    )


def cumulative_chart(
    *,
    series: list[tuple[date, int]],
    first: date,
    last: date,
    target: int | None,
    pace: float = 1.0,
    title: str,
) -> SafeString:
    """Cumulative evaluations per day (a line over the days so far), the target (a horizontal
    line) and the expected pace (a straight line from 0 on the first day to target × pace on
    the last)."""
    width, height = 720, 300
    left, right, top, bottom = 64, 40, 20, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    days = max((last - first).days, 1)
    reached = series[-1][1] if series else 0
    peak = max(reached, target or 0, 1)
    step = _nice_step(peak)
    y_max = step * (-(-peak // step))

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / days

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    body = []
    for value in range(0, y_max + 1, step):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{LINE}"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{thousands(value)}</text>"
        )
    tick_every = max(1, round(days / 6))
    for offset in range(0, days + 1, tick_every):
        day = date.fromordinal(first.toordinal() + offset)
        body.append(
            f'<text x="{x(day):.1f}" y="{height - bottom + 18}" text-anchor="middle" '
            f'fill="{MUTED}">{escape(_short_date(day))}</text>'
        )
    body.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="{GREY}"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" '
        f'stroke="{GREY}"/>'
    )
    if target:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
            f'stroke="{GREEN}" stroke-width="1.5" stroke-dasharray="6 4"/>'
            f'<text x="{width - right}" y="{y(target) - 5:.1f}" text-anchor="end" fill="{GREEN}">'
            f"{escape(_('目标 %(n)s') % {'n': thousands(target)})}</text>"
            f'<line x1="{x(first):.1f}" y1="{y(0):.1f}" x2="{x(last):.1f}" '
            f'y2="{y(target * pace):.1f}" stroke="{AMBER}" stroke-width="1.5" '
            f'stroke-dasharray="2 3"/>'
        )
    if series:
        points = " ".join(f"{x(d):.1f},{y(n):.1f}" for d, n in series)
        end_day, end_value = series[-1]
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{RED}" stroke-width="2.5"/>'
            f'<circle cx="{x(end_day):.1f}" cy="{y(end_value):.1f}" r="3.5" fill="{RED}"/>'
            f'<text x="{x(end_day) - 6:.1f}" y="{y(end_value) - 8:.1f}" text-anchor="end" '
            f'fill="{RED}">'
            f"{thousands(end_value)}</text>"
        )
    # legend
    legend = [
        (RED, "", _("累计评议人数")),
        (GREEN, "6 4", _("参评目标")),
        (AMBER, "2 3", _("时间进度（按进度系数）")),
    ]
    lx = left + 8
    for colour, dash, label in legend if target else legend[:1]:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{top + 8}" y2="{top + 8}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
            f'<text x="{lx + 27}" y="{top + 12}">{escape(label)}</text>'
        )
        lx += 40 + 13 * len(label)
    desc = _("自%(first)s至%(last)s，累计评议 %(reached)s 人") % {
        "first": _short_date(first),
        "last": _short_date(series[-1][0]) if series else _short_date(first),
        "reached": thousands(reached),
    }
    if target:
        desc += _("；参评目标 %(target)s 人，完成 %(share)s") % {
            "target": thousands(target),
            "share": percent(reached / target, 1),
        }
    return mark_safe(_svg(width, height, title, desc, body, "chart-cumulative"))


@dataclass
class Bar:
    label: str
    value: float  # completion, 1.0 = 100%
    behind: bool = False


MAX_BARS = 60


def completion_chart(*, bars: list[Bar], expected: float | None, title: str) -> SafeString:
    """Horizontal bars of completion per unit, best first, with 100% and the expected share
    marked. More than MAX_BARS units: the best and the worst halves, the middle left out."""
    bars = sorted(bars, key=lambda b: -b.value)
    hidden = 0
    if len(bars) > MAX_BARS:
        hidden = len(bars) - MAX_BARS
        bars = [*bars[: MAX_BARS // 2], None, *bars[-MAX_BARS // 2 :]]
    label_w, right, top, row_h = 190, 70, 28, 22
    width = 720
    plot_w = width - label_w - right
    height = top + row_h * max(len(bars), 1) + 10
    scale_top = max(1.0, *(b.value for b in bars if b is not None)) if bars else 1.0

    def x(value: float) -> float:
        return label_w + plot_w * min(value, scale_top) / scale_top

    body = []
    for share in (0, 0.5, 1.0):
        body.append(
            f'<text x="{x(share):.1f}" y="{top - 8}" text-anchor="middle" fill="{MUTED}">'
            f"{percent(share)}</text>"
        )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        if bar is None:
            body.append(
                f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{MUTED}">'
                f"{escape(_('……另有 %(n)s 个单位，见下表') % {'n': hidden})}</text>"
            )
            continue
        colour = AMBER if bar.behind else RED
        label = bar.label if len(bar.label) <= 14 else bar.label[:13] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(x(bar.value) - label_w, 0):.1f}" '
            f'height="{row_h - 8}" fill="{colour}"><title>{escape(bar.label)} '
            f"{percent(bar.value, 1)}</title></rect>"
            f'<text x="{x(bar.value) + 5:.1f}" y="{y + 15}" fill="{MUTED}">'
            f"{percent(bar.value, 1)}</text>"
        )
    bottom = top + row_h * max(len(bars), 1)
    body.append(
        f'<line x1="{x(1.0):.1f}" x2="{x(1.0):.1f}" y1="{top - 4}" y2="{bottom}" '
        f'stroke="{GREEN}" stroke-width="1.5"/>'
        f'<line x1="{label_w}" x2="{label_w}" y1="{top - 4}" y2="{bottom}" stroke="{GREY}"/>'
    )
    if expected is not None and expected > 0:
        body.append(
            f'<line x1="{x(expected):.1f}" x2="{x(expected):.1f}" y1="{top - 4}" y2="{bottom}" '
            f'stroke="{AMBER}" stroke-dasharray="4 3"/>'
        )
    shown = [b for b in bars if b is not None]
    desc = _("共 %(n)s 个单位；完成率最高 %(best)s，最低 %(worst)s；绿线为 100%%") % {
        "n": len(shown) + hidden,
        "best": percent(shown[0].value, 1) if shown else "—",
        "worst": percent(shown[-1].value, 1) if shown else "—",
    }
    if expected is not None:
        desc += _("，虚线为时间进度 %(share)s") % {"share": percent(expected, 1)}
    return mark_safe(_svg(width, height, title, desc, body, "chart-completion"))
