"""Milestones drive the deployment status and dates that the indicators count."""

import datetime
import math
import re
from xml.etree import ElementTree

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.deployment import services
from telesante.deployment.models import Milestone, Stop
from telesante.directory import map_svg
from telesante.indicators import filters
from telesante.indicators.figures import compute
from telesante.structures.models import (
    Commune,
    Departement,
    DeploymentStatus,
    Structure,
    StructureKind,
)
from tests.conftest import logged_in, make_structure, make_user


def _record(user, structure, step, done=None, planned=None):
    site = services.site_for(structure)
    return services.record_milestone(user, site, services.MilestoneInput(step, planned, done))


def test_status_follows_milestones(world):
    s, admin = world.ehpad_b, world.regional_admin
    Structure.objects.filter(pk=s.pk).update(deployment_status=DeploymentStatus.PLANNED)
    s.refresh_from_db()
    _record(admin, s, "needs", planned=datetime.date(2022, 1, 3))
    s.refresh_from_db()
    assert s.deployment_status == DeploymentStatus.PLANNED
    assert s.deployment_planned_on == datetime.date(2022, 1, 3)
    _record(admin, s, "needs", done=datetime.date(2022, 1, 10))
    _record(admin, s, "equipment", done=datetime.date(2022, 3, 1))
    s.refresh_from_db()
    assert s.deployment_status == DeploymentStatus.IN_PROGRESS
    assert s.deployment_started_on == datetime.date(2022, 1, 10)
    _record(admin, s, "training", done=datetime.date(2022, 4, 5))
    s.refresh_from_db()
    assert (s.deployment_status, s.deployed_on) == (
        DeploymentStatus.DEPLOYED,
        datetime.date(2022, 4, 5),
    )
    assert Milestone.objects.filter(site__structure=s).count() == 3  # re-recording updates
    # The indicators read the same dates: in progress at the end of March, deployed in April.
    march = compute(filters.parse({"territory": "72", "period": "2022-03"})).summary["sites"]
    april = compute(filters.parse({"territory": "72", "period": "2022-04"})).summary["sites"]
    assert (march["in_progress"], april["deployed"]) == (1, 1)


def test_only_admin_or_the_sites_officer_records(world):
    site = services.site_for(world.ehpad_a)
    data = services.MilestoneInput("needs", None, datetime.date(2022, 1, 1))
    with pytest.raises(PermissionDenied):
        services.record_milestone(world.observer, site, data)
    services.set_follow_up(world.regional_admin, site, world.nurse_a.pk, ["geriatrie"])
    services.record_milestone(world.nurse_a, site, data)  # now the officer in charge
    assert services.may_view(world.nurse_a)
    with pytest.raises(PermissionDenied):
        services.set_follow_up(world.nurse_a, site, None, [])


def test_bad_milestone_input_names_fields(world):
    with pytest.raises(ValidationError) as err:
        services.parse_milestone({"step": "x", "planned_on": "demain", "done_on": "2999-01-01"})
    assert set(err.value.message_dict) == {"step", "planned_on", "done_on"}
    with pytest.raises(ValidationError) as err:
        services.set_follow_up(
            world.regional_admin, services.site_for(world.ehpad_a), 999999, ["x"]
        )
    assert set(err.value.message_dict) == {"officer", "filieres"}


def test_milestone_page_flow(world):
    client = logged_in(world.regional_admin)
    url = f"/deploiement/{world.ehpad_a.pk}/"
    bad = client.post(url + "jalon/", {"step": "needs", "done_on": "32/01"}, follow=True)
    assert "Date invalide" in bad.content.decode()
    client.post(url + "jalon/", {"step": "needs", "done_on": "2022-01-10"})
    client.post(
        url + "suivi/",
        {
            "officer": world.observer.pk,
            "filieres": ["geriatrie"],
            "acts": ["teleexpertise"],
            "availability": "Mardi et jeudi",
            "contact": "Par la plateforme",
        },
    )
    page = client.get(url).content.decode()
    assert "10/01/2022" in page and "Gériatrie" in page and "Mardi et jeudi" in page
    assert services.site_for(world.ehpad_a).acts == ["teleexpertise"]
    bad = client.post(url + "suivi/", {"acts": ["magie"]}, follow=True)
    assert "Type d&#x27;acte inconnu" in bad.content.decode()
    wrong = client.post(url + "suivi/", {"officer": "abc"}, follow=True)
    assert "inconnu" in wrong.content.decode()
    assert client.get("/deploiement/999999/").status_code == 404


