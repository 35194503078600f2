"""Bar charts as inline SVG, drawn on the server: no JavaScript, nothing from a CDN.

Every bar carries a <title> (read by screen readers and shown as a tooltip), and the
page shows the same numbers as a table, so the chart is never the only way to read
them. All text goes through markupsafe.escape, so a petition title or label cannot
break out of the SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 220
MARGIN_LEFT = 44     # room for the value axis
MARGIN_BOTTOM = 28   # room for the tick labels
MARGIN_TOP = 12
# Presentation attributes, not style attributes: a strict CSP allows them, and the
# stylesheet (static/admin-dashboard.css) can still override them.
TEXT_LOOK = 'font-size="11" fill="#555"'


@dataclass(frozen=True)
class Bar:
    value: int
    title: str            # the tooltip / accessible name: "Tue 3 Mar 14:00: 12 signatures"
    tick: str = ""        # a short label under the bar; "" for none


def _number(value: float) -> str:
    """Coordinates with at most two decimals, so the markup stays small and stable."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _nice_ceiling(value: int) -> int:
    """The top of the value axis: 2, 4 or 10 times a power of ten, at least `value`, so
    the middle gridline is a whole number too."""
    magnitude = 1
    while True:
        for step in (2, 4, 10):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(bars: list[Bar], *, chart_id: str, title: str, description: str = "") -> Markup:
    """An <svg> bar chart of `bars`, in order, scaled to the largest value."""
    top = _nice_ceiling(max((bar.value for bar in bars), default=0))
    plot_width = WIDTH - MARGIN_LEFT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_width / max(len(bars), 1)
    gap = min(slot * 0.2, 4)
    chart_id = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    baseline = MARGIN_TOP + plot_height
    for fraction in (0, 0.5, 1):
        y = baseline - plot_height * fraction
        label = _number(top * fraction)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH}" stroke="#ddd"'
            f' y1="{_number(y)}" y2="{_number(y)}"/>'
            f'<text class="axis" x="{MARGIN_LEFT - 6}" y="{_number(y + 4)}" {TEXT_LOOK}'
            f' text-anchor="end">{escape(label)}</text>'
        )
    for index, bar in enumerate(bars):
        height = plot_height * max(bar.value, 0) / top
        x = MARGIN_LEFT + index * slot + gap / 2
        parts.append(
            f'<rect class="bar" fill="#2a5db0" x="{_number(x)}" y="{_number(baseline - height)}"'
            f' width="{_number(slot - gap)}" height="{_number(height)}">'
            f"<title>{escape(bar.title)}</title></rect>"
        )
        if bar.tick:
            parts.append(
                f'<text class="tick" x="{_number(x + (slot - gap) / 2)}" y="{HEIGHT - 8}" {TEXT_LOOK}'
                f' text-anchor="middle">{escape(bar.tick)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
