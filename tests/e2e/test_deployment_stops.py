"""The map of a mobile unit's stops in Chromium: readable on a phone, nothing on top of a name."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from telesante.deployment.models import Stop
from telesante.structures.models import Commune, Structure, StructureKind
from tests.conftest import World, make_structure
from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Centre points of structures/data/communes.csv.gz; Pré-en-Pail-Saint-Samson and
# Château-Gontier-sur-Mayenne have none there and are placed at the département's centre.
COMMUNES = {
    "53097": ("Évron", 48.15642, -0.3997),
    "53161": ("Montsûrs", 48.13604, -0.55413),
    "53147": ("Mayenne", 48.3, -0.61667),
    "53185": ("Pré-en-Pail-Saint-Samson", None, None),
    "53015": ("La Baconnière", 48.18012, -0.89202),
    "53054": ("Changé", 48.09918, -0.79292),
    "53077": ("Cossé-le-Vivien", 47.94599, -0.91185),
    "53062": ("Château-Gontier-sur-Mayenne", None, None),
    "53130": ("Laval", 48.06667, -0.76667),
}
# Two weeks of rounds, then the start of the third.
ROUNDS = [*COMMUNES, "53097", "53161", "53147"]


@pytest.fixture
def tour(world: World) -> Structure:
    """A mobile unit of Mayenne with twelve stops to come, one each working day."""
    for code, (name, lat, lon) in COMMUNES.items():
        Commune.objects.update_or_create(
            code=code,
            defaults={"name": name, "departement_id": "53", "latitude": lat, "longitude": lon},
        )
    unit = make_structure("Unité mobile de téléconsultation du Nord-Mayenne", StructureKind.MOBILE)
    day = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    for code in ROUNDS:
        day += datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        Stop.objects.create(
            unit=unit,
            commune_id=code,
            place="Parking de la mairie",
            starts_at=day,
            ends_at=day + datetime.timedelta(hours=3, minutes=30),
        )
    return unit


# Rendered boxes of the names and markers, whether any two overlap, the smallest name's size.
BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {l: r.left, t: r.top, r: r.right, b: r.bottom, h: r.height, w: r.width}; };
  const names = [...document.querySelectorAll('.stop-map .stop-place')].map(box);
  const marks = [...document.querySelectorAll('.stop-map .stop-marker circle')].map(box);
  const hit = (a, b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
  const clashes = names.flatMap(
    (a, i) => [...names.slice(i + 1), ...marks].filter((b) => hit(a, b)));
  const map = box(document.querySelector('.stop-map'));
  const outside = names.filter((n) => n.l < map.l || n.r > map.r || n.t < map.t || n.b > map.b);
  const svg = document.querySelector('.stop-map');
  const font = Math.min(...[...svg.querySelectorAll('.stop-place')].map(
    (e) => parseFloat(getComputedStyle(e).fontSize) * svg.getScreenCTM().a));
  return {names, marks, font, clashes: clashes.length, outside: outside.length};
}"""


def test_stops_map_is_readable_on_a_phone(tour: Structure, world: World, new_page) -> None:
    page = new_page(PHONE, user=world.observer)
    page.goto(f"/deploiement/{tour.pk}/")
    stops_map = page.get_by_role("img", name="Carte des 10 prochaines étapes")
    expect(stops_map).to_be_visible()
    expect(page.locator(".stop-list li")).to_have_count(12)
    expect(page.locator("figcaption")).to_contain_text("Pré-en-Pail-Saint-Samson")
    seen = page.evaluate(BOXES)
    assert len(seen["marks"]) == 10
    assert seen["font"] >= 12  # names drawn at 12 px or more
    assert min(m["w"] for m in seen["marks"]) >= 20  # numbered discs of 20 px or more
    assert (seen["clashes"], seen["outside"]) == (0, 0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
