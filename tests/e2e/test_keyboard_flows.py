"""The main flows with the keyboard only, in Chromium against `live_server`: Tab and Shift+Tab
to move, typing, Enter and Space to act, never a click. Each step asserts that the focus
reached the element named for it, and every stop crossed shows its focus ring.

- logging in with the password then the authenticator code;
- asking for a télé-expertise: the patient chosen in the combobox, the filière, the form, the
  consent, sent;
- acknowledging a télésurveillance alert from the patient's page.
"""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from playwright.sync_api import expect

from telesante.teleexpertise.models import TeleExpertise
from telesante.telesurveillance import alerts
from telesante.telesurveillance.models import AlertState
from tests.conftest import PASSWORD, World
from tests.e2e.axe_check import assert_accessible
from tests.e2e.conftest import fresh_code, wait_until
from tests.e2e.keyboard import tab_to
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401
from tests.telesurveillance.test_pages import recent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_with_the_second_factor(world: World, page) -> None:
    page.goto(reverse("account_login"))
    tab_to(page, page.get_by_role("textbox", name="Courriel"))
    page.keyboard.type(world.nurse_a.email)
    tab_to(page, page.get_by_label("Mot de passe", exact=True))
    page.keyboard.type(PASSWORD)
    tab_to(page, page.get_by_role("button", name="Se connecter"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/compte/2fa/authenticate/")
    code = page.locator("input[name=code]")
    if not code.evaluate("(el) => el === document.activeElement"):
        tab_to(page, code)
    page.keyboard.type(fresh_code())
    page.keyboard.press("Enter")
    page.wait_for_url(reverse("home"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Bonjour {world.nurse_a.display_name}"
    )


@pytest.fixture
def filieres(transactional_db) -> None:
    """A flush between transactional tests empties what the data migration loaded."""
    load = importlib.import_module("telesante.acts.migrations.0002_filieres").load
    load(django_apps, None)


def test_teleexpertise_request_created_and_sent(filieres, world: World, new_page) -> None:
    page = new_page(user=world.nurse_a)
    page.goto(reverse("teleexpertise_create"))
    # The patient: typed in the combobox, chosen with the arrow and Enter.
    tab_to(page, page.get_by_role("combobox", name="Patient"))
    page.keyboard.type("dorv", delay=30)
    expect(page.get_by_role("option", name=re.compile("DORVANE Alix"))).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_until(page, "() => document.getElementById('patient').value !== ''")
    # The filière: a select answers the first letters typed.
    tab_to(page, page.get_by_role("combobox", name="Filière"))
    page.keyboard.type("Psy")
    expect(page.locator("#filiere")).to_have_value("psychiatrie")
    tab_to(page, page.get_by_role("button", name="Continuer"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"filiere=psychiatrie"))

    tab_to(page, page.get_by_role("textbox", name="Question posée à l'expert *"))
    page.keyboard.type("Agitation vespérale depuis une semaine : adapter le traitement ?")
    tab_to(page, page.get_by_role("combobox", name="Motif *"))
    page.keyboard.type("Anx")
    tab_to(page, page.get_by_role("textbox", name="Traitement en cours *"))
    page.keyboard.type("Paroxétine 20 mg le matin.")
    tab_to(page, page.get_by_role("combobox", name=re.compile("^Risque")))
    page.keyboard.type("Non")
    tab_to(page, page.get_by_role("checkbox", name=re.compile("^Le patient .* a été informé")))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("radio", name="Le patient consent"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Envoyer la demande"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/teleexpertise/\d+/$"))
    te = TeleExpertise.objects.get(act__patient=world.patient_a)
    assert te.act.filiere_id == "psychiatrie"
    assert te.form_data["reason"] == "Anxiété" and te.form_data["risk"] == "Non"
    assert te.act.consent.decision == "consent"


@pytest.fixture
def quiet(monkeypatch):
    """Seeding beside Playwright's event loop: no live push from the test process itself."""
    monkeypatch.setattr(alerts, "_deliver", lambda ids, now=None: 0)


def test_telesurveillance_alert_acknowledged(tsv: TSV, quiet, new_page) -> None:  # noqa: F811
    recent(tsv)
    alert = tsv.enrolment.alerts.get(state=AlertState.OPEN)
    page = new_page(user=tsv.operator)
    page.goto(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
    assert_accessible(page, "suivi avec une alerte ouverte")
    tab_to(page, page.get_by_role("button", name="Prendre en compte"))
    page.keyboard.press("Enter")
    expect(page.locator(f"[data-alert='{alert.pk}']")).to_contain_text("Prise en compte")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == tsv.operator
