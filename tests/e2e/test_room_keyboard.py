"""The video room with the keyboard only and read by a screen reader, in Chromium against the
real ASGI server: the nurse waits, the cardiologist admits her with Tab and Enter, she mutes
her micro with Space, writes in the chat and hangs up; every change is announced in the polite
live region of whoever must hear it, every stop crossed shows its focus, the videos are named
after who they show, and axe-core finds nothing in the waiting room, in the call and with the
chat open, at phone and desktop widths.

Screenshots on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-a11y.sqlite3 \\
        .venv/bin/pytest tests/e2e/test_room_keyboard.py

PNGs go to screenshots/a11y-room-<state>-<phone|desktop>.png (gitignored).
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import GuestLink
from tests.e2e.axe_check import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE, shoot
from tests.e2e.keyboard import FOCUSED, tab_to
from tests.e2e.server import Server
from tests.e2e.test_teleconsultation_call import open_as, server  # noqa: F401
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


def heard(page, text: str) -> None:
    """`text` was announced in the page's polite live region."""
    expect(page.locator("#room-announcer")).to_contain_text(text)


def test_wait_admit_mute_chat_and_hang_up_with_the_keyboard_only(
    browser,
    server: Server,  # noqa: F811
    tc_world: TC,  # noqa: F811
):
    nurse, doctor = tc_world.w.nurse_a, tc_world.cardiologist
    nurse_as_seen = f"{nurse.display_name}, Infirmier·ère"
    url = reverse("room", args=[tc_world.room.slug])
    doc_ctx, doc = open_as(browser, server, doctor, DESKTOP)
    nurse_ctx, nu = open_as(browser, server, nurse, PHONE)
    try:
        doc.goto(url)
        expect(doc.locator("#room")).to_have_attribute("data-state", "in-call")
        # The heading says who the call is with, not one's own name.
        expect(doc.get_by_role("heading", level=1)).to_have_text(
            f"Téléconsultation avec DORVANE Alix (patient·e), {nurse.display_name} (Infirmier·ère)"
        )
        nu.goto(url)
        expect(nu.get_by_role("heading", level=1)).to_have_text(
            f"Téléconsultation avec {doctor.display_name} (Médecin)"
        )
        expect(nu.locator("#room")).to_have_attribute("data-state", "waiting")
        heard(nu, "En salle d'attente.")
        heard(doc, f"{nurse_as_seen} attend dans la salle d'attente.")
        assert_accessible(nu, "salle d'attente, téléphone")
        assert_accessible(doc, "salle, médecin seul avec une personne en attente")
        shoot(nu, "a11y-room-waiting", WIDTHS)
        nu.set_viewport_size(PHONE["viewport"])

        # The doctor admits her from the keyboard; the focus stays in the waiting list's card.
        tab_to(doc, doc.get_by_role("button", name=f"Admettre {nurse.display_name}"))
        doc.keyboard.press("Enter")
        heard(nu, "Vous êtes admis·e dans l'appel.")
        heard(doc, f"{nurse_as_seen} a rejoint l'appel.")
        expect(doc.locator("#waiting-list")).to_contain_text("Personne pour l'instant.")
        assert doc.locator("#waiting-title").evaluate(FOCUSED)
        # Each video is named after who it shows; each « Photo » button's name starts so.
        expect(doc.get_by_role("figure", name=nurse_as_seen)).to_be_visible()
        expect(nu.get_by_role("figure", name=f"{doctor.display_name}, Médecin")).to_be_visible()
        expect(nu.get_by_role("figure", name="Vous")).to_be_visible()
        photo = nu.get_by_role("button", name=f"Photo de la vidéo de {doctor.display_name}")
        expect(photo).to_have_text("Photo")
        expect(nu.get_by_role("button", name="Photo de votre caméra")).to_have_text("Photo")
        assert_accessible(nu, "en appel, téléphone")
        assert_accessible(doc, "en appel, PC")

        # The nurse mutes her micro with Space, turns her camera off with Enter.
        tab_to(nu, nu.get_by_role("button", name="Couper le micro"))
        nu.keyboard.press("Space")
        expect(nu.locator("#btn-mic")).to_have_attribute("aria-pressed", "true")
        expect(nu.locator("#btn-mic")).to_have_text("Rétablir le micro")
        heard(nu, "Micro coupé.")
        tab_to(nu, nu.get_by_role("button", name="Couper la caméra"))
        nu.keyboard.press("Enter")
        heard(nu, "Caméra coupée.")
        nu.keyboard.press("Enter")
        heard(nu, "Caméra rétablie.")
        # « Verser un document » is reached and shows its focus (on its label).
        tab_to(nu, nu.locator("#share-file"))
        # The chat: a log the screen reader reads as messages arrive.
        tab_to(nu, nu.get_by_role("textbox", name="Message"))
        nu.keyboard.type("Bonjour docteur, Mme Dorvane est installée.")
        nu.keyboard.press("Enter")
        log = doc.get_by_role("log", name="Messages")
        expect(log).to_contain_text("Bonjour docteur, Mme Dorvane est installée.")
        expect(nu.get_by_role("log", name="Messages")).to_contain_text("Bonjour docteur")
        assert_accessible(doc, "messages, PC")
        assert_accessible(nu, "messages, téléphone")
        shoot(doc, "a11y-room-call-doctor", WIDTHS)
        shoot(nu, "a11y-room-call-nurse", WIDTHS)
        # No sideways scroll on the smallest phone.
        nu.set_viewport_size({"width": 320, "height": 640})
        assert nu.evaluate("document.documentElement.scrollWidth") <= 320

        # She hangs up: back to « Quitter » (before the chat), Enter.
        tab_to(nu, nu.get_by_role("button", name="Quitter"), backwards=True)
        nu.keyboard.press("Enter")
        heard(nu, "Vous avez quitté la salle.")
        heard(doc, f"{nurse.display_name} a quitté l'appel.")
        expect(doc.locator(".tile.remote")).to_have_count(0)
    finally:
        doc_ctx.close()
        nurse_ctx.close()


