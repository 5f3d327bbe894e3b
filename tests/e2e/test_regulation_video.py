"""A télérégulation in Chromium with fake cameras, against the real ASGI server.

The SAMU 53 regulator (a PC) sends the video link by SMS from the record (the console backend
prints it in the server's log: the test reads the link there); the caller (a phone with a
granted geolocation) opens it (the page shows at its plain address), reads it in French and in
Arabic, consents (the consent travels with the phone's join); video flows both ways (getStats
framesDecoded on both pages); the position shows on the regulator's screen with the nearest
commune; a snapshot lands in the record; the link does not open twice; a withdrawn link is
refused; ending the video with its summary sends the caller out. A phone whose socket drops
unseen by the server (a phone changing networks) comes back as the same peer: the video goes on.

Screenshots on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-rg.sqlite3 \
        .venv/bin/pytest tests/e2e/test_regulation_video.py

PNGs go to screenshots/rg-<page>-<phone|desktop>.png (gitignored).
"""

import re
import time
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from telesante.regulation import services
from telesante.regulation.models import EventKind, MediaKind, RegulationMedia
from telesante.rooms.models import Presence
from tests.e2e.axe_check import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie, wait_until
from tests.e2e.conftest import shoot as e2e_shoot
from tests.e2e.server import Server, running_server
from tests.regulation.conftest import RG, regul  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DECODED = "async () => window.regulationCall && (await window.regulationCall.framesDecoded()) > 0"
SCENE = {"latitude": 48.0712, "longitude": -0.7731, "accuracy": 35}


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-5000:])  # shown when the test fails


