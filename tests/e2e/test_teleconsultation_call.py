"""A téléconsultation in Chromium with fake cameras, against the real ASGI server.

The EHPAD's nurse (on a phone) enters the room and waits; the cardiologist (on a PC) admits her;
both remote videos play (their frame counters advance), a chat message arrives; the nurse's
WebSocket is cut, her page rejoins and the video resumes (a drop and a reconnection recorded);
a snapshot goes into the record; the cardiologist writes the report beside the call and closes
the act: the PDF exists.

Screenshots of the room (phone and desktop) on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-tc.sqlite3 \
        .venv/bin/pytest tests/e2e/test_teleconsultation_call.py

PNGs go to screenshots/tc-<page>-<phone|desktop>.png (gitignored).
"""

from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from telesante.acts.models import Act, ActStatus, Incident
from telesante.documents.models import Attachment
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.teleconsultation.models import TeleConsultation
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie, wait_until
from tests.e2e.conftest import shoot as e2e_shoot
from tests.e2e.server import Server, running_server
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Frames decoded by a <video>: requestVideoFrameCallback's counter, or the playback quality.
FRAMES_JS = """(selector) => {
  const v = document.querySelector(selector);
  if (!v) return 0;
  return Math.max(Number(v.dataset.frames || 0), v.getVideoPlaybackQuality().totalVideoFrames);
}"""


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-5000:])  # shown when the test fails


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"tc-{name}")


def open_as(browser, server: Server, user, device: dict):
    context = browser.new_context(base_url=server.url, locale="fr-FR", **device)
    context.set_default_timeout(15_000)
    login_cookie(context, server.url, user)
    return context, context.new_page()


def frames_advance(page, selector: str, more: int = 5) -> None:
    # Bounded generously: two Chromium pages decode software video on a shared 2-core machine.
    start = page.evaluate(FRAMES_JS, selector)
    wait_until(
        page,
        f"([selector, target]) => ({FRAMES_JS})(selector) >= target",
        [selector, start + more],
        timeout=45_000,
    )


def start_call(doc, nu, tc_world: TC) -> None:  # noqa: F811
    """The cardiologist enters, the nurse waits, is admitted, and video flows both ways."""
    url = reverse("room", args=[tc_world.room.slug])
    doc.goto(url)
    expect(doc.locator("#room")).to_have_attribute("data-state", "in-call")
    nu.goto(url)
    expect(nu.locator("#room")).to_have_attribute("data-state", "waiting")
    expect(nu.locator("#waiting-panel")).to_be_visible()
    shoot(nu, "waiting-phone")
    doc.get_by_role("button", name=f"Admettre {tc_world.w.nurse_a.display_name}").click()
    expect(nu.locator("#room")).to_have_attribute("data-state", "in-call")
    for page in (doc, nu):
        expect(page.locator(".tile.remote video")).to_have_count(1)
        frames_advance(page, ".tile.remote video")


@pytest.fixture
def call(browser, server: Server, tc_world: TC):  # noqa: F811
    """The cardiologist on a PC and the EHPAD's nurse on a phone, in the call."""
    doc_ctx, doc = open_as(browser, server, tc_world.cardiologist, DESKTOP)
    nurse_ctx, nu = open_as(browser, server, tc_world.w.nurse_a, PHONE)
    try:
        start_call(doc, nu, tc_world)
        yield doc, nu
    finally:
        doc_ctx.close()
        nurse_ctx.close()


def test_patient_at_home_files_a_document_once_admitted(
    browser,
    server: Server,
    tc_world: TC,  # noqa: F811
    tmp_path,
):
    """The patient joins from home by her guest link (phone), the doctor admits her, she files
    a photo of her prescription; the doctor's chat says so, and she gets no link to the record."""
    room, doctor = tc_world.room, tc_world.cardiologist
    guest = rooms.create_guest_link(None, doctor, room, "Mme Dorvane", "patient", 2)
    photo = tmp_path / "ordonnance.jpg"
    Image.new("RGB", (320, 240), (240, 240, 230)).save(photo, "JPEG")
    doc_ctx, doc = open_as(browser, server, doctor, DESKTOP)
    contexts = [doc_ctx]
    try:
        doc.goto(reverse("room", args=[room.slug]))
        expect(doc.locator("#room")).to_have_attribute("data-state", "in-call")
        for device_name, device in (("phone", PHONE), ("desktop", DESKTOP)):
            context = browser.new_context(base_url=server.url, locale="fr-FR", **device)
            context.set_default_timeout(15_000)
            contexts.append(context)
            patient = context.new_page()
            patient.goto(tokens.guest_path(guest.pk))
            if device_name == "phone":
                doc.get_by_role("button", name="Admettre Mme Dorvane").click()
            # Admitted once: on another device she enters at once.
            expect(patient.locator("#room")).to_have_attribute("data-state", "in-call")
            assert (
                patient.evaluate("document.documentElement.scrollWidth")
                <= device["viewport"]["width"]
            )
            shoot(patient, f"guest-room-{device_name}")
        patient.locator("#share-file").set_input_files(str(photo))
        # In her chat log (the status line is rewritten as people come and go).
        expect(patient.locator("#chat-log")).to_contain_text(
            "Document versé au dossier : ordonnance.jpg"
        )
        expect(doc.locator("#chat-log")).to_contain_text(
            "Document versé au dossier : ordonnance.jpg"
        )
        filed = Attachment.objects.get(act_id=tc_world.consultation.pk)
        assert filed.uploaded_by is None and filed.uploaded_by_guest_id == guest.pk
        answer = patient.request.get(reverse("attachment", args=[filed.pk]), max_redirects=0)
        assert answer.status == 302
    finally:
        for context in contexts:
            context.close()


