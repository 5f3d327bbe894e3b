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


def test_directory_api_pages_by_offset_and_limit_500_by_default(world):
    for name in ("EHPAD Les Tilleuls", "Site Z1", "Site Z2"):
        _offer(world.ehpad_a if name == "EHPAD Les Tilleuls" else make_structure(name))
    client = api_client(None)
    everything = client.get("/api/v1/directory")
    assert everything["X-Total-Count"] == "3" and len(everything.json()) == 3
    rest = client.get("/api/v1/directory", {"offset": 1, "limit": 1})
    assert _names(rest) == ["Site Z1"] and rest["X-Total-Count"] == "3"
    assert client.get("/api/v1/directory", {"limit": 501}).status_code == 422
    schema = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/directory"]["get"]
    limit = next(p for p in schema["parameters"] if p["name"] == "limit")
    assert limit["schema"]["default"] == 500 and "X-Total-Count" in schema["description"]


def _names(response) -> list[str]:
    return [e["name"] for e in response.json()]


def test_search_by_place_as_typed_without_accents(world):
    _offer(world.ehpad_a)  # Laval (53000), Mayenne
    _offer(world.ehpad_b)  # Le Mans, Sarthe
    _offer(make_structure("EHPAD Les Rives", commune="53062"))  # Château-Gontier-sur-Mayenne
    client = api_client(None)
    found = {
        place: _names(client.get("/api/v1/directory", {"place": place}))
        for place in ("laval", "chateau gontier", "CHÂTEAU", "mayenne", "53000", "72", "Brest")
    }
    assert found == {
        "laval": ["EHPAD Les Tilleuls"],
        "chateau gontier": ["EHPAD Les Rives"],
        "CHÂTEAU": ["EHPAD Les Rives"],
        "mayenne": ["EHPAD Les Rives", "EHPAD Les Tilleuls"],  # the département
        "53000": ["EHPAD Les Tilleuls"],
        "72": ["EHPAD Le Verger"],
        "Brest": [],
    }
    both = client.get("/api/v1/directory", {"place": "mayenne", "filiere": "geriatrie"})
    assert _names(both) == ["EHPAD Les Rives", "EHPAD Les Tilleuls"]
    elsewhere = client.get("/api/v1/directory", {"place": "laval", "filiere": "cardiologie"})
    assert _names(elsewhere) == []


def test_page_lists_twenty_sites_a_page_keeping_the_search(world):
    for i in range(23):
        _offer(make_structure(f"EHPAD {i:02d}"))
    _offer(world.ehpad_b)  # Sarthe: not in the search
    client = logged_in(None)
    first = client.get("/annuaire/", {"place": "Laval", "filiere": "geriatrie"})
    html = first.content.decode()
    assert first.status_code == 200
    assert "23 sites · page 1 sur 2" in html
    assert html.count('class="card" id="site-') == 20
    assert "EHPAD Le Verger" not in html
    assert 'href="?place=Laval&amp;filiere=geriatrie&amp;page=2"' in html
    second = client.get("/annuaire/", {"place": "Laval", "filiere": "geriatrie", "page": "2"})
    html = second.content.decode()
    assert html.count('class="card" id="site-') == 3
    assert "EHPAD 22" in html and "EHPAD 00" not in html
    assert 'href="?place=Laval&amp;filiere=geriatrie&amp;page=1"' in html
    # Past the last page: the last one, not an error.
    assert "EHPAD 22" in client.get("/annuaire/", {"page": "99"}).content.decode()


def test_map_has_a_legend_and_points_lead_to_the_sites(world):
    Commune.objects.filter(pk="53130").update(latitude=48.06667, longitude=-0.76667)
    _offer(world.ehpad_a)
    html = logged_in(None).get("/annuaire/").content.decode()
    # A point leads to its site's card with the mouse, out of the keyboard's tab order.
    assert f'<a href="#site-{world.ehpad_a.pk}" tabindex="-1"><circle' in html
    assert f'id="site-{world.ehpad_a.pk}"' in html
    assert 'class="site-map" role="group" aria-label="Carte des sites' in html
    legend = html.split('aria-label="Légende de la carte"', 1)[1].split("</ul>", 1)[0]
    assert "Site déployé" in legend and "Site en cours de déploiement" in legend


def test_page_costs_constant_queries_whatever_the_sites(world):
    _offer(world.ehpad_a)
    client = logged_in(None)
    client.get("/annuaire/", {"place": "laval"})
    with CaptureQueriesContext(connection) as few:
        client.get("/annuaire/", {"place": "laval"})
    for i in range(30):
        site = make_structure(f"EHPAD {i}")
        _offer(site)
        make_user(f"expert{i}@example.test", structure=site, specialty="geriatrie")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/annuaire/", {"place": "laval"}).status_code == 200
    assert len(many) == len(few)


def test_login_page_leads_to_the_public_directory(db):
    html = logged_in(None).get("/compte/login/").content.decode()
    assert 'href="/annuaire/"' in html


def test_api_refuses_a_nul_character_in_french(world):
    response = api_client(None).get(
        "/api/v1/directory", {"filiere": "derm\x00", "territory": "5\x003"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "filiere": ["Caractère nul interdit."],
        "territory": ["Caractère nul interdit."],
    }