def test_overview_counts_and_filters(world):
    client = logged_in(world.observer)
    page = client.get("/deploiement/", {"territory": "53"}).content.decode()
    assert "EHPAD Les Tilleuls" in page and "EHPAD Le Verger" not in page
    only = client.get("/deploiement/", {"status": "planned"}).content.decode()
    assert "EHPAD Les Tilleuls" not in only
    assert client.get("/deploiement/", {"territory": "zz"}).status_code == 400


def test_overview_costs_constant_queries(world):
    client = logged_in(world.observer)
    _record(world.regional_admin, world.ehpad_a, "needs", done=datetime.date(2022, 1, 1))
    client.get("/deploiement/")
    with CaptureQueriesContext(connection) as few:
        client.get("/deploiement/")
    for i in range(8):
        s = make_structure(f"EHPAD {i}")
        _record(world.regional_admin, s, "needs", done=datetime.date(2022, 1, 1))
        services.set_follow_up(world.regional_admin, services.site_for(s), world.observer.pk, [])
    with CaptureQueriesContext(connection) as many:
        client.get("/deploiement/")
    assert len(many) == len(few)


def test_overview_pages_keep_the_filters(world, pages_of_two):
    for name in ("Site Z1", "Site Z2", "Site Z3"):
        make_structure(name)  # in Mayenne (53), with EHPAD Les Tilleuls
    client = logged_in(world.observer)
    first = client.get("/deploiement/", {"territory": "53"}).content.decode()
    assert "EHPAD Les Tilleuls" in first and "Site Z1" in first and "Site Z2" not in first
    assert "Page 1 sur 2 (4 résultats)" in first
    assert 'href="?territory=53&amp;page=2"' in first
    second = client.get("/deploiement/", {"territory": "53", "page": "2"}).content.decode()
    assert "Site Z2" in second and "Site Z3" in second and "EHPAD Le Verger" not in second


def test_mobile_unit_schedule(world):
    unit = make_structure("Unité mobile Mayenne", kind=StructureKind.MOBILE)
    now = timezone.now()
    Stop.objects.create(
        unit=unit,
        commune_id="53062",
        place="Place du marché",
        starts_at=now + datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=1, hours=4),
    )
    Stop.objects.create(
        unit=unit,
        commune_id="53130",
        place="Passé",
        starts_at=now - datetime.timedelta(days=3),
        ends_at=now - datetime.timedelta(days=3, hours=-2),
    )
    page = logged_in(world.observer).get(f"/deploiement/{unit.pk}/").content.decode()
    assert "Place du marché" in page and "Passé" not in page
    assert list(services.schedule(world.ehpad_a, now)) == []
    officer = make_user("appui@example.test")
    assert not services.may_view(officer)


