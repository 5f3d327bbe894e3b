"""Milestones drive the deployment status and dates that the indicators count."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.deployment import services
from telesante.deployment.models import Milestone, Stop
from telesante.indicators import filters
from telesante.indicators.figures import compute
from telesante.structures.models import DeploymentStatus, Structure, StructureKind
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
