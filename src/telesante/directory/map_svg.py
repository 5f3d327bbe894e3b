"""A plain SVG map of the listed sites, from their communes' centre points (no tiles)."""

import math

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH, HEIGHT, PAD = 600, 420, 24


def render(entries: list[dict]) -> SafeString:
    located = [e for e in entries if e["position"]]
    if not located:
        return SafeString("")
    lats = [e["position"][0] for e in located]
    lons = [e["position"][1] for e in located]
    # Equirectangular projection scaled at the mean latitude; a margin of ~10 km around.
    k = math.cos(math.radians(sum(lats) / len(lats)))
    west, east = min(lons) - 0.15, max(lons) + 0.15
    south, north = min(lats) - 0.1, max(lats) + 0.1
    scale = min((WIDTH - 2 * PAD) / ((east - west) * k), (HEIGHT - 2 * PAD) / (north - south))

    def xy(lat: float, lon: float) -> tuple[str, str]:
        return f"{PAD + (lon - west) * k * scale:.1f}", f"{PAD + (north - lat) * scale:.1f}"

    dots = format_html_join(
        "",
        '<a href="#site-{}"><circle cx="{}" cy="{}" r="9" class="site-dot dep-dot-{}">'
        "<title>{} ({})</title></circle></a>",
        (
            (e["id"], *xy(*e["position"]), e["deployment_status"], e["name"], e["commune"])
            for e in located
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" class="site-map" role="img" aria-label="{}">'
        '<rect width="100%" height="100%" fill="#f4f7fb"/>{}</svg>',
        WIDTH,
        HEIGHT,
        _("Carte des sites"),
        dots,
    )
