"""The public directory: page and API, filters, constant queries, no patient data."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from telesante.deployment import services as deployment
from telesante.directory.importers import import_finess, import_rpps
from telesante.structures.models import Commune, DeploymentStatus, Structure
from tests.conftest import api_client, logged_in, make_structure, make_user
from tests.directory.test_imports import FINESS, RPPS


def _offer(structure, acts=("teleexpertise",), filieres=("geriatrie",)):
    site = deployment.site_for(structure)
    site.acts = list(acts)
    site.contact = "Demande par la plateforme, filière gériatrie"
    site.availability = "Lundi au vendredi"
    site.save()
    site.filieres.set(filieres)
    return site


def test_public_api_lists_offers_with_filters(world):
    Commune.objects.filter(pk="53130").update(latitude=48.06667, longitude=-0.76667)
    _offer(world.ehpad_a)
    _offer(world.ehpad_b, acts=("teleconsultation",), filieres=("dermatologie",))
    make_user(
        "geriatre@example.test",
        structure=world.ehpad_a,
        specialty="geriatrie",
        profession="medecin",
    )
    client = api_client(None)
    everything = client.get("/api/v1/directory").json()
    assert [e["name"] for e in everything] == ["EHPAD Les Tilleuls", "EHPAD Le Verger"]
    tilleuls = everything[0]
    assert tilleuls["acts"] == [{"code": "teleexpertise", "label": "Télé-expertise"}]
    assert tilleuls["filieres"] == [{"code": "geriatrie", "name": "Gériatrie"}]
    assert tilleuls["position"] == [48.06667, -0.76667]
    assert {p["specialty"] for p in tilleuls["professionals"]} == {"Gériatrie", "Médecine générale"}
    assert [e["name"] for e in client.get("/api/v1/directory?territory=72").json()] == [
        "EHPAD Le Verger"
    ]
    assert client.get("/api/v1/directory?filiere=geriatrie").json()[0]["id"] == world.ehpad_a.pk
    assert len(client.get("/api/v1/directory?act=teleconsultation").json()) == 1
    bad = client.get("/api/v1/directory?act=magie&territory=00&filiere=x")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"act", "territory", "filiere"}


def test_planned_sites_are_not_listed(world):
    _offer(world.ehpad_a)
    Structure.objects.filter(pk=world.ehpad_a.pk).update(deployment_status=DeploymentStatus.PLANNED)
    assert api_client(None).get("/api/v1/directory").json() == []


def test_public_page_lists_imported_practitioners_and_a_map(world):
    Commune.objects.filter(pk="53130").update(latitude=48.06667, longitude=-0.76667)
    import_finess(FINESS)
    import_rpps(RPPS)
    _offer(world.ehpad_a)
    page = logged_in(None).get("/annuaire/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "MARVELLE" in html and "<svg" in html and "Lundi au vendredi" in html
    assert "DORVANE" not in html
    assert logged_in(None).get("/annuaire/", {"act": "x"}).status_code == 400


def test_directory_costs_constant_queries(world):
    _offer(world.ehpad_a)
    client = api_client(None)
    client.get("/api/v1/directory")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/directory")
    for i in range(6):
        site = make_structure(f"EHPAD {i}")
        _offer(site)
        make_user(f"expert{i}@example.test", structure=site, specialty="geriatrie")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/directory").json()) == 7
    assert len(many) == len(few)


def test_api_refuses_a_nul_character_in_french(world):
    response = api_client(None).get(
        "/api/v1/directory", {"filiere": "derm\x00", "territory": "5\x003"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "filiere": ["Caractère nul interdit."],
        "territory": ["Caractère nul interdit."],
    }