def test_adding_stops_to_a_mobile_unit(world):
    unit = make_structure("Unité mobile du Sud-Mayenne", kind=StructureKind.MOBILE)
    client = logged_in(world.regional_admin)
    url = f"/deploiement/{unit.pk}/etape/"
    page = client.post(
        url,
        {"commune": "00000", "place": "", "starts_at": "demain", "ends_at": "2030-01-01T10:00"},
        follow=True,
    ).content.decode()
    assert "Commune inconnue" in page and "Indiquez le lieu" in page and "invalides" in page
    late = client.post(
        url,
        {
            "commune": "53062",
            "place": "Halles",
            "starts_at": "2030-01-01T12:00",
            "ends_at": "2030-01-01T10:00",
        },
        follow=True,
    )
    assert "La fin doit suivre le début" in late.content.decode()
    client.post(
        url,
        {
            "commune": "53062",
            "place": "Halles",
            "starts_at": "2030-01-01T09:00",
            "ends_at": "2030-01-01T12:00",
        },
    )
    stop = Stop.objects.get(unit=unit)
    assert (stop.place, stop.commune_id) == ("Halles", "53062")
    other = client.post(
        f"/deploiement/{world.ehpad_a.pk}/etape/",
        {
            "commune": "53130",
            "place": "X",
            "starts_at": "2030-01-01T09:00",
            "ends_at": "2030-01-01T12:00",
        },
        follow=True,
    )
    assert "Seule une unité mobile" in other.content.decode()


# Real centre points (structures/data/communes.csv.gz): Laval, Mayenne to its north-east,
# Le Mans further east; Château-Gontier-sur-Mayenne has none there.
MAYENNE, LAVAL, LE_MANS = (48.3, -0.61667), (48.06667, -0.76667), (48.0, 0.2)


def _place(code: str, point: tuple[float, float] | None, name: str = "", dep: str = "53"):
    if name:
        Commune.objects.create(code=code, name=name, departement_id=dep)
    lat, lon = point or (None, None)
    Commune.objects.filter(pk=code).update(latitude=lat, longitude=lon)


def _unit_with_stops(*codes: str, name: str = "Unité mobile Mayenne"):
    unit = make_structure(name, kind=StructureKind.MOBILE)
    start = timezone.now() + datetime.timedelta(days=1)
    for day, code in enumerate(codes):
        Stop.objects.create(
            unit=unit,
            commune_id=code,
            place=f"Place {day + 1}",
            starts_at=start + datetime.timedelta(days=day),
            ends_at=start + datetime.timedelta(days=day, hours=3),
        )
    return unit


def _stop_map(client, unit) -> tuple[str, ElementTree.Element | None]:
    page = client.get(f"/deploiement/{unit.pk}/").content.decode()
    found = re.search(r'<svg[^>]*class="stop-map".*?</svg>', page, re.S)
    return page, ElementTree.fromstring(found.group(0)) if found else None


def _markers(svg: ElementTree.Element) -> list[tuple[int, float, float, str]]:
    """(number, x, y, class) of each stop marker, in the order of the document."""
    return [
        (
            int(g.get("data-stop")),
            float(g.find("circle").get("cx")),
            float(g.find("circle").get("cy")),
            g.get("class"),
        )
        for g in svg.iter("g")
        if "stop-marker" in g.get("class", "")
    ]


def test_stops_map_numbers_each_stop_where_its_commune_is(world):
    _place("53130", LAVAL)
    _place("72181", LE_MANS)
    _place("53147", MAYENNE, "Mayenne")
    unit = _unit_with_stops("53130", "72181", "53147", "53130")
    page, svg = _stop_map(logged_in(world.observer), unit)
    markers = _markers(svg)
    assert [m[0] for m in markers] == [1, 2, 3, 4]
    assert [g.find("text").text for g in svg.iter("g")] == ["1", "2", "3", "4"]
    (_, x1, y1, _), (_, x2, y2, _), (_, x3, y3, _), (_, x4, y4, _) = markers
    assert x2 > x3 > x1  # Le Mans east of Mayenne, east of Laval
    assert y3 < y1 and y3 < y2  # Mayenne is the northernmost
    # Two stops in Laval: two markers side by side around the same point, both readable.
    assert math.dist((x1, y1), (x4, y4)) >= 2 * map_svg.MARK_R
    assert math.dist((x1, y1), (x4, y4)) < math.dist((x1, y1), (x3, y3))
    # The route goes 1 → 2 → 3 → 4 through the markers, arrows at the middle of each leg.
    route = [tuple(map(float, p.split(","))) for p in svg.find("polyline").get("points").split()]
    assert route[::2] == [(x1, y1), (x2, y2), (x3, y3), (x4, y4)]
    assert route[1] == pytest.approx(((x1 + x2) / 2, (y1 + y2) / 2), abs=0.1)
    assert [t.text for t in svg.iter("text") if t.get("class") == "stop-place"] == [
        "Laval",
        "Le Mans",
        "Mayenne",
    ]
    assert svg.find("title").text == "Carte des 4 prochaines étapes"
    assert svg.find("desc").text == "Itinéraire : 1. Laval, 2. Le Mans, 3. Mayenne, 4. Laval."
    assert "Position estimée" not in page
    # Every marker stays inside the map.
    _x, _y, width, height = map(float, svg.get("viewBox").split())
    for _n, x, y, _c in markers:
        assert 0 < x < width and 0 < y < height


