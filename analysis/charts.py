"""Server-drawn charts of the analysis pages: inline SVG and cell colours, no script, no CDN."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .selectors import Figures

RATING_COLOURS = {5: "#2e7d32", 4: "#7cb342", 3: "#fbc02d", 2: "#f57c00", 1: "#c62828"}


def heat_colour(index: float | None) -> str:
    """A cell's background for a 满意度指数: red at 50 and below, through yellow, green at 100."""
    if index is None:
        return "#eeeeee"
    share = min(max((index - 50) / 50, 0.0), 1.0)
    return f"hsl({share * 120:.0f}, 65%, 78%)"


def distribution_svg(figures: Figures, labels: dict[int, str]) -> SafeString:
    """Bars of the overall rating's distribution, best first, with count and share."""
    n = figures.n or 1
    width, bar_h, gap, label_w = 560, 26, 8, 96
    height = 5 * (bar_h + gap)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    top = max(figures.counts.values(), default=1) or 1
    for row, rating in enumerate((5, 4, 3, 2, 1)):
        count = figures.counts.get(rating, 0)
        y = row * (bar_h + gap)
        w = (width - label_w - 120) * count / top
        parts.append(
            f'<text x="0" y="{y + 18}" font-size="13">{escape(labels[rating])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{RATING_COLOURS[rating]}"><title>{count}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="13">'
            f"{count:,}（{count / n * 100:.1f}%）</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def ranking_svg(rows: list[tuple[str, float]]) -> SafeString:
    """Horizontal bars of units by 满意度指数, best first (0–100 scale)."""
    width, bar_h, gap, label_w = 640, 20, 6, 200
    height = max(len(rows), 1) * (bar_h + gap)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (name, index) in enumerate(rows):
        y = row * (bar_h + gap)
        w = (width - label_w - 60) * index / 100
        short = name if len(name) <= 14 else name[:13] + "…"
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{row + 1}. {escape(short)}'
            f"<title>{escape(name)}</title></text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{heat_colour(index)}" stroke="#999" stroke-width="0.5"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{index:.1f}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bars_svg(rows: list[tuple[str, int]], colour: str = "#1f5fa8") -> SafeString:
    """Horizontal bars of counts (need categories, keywords)."""
    width, bar_h, gap, label_w = 560, 20, 6, 110
    height = max(len(rows), 1) * (bar_h + gap)
    top = max((n for _l, n in rows), default=1) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (label, n) in enumerate(rows):
        y = row * (bar_h + gap)
        w = (width - label_w - 70) * n / top
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{n:,}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
