"""Pages shaped by role, in Chromium: the room shows the patient to the doctor and nothing of
it to a guest; the guest link is copied in one click and sent by e-mail or SMS from the
téléconsultation page; the patient's page lists the acts with what one may do.

Screenshots (390 and 1280 px) on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-rp.sqlite3 \
        .venv/bin/pytest -n 0 tests/e2e/test_room_patient_and_guest_link.py

PNGs go to screenshots/rp-<page>-<phone|desktop>.png (gitignored).
"""

import datetime
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from telesante.documents import services as documents
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.teleconsultation import services as tc_services
from telesante.telesurveillance import forfaits
from tests.e2e.conftest import PHONE, login_cookie
from tests.e2e.conftest import shoot as e2e_shoot
from tests.e2e.server import Server, running_server
from tests.rooms.conftest import TC, booking, in_call, tc_world  # noqa: F401
from tests.teleexpertise.conftest import jpeg
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
DEVICES = {"phone": PHONE, "desktop": LAPTOP}


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"rp-{name}")


def fits(page, device: dict) -> None:
    """Nothing wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= device["viewport"]["width"]


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """E-mails and SMS leave in process once the transaction commits (live_server's thread)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-5000:])  # shown when the test fails


def test_the_doctor_sees_the_patient_and_the_guest_does_not(
    browser,
    server: Server,
    tc_world: TC,  # noqa: F811
):
    room, doctor = tc_world.room, tc_world.cardiologist
    act = tc_world.consultation.act
    ecg = documents.store(act, tc_world.w.nurse_a, documents.clean_upload(jpeg("ecg.jpg")))
    guest = rooms.create_guest_link(None, doctor, room, "Mme Dorvane", "patient", 2)
    contexts = []
    try:
        for name, device in DEVICES.items():
            doc_ctx = browser.new_context(base_url=server.url, locale="fr-FR", **device)
            guest_ctx = browser.new_context(base_url=server.url, locale="fr-FR", **device)
            contexts += [doc_ctx, guest_ctx]
            for context in (doc_ctx, guest_ctx):
                context.set_default_timeout(15_000)
            login_cookie(doc_ctx, server.url, doctor)
            doc, visitor = doc_ctx.new_page(), guest_ctx.new_page()
            doc.goto(reverse("room", args=[room.slug]))
            expect(doc.locator("#room")).to_have_attribute("data-state", "in-call", timeout=20_000)
            panel = doc.locator("#patient-panel")
            expect(panel).to_be_visible()
            expect(panel).to_contain_text("DORVANE Alix")
            expect(panel.locator("#patient-age")).to_contain_text(re.compile(r"\d+ ans"))
            expect(panel.locator("#patient-reason")).to_have_text(
                "Dyspnée d'effort, œdèmes des membres inférieurs"
            )
            document_link = panel.get_by_role("link", name="ecg.jpg")
            expect(document_link).to_have_attribute("href", reverse("attachment", args=[ecg.pk]))
            report = doc.locator("#report-text")
            box = report.bounding_box()
            # Room to write: a tall box; beside the videos on a PC, under them on a phone.
            assert box["height"] >= 250, box
            stage = doc.locator(".room-stage").bounding_box()
            if name == "desktop":
                assert box["x"] > stage["x"] + stage["width"] - 1 and box["width"] >= 360
            else:
                assert box["y"] > stage["y"] + stage["height"] - 1
            # The text grows with what is written.
            report.fill("Examen clinique.\n" * 30)
            assert report.bounding_box()["height"] > box["height"]
            report.fill("")

            visitor.goto(tokens.guest_path(guest.pk))
            if name == "phone":
                doc.get_by_role("button", name="Admettre Mme Dorvane").click()
            expect(visitor.locator("#room")).to_have_attribute(
                "data-state", "in-call", timeout=20_000
            )
            expect(doc.locator(".tile.remote video")).to_have_count(1, timeout=20_000)
            expect(visitor.locator("#patient-panel")).to_have_count(0)
            expect(visitor.locator("#report-text")).to_have_count(0)
            body = visitor.locator("body").inner_text()
            for medical in ("DORVANE", "Dyspnée", "ecg.jpg", "02/03/1940"):
                assert medical not in body, medical
            for page in (doc, visitor):
                fits(page, device)
            shoot(doc, f"room-doctor-{name}")
            shoot(visitor, f"room-guest-{name}")
            doc_ctx.close()
            guest_ctx.close()
    finally:
        for context in contexts:
            context.close()


def test_guest_link_copied_in_one_click_then_sent_by_email_and_sms(
    browser,
    live_server,
    tc_world: TC,  # noqa: F811
    mailoutbox,
    capfd,
):
    pk = tc_world.consultation.pk
    for name, device in DEVICES.items():
        context = browser.new_context(base_url=live_server.url, locale="fr-FR", **device)
        try:
            context.set_default_timeout(15_000)
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            login_cookie(context, live_server.url, tc_world.cardiologist)
            page = context.new_page()
            page.goto(reverse("teleconsultation_detail", args=[pk]))
            page.fill("#label", f"M. Valmorin ({name})")
            page.select_option("#relation", "famille")
            page.get_by_role("button", name="Créer le lien invité").click()
            page.wait_for_load_state()  # the copy button's script runs once the page is parsed
            link = page.locator("#guest-link").input_value()
            assert "/salle/invite/" in link
            expect(page.locator("#copy-status")).to_be_hidden()
            page.get_by_role("button", name="Copier le lien").click()
            expect(page.locator("#copy-status")).to_have_text("Lien copié")
            assert page.evaluate("navigator.clipboard.readText()") == link
            fits(page, device)
            shoot(page, f"tc-guest-link-{name}")

            # A wrong number: a French message, nothing sent, the link still there.
            page.fill("#send-contact", "06 12")
            page.get_by_role("button", name="Envoyer le lien").click()
            expect(page.locator(".messages")).to_contain_text("Numéro de téléphone invalide")
            expect(page.locator("#guest-link")).to_be_visible()
            contact = "fils@example.test" if name == "phone" else "07 55 66 77 88"
            page.fill("#send-contact", contact)
            page.get_by_role("button", name="Envoyer le lien").click()
            expect(page.locator(".messages")).to_contain_text("Lien envoyé à")
            shoot(page, f"tc-guest-link-sent-{name}")
        finally:
            context.close()
    [mail] = mailoutbox
    assert mail.to == ["fils@example.test"] and "/salle/invite/" in mail.body
    assert "[SMS] à +33755667788 : Télésanté : votre lien" in capfd.readouterr().out
    for text in (mail.body, mail.subject):
        assert "DORVANE" not in text and "Dyspnée" not in text


def test_the_patient_page_lists_acts_with_their_actions(
    browser,
    live_server,
    tc_world: TC,  # noqa: F811
    tsv: TSV,  # noqa: F811
):
    w = tc_world.w
    forfaits.record(tsv.enrolment, datetime.date(2026, 1, 1))
    done = tc_services.create(None, w.nurse_a, booking(w, tc_world.cardiologist))
    in_call(done, tc_world.cardiologist)  # done, with its report, once both met in the call
    # Closing notifies over the channel layer (async_to_sync), which the browser's event loop
    # in this thread forbids: another thread closes it.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            tc_services.save_report, None, tc_world.cardiologist, done, "RAS", finish=True
        ).result()
    for name, device in DEVICES.items():
        context = browser.new_context(base_url=live_server.url, locale="fr-FR", **device)
        try:
            context.set_default_timeout(15_000)
            login_cookie(context, live_server.url, w.nurse_a)
            page = context.new_page()
            page.goto(reverse("patient_detail", args=[w.patient_a.pk]))
            acts = page.locator("#acts")
            expect(acts.locator("tbody tr")).to_have_count(2)
            expect(acts.get_by_role("link", name="Rejoindre la salle")).to_have_attribute(
                "href", reverse("room", args=[tc_world.room.slug])
            )
            expect(acts.get_by_role("link", name="Compte rendu (PDF)")).to_have_attribute(
                "href", reverse("teleconsultation_report", args=[done.pk])
            )
            fits(page, device)
            shoot(page, f"patient-{name}")
            with page.expect_navigation():
                page.get_by_role("link", name="Programmer une téléconsultation").click()
            expect(page.locator("#patient")).to_have_value(str(w.patient_a.pk))
            # The prescriber of the monitoring: its act, its forfait, the way to its page.
            login_cookie(context, live_server.url, w.doctor_a)
            page.goto(reverse("patient_detail", args=[w.patient_a.pk]))
            followed = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
            expect(page.locator("#monitorings")).to_contain_text("En cours")
            expect(page.get_by_role("link", name="Ouvrir le suivi")).to_have_attribute(
                "href", followed
            )
            expect(page.locator("#acts")).to_contain_text(
                "Forfait mensuel de l'opérateur, janvier 2026"
            )
            expect(
                page.locator("#acts").get_by_role("link", name="Rejoindre la salle")
            ).to_have_count(0)
            fits(page, device)
            shoot(page, f"patient-prescriber-{name}")
        finally:
            context.close()