def test_doctor_admits_nurse_video_both_ways_chat_and_report(call, tc_world: TC):  # noqa: F811
    nurse, doctor = tc_world.w.nurse_a, tc_world.cardiologist
    doc, nu = call
    expect(nu.locator("#room-status")).to_have_text("En communication (2 participants).")

    nu.fill("#chat-input", "Mme Dorvane est installée, tension 14/8.")
    nu.get_by_role("button", name="Envoyer").click()
    expect(doc.locator("#chat-log")).to_contain_text("tension 14/8")
    # The nurse's WebSocket is cut: her page reconnects on its own and the video resumes.
    first_tile = doc.locator(".tile.remote").get_attribute("data-peer")
    nu.evaluate("window.telesanteRoom.ws.close()")
    expect(doc.locator(f".tile.remote[data-peer='{first_tile}']")).to_have_count(0)
    expect(nu.locator("#room")).to_have_attribute("data-state", "in-call")
    for page in (doc, nu):
        expect(page.locator(".tile.remote video")).to_have_count(1)
        frames_advance(page, ".tile.remote video")
    # Heard in the live regions: her cut and return, her leaving and coming back for him.
    expect(nu.locator("#room-announcer")).to_contain_text("Connexion perdue : reconnexion…")
    expect(nu.locator("#room-announcer")).to_contain_text("Connexion rétablie.")
    expect(doc.locator("#room-announcer")).to_contain_text(
        f"{nurse.display_name} a quitté l'appel."
    )
    expect(doc.locator("#room-announcer")).to_contain_text(
        f"{nurse.display_name}, Infirmier·ère a rejoint l'appel."
    )
    label = nurse.display_name
    assert list(
        Incident.objects.filter(act_id=tc_world.consultation.pk).values_list(
            "description", flat=True
        )
    ) == [f"Coupure de la connexion de {label}.", f"Reconnexion de {label}."]

    # A snapshot of the nurse's video (her otoscope, say) goes into the record.
    doc.get_by_role("button", name=f"Photo de la vidéo de {nurse.display_name}").click()
    expect(doc.locator("#chat-log")).to_contain_text("Document versé au dossier : cliche-")
    expect(nu.locator("#chat-log")).to_contain_text("Document versé au dossier : cliche-")
    snapshot = Attachment.objects.get(act_id=tc_world.consultation.pk)
    assert snapshot.content_type == "image/jpeg" and snapshot.uploaded_by == doctor
    doc.get_by_role("button", name="Couper le micro").click()
    expect(doc.locator("#btn-mic")).to_have_attribute("aria-pressed", "true")
    assert doc.evaluate("window.telesanteRoom.stream.getAudioTracks()[0].enabled") is False
    expect(doc.locator("#quality")).to_contain_text("ms")
    shoot(doc, "call-desktop")
    shoot(nu, "call-phone")

    doc.fill("#report-text", "Insuffisance cardiaque décompensée modérée : furosémide 40 mg.")
    doc.check("input[name=finish]")
    doc.get_by_role("button", name="Enregistrer").click()
    pdf_link = doc.locator("#report-pdf")
    expect(pdf_link).to_be_visible()
    response = doc.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200
    assert response.body()[:5] == b"%PDF-"
    act = Act.objects.get(pk=tc_world.consultation.pk)
    assert act.status == ActStatus.DONE and act.report.name.endswith(".pdf")
    assert sorted(act.billing_codes.values_list("code", flat=True)) == ["TC", "TLS"]
    # Billed because the room saw the doctor and the nurse in the call together, that long.
    assert act.teleconsultation.video_seconds > 0


def test_connection_test_page_measures_a_round_trip(browser, server: Server, tc_world: TC):  # noqa: F811
    for name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page = open_as(browser, server, tc_world.w.nurse_a, device)
        try:
            page.goto(reverse("connection_test"))
            expect(page.locator("#test-rtt")).to_contain_text("Connexion prête")
            expect(page.locator("#test-media")).to_contain_text("Caméra et micro disponibles")
            shoot(page, f"connection-test-{name}")
        finally:
            context.close()


