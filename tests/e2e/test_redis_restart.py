"""Redis restarted during a call whose two peers are on two server processes (Redis carries the
signalling between them). The room's WebSockets close with Redis and the pages keep trying;
meanwhile the call goes on: the video keeps flowing peer to peer both ways. Once Redis is back,
the pages reconnect on their own and resume as the same peers (resume tokens): the same peer
connections go on, nothing is negotiated again, a chat message crosses from one process to the
other both ways, and the presence is right (two participants, no ghost). A call that failed
during an outage is set up anew, with the same peers, once Redis is back."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from telesante.rooms.models import Presence
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie, wait_until
from tests.e2e.server import free_port, running_server
from tests.e2e.test_teleconsultation_call import frames_advance, start_call
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REMOTE = ".tile.remote video"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# Each page's calls: the peer, and whether it is over the peer connection marked by MARK_JS.
MARK_JS = "() => { for (const e of window.telesanteRoom.peers.values()) e.pc.marked = true; }"
CALLS_JS = "() => [...window.telesanteRoom.peers.values()].map((e) => [e.id, !!e.pc.marked])"
# The page's one call is with `peer`, over a new peer connection (unmarked), connected.
RENEWED_JS = """(peer) => {
  const now = [...window.telesanteRoom.peers.values()];
  return now.length === 1 && now[0].id === peer && !now[0].pc.marked
    && now[0].pc.connectionState === "connected";
}"""


class PrivateRedis:
    """A redis-server of the test's own, on its own port, that the test may stop and start."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server n'a pas démarré"
                time.sleep(0.05)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server absent (paquet redis-server)")
    server = PrivateRedis()
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.stop()


def test_redis_restarted_during_a_call_across_two_processes(
    browser,
    redis: PrivateRedis,
    settings,
    tmp_path,
    tc_world: TC,  # noqa: F811
):
    # The connections dropped with Redis must still be present when their pages come back (the
    # default delay is 45 s; the pages retry at most 10 s apart).
    shared = {"TELESANTE_REDIS_URL": redis.url, "TELESANTE_PRESENCE_SECONDS": "30"}
    media = Path(settings.MEDIA_ROOT)
    with (
        running_server(media, tmp_path / "one", shared) as one,
        running_server(media, tmp_path / "two", shared) as two,
    ):
        pages = []
        for user, device, server in (
            (tc_world.cardiologist, DESKTOP, one),
            (tc_world.w.nurse_a, PHONE, two),
        ):
            context = browser.new_context(base_url=server.url, locale="fr-FR", **device)
            context.set_default_timeout(20_000)
            login_cookie(context, server.url, user)
            pages.append(context.new_page())
        doc, nu = pages
        start_call(doc, nu, tc_world)
        for page in pages:
            page.evaluate(MARK_JS)
        calls = [page.evaluate(CALLS_JS) for page in pages]
        assert [len(page_calls) for page_calls in calls] == [1, 1]

        redis.stop()
        for page in (doc, nu):
            expect(page.locator("#room")).to_have_attribute("data-state", "reconnecting")
        # No signalling, and the remote video keeps coming on both pages.
        for page in (doc, nu):
            frames_advance(page, REMOTE)
        for page in (doc, nu):
            expect(page.locator("#room")).to_have_attribute("data-state", "reconnecting")
        redis.start()

        for page in (doc, nu):
            expect(page.locator("#room")).to_have_attribute("data-state", "in-call", timeout=45_000)
            expect(page.locator(REMOTE)).to_have_count(1, timeout=45_000)
        # Back as the same peers, with the same peer connections.
        assert [page.evaluate(CALLS_JS) for page in pages] == calls
        # Signalling crosses processes again, both ways.
        nu.fill("#chat-input", "Redis est revenu, vous m'entendez ?")
        nu.get_by_role("button", name="Envoyer").click()
        expect(doc.locator("#chat-log")).to_contain_text("Redis est revenu", timeout=30_000)
        doc.fill("#chat-input", "Oui, je vous vois.")
        doc.get_by_role("button", name="Envoyer").click()
        expect(nu.locator("#chat-log")).to_contain_text("Oui, je vous vois.", timeout=30_000)
        for page in (doc, nu):
            expect(page.locator("#room-status")).to_have_text(
                "En communication (2 participants).", timeout=30_000
            )
            frames_advance(page, REMOTE)
        # One presence each, under the peer ids they had before.
        peer_ids = {peer for page_calls in calls for peer, _marked in page_calls}
        assert set(Presence.objects.values_list("peer_id", flat=True)) == peer_ids
        assert Presence.objects.count() == 2

        # Another outage, during which the nurse's call fails (her peer connection closed): once
        # signalling is back, the two pages set up a new call with the same peer.
        redis.stop()
        for page in (doc, nu):
            expect(page.locator("#room")).to_have_attribute("data-state", "reconnecting")
        nu.evaluate("() => [...window.telesanteRoom.peers.values()][0].pc.close()")
        redis.start()
        for page, [(peer, _marked)] in zip(pages, calls, strict=True):
            expect(page.locator("#room")).to_have_attribute("data-state", "in-call", timeout=45_000)
            wait_until(page, RENEWED_JS, peer, timeout=45_000)
            frames_advance(page, REMOTE)
        assert set(Presence.objects.values_list("peer_id", flat=True)) == peer_ids
        for page in pages:
            page.context.close()
