#!/usr/bin/env python
"""Télérégulation video benchmark, through the real production server (`telesante serve`).

    .venv/bin/python bench/run_regulation_video.py [--calls 10]

Each call: the regulator (a headless aiortc peer) waits in the room of a fresh single-use link
sent from a regulation record; the caller, another aiortc peer, opens the SMS link (which
answers with the caller's page and its first room token), then joins the room through the
caller's socket with its consent, as the caller's page does (the consent admits it).
Measured: from the link opened to the first frame decoded on the regulator's side. The floor
is two aiortc peers connected in-process (offer and answer handed over directly, no server,
first frame on both sides), measured right after each call in the same run.

SQLite database of its own under var/bench/, in-memory channel layer; starts and stops its
server (bench/run_rooms.py's) and rewrites its own section of docs/benchmarks.md.
"""

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_rooms as rooms_bench

DB = rooms_bench.VAR / "regulation_bench.sqlite3"
COMMAND = ".venv/bin/python bench/run_regulation_video.py"
rooms_bench.ENV["TELESANTE_DATABASE_URL"] = f"sqlite:///{DB}"
rooms_bench.DB = DB


def setup_world() -> tuple:
    """A SAMU with its regulator and one regulation record (the ORM outside the event loop)."""
    rooms_bench.setup_database()
    from telesante.accounts.models import Membership, Profession, User
    from telesante.regulation import services
    from telesante.structures.models import Commune, Departement, Region, Structure

    region = Region.objects.create(code="52", name="Pays de la Loire")
    departement = Departement.objects.create(code="53", name="Mayenne", region=region)
    commune = Commune.objects.create(code="53130", name="Laval", departement=departement)
    samu = Structure.objects.create(name="SAMU 53", kind="samu", commune=commune)
    regulator = User.objects.create_user(
        "bench.regulation@example.test",
        None,
        first_name="Banc",
        last_name="Régulation",
        profession=Profession.DOCTOR,
        regulation_access=True,
    )
    Membership.objects.create(user=regulator, structure=samu)
    record = services.create_record(
        None, regulator, {"caller_number": "06 12 34 56 78", "reason": "Banc"}
    )
    return regulator, record


def fresh_link(regulator, record) -> tuple[str, str, str]:
    """A new single-use link of the record: its room, the regulator's token, the link's path."""
    from telesante.regulation import services
    from telesante.rooms import tokens
    from telesante.rooms.services import user_claim

    link, value = services.send_video_link(None, regulator, record)
    claim = user_claim(regulator, link.room)
    return link.room.slug, tokens.issue(claim), services.link_path(value)


def caller_page(url: str, link_path: str) -> dict:
    """What the caller's phone does over HTTP before any choice: open the link, which answers
    with the page. Returns the page's call configuration (its first room token, its socket)."""
    page = urllib.request.urlopen(url + link_path, timeout=10).read().decode()
    config = re.search(r'<script id="call-config" type="application/json">(.*?)</script>', page)
    return json.loads(config.group(1))


async def one_call(url: str, regulator, record) -> tuple[float, float]:
    """(link opened → regulator's first frame, of which the link and the page), in ms."""
    from telesante.rooms import probe

    slug, host_token, link_path = await asyncio.to_thread(fresh_link, regulator, record)
    doctor, caller = probe.ProbePeer(url, slug), None
    try:
        await doctor.connect(host_token)
        await asyncio.wait_for(doctor.admitted.wait(), 20)
        opened = time.monotonic()
        config = await asyncio.to_thread(caller_page, url, link_path)
        page_ms = (time.monotonic() - opened) * 1000
        # As the caller's page does: the consent travels with the join.
        caller = probe.ProbePeer(url, slug, config["wsPath"])
        await caller.connect(config["token"], "&consent=fr")
        if not await doctor.wait_frames(1, 20):
            raise RuntimeError("aucune image chez le régulateur")
        return (doctor.first_frame_at - opened) * 1000, page_ms
    finally:
        if caller is not None:
            await caller.close()
        await doctor.close()


async def run(calls: int, regulator, record) -> tuple[list[float], list[float], list[float]]:
    through, pages, floor = [], [], []
    port = rooms_bench.free_port()
    with rooms_bench.server(port) as (url, _pid):
        for i in range(calls):
            total, page_ms = await one_call(url, regulator, record)
            through.append(total)
            pages.append(page_ms)
            floor.append(await rooms_bench.direct_call())
            rooms_bench.log(
                f"appel {i + 1}/{calls} : lien → image {through[-1]:.0f} ms,"
                f" direct {floor[-1]:.0f} ms"
            )
    return through, pages, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    regulator, record = setup_world()
    through, pages, floor = asyncio.run(run(args.calls, regulator, record))
    ratio = statistics.median(through) / statistics.median(floor)
    header = "| measure | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
    rooms_bench.write_section(
        "regulation-video",
        f"""**Link opened → first frame on the regulator's side: p50
{statistics.median(through):.0f} ms, {ratio:.2f}× the in-process floor
({statistics.median(floor):.0f} ms)** — target ≤ 1.5×.

`{COMMAND} --calls {args.calls}` · each call: a fresh single-use link sent from a regulation
record; the regulator (aiortc) waits in its room; the caller (aiortc) opens the link (which
answers with the caller's page and its first room token), then, as the caller's page does,
joins the room through the caller's socket with its consent (which admits it at once); until
the first frame decoded by the regulator (320×240 VP8). The floor: the same two aiortc peers
connected in-process, right after each call.

{header}
{rooms_bench.row("link opened → regulator's first frame", through)}
{rooms_bench.row("of which the link's answer (the caller's page)", pages)}
{rooms_bench.row("in-process floor (baseline)", floor)}

{rooms_bench.machine()}""",
    )
    rooms_bench.log("docs/benchmarks.md écrit")


if __name__ == "__main__":
    main()
