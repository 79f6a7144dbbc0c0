"""Server-rendered SVG charts for the admin (no JavaScript, nothing loaded from elsewhere)."""

from datetime import date

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 24  # room for the axis labels


def _step_path(series: list[tuple[date, int]], top: int) -> str:
    """An SVG path drawing the balance as steps: flat through a day, then up or down."""
    span_x = (WIDTH - LEFT - RIGHT) / max(len(series) - 1, 1)
    span_y = (HEIGHT - TOP - BOTTOM) / max(top, 1)
    points: list[str] = []
    for index, (_, balance) in enumerate(series):
        x = LEFT + index * span_x
        y = HEIGHT - BOTTOM - balance * span_y
        if points:
            points.append(f"H{x:.1f}")
        points.append(f"{'V' if points else f'M{x:.1f} '}{y:.1f}")
    return " ".join(points)


def stock_chart_svg(series: list[tuple[date, int]], *, label: str) -> SafeString:
    """A step chart of (day, on-hand) pairs, with the balances in `data-balances` so a reader
    (or a test) can check them against the ledger."""
    if not series:
        return mark_safe("")  # noqa: S308 - a constant
    top = max(max(b for _, b in series), 1)
    first, last = series[0][0], series[-1][0]
    return format_html(
        '<svg id="stock-chart" class="stock-chart" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}" data-first-day="{first}" data-last-day="{last}" '
        'data-balances="{balances}" preserveAspectRatio="none">'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" class="axis"/>'
        '<line x1="{left}" y1="{top_y}" x2="{left}" y2="{base}" class="axis"/>'
        '<text x="{lx}" y="{top_label}" text-anchor="end">{top}</text>'
        '<text x="{lx}" y="{base}" text-anchor="end">0</text>'
        '<text x="{left}" y="{date_y}">{first}</text>'
        '<text x="{right}" y="{date_y}" text-anchor="end">{last}</text>'
        '<path d="{path}" class="balance"/></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        first=first.isoformat(),
        last=last.isoformat(),
        balances=",".join(str(b) for _, b in series),
        left=LEFT,
        right=WIDTH - RIGHT,
        base=HEIGHT - BOTTOM,
        top_y=TOP,
        lx=LEFT - 4,
        top_label=TOP + 8,
        top=top,
        date_y=HEIGHT - 6,
        path=_step_path(series, top),
    )
