"""Plain SVG maps from communes' centre points (no tiles, nothing fetched): the listed sites of
the directory, and numbered routes such as the stops of a mobile unit."""

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from telesante.indicators.geo import Point

WIDTH, HEIGHT, PAD = 600, 420, 24


def projection(
    points: list[Point],
    width: float = WIDTH,
    height: float = HEIGHT,
    pad: float = PAD,
    margin: float = 0.1,
) -> Callable[[Point], tuple[float, float]]:
    """(lat, lon) → (x, y) in a width × height box that holds every point, north up, with
    `margin` degrees of latitude around them (0.1: ~10 km) and as much longitude at 48°N."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    # Equirectangular projection scaled at the mean latitude.
    k = math.cos(math.radians(sum(lats) / len(lats)))
    west, east = min(lons) - 1.5 * margin, max(lons) + 1.5 * margin
    south, north = min(lats) - margin, max(lats) + margin
    scale = min((width - 2 * pad) / ((east - west) * k), (height - 2 * pad) / (north - south))
    # Centred: a route running east-west leaves the spare height above and below it.
    x0 = (width - (east - west) * k * scale) / 2
    y0 = (height - (north - south) * scale) / 2

    def xy(point: Point) -> tuple[float, float]:
        lat, lon = point
        return x0 + (lon - west) * k * scale, y0 + (north - lat) * scale

    return xy


def _fixed(*values: float) -> tuple[str, ...]:
    """Coordinates to one decimal (format_html escapes its arguments into strings first)."""
    return tuple(f"{v:.1f}" for v in values)


def render(entries: list[dict]) -> SafeString:
    located = [e for e in entries if e["position"]]
    if not located:
        return SafeString("")
    xy = projection([e["position"] for e in located])
    # A group of links named by their <title>: a screen reader may browse them, but they
    # leave the tab order (one stop per site), since the list of sites under the map says the
    # same and is the way through for the keyboard. Not role="img": an image holds no links.
    dots = format_html_join(
        "",
        '<a href="#site-{}" tabindex="-1">'
        '<circle cx="{}" cy="{}" r="9" class="site-dot dep-dot-{}">'
        "<title>{} ({})</title></circle></a>",
        (
            (e["id"], *_fixed(*xy(e["position"])), e["deployment_status"], e["name"], e["commune"])
            for e in located
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" class="site-map" role="group" aria-label="{}">'
        '<rect width="100%" height="100%" fill="#f4f7fb"/>{}</svg>',
        WIDTH,
        HEIGHT,
        _("Carte des sites de cette page ; la liste qui suit donne les mêmes sites."),
        dots,
    )


@dataclass(frozen=True)
class Waypoint:
    number: int
    position: Point
    place: str  # written beside the marker (a commune's name)
    title: str  # shown on hover
    estimated: bool = False


# Sized for a phone: the map is drawn about 340 px wide there, so 14 units stay ~13 px. Its
# height follows the route's shape, between the two bounds.
ROUTE_W, ROUTE_MIN_H, ROUTE_MAX_H, ROUTE_PAD = 360, 220, 420, 36
MARK_R, FONT, LINE = 11, 14, 17

XY = tuple[float, float]
Box = tuple[float, float, float, float]


def _ring(n: int) -> float:
    """Radius of the ring of n markers set around one place so that none hides another."""
    return 0.0 if n == 1 else max(1.2 * MARK_R, n * 1.1 * MARK_R / math.pi)


def _mean(points: list[XY]) -> XY:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _groups(at: list[XY]) -> list[list[int]]:
    """Indexes of markers that would overlap, gathered (the same commune, or close ones)."""
    groups = [[i] for i in range(len(at))]
    merged = True
    while merged:
        merged = False
        for a, b in itertools.combinations(groups, 2):
            room = _ring(len(a)) + _ring(len(b)) + 2 * MARK_R + 2
            if math.dist(_mean([at[i] for i in a]), _mean([at[i] for i in b])) < room:
                groups.remove(b)
                a += b
                merged = True
                break
    return [sorted(g) for g in groups]


def _spread(centre: XY, n: int) -> list[XY]:
    """n markers around a place, clockwise from the top, in the order of the route."""
    ring = _ring(n)
    return [
        (
            centre[0] + ring * math.cos(2 * math.pi * i / n - math.pi / 2),
            centre[1] + ring * math.sin(2 * math.pi * i / n - math.pi / 2),
        )
        for i in range(n)
    ]


def _wrap(name: str, width: int = 16) -> list[str]:
    """A long name on several lines, cut after its hyphens or spaces (Château-Gontier- /
    sur-Mayenne): narrow names find room on a phone-sized map."""
    lines = [""]
    for part in re.split(r"(?<=[- ])", name):
        if lines[-1] and len(lines[-1] + part) > width:
            lines.append("")
        lines[-1] += part
    return [line.strip() for line in lines]


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _label(centre: XY, reach: float, lines: list[str], height: float, taken: list[Box]) -> Box:
    """The box for a place's names, one per line, around its markers: the first of eight
    directions (then a little further) clear of the other markers and names, else the least
    covered; always inside the map."""
    w = 0.62 * FONT * max(len(t) for t in lines) + 4  # a generous estimate of the text's width
    h = len(lines) * LINE + 4
    best: tuple[float, Box] | None = None
    for gap in (3, 18, 36):
        for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)):
            x = centre[0] + dx * (reach + gap + w / 2)
            y = centre[1] + dy * (reach + gap + h / 2)
            x = min(max(x, w / 2 + 1), ROUTE_W - w / 2 - 1)
            y = min(max(y, h / 2 + 1), height - h / 2 - 1)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            covered = sum(_overlap(box, t) for t in taken)
            if covered == 0:
                return box
            if best is None or covered < best[0]:
                best = (covered, box)
    return best[1]


def route(waypoints: list[Waypoint], title: str, desc: str) -> SafeString:
    """Numbered markers joined in order by a line with arrows, each place named once."""
    if not waypoints:
        return SafeString("")
    xy = projection([w.position for w in waypoints], ROUTE_W, ROUTE_MAX_H, ROUTE_PAD, margin=0.02)
    at = [xy(w.position) for w in waypoints]
    # Crop the height to the route, centred.
    top, bottom = min(y for _x, y in at), max(y for _x, y in at)
    height = max(ROUTE_MIN_H, bottom - top + 2 * ROUTE_PAD)
    at = [(x, y + (height - bottom - top) / 2) for x, y in at]
    spot: list[XY] = list(at)
    groups = _groups(at)
    centres = []
    for g in groups:
        # A ring near the edge moves in so that all its markers stay on the map.
        reach = _ring(len(g)) + MARK_R
        x, y = _mean([at[i] for i in g])
        centre = (min(max(x, reach), ROUTE_W - reach), min(max(y, reach), height - reach))
        centres.append(centre)
        for i, place in zip(g, _spread(centre, len(g)), strict=True):
            spot[i] = place
    taken: list[Box] = [(x - MARK_R, y - MARK_R, x + MARK_R, y + MARK_R) for x, y in spot]
    names, leaders = [], []
    for g, centre in zip(groups, centres, strict=True):
        places = dict.fromkeys(waypoints[i].place for i in g)
        lines = [line for place in places for line in _wrap(place)]
        reach = _ring(len(g)) + MARK_R
        box = _label(centre, reach, lines, height, taken)
        taken.append(box)
        x = (box[0] + box[2]) / 2
        names += [(x, box[1] + FONT + i * LINE, text) for i, text in enumerate(lines)]
        # A name pushed away from its markers gets a thin line back to them.
        near = (min(max(centre[0], box[0]), box[2]), min(max(centre[1], box[1]), box[3]))
        far = math.dist(centre, near)
        if far > reach + 8:
            t = reach / far
            start = (centre[0] + t * (near[0] - centre[0]), centre[1] + t * (near[1] - centre[1]))
            leaders.append(_fixed(*start, *near))
    # Arrows half-way along each leg: the line's own vertices sit under the markers.
    path = [spot[0]]
    for a, b in itertools.pairwise(spot):
        path += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2), b]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
    markers = format_html_join(
        "",
        '<g class="stop-marker{}" data-stop="{}"><title>{}</title>'
        '<circle cx="{}" cy="{}" r="{}"/><text x="{}" y="{}">{}</text></g>',
        (
            (
                " estimated" if w.estimated else "",
                w.number,
                w.title,
                *_fixed(*spot[i]),
                MARK_R,
                *_fixed(spot[i][0], spot[i][1] + 4.5),
                w.number,
            )
            for i, w in enumerate(waypoints)
        ),
    )
    labels = format_html_join(
        "", '<line class="stop-leader" x1="{}" y1="{}" x2="{}" y2="{}"/>', leaders
    ) + format_html_join(
        "",
        '<text class="stop-place" x="{}" y="{}">{}</text>',
        ((*_fixed(x, y), text) for x, y, text in names),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" class="stop-map" role="img" aria-labelledby="stop-map-t '
        'stop-map-d"><title id="stop-map-t">{}</title><desc id="stop-map-d">{}</desc>'
        '<defs><marker id="stop-arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
        'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
        '<path d="M0,1 L10,5 L0,9 z" class="stop-arrow"/></marker>'
        '</defs><rect width="100%" height="100%" class="stop-map-bg"/>'
        '<polyline class="stop-route" points="{}" marker-mid="url(#stop-arrow)"/>{}{}</svg>',
        ROUTE_W,
        f"{height:.0f}",
        title,
        desc,
        line,
        labels,
        markers,
    )
