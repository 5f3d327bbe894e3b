"""A real network loss during a call, in Chromium: the media path (UDP) is cut for some seconds
while the pages, the WebSocket and the database keep working, then restored. The call recovers
by an ICE restart without leaving the room (no reload), the video flows again both ways, and
the cut and the recovery are recorded on the act by themselves.

Everything runs in a network namespace of the test's own (tests/e2e/netns.py): the server,
the two Chromium pages, and the cut, so no other traffic of the machine is touched.
"""

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from telesante.acts.models import Incident
from tests.e2e import netns
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, require_chromium, wait_until
from tests.e2e.server import running_server
from tests.e2e.test_teleconsultation_call import FRAMES_JS, frames_advance, open_as, start_call
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The namespace has no interface but its loopback: Chromium is allowed to use it for WebRTC.
ARGS = [*CHROMIUM_ARGS, "--allow-loopback-in-peer-connection"]
ICE_JS = "() => [...window.telesanteRoom.peers.values()].map((p) => p.pc.iceConnectionState)"
UFRAG_JS = """() => [...window.telesanteRoom.peers.values()].map(
  (p) => (p.pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1])"""
RESTARTS_JS = "() => [...window.telesanteRoom.peers.values()].map((p) => p.iceRestarts)"


def ice_is(page, states: set[str], timeout: int) -> None:
    wait_until(
        page,
        f"(states) => {{ const s = ({ICE_JS})(); "
        "return s.length === 1 && states.includes(s[0]); }",
        sorted(states),
        timeout=timeout,
    )


def test_a_cut_media_path_recovers_by_ice_restart_and_is_recorded(
    settings,
    tmp_path,
    tc_world: TC,  # noqa: F811
):
    require_chromium()
    nurse, doctor = tc_world.w.nurse_a, tc_world.cardiologist
    with (
        netns.namespace() as ns,
        running_server(Path(settings.MEDIA_ROOT), tmp_path / "server", netns=ns) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(netns.chromium_inside(ns, CHROMIUM, tmp_path)),
            args=ARGS,
            headless=True,
        )
        _ctx, doc = open_as(browser, server, doctor, DESKTOP)
        _ctx, nu = open_as(browser, server, nurse, DESKTOP)
        start_call(doc, nu, tc_world)
        for page in (doc, nu):
            page.evaluate("window.sameDocument = true")  # gone if the page reloads
        ufrags = {page: page.evaluate(UFRAG_JS) for page in (doc, nu)}

        with netns.udp_cut(ns):
            assert netns.udp_is_cut(ns)
            # Consent checks go unanswered: both sides see the path gone, then the nurse's
            # side (admitted later: it offers) restarts ICE while the cut lasts.
            for page in (doc, nu):
                ice_is(page, {"disconnected", "failed", "checking"}, 30_000)
            wait_until(nu, f"() => ({RESTARTS_JS})()[0] >= 1", timeout=30_000)
            stalled = {page: page.evaluate(FRAMES_JS, ".tile.remote video") for page in (doc, nu)}
        assert not netns.udp_is_cut(ns)

        for page in (doc, nu):
            ice_is(page, {"connected", "completed"}, 45_000)
            frames_advance(page, ".tile.remote video")
            assert page.evaluate(FRAMES_JS, ".tile.remote video") > stalled[page]
            assert page.evaluate("window.sameDocument") is True
            expect(page.locator("#room")).to_have_attribute("data-state", "in-call")
            # New ICE credentials: the connection came back through a restart.
            assert page.evaluate(UFRAG_JS) != ufrags[page]
        incidents = Incident.objects.filter(act_id=tc_world.consultation.pk, automatic=True)
        deadline = time.monotonic() + 10  # the recovery's report may still be on its way
        while incidents.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        texts = list(incidents.values_list("description", flat=True))
        browser.close()
    assert not netns.exists(ns)
    pair = f"{nurse.display_name} et {doctor.display_name}"
    # Recorded once each, by the side that restarted; the WebSocket held: no drop of the
    # signaling connection.
    assert texts == [
        f"Coupure du flux audio-vidéo entre {pair} : redémarrage ICE.",
        f"Flux audio-vidéo rétabli entre {pair}.",
    ]
