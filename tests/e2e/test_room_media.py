"""Media really flows: headless aiortc peers through real `telesante serve` processes.

Two peers in an act's room (the nurse waits, the cardiologist admits), each decoding the other's
frames; the same across two server processes sharing Redis; a peer whose WebSocket is cut
rejoins and the video resumes; `telesante probe-call` as an operator runs it.
"""

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from telesante.accounts.models import ApiToken
from telesante.acts.models import Incident
from telesante.rooms import probe, services, tokens
from telesante.rooms.models import Presence
from tests.conftest import require_service
from tests.e2e.server import TELESANTE, Server, running_server
from tests.rooms.conftest import TC, tc_world, token_for  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = os.environ.get("TELESANTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FRAMES = 15  # half a second of video at 30 images/s


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv


def test_nurse_admitted_by_the_cardiologist_and_both_receive_video(
    server: Server,
    tc_world: TC,  # noqa: F811
):
    room, w = tc_world.room, tc_world.w
    doctor_token, nurse_token = token_for(tc_world.cardiologist, room), token_for(w.nurse_a, room)

    async def scenario():
        doctor, nurse = (
            probe.ProbePeer(server.url, room.slug),
            probe.ProbePeer(server.url, room.slug),
        )
        try:
            await doctor.connect(doctor_token)
            await asyncio.wait_for(doctor.admitted.wait(), 10)
            await nurse.connect(nurse_token)
            await asyncio.wait_for(nurse.in_waiting.wait(), 10)
            assert nurse.frames == 0 and not nurse.pcs  # no call from the waiting room
            while not doctor.waiting:
                await asyncio.sleep(0.05)
            await doctor.send({"type": "admit", "id": doctor.waiting[0]["id"]})
            await asyncio.wait_for(nurse.admitted.wait(), 10)
            assert await doctor.wait_frames(FRAMES, 20)
            assert await nurse.wait_frames(FRAMES, 20)
            await nurse.send({"type": "chat", "body": "La patiente est installée."})
            while not doctor.chat:
                await asyncio.sleep(0.05)
            return doctor.chat[0]["body"]
        finally:
            await doctor.close()
            await nurse.close()

    assert asyncio.run(scenario()) == "La patiente est installée."


def test_peers_on_two_server_processes_sharing_redis_meet(settings, tmp_path, world):
    require_service("Redis", REDIS_URL, 6379)
    _token, raw = ApiToken.issue(world.doctor_a)
    shared = {"TELESANTE_REDIS_URL": REDIS_URL}
    media = Path(settings.MEDIA_ROOT)
    with (
        running_server(media, tmp_path / "one", shared) as one,
        running_server(media, tmp_path / "two", shared) as two,
    ):
        result = asyncio.run(probe.probe(one.url, raw, via=two.url))
    assert result.ok, result
    assert result.frames_a >= FRAMES and result.frames_b >= FRAMES


def test_a_cut_websocket_rejoins_and_the_video_resumes(server: Server, world):
    _token, raw = ApiToken.issue(world.doctor_a)

    async def scenario():
        room = await asyncio.to_thread(probe.api_post, server.url, raw, "/api/v1/rooms/test")
        a, b = probe.ProbePeer(server.url, room["slug"]), probe.ProbePeer(server.url, room["slug"])
        try:
            await a.connect(room["tokens"][0])
            await asyncio.wait_for(a.admitted.wait(), 10)
            await b.connect(room["tokens"][1])
            assert await a.wait_frames(FRAMES, 20) and await b.wait_frames(FRAMES, 20)
            await b.cut()
            while a.pcs:  # the server saw the drop and told a
                await asyncio.sleep(0.05)
            before_a, before_b = a.frames, b.frames
            fresh = await asyncio.to_thread(
                probe.api_post,
                server.url,
                raw,
                f"/api/v1/rooms/{room['slug']}/token",
                {"seat": "b"},
            )
            await b.connect(fresh["token"])
            await asyncio.wait_for(b.admitted.wait(), 10)
            resumed = await a.wait_frames(before_a + FRAMES, 20) and await b.wait_frames(
                before_b + FRAMES, 20
            )
            return resumed, len(a.pcs), len(b.pcs)
        finally:
            await a.close()
            await b.close()

    assert asyncio.run(scenario()) == (True, 1, 1)


def test_probe_call_prints_one_json_line_and_fails_without_access(server: Server, world):
    _token, raw = ApiToken.issue(world.doctor_a)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    ok = subprocess.run(
        [str(TELESANTE), "probe-call", "--base-url", server.url, "--token", raw, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout.strip())
    assert set(result) == {"setup_ms", "frames_a", "frames_b", "rtt_ms"}
    assert result["frames_a"] > 0 and result["frames_b"] > 0 and result["setup_ms"] > 0
    refused = subprocess.run(
        [str(TELESANTE), "probe-call", "--base-url", server.url, "--token", "faux"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert refused.returncode != 0
    assert "HTTP 401" in refused.stderr


def test_a_crashed_process_leaves_no_ghost_in_the_room(
    settings,
    tmp_path,
    tc_world: TC,  # noqa: F811
):
    """The nurse (in the call) and her daughter (waiting) are on a process that is killed: no
    disconnect handler runs there. The cardiologist's process, sharing Redis, forgets them once
    unrefreshed: the call and the waiting list empty, and the nurse's drop is recorded."""
    require_service("Redis", REDIS_URL, 6379)
    room, nurse, doctor = tc_world.room, tc_world.w.nurse_a, tc_world.cardiologist
    guest = services.create_guest_link(None, doctor, room, "Mme Dorvane (fille)", "famille", 2)
    tokens_ = {
        "doctor": token_for(doctor, room),
        "nurse": token_for(nurse, room),
        "guest": tokens.issue(services.guest_claim(guest)),
    }
    shared = {"TELESANTE_REDIS_URL": REDIS_URL, "TELESANTE_PRESENCE_SECONDS": "2"}
    media = Path(settings.MEDIA_ROOT)

    async def until(condition, timeout: float = 20, database: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while not (await asyncio.to_thread(condition) if database else condition()):
            assert time.monotonic() < deadline, "délai dépassé"
            await asyncio.sleep(0.05)

    def present() -> list[str]:
        return list(Presence.objects.values_list("party", flat=True))

    async def scenario(crashing: Server, staying: Server) -> None:
        host = probe.ProbePeer(staying.url, room.slug)
        on_crashing = [probe.ProbePeer(crashing.url, room.slug) for _ in range(2)]
        nurse_peer, guest_peer = on_crashing
        try:
            await host.connect(tokens_["doctor"])
            await asyncio.wait_for(host.admitted.wait(), 10)
            await nurse_peer.connect(tokens_["nurse"])
            await until(lambda: host.waiting)
            await host.send({"type": "admit", "id": host.waiting[0]["id"]})
            await asyncio.wait_for(nurse_peer.admitted.wait(), 10)
            await guest_peer.connect(tokens_["guest"])
            await until(lambda: [p["label"] for p in host.waiting] == [guest.label])
            # The nurse's arrival reaches the host after her own admission: it may come after
            # the guest's waiting news, sent by another connection.
            await until(lambda: len(host.pcs) == 1)

            crashing.proc.kill()
            await until(lambda: not host.pcs and not host.waiting)
            # The lists leave out an unrefreshed row at once; the next heartbeat deletes it.
            await until(lambda: present() == [f"u:{doctor.pk}"], database=True)
        finally:
            await host.close()
            for peer in on_crashing:
                await peer.close()

    with (
        running_server(media, tmp_path / "crashing", shared) as crashing,
        running_server(media, tmp_path / "staying", shared) as staying,
    ):
        asyncio.run(scenario(crashing, staying))
    assert list(Incident.objects.filter(automatic=True).values_list("description", flat=True)) == [
        f"Coupure de la connexion de {nurse.display_name}."
    ]
