"""Server-rendered SVG charts: one per measurement type, thresholds drawn as dashed lines.

Each chart carries its text alternative: an accessible name on the drawing (measure, unit,
count, thresholds) and the table of its values (`Chart.columns`, `Chart.rows`), which the page
sets right after it (partials/chart_values.html)."""

import datetime
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from telesante.telesurveillance import catalog

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 18, 32
QUOTE = {'"': "&quot;"}  # inside an attribute


@dataclass
class Chart:
    type: str
    label: str
    unit: str
    count: int
    last: float | None
    svg: str
    columns: list[str]
    rows: list[list[str]]  # when, value as drawn, the thresholds it crosses


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def render(
    type_code: str,
    points: list[tuple[datetime.datetime, float]],
    thresholds: list[dict],
    start: datetime.datetime,
    end: datetime.datetime,
) -> Chart:
    kind = catalog.TYPES[type_code]
    lines = [
        t for t in thresholds if t.get("type") == type_code and t["kind"] in ("below", "above")
    ]
    values = [v for _t, v in points] + [t["value"] for t in lines]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.1 or 1.0
    low, high = low - pad, high + pad
    span = (end - start).total_seconds() or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime.datetime) -> float:
        return LEFT + plot_w * (at - start).total_seconds() / span

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    limits = ", ".join(f"{_word(t)} {_fmt(t['value'])}" for t in lines)
    name = ngettext(
        "%(measure)s (%(unit)s), %(count)s mesure sur la période",
        "%(measure)s (%(unit)s), %(count)s mesures sur la période",
        len(points),
    ) % {
        "measure": kind.label,
        "unit": kind.shown_unit,
        "count": len(points),
    }
    if limits:
        name += " ; " + limits
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'data-type="{type_code}" aria-label="{escape(name, QUOTE)}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="chart-bg"/>',
    ]
    for v in (low + pad, (low + high) / 2, high - pad):
        parts.append(
            f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" class="chart-axis" text-anchor="end">'
            f"{_fmt(v)}</text>"
        )
    for label_at, anchor in ((start, "start"), (start + (end - start) / 2, "middle"), (end, "end")):
        local = timezone.localtime(label_at)
        parts.append(
            f'<text x="{x(label_at):.1f}" y="{HEIGHT - 8}" class="chart-axis" '
            f'text-anchor="{anchor}">{local:%d/%m}</text>'
        )
    for t in lines:
        word = _word(t)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t["value"]):.1f}" '
            f'y2="{y(t["value"]):.1f}" class="chart-threshold" data-threshold="{t["value"]}"/>'
            f'<text x="{WIDTH - RIGHT - 2}" y="{y(t["value"]) - 3:.1f}" '
            f'class="chart-threshold-label" text-anchor="end">'
            f"{escape(word)} {_fmt(t['value'])}</text>"
        )
    if points:
        coords = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in points)
        parts.append(f'<polyline points="{coords}" class="chart-line"/>')
        crossed = [(at, v) for at, v in points if _crossed(v, lines)]
        parts += [
            f'<circle cx="{x(at):.1f}" cy="{y(v):.1f}" r="3.5" class="chart-alert"/>'
            for at, v in crossed
        ]
    else:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{TOP + 20}" text-anchor="middle" class="chart-axis">'
            f"{escape(_('Aucune mesure sur la période'))}</text>"
        )
    parts.append("</svg>")
    return Chart(
        type=type_code,
        label=kind.label,
        unit=kind.shown_unit,
        count=len(points),
        last=points[-1][1] if points else None,
        svg="".join(parts),
        columns=[_("Date"), f"{kind.label} ({kind.shown_unit})", _("Seuil franchi")],
        rows=[
            [f"{timezone.localtime(at):%d/%m/%Y %H:%M}", _fmt(v), _crossed(v, lines) or "—"]
            for at, v in points
        ],
    )


def _word(threshold: dict) -> str:
    return _("seuil min") if threshold["kind"] == "below" else _("seuil max")


def _crossed(value: float, lines: list[dict]) -> str:
    """The thresholds a value is beyond, in words ("" when within all of them)."""
    return ", ".join(
        f"{_word(t)} {_fmt(t['value'])}"
        for t in lines
        if (value < t["value"] if t["kind"] == "below" else value > t["value"])
    )