def sms_link(server: Server, number: str) -> str:
    """The link of the last SMS the console backend printed for `number`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.findall(
            rf"\[SMS\] à {re.escape(number)} : .*?(http\S+/v/\S+/)", server.log.read_text()
        )
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError("aucun SMS envoyé")


def wait_for(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("toujours faux")
        time.sleep(0.2)


def desk_and_phone(browser, server: Server, regul: RG):  # noqa: F811
    """The regulator's PC, logged in, and the caller's phone with a granted geolocation."""
    desk = browser.new_context(base_url=server.url, locale="fr-FR", **DESKTOP)
    desk.set_default_timeout(15_000)
    login_cookie(desk, server.url, regul.regulator)
    phone = browser.new_context(
        base_url=server.url,
        locale="fr-FR",
        geolocation=SCENE,
        permissions=["geolocation"],
        **PHONE,
    )
    phone.set_default_timeout(15_000)
    return desk, phone


def link_sent_and_opened(server: Server, doctor, caller, record) -> str:
    """The regulator sends the link from the record; the phone opens it. Returns the link."""
    doctor.goto(reverse("regulation_detail", args=[record.pk]))
    doctor.locator("#send-link").click()
    doctor.wait_for_url(f"**{reverse('regulation_video', args=[record.pk])}")
    link = sms_link(server, "+33612345678")
    caller.goto(link)  # answers with the page, whose address drops the link's value
    caller.wait_for_url("**/appel/")
    return link


def test_regulator_sees_the_callers_scene(browser, server, regul: RG):  # noqa: F811
    record = regul.record
    desk, phone_context = desk_and_phone(browser, server, regul)
    doctor, caller = desk.new_page(), phone_context.new_page()
    try:
        link = link_sent_and_opened(server, doctor, caller, record)
        assert "SAMU 53" in server.log.read_text() and "Chute" not in server.log.read_text()
        expect(caller.locator("h1")).to_have_text("Vidéo avec le SAMU 53")
        body = caller.content()
        assert "Chute" not in body and "+33612345678" not in body  # nothing of the record
        assert caller.evaluate("document.documentElement.scrollWidth <= innerWidth")
        e2e_shoot(caller, "rg-caller-fr", {"phone": PHONE})
        assert_accessible(caller, "page de l'appelant (consentement)")
        caller.goto("/appel/?lang=ar")
        expect(caller.locator("html")).to_have_attribute("dir", "rtl")
        expect(caller.locator("#btn-accept")).to_contain_text("أوافق")
        e2e_shoot(caller, "rg-caller-ar", {"phone": PHONE})
        assert_accessible(caller, "page de l'appelant en arabe")
        caller.goto("/appel/?lang=fr")
        caller.locator("#btn-accept").click()
        expect(caller.locator("#call")).to_have_attribute("data-state", "video")

        # Video both ways: each side decodes the other's frames.
        wait_until(caller, DECODED, timeout=45_000)
        wait_until(doctor, DECODED, timeout=45_000)
        # The consent came with the phone's join: recorded once, in the page's language.
        consents = record.events.filter(kind=EventKind.CONSENT)
        assert [e.detail for e in consents] == ["vidéo et position (fr)"]
        # The caller's microphone stays off: the voice is on the phone call.
        assert caller.evaluate("window.regulationCall.stream.getAudioTracks().length") == 0
        expect(caller.locator("#btn-stop")).to_be_visible()
        e2e_shoot(caller, "rg-caller-video", {"phone": PHONE})
        assert_accessible(caller, "page de l'appelant en vidéo")

        # The position, drawn with its accuracy and the nearest commune.
        expect(doctor.locator("#position-panel")).to_contain_text("Laval", timeout=20_000)
        expect(doctor.locator("#position-panel svg .accuracy")).to_have_count(1)
        record.refresh_from_db()
        assert round(record.latitude, 4) == SCENE["latitude"] and record.accuracy_m == 35

        # A snapshot from the caller's phone lands in the record under the regulator's name.
        doctor.locator("#btn-snap").click()
        expect(doctor.locator("#snap-result")).to_have_text(
            "Cliché versé au dossier.", timeout=20_000
        )
        shot = RegulationMedia.objects.get(record=record)
        assert shot.kind == MediaKind.SNAPSHOT and shot.author == regul.regulator
        expect(doctor.locator("#quality")).to_contain_text("aller-retour", timeout=10_000)
        e2e_shoot(doctor, "rg-regulator", {"desktop": DESKTOP})
        assert_accessible(doctor, "écran du régulateur en vidéo")

        # The link opened once does not open again, even in another browser.
        again = browser.new_context(base_url=server.url, locale="fr-FR", **PHONE)
        refused = again.new_page()
        response = refused.goto(link)
        assert response.status == 403
        expect(refused.locator("main")).to_contain_text("déjà été utilisé")

        # A withdrawn link is refused.
        other, value = services.send_video_link(None, regul.regulator, record)
        doctor.goto(reverse("regulation_detail", args=[record.pk]))
        doctor.locator(
            f"form[action='{reverse('regulation_revoke_link', args=[record.pk, other.pk])}'] button"
        ).click()
        response = refused.goto(reverse("regulation_caller_open", args=[value]))
        assert response.status == 403
        expect(refused.locator("main")).to_contain_text("retiré")
        again.close()

        # The summary ends the video; the caller is sent out of the room.
        services.revoke_link(None, regul.regulator, record, other.pk)  # already withdrawn
        doctor.goto(reverse("regulation_video", args=[record.pk]))
        doctor.locator("#seen").fill("Plaie du cuir chevelu, saigne peu")
        doctor.locator("#quality-choice").select_option("bonne")
        doctor.locator("#btn-end").click()
        expect(caller.locator("#call")).to_have_attribute("data-state", "stopped", timeout=20_000)
        ended = record.events.get(kind=EventKind.ENDED)
        assert "Plaie du cuir chevelu" in ended.detail and "1 image" in ended.detail
        expect(doctor.locator("#timeline")).to_contain_text("Vidéo terminée")
        e2e_shoot(doctor, "rg-record", {"phone": PHONE, "desktop": DESKTOP})
        assert doctor.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        phone_context.close()
        desk.close()


def test_a_phone_that_loses_its_socket_keeps_its_video(browser, server, regul: RG):  # noqa: F811
    desk, phone = desk_and_phone(browser, server, regul)
    doctor, caller = desk.new_page(), phone.new_page()
    sockets = []

    def through(ws) -> None:  # the phone's sockets, relayed to the server
        ws.connect_to_server()
        ws.on_close(lambda code, reason: None)  # a drop on the phone's side stays unseen there
        sockets.append(ws)

    caller.route_web_socket(re.compile(r".*/ws/appel/.*"), through)
    try:
        link_sent_and_opened(server, doctor, caller, regul.record)
        caller.locator("#btn-accept").click()
        wait_until(caller, DECODED, timeout=45_000)
        wait_until(doctor, DECODED, timeout=45_000)
        for page in (caller, doctor):
            page.evaluate("window.regulationCall.pc.before = true")
        peer = Presence.objects.get(party__startswith="g:")

        sockets[0].close(code=4100, reason="réseau perdu")
        wait_until(caller, "() => window.regulationCall.ws.readyState === WebSocket.OPEN")
        wait_for(
            lambda: len(sockets) == 2 and Presence.objects.get(pk=peer.pk).channel != peer.channel
        )
        # The same peer on a new socket; both sides kept their peer connection, and the
        # regulator's video goes on.
        assert Presence.objects.filter(party__startswith="g:").count() == 1
        frames = doctor.evaluate("window.regulationCall.framesDecoded()")
        wait_until(doctor, "async (n) => (await window.regulationCall.framesDecoded()) > n", frames)
        for page in (caller, doctor):
            assert page.evaluate("window.regulationCall.pc.before === true")
        # The call's commands go on: a snapshot asked from the regulator's screen lands in the
        # record.
        doctor.locator("#btn-snap").click()
        expect(doctor.locator("#snap-result")).to_have_text(
            "Cliché versé au dossier.", timeout=20_000
        )
    finally:
        phone.close()
        desk.close()
