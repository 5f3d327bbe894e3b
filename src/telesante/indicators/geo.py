"""Distances between communes, from their centre points (see structures/data/SOURCES.md).

A commune without a centre point (small communes are missing from the source) is placed at the
mean of the located communes of its département: an estimate, good enough for kilometres saved.
"""

import math

from django.db.models import Avg

from telesante.structures.models import Commune

EARTH_RADIUS_KM = 6371.0088

Point = tuple[float, float]


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres (as the crow flies)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def centres(codes: set[str]) -> dict[str, Point]:
    """Centre point of each commune code, with the département fallback; unknown codes absent."""
    rows = list(
        Commune.objects.filter(pk__in=codes).values_list(
            "code", "departement_id", "latitude", "longitude"
        )
    )
    missing_deps = {dep for _c, dep, lat, _lon in rows if lat is None and dep}
    fallback = {
        dep: (lat, lon)
        for dep, lat, lon in Commune.objects.filter(
            departement_id__in=missing_deps, latitude__isnull=False
        )
        .values("departement_id")
        .annotate(lat=Avg("latitude"), lon=Avg("longitude"))
        .values_list("departement_id", "lat", "lon")
    }
    found = {}
    for code, dep, lat, lon in rows:
        if lat is not None and lon is not None:
            found[code] = (lat, lon)
        elif dep in fallback:
            found[code] = fallback[dep]
    return found
