"""Numbered routes on the SVG map: markers never hide one another, names stay on the map."""

import itertools
import math
from xml.etree import ElementTree

from telesante.directory import map_svg

LAVAL, CHANGE, LE_MANS = (48.06667, -0.76667), (48.09918, -0.79292), (48.0, 0.2)


def _draw(*stops: tuple[tuple[float, float], str]) -> ElementTree.Element:
    waypoints = [
        map_svg.Waypoint(n, point, place, f"{n}. {place}")
        for n, (point, place) in enumerate(stops, 1)
    ]
    return ElementTree.fromstring(map_svg.route(waypoints, "Carte", "Itinéraire"))


def _circles(svg: ElementTree.Element) -> list[tuple[float, float]]:
    return [(float(c.get("cx")), float(c.get("cy"))) for c in svg.iter("circle")]


def _names(svg: ElementTree.Element) -> list[str]:
    return [t.text for t in svg.iter("text") if t.get("class") == "stop-place"]


def test_close_communes_keep_their_markers_apart_and_their_names():
    # Changé is 4 km from Laval: a few units apart at this scale, less than a marker.
    svg = _draw((LAVAL, "Laval"), (CHANGE, "Changé"), (LE_MANS, "Le Mans"))
    laval, change, le_mans = _circles(svg)
    for a, b in itertools.combinations((laval, change, le_mans), 2):
        assert math.dist(a, b) >= 2 * map_svg.MARK_R
    assert le_mans[0] > max(laval[0], change[0])
    assert sorted(_names(svg)) == ["Changé", "Laval", "Le Mans"]


def test_long_names_are_cut_after_a_hyphen():
    svg = _draw((LAVAL, "Laval"), (LE_MANS, "Château-Gontier-sur-Mayenne"))
    assert _names(svg) == ["Laval", "Château-Gontier-", "sur-Mayenne"]


def test_many_stops_at_one_place_stay_on_the_map():
    svg = _draw(*[(LAVAL, "Laval")] * 9, (LE_MANS, "Le Mans"))
    _x, _y, width, height = map(float, svg.get("viewBox").split())
    circles = _circles(svg)
    assert len(circles) == 10
    r = map_svg.MARK_R
    for x, y in circles:
        assert r <= x <= width - r and r <= y <= height - r
    for a, b in itertools.combinations(circles[:9], 2):
        assert math.dist(a, b) >= 2 * r - 0.1
