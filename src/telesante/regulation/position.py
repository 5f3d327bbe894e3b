"""The caller's position drawn server-side (no map tiles): the point, its accuracy circle to
scale, and the centre of the nearest commune with its distance."""

import math
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from telesante.regulation import services
from telesante.regulation.models import RegulationRecord
from telesante.structures.models import Commune

SIZE = 240
MARGIN = 20


@dataclass
class Position:
    latitude: float
    longitude: float
    accuracy_m: float
    commune: Commune | None
    commune_m: float | None
    svg: SafeString


def _metres(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """East and north offsets in metres (a local flat projection: a few km at most)."""
    east = math.radians(lon - lon0) * services.EARTH_M * math.cos(math.radians(lat0))
    north = math.radians(lat - lat0) * services.EARTH_M
    return east, north


def of(record: RegulationRecord) -> Position | None:
    if record.latitude is None or record.longitude is None:
        return None
    lat, lon, accuracy = record.latitude, record.longitude, record.accuracy_m or 0.0
    commune = services.nearest_commune(lat, lon)
    commune_m = (
        services.distance_m(lat, lon, commune.latitude, commune.longitude) if commune else None
    )
    # The drawing spans the accuracy circle, and the commune's centre when it is near enough.
    reach = max(accuracy * 1.3, 100.0)
    if commune_m is not None and commune_m < 20 * reach:
        reach = max(reach, commune_m * 1.15)
    scale = (SIZE / 2 - MARGIN) / reach  # pixels per metre
    c = SIZE / 2
    parts = [
        format_html(
            '<circle class="accuracy" cx="{}" cy="{}" r="{}"/>', c, c, f"{accuracy * scale:.1f}"
        ),
        format_html('<circle class="caller" cx="{}" cy="{}" r="6"/>', c, c),
    ]
    if commune is not None and commune_m is not None and commune_m <= reach:
        east, north = _metres(lat, lon, commune.latitude, commune.longitude)
        x, y = c + east * scale, c - north * scale
        parts.append(
            format_html(
                '<rect class="commune" x="{}" y="{}" width="8" height="8"/>'
                '<text x="{}" y="{}">{}</text>',
                f"{x - 4:.1f}",
                f"{y - 4:.1f}",
                f"{min(max(x + 8, 4), SIZE - 60):.1f}",
                f"{y + 4:.1f}",
                commune.name,
            )
        )
    bar_m = _round_bar(reach / 2)
    parts.append(
        format_html(
            '<line class="scale" x1="10" y1="{}" x2="{}" y2="{}"/><text x="10" y="{}">{}</text>',
            SIZE - 10,
            f"{10 + bar_m * scale:.1f}",
            SIZE - 10,
            SIZE - 14,
            f"{bar_m:g} m" if bar_m < 1000 else f"{bar_m / 1000:g} km",
        )
    )
    title = _("Position de l'appelant, précision %(m)s m") % {"m": f"{accuracy:.0f}"}
    svg = format_html(
        '<svg class="position-map" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<text class="north" x="{}" y="14">N</text>{}</svg>',
        SIZE,
        SIZE,
        title,
        SIZE / 2 - 4,
        SafeString("".join(parts)),
    )
    return Position(lat, lon, accuracy, commune, commune_m, svg)


def _round_bar(metres: float) -> float:
    """A scale bar length of 1, 2 or 5 times a power of ten."""
    power = 10 ** math.floor(math.log10(max(metres, 1)))
    return max(step * power for step in (1, 2, 5) if step * power <= max(metres, 1))
