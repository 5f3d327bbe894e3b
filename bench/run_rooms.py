#!/usr/bin/env python
"""Video rooms benchmark, through the real production server (`telesante serve`, uvicorn).

    .venv/bin/python bench/run_rooms.py [--calls 10] [--connections 5000] [--rate 1000]
        [--only setup,connections,relay]

1. Call setup: two headless aiortc peers join a test room through the server (signaling over
   the room WebSocket), time from both admitted to the first remote frame decoded on both
   sides; the floor is the same two peers connected in-process (offer and answer handed over
   directly, no server), measured in the same run.
2. Concurrent room WebSockets one server process holds, and its memory per connection
   (resident memory of the process before and after).
3. Relay latency: one peer sends signaling messages to the other through the server at a fixed
   rate; p50/p99 of the one-way time, against a bare `websockets` echo server (another process,
   no Django, no channel layer) at the same rate, in the same run.

SQLite database of its own under var/bench/, in-memory channel layer; starts and stops its
servers and rewrites its own sections of docs/benchmarks.md. The machine is shared and noisy:
compare ratios between runs, not absolute figures.
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
DB = VAR / "rooms_bench.sqlite3"
COMMAND = ".venv/bin/python bench/run_rooms.py"
ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), compression=None):
        await asyncio.Future()

asyncio.run(main())
"""

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telesante.settings")
ENV = {
    **os.environ,
    "TELESANTE_DEMO": "1",
    "TELESANTE_DATABASE_URL": f"sqlite:///{DB}",
    "TELESANTE_VAR_DIR": str(VAR),
    "TELESANTE_ROOM_TOKEN_SECONDS": "3600",
}
ENV.pop("TELESANTE_REDIS_URL", None)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def server(port: int):
    proc = subprocess.Popen(
        [str(BIN / "telesante"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=(VAR / "rooms_server.log").open("wb"),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("Le serveur n'a pas démarré (var/bench/rooms_server.log).")
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)  # thousands of sockets to forget
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def setup_database() -> str:
    """A fresh database, one professional and their API token."""
    VAR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    subprocess.run([str(BIN / "telesante"), "migrate", "-v0"], env=ENV, check=True)
    os.environ.update({k: v for k, v in ENV.items() if k.startswith("TELESANTE_")})
    import django

    django.setup()
    from telesante.accounts.models import ApiToken, Profession, User

    user = User.objects.create_user(
        "bench.rooms@example.test", None, first_name="Banc", last_name="Salles"
    )
    User.objects.filter(pk=user.pk).update(profession=Profession.DOCTOR)
    return ApiToken.issue(user)[1]


# 1. Call setup ---------------------------------------------------------------------------------


async def direct_call() -> float:
    """The floor: the same two peers, offer and answer handed over in-process."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    from telesante.rooms.probe import TestPattern

    firsts: dict[str, float] = {}
    pcs = {}
    readers: list[asyncio.Task] = []
    for name in ("a", "b"):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(TestPattern())

        def on_track(track, name=name) -> None:
            async def first() -> None:
                await track.recv()
                firsts.setdefault(name, time.monotonic())

            readers.append(asyncio.ensure_future(first()))

        pc.on("track", on_track)
        pcs[name] = pc
    a, b = pcs["a"], pcs["b"]
    start = time.monotonic()
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    while len(firsts) < 2:
        if time.monotonic() - start > 20:
            raise RuntimeError("pas d'image en direct")
        await asyncio.sleep(0.005)
    await a.close()
    await b.close()
    return (max(firsts.values()) - start) * 1000


async def setup_times(url: str, api_token: str, calls: int) -> tuple[list[float], list[float]]:
    from telesante.rooms import probe

    through, floor = [], []
    for i in range(calls):
        room = await asyncio.to_thread(probe.api_post, url, api_token, "/api/v1/rooms/test")
        result = await probe.call(url, room["slug"], *room["tokens"], seconds=0.2)
        if result.setup_ms is None:
            raise RuntimeError("la vidéo ne passe pas par le serveur")
        through.append(result.setup_ms)
        floor.append(await direct_call())
        log(f"appel {i + 1}/{calls} : serveur {through[-1]:.0f} ms, direct {floor[-1]:.0f} ms")
    return through, floor


# 2. Connections --------------------------------------------------------------------------------


def room_tokens(count: int) -> tuple[list[str], list[str]]:
    """Tokens for `count` connections, four to a room (the room's limit)."""
    from telesante.accounts.models import User
    from telesante.rooms import tokens
    from telesante.rooms.models import Room
    from telesante.rooms.services import user_claim

    user = User.objects.get(email="bench.rooms@example.test")
    rooms = Room.objects.bulk_create([Room(owner=user) for _ in range((count + 3) // 4)])
    slugs, issued = [], []
    for i in range(count):
        room = rooms[i // 4]
        slugs.append(room.slug)
        issued.append(tokens.issue(user_claim(user, room, "abcd"[i % 4])))
    return slugs, issued


async def hold_connections(url: str, pid: int, count: int) -> dict:
    import websockets

    from telesante.rooms.probe import origin, ws_url

    slugs, issued = await asyncio.to_thread(room_tokens, count)
    before = rss_mb(pid)
    sockets = []
    failures = 0
    gate = asyncio.Semaphore(20)

    async def open_one(slug: str, token: str) -> None:
        nonlocal failures
        async with gate:
            try:
                ws = await websockets.connect(
                    ws_url(url, slug, token), origin=origin(url), proxy=None, open_timeout=60
                )
                await ws.recv()  # welcome: the server has recorded the connection
                sockets.append(ws)
            except (OSError, TimeoutError, websockets.WebSocketException):
                failures += 1

    start = time.monotonic()
    await asyncio.gather(*(open_one(s, t) for s, t in zip(slugs, issued, strict=True)))
    opened_s = time.monotonic() - start
    await asyncio.sleep(2)
    after = rss_mb(pid)
    log(f"{len(sockets)} connexions tenues, {after:.0f} Mo résidents ({before:.0f} Mo avant)")
    for ws in sockets:
        ws.transport.abort()
    return {
        "asked": count,
        "held": len(sockets),
        "failures": failures,
        "opened_s": opened_s,
        "rss_before": before,
        "rss_after": after,
        "per_conn_kb": (after - before) * 1024 / max(len(sockets), 1),
    }


# 3. Relay latency ------------------------------------------------------------------------------


async def paced(send, rate: int, seconds: float) -> None:
    interval, total = 1 / rate, int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(i)


async def relay_latency(url: str, api_token: str, rate: int, seconds: float) -> list[float]:
    import websockets

    from telesante.rooms import probe

    room = await asyncio.to_thread(probe.api_post, url, api_token, "/api/v1/rooms/test")
    a = await websockets.connect(
        probe.ws_url(url, room["slug"], room["tokens"][0]), origin=probe.origin(url), proxy=None
    )
    b = await websockets.connect(
        probe.ws_url(url, room["slug"], room["tokens"][1]), origin=probe.origin(url), proxy=None
    )
    peer_b = None
    while peer_b is None:  # a learns b's id when b is admitted
        msg = json.loads(await a.recv())
        if msg["type"] == "peer-joined":
            peer_b = msg["peer"]["id"]
    latencies: list[float] = []
    total = int(rate * seconds)

    async def receive() -> None:
        while len(latencies) < total:
            msg = json.loads(await b.recv())
            if msg["type"] == "signal":
                latencies.append((time.perf_counter() - msg["data"]["t"]) * 1000)

    async def send(i: int) -> None:
        await a.send(
            json.dumps({"type": "signal", "to": peer_b, "data": {"t": time.perf_counter()}})
        )

    receiver = asyncio.create_task(receive())
    await paced(send, rate, seconds)
    await asyncio.wait_for(receiver, 30)
    await a.close()
    await b.close()
    return latencies


async def echo_latency(port: int, rate: int, seconds: float) -> list[float]:
    import websockets

    ws = await websockets.connect(f"ws://127.0.0.1:{port}", proxy=None, compression=None)
    latencies: list[float] = []
    total = int(rate * seconds)

    async def receive() -> None:
        while len(latencies) < total:
            msg = json.loads(await ws.recv())
            latencies.append((time.perf_counter() - msg["t"]) * 1000)

    async def send(i: int) -> None:
        await ws.send(
            json.dumps({"type": "signal", "to": "x", "data": {}, "t": time.perf_counter()})
        )

    receiver = asyncio.create_task(receive())
    await paced(send, rate, seconds)
    await asyncio.wait_for(receiver, 30)
    await ws.close()
    return latencies


@contextlib.contextmanager
def echo_server(port: int):
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, str(port)], start_new_session=True)
    try:
        time.sleep(1.5)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


# Report ----------------------------------------------------------------------------------------


def machine() -> str:
    import django
    import uvicorn

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: {now} · {os.cpu_count()} cores · load at the end {load} · Python "
        f"{platform.python_version()}, Django {django.get_version()}, uvicorn {uvicorn.__version__}"
        f" · SQLite, in-memory channel layer · commit {commit}."
    )


def write_section(name: str, body: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    block = f"{start}\n{body.strip()}\n{end}"
    if pattern.search(text):
        text = pattern.sub(lambda m: block, text)
    else:
        text = text.rstrip() + f"\n\n{block}\n"
    DOC.write_text(text, encoding="utf-8")


def row(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {statistics.median(values):.1f} | {pct(values, 90):.1f} |"
        f" {pct(values, 99):.1f} | {max(values):.1f} |"
    )


async def run(args: argparse.Namespace, api_token: str) -> None:
    parts = set(args.only.split(","))
    port = free_port()
    with server(port) as (url, pid):
        if "setup" in parts:
            log("1. établissement des appels")
            through, floor = await setup_times(url, api_token, args.calls)
        if "relay" in parts:
            log("3. latence de relais")
            relay = await relay_latency(url, api_token, args.rate, args.seconds)
            echo_port = free_port()
            with echo_server(echo_port):
                echo = await echo_latency(echo_port, args.rate, args.seconds)
        if "connections" in parts:
            log(f"2. {args.connections} connexions simultanées")
            held = await hold_connections(url, pid, args.connections)
    footer = machine()
    header = "| measure | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
    if "setup" in parts:
        ratio = statistics.median(through) / statistics.median(floor)
        write_section(
            "rooms-call-setup",
            f"""**Call setup through the server: p50 {statistics.median(through):.0f} ms,
{ratio:.2f}× the in-process floor ({statistics.median(floor):.0f} ms)** — target ≤ 1.5×.

`{COMMAND} --calls {args.calls}` · each call: a fresh test room (API), peer a joins, peer b
joins, both admitted → first remote frame decoded on both sides (320×240 VP8, aiortc), the
floor measured right after each call with the same two peers and no server.

{header}
{row("through `telesante serve`", through)}
{row("in-process floor (baseline)", floor)}

{footer}""",
        )
    if "connections" in parts:
        write_section(
            "rooms-connections",
            f"""**{held["held"]:,} room WebSockets held by one process, {held["rss_after"]:.0f} MB
resident ({held["per_conn_kb"]:.1f} kB per connection)** — target 5,000 under 1 GB.

`{COMMAND} --connections {args.connections}` · {held["asked"]:,} connections asked (four per
room, each authenticated by its token, recorded in the database, welcomed), opened 20 at a
time in {held["opened_s"]:.0f} s; {held["failures"]} failed. Resident memory of the server
process: {held["rss_before"]:.0f} MB before, {held["rss_after"]:.0f} MB with all connections
open.

{footer}""",
        )
    if "relay" in parts:
        write_section(
            "rooms-relay",
            f"""**Relay p99 {pct(relay, 99):.1f} ms at {args.rate:,} messages/s** (p50
{statistics.median(relay):.1f} ms) against a bare `websockets` echo server's p99
{pct(echo, 99):.1f} ms at the same rate — target p99 < 20 ms.

`{COMMAND} --rate {args.rate} --seconds {args.seconds}` · peer a sends `signal` messages to
peer b of the same room, paced at the rate, one-way time measured by the sending process's
clock; the echo server (another process, no Django, no channel layer) returns each message to
its sender.

{header}
{row("room relay a → server → b", relay)}
{row("bare websockets echo (baseline)", echo)}

{footer}""",
        )
    log("docs/benchmarks.md écrit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--only", default="setup,connections,relay", help="parts to run (others keep their text)"
    )
    args = parser.parse_args()
    api_token = setup_database()  # the ORM outside the event loop
    asyncio.run(run(args, api_token))


if __name__ == "__main__":
    main()