def test_a_guest_types_the_code_and_is_admitted_with_the_keyboard_only(
    browser,
    server: Server,  # noqa: F811
    tc_world: TC,  # noqa: F811
):
    """The patient at home: the code page, then the waiting room, read and used like the
    professionals' (and the connection check the professionals run beforehand)."""
    doctor = tc_world.cardiologist
    guest = rooms.create_guest_link(None, doctor, tc_world.room, "Mme Dorvane", "patient", 2)
    GuestLink.objects.filter(pk=guest.pk).update(code_hash=rooms._code_digest(guest.pk, "246810"))
    doc_ctx, doc = open_as(browser, server, doctor, DESKTOP)
    guest_ctx = browser.new_context(base_url=server.url, locale="fr-FR", **PHONE)
    guest_ctx.set_default_timeout(15_000)
    try:
        doc.goto(reverse("connection_test"))
        expect(doc.locator("#test-rtt")).not_to_have_text("Mesure en cours…")
        assert_accessible(doc, "test de connexion")
        doc.goto(reverse("room", args=[tc_world.room.slug]))
        expect(doc.locator("#room")).to_have_attribute("data-state", "in-call")

        patient = guest_ctx.new_page()
        patient.goto(tokens.guest_path(guest.pk))
        assert_accessible(patient, "code de l'invité")
        tab_to(patient, patient.get_by_role("textbox", name="Code"))
        patient.keyboard.type("246810")
        patient.keyboard.press("Enter")
        expect(patient.locator("#room")).to_have_attribute("data-state", "waiting")
        expect(patient.get_by_role("heading", level=1)).to_have_text(
            f"Téléconsultation avec {doctor.display_name} (Médecin), "
            f"{tc_world.w.nurse_a.display_name} (Infirmier·ère)"
        )
        heard(doc, "Mme Dorvane, Patient (à domicile) attend dans la salle d'attente.")
        assert_accessible(patient, "salle d'attente de l'invité")
        tab_to(doc, doc.get_by_role("button", name="Admettre Mme Dorvane"))
        doc.keyboard.press("Space")
        heard(patient, "Vous êtes admis·e dans l'appel.")
        expect(
            patient.get_by_role("figure", name=f"{doctor.display_name}, Médecin")
        ).to_be_visible()
        assert_accessible(patient, "invité en appel")
        shoot(patient, "a11y-room-guest", WIDTHS)
    finally:
        doc_ctx.close()
        guest_ctx.close()
