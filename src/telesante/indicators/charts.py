"""Small server-rendered SVG charts: no script, no external library, printable.

Each one is a figure: its title, the drawing (`role="img"` named by the title), and its text
alternative right after, the table of the values drawn (partials/chart_values.html).

Room for the labels is measured from their length (16-unit text: a character is at most about
CHAR_W units wide), so that neither axis is ever cut at the edge of the drawing.
"""

from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

PALETTE = ["#1f5fa8", "#d2691e", "#2e8b57", "#8a2be2", "#b22222", "#4a4a4a"]
WIDTH, HEIGHT, BOTTOM, TOP, RIGHT = 640, 280, 44, 16, 10
CHAR_W = 9.5
GAP = 8  # between two axis labels


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, step * 5, step))


def number(value: int) -> str:
    """French grouping of thousands with a no-break space: 12 345."""
    return f"{value:,}".replace(",", "\xa0")


def _text_w(text: str) -> float:
    return len(text) * CHAR_W


def lines(labels: list[str], series: dict[str, list[int]], title: str) -> SafeString:
    """Time series, one line per named series (acts per month by kind)."""
    shown = {name: values for name, values in series.items() if any(values)}
    top = max([v for values in shown.values() for v in values] + [1])
    ticks = _ticks(top)
    scale = (HEIGHT - BOTTOM - TOP) / ticks[-1]
    left = max(_text_w(number(t)) for t in ticks) + 12  # the widest value label fits
    span = (WIDTH - left - RIGHT) / max(len(labels) - 1, 1)

    def xy(i: int, v: int) -> str:
        return f"{left + i * span:.1f},{HEIGHT - BOTTOM - v * scale:.1f}"

    parts = [_axes(ticks, scale, left)]
    for i in _apart(labels, _shown(len(labels)), left, span):
        # The first label starts at its point and the last ends at it: neither leaves the chart.
        anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" class="tick">{}</text>',
                f"{left + i * span:.1f}",
                HEIGHT - BOTTOM + 20,
                anchor,
                labels[i],
            )
        )
    for n, (name, values) in enumerate(shown.items()):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(xy(i, v) for i, v in enumerate(values))
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2.5" points="{}">'
                "<title>{}</title></polyline>",
                color,
                points,
                name,
            )
        )
    legend = format_html_join(
        "",
        '<li><span class="swatch swatch-{}"></span>{}</li>',
        ((n % len(PALETTE), name) for n, name in enumerate(shown)),
    )
    table = _values(
        title,
        [_("Mois"), *shown],
        [
            [label, *(number(values[i]) for values in shown.values())]
            for i, label in enumerate(labels)
        ],
    )
    return _figure(title, _join(parts), legend, table)


def _shown(n: int) -> list[int]:
    """Which month labels to write: at most about six (readable on a phone), always the last
    (the latest month, marked when partial), none crowding it."""
    if n == 0:
        return []
    step = max(1, -(-n // 6))
    shown = list(range(0, n, step))
    if shown[-1] != n - 1:
        if n - 1 - shown[-1] < step and len(shown) > 1:
            shown.pop()
        shown.append(n - 1)
    return shown


def _apart(labels: list[str], shown: list[int], left: float, span: float) -> list[int]:
    """The labels of `shown` that do not run into one another once written (the last one,
    « 2026-12 (partiel) », is long): the last always, then from the first, each clear of the
    previous one kept and of the last."""
    n = len(labels)

    def extent(i: int) -> tuple[float, float]:
        x, w = left + i * span, _text_w(labels[i])
        return (x, x + w) if i == 0 else (x - w, x) if i == n - 1 else (x - w / 2, x + w / 2)

    if not shown:
        return []
    *others, last = shown
    kept, edge, stop = [], float("-inf"), extent(last)[0]
    for i in others:
        low, high = extent(i)
        if low >= edge + GAP and high + GAP <= stop:
            kept.append(i)
            edge = high
    return [*kept, last]


def bars(items: list[tuple[str, int]], title: str) -> SafeString:
    """Horizontal bars (acts by filière)."""
    top = max([v for _l, v in items] + [1])
    row = 32
    height = row * len(items) + 10
    label_w = 230
    value_w = max([_text_w(number(v)) for _l, v in items] + [0]) + 8  # the value after its bar
    parts = []
    for i, (label, value) in enumerate(items):
        width = (WIDTH - label_w - value_w) * value / top
        y = 5 + i * row
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="24" fill="{}"><title>{}</title></rect>'
                '<text x="{}" y="{}" class="tick">{}</text>',
                label_w - 6,
                y + 17,
                label if len(label) <= 22 else label[:21] + "…",
                label_w,
                y,
                f"{width:.1f}",
                PALETTE[0],
                _("%(label)s : %(value)s") % {"label": label, "value": value},
                f"{label_w + width + 4:.1f}",
                y + 17,
                number(value),
            )
        )
    svg = format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        WIDTH,
        height,
        title,
        _join(parts),
    )
    table = _values(title, [_("Filière"), _("Actes")], [[label, number(v)] for label, v in items])
    return format_html(
        '<figure class="ind-chart"><figcaption>{}</figcaption>{}{}</figure>', title, svg, table
    )


def _values(title: str, columns: list[str], rows: list[list[str]]) -> SafeString:
    """The chart's values as a table, its text alternative (collapsed under the drawing)."""
    context = {"title": title, "columns": columns, "rows": rows}
    return render_to_string("partials/chart_values.html", context)


def _axes(ticks: list[int], scale: float, left: float) -> SafeString:
    parts = []
    for t in ticks:
        y = HEIGHT - BOTTOM - t * scale
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
                '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>',
                f"{left:.1f}",
                WIDTH - RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                f"{left - 6:.1f}",
                f"{y + 5:.1f}",
                number(t),
            )
        )
    return _join(parts)


def _join(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def _figure(title: str, body: SafeString, legend: SafeString, table: SafeString) -> SafeString:
    return format_html(
        '<figure class="ind-chart"><figcaption>{}</figcaption>'
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>'
        '<ul class="legend">{}</ul>{}</figure>',
        title,
        WIDTH,
        HEIGHT,
        title,
        body,
        legend,
        table,
    )
