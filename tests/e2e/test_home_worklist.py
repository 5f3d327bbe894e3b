"""The home page in Chromium: the expert's work list takes a new request live (the real ASGI
server: the notification WebSocket), and the navigation folds on a phone, on one line on a
desktop."""

import json
import re
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from telesante.accounts.models import ApiToken, Profession
from telesante.structures.models import StructureKind
from tests.conftest import World, make_structure, make_user
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie
from tests.e2e.server import Server, running_server
from tests.teleexpertise.conftest import load_filieres

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-5000:])  # shown when the test fails


def api_post(server: Server, token: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_new_request_appears_live_on_the_experts_home(world: World, browser, server):
    load_filieres()  # a flush between transactional tests empties the migration's filières
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    expert = make_user(
        "geriatre@example.test", structure=ch, profession=Profession.DOCTOR, specialty="geriatrie"
    )
    context = browser.new_context(base_url=server.url, locale="fr-FR", **DESKTOP)
    context.set_default_timeout(10_000)
    login_cookie(context, server.url, expert)
    page = context.new_page()
    page.goto(reverse("home"))
    expect(page.locator("#unread-count")).to_have_attribute("data-live", "1")
    worklist = page.locator("#worklist")
    expect(worklist).to_contain_text("Rien à traiter pour le moment.")
    page.evaluate("window.sameDocument = true")

    # The EHPAD's nurse asks the gériatrie pool, through the same server (its API).
    _token, raw = ApiToken.issue(world.nurse_a)
    created = api_post(
        server,
        raw,
        "/api/v1/teleexpertise",
        {
            "patient_id": world.patient_a.pk,
            "structure_id": world.ehpad_a.pk,
            "filiere": "geriatrie",
            "question": "Chutes répétées depuis un mois : avis sur le traitement ?",
            "urgency": "urgent",
            "information_given": True,
            "decision": "consent",
            "form": {"reason": "Chutes", "treatment": "Donépézil 10 mg"},
        },
    )

    line = worklist.locator(".wl-line").first
    expect(line).to_contain_text("Nouvelle demande urgente")
    expect(line).to_contain_text(str(world.patient_a))
    expect(page.locator("#worklist-status")).to_contain_text("Liste mise à jour")
    assert page.evaluate("window.sameDocument") is True  # no reload
    line.locator("a.wl-main").click()
    page.wait_for_url(re.compile(rf"/teleexpertise/{created['id']}/$"))
    context.close()


def test_phone_navigation_folds_and_opens(world: World, new_page):
    page = new_page(PHONE, user=world.nurse_a)
    page.goto(reverse("home"))
    toggle = page.get_by_role("button", name="Menu")
    nav = page.locator("#main-nav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    for name in ("Accueil", "Patients", "Téléconsultation", "Télé-expertise", "Notifications"):
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40
    expect(nav.get_by_role("button", name="Déconnexion")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()

    toggle.click()
    nav.get_by_role("link", name="Patients", exact=True).click()
    page.wait_for_url("**/patients/")
    expect(page.locator("#main-nav")).to_be_hidden()  # folded again on the next page


@pytest.mark.parametrize("user", ["nurse_a", "regional_admin"])
def test_desktop_navigation_is_one_line(world: World, new_page, user):
    page = new_page(WIDE, user=getattr(world, user))
    page.goto(reverse("home"))
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    tops = page.eval_on_selector_all(
        "#main-nav > a, #main-nav > form", "els => els.map(e => e.getBoundingClientRect().top)"
    )
    assert len(tops) >= 4 and max(tops) - min(tops) < 8, tops
    brand = page.locator(".brand").bounding_box()
    first = page.locator("#main-nav > a").first.bounding_box()
    assert abs(brand["y"] - first["y"]) < 20  # the brand and the links share the line