def test_teleconsultation_pages_on_phone_and_desktop(browser, server: Server, tc_world: TC):  # noqa: F811
    pk, room, doctor = tc_world.consultation.pk, tc_world.room, tc_world.cardiologist
    TeleConsultation.objects.filter(pk=pk).update(
        patient_email="alix.dorvane@example.test", patient_phone="+33611223344"
    )
    rooms.create_guest_link(None, doctor, room, "M. Valmorin (fils)", "famille", 2, "0755667788")
    gone = rooms.create_guest_link(None, doctor, room, "Interprète", "interprete", 2)
    rooms.revoke_guest_link(None, doctor, room, gone.pk)
    pages = {
        "list": (reverse("teleconsultation_list"), "Téléconsultations et télésoins"),
        "create": (
            reverse("teleconsultation_create") + f"?performer={tc_world.cardiologist.pk}",
            "Programmer une téléconsultation ou un télésoin",
        ),
        "detail": (reverse("teleconsultation_detail", args=[pk]), f"Téléconsultation #{pk}"),
        "availability": (reverse("teleconsultation_availability"), "Mes disponibilités"),
    }
    for device_name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page = open_as(browser, server, tc_world.w.nurse_a, device)
        try:
            for name, (url, title) in pages.items():
                page.goto(url)
                expect(page.locator("h1")).to_contain_text(title)
                # Nothing wider than the screen on a phone.
                assert (
                    page.evaluate("document.documentElement.scrollWidth")
                    <= device["viewport"]["width"]
                )
                shoot(page, f"{name}-{device_name}")
        finally:
            context.close()


# Rows whose label's text meets its value's: the text's extent (a Range), not the elements' boxes,
# since a word longer than its column spills out of its box.
LABELS_OVER_VALUES_JS = """() => {
  const extent = (el) => { const r = document.createRange(); r.selectNodeContents(el);
                           return r.getBoundingClientRect(); };
  return [...document.querySelectorAll("dl.pairs dt")].filter((dt) => {
    const a = extent(dt), b = extent(dt.nextElementSibling);
    return a.right > b.left && a.left < b.right && a.bottom > b.top && a.top < b.bottom;
  }).map((dt) => dt.textContent);
}"""


def test_detail_labels_never_run_into_their_values(browser, server: Server, tc_world: TC):  # noqa: F811
    url = reverse("teleconsultation_detail", args=[tc_world.consultation.pk])
    tablet, laptop = ({"viewport": {"width": w, "height": 900}} for w in (768, 1280))
    for device in (PHONE, tablet, laptop):
        context, page = open_as(browser, server, tc_world.w.nurse_a, device)
        try:
            page.goto(url)
            # The longest label: it ran under its value at 768 and 1280 px.
            expect(page.locator("dl.pairs dt", has_text="Accompagnement")).to_have_count(1)
            assert page.evaluate(LABELS_OVER_VALUES_JS) == [], device["viewport"]
        finally:
            context.close()


def test_the_room_speaks_english_to_an_english_browser(browser, server: Server, tc_world: TC):  # noqa: F811
    """The scripts' lines come from the catalogue in the browser's language, guests' included."""
    room, doctor = tc_world.room, tc_world.cardiologist
    guest = rooms.create_guest_link(None, doctor, room, "Mme Dorvane", "patient", 2)
    laptop = {"viewport": {"width": 1280, "height": 800}}
    contexts = []
    try:
        for device in (laptop, PHONE):
            context = browser.new_context(base_url=server.url, locale="en-US", **device)
            context.set_default_timeout(15_000)
            contexts.append(context)
        login_cookie(contexts[0], server.url, doctor)
        doc, patient = (context.new_page() for context in contexts)
        doc.goto(reverse("room", args=[room.slug]))
        expect(doc.locator("#room-status")).to_have_text(
            "In the room: waiting for the other participants."
        )
        doc.get_by_role("button", name="Mute the microphone").click()
        expect(doc.locator("#btn-mic")).to_have_text("Unmute the microphone")
        expect(doc.locator("#room-announcer")).to_contain_text("Microphone off.")
        patient.goto(tokens.guest_path(guest.pk))  # anonymous
        expect(patient.locator("#room-status")).to_have_text("In the waiting room.")
        doc.get_by_role("button", name="Admit Mme Dorvane").click()
        for page in (doc, patient):
            expect(page.locator("#room-status")).to_have_text("In the call (2 participants).")
        expect(doc.locator("#quality")).to_contain_text("Mme Dorvane:")
        shoot(doc, "room-english-desktop")
        shoot(patient, "room-english-phone")
    finally:
        for context in contexts:
            context.close()
