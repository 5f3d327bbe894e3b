"""A headless WebRTC peer (aiortc) that joins a room through the signaling WebSocket like a
browser does, sends a test video and counts the frames it decodes from the others.

`telesante probe-call` and the tests use it; it speaks the same protocol as static/js/room.js.
"""

import asyncio
import contextlib
import json
import time
import urllib.request
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlsplit

import av
import websockets
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

WIDTH, HEIGHT = 320, 240


class TestPattern(VideoStreamTrack):
    """A small moving test picture (small: two software VP8 encoders share a laptop's cores)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.count += 1
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        for i, plane in enumerate(frame.planes):
            plane.update(bytes([(self.count * 3 + 60 * i) % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base or Fraction(1, 90000)
        return frame


def ws_url(base_url: str, slug: str, token: str, path: str = "") -> str:
    """The room's socket (or another `path` to it: the caller's of a télérégulation)."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{path or f'/ws/rooms/{slug}/'}?token={token}"


def origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def api_post(base_url: str, api_token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 (the operator gives an http(s) URL)
        base_url.rstrip("/") + path,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        return json.loads(response.read())


def description(pc: RTCPeerConnection) -> dict:
    return {"description": {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}}


class ProbePeer:
    """One participant: a WebSocket to the room, one RTCPeerConnection per other admitted peer."""

    def __init__(self, base_url: str, slug: str, ws_path: str = "") -> None:
        self.base_url, self.slug, self.ws_path = base_url, slug, ws_path
        self.frames = 0
        self.first_frame_at: float | None = None
        self.me: dict = {}
        self.ice: list[dict] = []
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.chat: list[dict] = []
        self.waiting: list[dict] = []
        self.admitted = asyncio.Event()
        self.in_waiting = asyncio.Event()
        self.closed = asyncio.Event()
        self.ws = None
        self._tasks: set[asyncio.Task] = set()

    async def connect(self, token: str, query: str = "") -> None:
        """Join with a room token (`query`: more of the address, as `&consent=fr`)."""
        self.admitted.clear()
        self.in_waiting.clear()
        self.closed.clear()
        self.ws = await websockets.connect(
            ws_url(self.base_url, self.slug, token, self.ws_path) + query,
            origin=origin(self.base_url),
            proxy=None,
            open_timeout=10,
        )
        self._spawn(self._read(self.ws))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                await self._on(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws is self.ws:
                self.closed.set()

    async def _on(self, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "welcome":
            self.me, self.ice = msg["me"], msg["ice_servers"]
        elif kind == "waiting":
            self.in_waiting.set()
        elif kind == "admitted":
            self.me = msg["me"]
            self.chat.extend(msg["chat"])
            for peer in msg["peers"]:
                await self._meet(peer)
            self.admitted.set()
        elif kind == "peer-joined":
            await self._meet(msg["peer"])
        elif kind == "peer-left":
            pc = self.pcs.pop(msg["id"], None)
            if pc is not None:
                await pc.close()
        elif kind == "signal":
            await self._signal(msg["from"], msg["data"] or {})
        elif kind == "chat":
            self.chat.append(msg["message"])
        elif kind == "waiting-list":
            self.waiting = msg["peers"]

    def _newer_than(self, peer: dict) -> bool:
        return (self.me["rank"], self.me["id"]) > (peer["rank"] or 0, peer["id"])

    async def _meet(self, peer: dict) -> None:
        if peer["id"] in self.pcs:
            return
        pc = self._pc(peer["id"])
        # Perfect negotiation's roles, fixed by admission order: the newcomer offers.
        if self._newer_than(peer):
            await pc.setLocalDescription(await pc.createOffer())
            await self.send({"type": "signal", "to": peer["id"], "data": description(pc)})

    def _pc(self, peer_id: str) -> RTCPeerConnection:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in self.ice
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        pc.addTrack(TestPattern())

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind == "video":
                self._spawn(self._count(track))

        self.pcs[peer_id] = pc
        return pc

    async def _signal(self, sender: str, data: dict) -> None:
        pc = self.pcs.get(sender) or self._pc(sender)
        desc = data.get("description")
        if desc:
            await pc.setRemoteDescription(RTCSessionDescription(desc["sdp"], desc["type"]))
            if desc["type"] == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                await self.send({"type": "signal", "to": sender, "data": description(pc)})
        cand = data.get("candidate") or {}
        if cand.get("candidate"):
            candidate = candidate_from_sdp(cand["candidate"].split(":", 1)[1])
            candidate.sdpMid = cand.get("sdpMid")
            candidate.sdpMLineIndex = cand.get("sdpMLineIndex")
            await pc.addIceCandidate(candidate)

    async def _count(self, track) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames += 1
                if self.first_frame_at is None:
                    self.first_frame_at = time.monotonic()

    async def wait_frames(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.frames < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def rtt_ms(self) -> float | None:
        """Round trip of the media path, from RTCP receiver reports (getStats)."""
        for pc in list(self.pcs.values()):
            report = await pc.getStats()
            for stat in report.values():
                if stat.type == "remote-inbound-rtp" and stat.roundTripTime:
                    return round(stat.roundTripTime * 1000, 1)
        return None

    async def cut(self) -> None:
        """A network loss: the WebSocket dies without a closing handshake; calls end."""
        self.ws.transport.abort()
        await self.closed.wait()
        await self._close_calls()

    async def _close_calls(self) -> None:
        pcs, self.pcs = list(self.pcs.values()), {}
        for pc in pcs:
            await pc.close()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.send({"type": "leave"})
            await self.ws.close()
        await self._close_calls()
        for task in list(self._tasks):
            task.cancel()


@dataclass
class ProbeResult:
    setup_ms: float | None
    frames_a: int
    frames_b: int
    rtt_ms: float | None

    @property
    def ok(self) -> bool:
        return self.setup_ms is not None and self.frames_a > 0 and self.frames_b > 0

    def as_dict(self) -> dict:
        return {
            "setup_ms": self.setup_ms,
            "frames_a": self.frames_a,
            "frames_b": self.frames_b,
            "rtt_ms": self.rtt_ms,
        }


async def call(
    base_url: str,
    slug: str,
    token_a: str,
    token_b: str,
    via: str | None = None,
    seconds: float = 3.0,
    timeout: float = 20.0,
) -> ProbeResult:
    """Two peers join (b through `via` when given), send video both ways for `seconds`."""
    a, b = ProbePeer(base_url, slug), ProbePeer(via or base_url, slug)
    try:
        await a.connect(token_a)
        await asyncio.wait_for(a.admitted.wait(), timeout)
        await b.connect(token_b)
        await asyncio.wait_for(b.admitted.wait(), timeout)
        joined = time.monotonic()
        flowing = await a.wait_frames(1, timeout) and await b.wait_frames(1, timeout)
        setup_ms = None
        if flowing:
            setup_ms = round((max(a.first_frame_at, b.first_frame_at) - joined) * 1000, 1)
            await asyncio.sleep(seconds)
        rtt = await a.rtt_ms() or await b.rtt_ms()
        return ProbeResult(setup_ms, a.frames, b.frames, rtt)
    finally:
        await a.close()
        await b.close()


async def probe(base_url: str, api_token: str, via: str | None = None) -> ProbeResult:
    """A test room created through the API as the token's professional, then a call in it."""
    room = await asyncio.to_thread(api_post, base_url, api_token, "/api/v1/rooms/test")
    return await call(base_url, room["slug"], room["tokens"][0], room["tokens"][1], via=via)
