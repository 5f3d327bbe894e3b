"""« Rechercher l'INS » in Chromium: a mismatch named on the page, then the identity corrected
and qualified with the matricule shown, on a phone and a nursing-home PC."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from telesante.patients import services
from telesante.patients.models import IdentityStatus, Patient
from tests.conftest import World, make_patient
from tests.e2e.conftest import DESKTOP, PHONE, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def local_insi(settings):
    settings.TELESANTE_INSI_BACKEND = "telesante.patients.insi.LocalBackend"


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_insi_button_names_a_mismatch_then_qualifies(world: World, new_page, device):
    # A synthetic test identity of the local backend, typed with one first name missing.
    patient = make_patient(
        world.ehpad_a, birth_name="MARTINEAU", first_names="Claire", birth_date="1948-03-12"
    )
    page = new_page(device, user=world.nurse_a)
    page.goto(reverse("patient_detail", args=[patient.pk]))
    section = page.locator("#insi")
    expect(section.get_by_role("heading")).to_have_text("Rechercher l'INS")
    section.get_by_label("Pièce d'identité vue avec le patient").select_option("id_card")
    section.get_by_role("button", name="Rechercher l'INS").click()
    warning = page.locator(".messages li.warning")
    expect(warning).to_contain_text("prénom(s) de naissance")
    expect(warning).to_contain_text("INSi « Claire Hélène »")
    expect(page.locator(".badge.status-PROV")).to_be_visible()
    assert no_horizontal_scroll(page)
    name = "phone" if device is PHONE else "desktop"
    shoot(page, f"insi-mismatch-{name}")

    # Corrected with the patient (all the first names), then asked again.
    patient.refresh_from_db()
    services.update(None, world.nurse_a, patient, {"first_names": "Claire Hélène"})
    page.reload()
    section.get_by_label("Pièce d'identité vue avec le patient").select_option("id_card")
    section.get_by_role("button", name="Rechercher l'INS").click()
    expect(page.locator(".messages li.success")).to_have_text("Identité qualifiée par INSi.")
    expect(page.locator(".badge.status-QUAL")).to_be_visible()
    expect(page.locator("main")).to_contain_text("248035313010121")
    expect(section).to_contain_text("Pièce vérifiée : Carte nationale d'identité.")
    assert no_horizontal_scroll(page)
    shoot(page, f"insi-qualified-{name}")
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.QUALIFIED
    assert Patient.objects.get(pk=patient.pk).validation_mode == "id_card"
