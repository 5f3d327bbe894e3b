"""A server process killed during a call (SIGKILL: no goodbye), or stopped (SIGTERM: a restart, a
deploy; it closes its sockets with 1012), behind nginx: the room pages whose WebSocket it held
reconnect through nginx to the other process and resume as the same peers: the call goes on
with the same peer connections (the media flows peer to peer meanwhile).
Chromium with fake cameras, over the TLS of `deploy/nginx/telesante.conf`."""

import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.deploy.test_nginx import access_lines, region  # noqa: F401 (fixture)
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie
from tests.e2e.server import Server
from tests.e2e.test_redis_restart import CALLS_JS, MARK_JS
from tests.e2e.test_teleconsultation_call import frames_advance, start_call
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REMOTE = ".tile.remote video"


def room_sockets(server: Server) -> int:
    """The room WebSockets open on that process, from its own metrics."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'telesante_websocket_connections\{route="rooms"\} (\d+)', text)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("stop", ["kill", "terminate"])
def test_a_killed_process_and_the_call_goes_on_through_the_other(
    stop: str,
    browser,
    region,  # noqa: F811
    tc_world: TC,  # noqa: F811
):
    pages = []
    for user, device in ((tc_world.cardiologist, DESKTOP), (tc_world.w.nurse_a, PHONE)):
        context = browser.new_context(
            base_url=region["url"], locale="fr-FR", ignore_https_errors=True, **device
        )
        context.set_default_timeout(20_000)
        login_cookie(context, region["url"], user)
        pages.append(context.new_page())
    doc, nu = pages
    start_call(doc, nu, tc_world)
    for page in pages:
        page.evaluate(MARK_JS)
    calls = [page.evaluate(CALLS_JS) for page in pages]
    held = {address: room_sockets(s) for address, s in region["servers"].items()}
    assert sum(held.values()) == 2
    # Kill a process that holds a call's WebSocket (both, if round robin put them together).
    victim = max(held, key=held.get)
    survivor = next(address for address in held if address != victim)
    getattr(region["servers"][victim].proc, stop)()
    # The pages whose WebSocket it held reconnect through nginx, to the survivor.
    deadline = time.monotonic() + 45
    while room_sockets(region["servers"][survivor]) < 2:
        assert time.monotonic() < deadline, "les pages ne se sont pas reconnectées"
        time.sleep(0.2)
    for page in (doc, nu):
        expect(page.locator("#room")).to_have_attribute("data-state", "in-call", timeout=45_000)
        expect(page.locator(REMOTE)).to_have_count(1, timeout=45_000)
        frames_advance(page, REMOTE)
    assert [page.evaluate(CALLS_JS) for page in pages] == calls
    # nginx logs a WebSocket when it closes: the killed one's, upgraded (101) on the victim.
    closed = [line for line in access_lines(region["access_log"]) if "/ws/rooms/" in line[3]]
    assert [line[1] for line in closed if line[-1] == victim] == ["101"] * held[victim]
    for page in pages:
        page.context.close()
