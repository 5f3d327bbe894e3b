"""Small server-rendered SVG charts: no script, no external library, printable."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

PALETTE = ["#1f5fa8", "#d2691e", "#2e8b57", "#8a2be2", "#b22222", "#4a4a4a"]
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 280, 40, 44, 16


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, step * 5, step))


def lines(labels: list[str], series: dict[str, list[int]], title: str) -> SafeString:
    """Time series, one line per named series (acts per month by kind)."""
    shown = {name: values for name, values in series.items() if any(values)}
    top = max([v for values in shown.values() for v in values] + [1])
    ticks = _ticks(top)
    scale = (HEIGHT - BOTTOM - TOP) / ticks[-1]
    span = (WIDTH - LEFT - 10) / max(len(labels) - 1, 1)

    def xy(i: int, v: int) -> str:
        return f"{LEFT + i * span:.1f},{HEIGHT - BOTTOM - v * scale:.1f}"

    parts = [_axes(ticks, scale)]
    for i, label in enumerate(labels):
        if i % max(1, -(-len(labels) // 6)) == 0:  # at most six labels: readable on a phone
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" class="tick">{}</text>',
                    f"{LEFT + i * span:.1f}",
                    HEIGHT - BOTTOM + 16,
                    label,
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
        # An SVG square: its colour is an attribute, not an inline style (CSP).
        '<li><svg class="swatch" viewBox="0 0 1 1" aria-hidden="true">'
        '<rect width="1" height="1" fill="{}"/></svg>{}</li>',
        ((PALETTE[n % len(PALETTE)], name) for n, name in enumerate(shown)),
    )
    return _figure(title, _join(parts), legend)


def bars(items: list[tuple[str, int]], title: str) -> SafeString:
    """Horizontal bars (acts by filière)."""
    top = max([v for _l, v in items] + [1])
    row = 32
    height = row * len(items) + 10
    label_w = 230
    parts = []
    for i, (label, value) in enumerate(items):
        width = (WIDTH - label_w - 60) * value / top
        y = 5 + i * row
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="24" fill="{}"><title>{}</title></rect>'
                '<text x="{}" y="{}" class="tick">{}</text>',
                label_w - 6,
                y + 13,
                label[:30],
                label_w,
                y,
                f"{width:.1f}",
                PALETTE[0],
                _("%(label)s : %(value)s") % {"label": label, "value": value},
                f"{label_w + width + 4:.1f}",
                y + 13,
                value,
            )
        )
    svg = format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        WIDTH,
        height,
        title,
        _join(parts),
    )
    return format_html(
        '<figure class="ind-chart"><figcaption>{}</figcaption>{}</figure>', title, svg
    )


def _axes(ticks: list[int], scale: float) -> SafeString:
    parts = []
    for t in ticks:
        y = HEIGHT - BOTTOM - t * scale
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
                '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>',
                LEFT,
                WIDTH - 10,
                f"{y:.1f}",
                f"{y:.1f}",
                LEFT - 6,
                f"{y + 4:.1f}",
                t,
            )
        )
    return _join(parts)


def _join(parts: list[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


def _figure(title: str, body: SafeString, legend: SafeString) -> SafeString:
    return format_html(
        '<figure class="ind-chart"><figcaption>{}</figcaption>'
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>'
        '<ul class="legend">{}</ul></figure>',
        title,
        WIDTH,
        HEIGHT,
        title,
        body,
        legend,
    )