def test_a_commune_without_centre_is_placed_at_its_departement_and_said_so(world):
    _place("53130", LAVAL)
    _place("53147", MAYENNE, "Mayenne")
    Departement.objects.create(code="44", name="Loire-Atlantique", region_id="52")
    _place("44109", None, "Nantes", dep="44")  # no located commune in its département
    unit = _unit_with_stops("53130", "53062", "53147", "44109")
    page, svg = _stop_map(logged_in(world.observer), unit)
    (_, x1, y1, c1), (n2, x2, y2, c2), (_, x3, y3, _) = _markers(svg)
    assert (n2, "estimated" in c2, "estimated" in c1) == (2, True, False)
    # The mean of Mayenne's located communes: half-way between Laval and Mayenne.
    assert (x2, y2) == pytest.approx(((x1 + x3) / 2, (y1 + y3) / 2), abs=0.1)
    assert "Position estimée (cercle en pointillés) pour Château-Gontier-sur-Mayenne :" in page
    assert "Non placées sur la carte (position inconnue) : Nantes." in page
    assert "Place 4, Nantes</li>" in page  # still in the list
    # None placed at all: a sentence, not an empty map.
    lost = _unit_with_stops("44109", name="Unité mobile Loire-Atlantique")
    page, svg = _stop_map(logged_in(world.observer), lost)
    assert svg is None and "Aucune de ces étapes ne peut être placée sur la carte" in page


def test_a_unit_without_stops_shows_a_sentence_instead_of_a_map(world):
    unit = make_structure("Unité mobile Sarthe", kind=StructureKind.MOBILE)
    page, svg = _stop_map(logged_in(world.observer), unit)
    assert svg is None and "<svg" not in page
    assert "Aucune étape programmée : pas d'itinéraire à afficher sur une carte." in page


def test_the_map_keeps_to_the_next_stops(world):
    _place("53130", LAVAL)
    _place("72181", LE_MANS)
    unit = _unit_with_stops(*["53130", "72181"] * 7)
    page, svg = _stop_map(logged_in(world.observer), unit)
    assert [m[0] for m in _markers(svg)] == list(range(1, services.MAP_STOPS + 1))
    assert f"La carte montre les {services.MAP_STOPS} prochaines étapes" in page
    listed = re.search(r'<ol class="stop-list".*?</ol>', page, re.S).group(0)
    assert listed.count("<li>") == 14 and "Place 14, Le Mans" in listed


def test_unit_page_costs_constant_queries(world):
    _place("53130", LAVAL)
    _place("72181", LE_MANS)
    client = logged_in(world.observer)
    few_stops = _unit_with_stops("53130", "53062")
    many_stops = _unit_with_stops(*["53130", "72181", "53062"] * 8, name="Unité mobile 2")
    for unit in (few_stops, many_stops):  # the first visit creates the follow-up record
        client.get(f"/deploiement/{unit.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/deploiement/{few_stops.pk}/")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/deploiement/{many_stops.pk}/")
    assert len(many) == len(few)
