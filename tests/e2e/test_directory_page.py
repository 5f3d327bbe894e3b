"""The public directory in Chromium, from the login page: search by place and filière, pages,
the map and its legend, at phone and desktop widths."""

import importlib

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import expect

from telesante.deployment import services as deployment
from telesante.structures.models import Commune, DeploymentStatus, Structure
from tests.conftest import World, make_structure
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def offers(world: World) -> None:
    importlib.import_module("telesante.acts.migrations.0002_filieres").load(django_apps, None)
    Commune.objects.filter(pk="53130").update(latitude=48.07, longitude=-0.77)
    Commune.objects.filter(pk="53062").update(latitude=47.83, longitude=-0.70)
    Commune.objects.filter(pk="72181").update(latitude=48.0, longitude=0.2)
    sites = [make_structure(f"EHPAD de Laval {i:02d}") for i in range(21)]
    sites += [make_structure("EHPAD Les Rives", commune="53062"), world.ehpad_b]
    for i, site in enumerate(sites):
        offer = deployment.site_for(site)
        offer.acts = ["teleexpertise"]
        offer.availability = "Lundi au vendredi, 9 h – 17 h"
        offer.contact = "Demande par la plateforme"
        offer.save()
        offer.filieres.set(["geriatrie"] if i % 2 == 0 else ["dermatologie"])
    Structure.objects.filter(name="EHPAD Les Rives").update(
        deployment_status=DeploymentStatus.IN_PROGRESS
    )


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_from_the_login_page_search_by_place_and_filiere_then_page(offers, new_page, device):
    page = new_page(PHONE if device == "phone" else DESKTOP)
    page.goto("/compte/login/")
    page.get_by_role("link", name="annuaire public").click()
    page.wait_for_url("**/annuaire/")
    expect(page.locator("#a-count")).to_have_text("23 sites · page 1 sur 2")
    legend = page.get_by_role("list", name="Légende de la carte")
    expect(legend).to_contain_text("Site déployé")
    expect(legend).to_contain_text("Site en cours de déploiement")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=f"screenshots/directory-{device}.png", full_page=True)

    page.get_by_label("Lieu").fill("mayenne")  # the département, typed without capitals
    page.get_by_label("Filière").select_option(label="Gériatrie")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#a-count")).to_have_text("11 sites")
    expect(page.locator(".offers > li.card")).to_have_count(11)
    expect(page.locator(".offers")).not_to_contain_text("EHPAD Le Verger")

    page.get_by_label("Lieu").fill("Laval")
    page.get_by_label("Filière").select_option(label="Toutes")
    page.get_by_role("button", name="Chercher").click()
    expect(page.locator("#a-count")).to_have_text("21 sites · page 1 sur 2")
    page.get_by_role("link", name="Suivant →").click()
    expect(page.locator("#a-count")).to_have_text("21 sites · page 2 sur 2")
    expect(page.locator(".offers > li.card")).to_have_count(1)
    assert page.get_by_label("Lieu").input_value() == "Laval"
