#!/usr/bin/env python
"""How much one server holds: locust drives the busy-hour mix (bench/locustfile.py) through
nginx (deploy/nginx/telesante.conf, TLS) into two `telesante serve` processes in production mode,
PostgreSQL seeded with the demo region and Redis, all on this machine.

    .venv/bin/python bench/run_capacity.py [--steps 10,20,40,80,160,320] [--seconds 30]

Each step runs that many simulated users for --seconds: professionals clicking every 1 to 3 s
(reading, searching, booking a doctor's free slot then cancelling it), device gateways posting
100 measurements every 5 s, pairs of professionals in a call's room (admission, the call's
signalling and chat over the WebSocket), weighted 9:1:1. Locust runs pinned to the last core
(`taskset`), its CPU share measured each step. The capacity is the largest
step with no error and p95 under 300 ms; beyond it, the platform should shed load (503 at once,
core/shedding.py) rather than time out. Baseline in the same run: the bare liveness probe
(`/healthz/live`, no database) under the largest step. Rewrites its section of
docs/benchmarks.md.
"""

import argparse
import csv
import datetime
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run_indicators as common  # noqa: E402

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench_capacity"
REDIS_URL = "redis://127.0.0.1:6379/11"
MARK = "capacity"
SECRET = "banc-de-capacite-" + "k" * 40
MIX = ("Professional", "Gateway", "RoomPair")
VAR = ROOT / "var" / "capacity"
BIN = Path(sys.executable).parent
P95_TARGET_MS = 300
# A region of 500 sites at its busy hour: 4 professionals of a site on the platform at once.
SITES, ACTIVE_PER_SITE = 500, 4
# The load generator on a core of its own when it can be: the servers, nginx, PostgreSQL and
# Redis still share both cores with it (taskset pins locust, not the others).
LOCUST_CORE = (os.cpu_count() or 1) - 1
PIN = ["taskset", "-c", str(LOCUST_CORE)] if shutil.which("taskset") else []


# The bookings' slots and the calls' rooms: published for the run, well ahead of the demo's acts.
OPEN_FROM, OPEN_TO = datetime.time(7), datetime.time(21)
CALLS_FROM_DAYS = 15  # the calls' acts lie beyond the 14 days of bookable slots
BENCH_REASON = "Banc de capacité : salle"


def booking_plan(user) -> dict | None:
    """What a professional books for (a patient of theirs, their structure), if they book."""
    from telesante.core import policy
    from telesante.teleconsultation import services

    if not services.may_book(user):
        return None
    patient = policy.visible_patients(user).order_by("pk").first()
    structure = policy.member_structures(user).order_by("pk").first()
    return {"patient": patient.pk, "structure": structure.pk} if patient else None


def publish_slots(doctors: list) -> list[dict]:
    """Every doctor opens 07:00-21:00 each day (20 min slots, 5 min apart); the free slots
    starting in more than an hour, in local time as the booking page posts them."""
    from django.utils import timezone

    from telesante.core import policy
    from telesante.teleconsultation import booking
    from telesante.teleconsultation.models import Availability

    soon = timezone.now() + datetime.timedelta(hours=1)
    slots = []
    for doctor in doctors:
        if not Availability.objects.filter(professional=doctor).exists():
            structure = policy.member_structures(doctor).order_by("pk").first()
            for day in range(7):
                booking.add_availability(None, doctor, structure.pk, day, OPEN_FROM, OPEN_TO)
        slots += [
            {"performer": doctor.pk, "at": timezone.localtime(s.start).strftime("%Y-%m-%dT%H:%M")}
            for s in booking.free_slots(doctor)
            if s.start > soon
        ]
    return slots


def call_rooms(pairs: list[tuple], count: int) -> list[dict]:
    """`count` scheduled téléconsultations, each with its room, between a professional who
    booked it and the doctor who performs it; made once, reused by later runs."""
    from django.utils import timezone

    from telesante.teleconsultation import services
    from telesante.teleconsultation.models import TeleConsultation

    def open_calls():
        return TeleConsultation.objects.filter(
            reason=BENCH_REASON, act__status="scheduled", act__room__closed_at=None
        ).select_related("act__room")

    made = open_calls().count()
    start = timezone.now().replace(second=0, microsecond=0, minute=0)
    start += datetime.timedelta(days=CALLS_FROM_DAYS)
    for n in range(made, count):
        requester, plan, performer = pairs[n % len(pairs)]
        new = services.NewConsultation(
            patient_id=plan["patient"],
            structure_id=plan["structure"],
            kind="teleconsultation",
            performer_id=performer.pk,
            scheduled_at=start + datetime.timedelta(minutes=25 * n),
            reason=BENCH_REASON,
            information_given=True,
            decision="consent",
        )
        services.create(None, requester, new)
    return [
        {"slug": tc.act.room.slug, "requester": tc.act.requester_id, "performer": performer}
        for tc in open_calls().order_by("pk")[:count]
        for performer in tc.act.performers.values_list("pk", flat=True)
    ]


def prepare(calls: int) -> dict:
    """The demo region, sessions and tokens of its professionals, devices and search terms,
    free slots to book and rooms for `calls` calls."""
    from allauth.mfa.models import Authenticator
    from django.core.management import call_command
    from django.db.models.functions import Substr
    from django.test import Client

    from telesante.accounts.models import ApiToken, Profession, User
    from telesante.acts.models import Act
    from telesante.demo.monitoring import BASE, EXPLOITANT, SENDS
    from telesante.demo.seeding import is_seeded
    from telesante.patients.models import Patient
    from telesante.telesurveillance import catalog
    from telesante.telesurveillance.models import Device, DeviceToken

    call_command("migrate", verbosity=0)
    if not is_seeded():
        call_command("seed_demo", verbosity=0)
    professionals = []
    # Accounts with their second factor, as every professional has in production (the others
    # would be sent to enrol one).
    with_totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP).values("user")
    accounts = User.objects.filter(memberships__isnull=False, is_active=True, pk__in=with_totp)
    accounts = list(accounts.distinct().order_by("pk"))
    for user in accounts:
        client = Client()
        client.force_login(user)
        _token, raw = ApiToken.issue(user)
        professionals.append(
            {
                "id": user.pk,
                "session": client.cookies["sessionid"].value,
                "token": raw,
                "booking": booking_plan(user),
            }
        )
    doctors = [u for u in accounts if u.profession == Profession.DOCTOR]
    plans = {p["id"]: p["booking"] for p in professionals}
    pairs = [
        (u, plans[u.pk], doctors[(n + 1 + i) % len(doctors)])
        for n, u in enumerate(accounts)
        if plans[u.pk]
        for i in range(len(doctors))
        if doctors[(n + 1 + i) % len(doctors)] != u
    ]
    slots = publish_slots(doctors)
    rooms = call_rooms(pairs, calls)
    common.vacuum_analyze()
    terms = list(
        Patient.objects.annotate(p=Substr("birth_name", 1, 3))
        .values_list("p", flat=True)
        .distinct()[:40]
    )
    devices = []
    serials = Device.objects.filter(serial__startswith="DEMO-").values_list("serial", flat=True)
    for serial in serials:
        kind = SENDS[serial.split("-")[1]][0]  # DEMO-SC-001: a scale, which sends weights
        devices.append(
            {"serial": serial, "type": kind, "value": BASE[kind], "unit": catalog.TYPES[kind].unit}
        )
    _t, gateway = DeviceToken.issue(exploitant=EXPLOITANT)
    return {
        "facts": {
            "acts": Act.objects.count(),
            "patients": Patient.objects.count(),
            "professionals": len(professionals),
            "slots": len(slots),
            "rooms": len(rooms),
        },
        "setup": {
            "professionals": professionals,
            "terms": terms,
            "devices": devices,
            "gateway_token": gateway,
            "slots": slots,
            "rooms": rooms,
        },
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(pg_url: str, name: str):
    port = free_port()
    env = {
        **os.environ,
        "TELESANTE_DEBUG": "",
        "TELESANTE_DEMO": "",
        "TELESANTE_SECRET_KEY": SECRET,
        "TELESANTE_ALLOWED_HOSTS": "127.0.0.1",
        "TELESANTE_BEHIND_TLS_PROXY_NO_REDIRECT": "1",
        "TELESANTE_TRUSTED_PROXIES": "127.0.0.1",
        "TELESANTE_DATABASE_URL": pg_url,
        "TELESANTE_REDIS_URL": REDIS_URL,
        "TELESANTE_VAR_DIR": str(VAR / name),
        "TELESANTE_MQTT_URL": "",
    }
    log = (VAR / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "telesante"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/live", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((VAR / f"{name}.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def locust(url: str, setup_file: Path, users: int, seconds: int, prefix: Path, *classes) -> dict:
    command = [
        *PIN,
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users // 2, 1)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
        *classes,
    ]
    env = {**os.environ, "CAPACITY_SETUP": str(setup_file)}
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    subprocess.run(command, env=env, capture_output=True, timeout=seconds + 120)
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    shed = other = 0
    with open(f"{prefix}_failures.csv") as f:
        for row in csv.DictReader(f):
            if "503" in row["Error"]:
                shed += int(row["Occurrences"])
            else:
                other += int(row["Occurrences"])
    return {
        "users": users,
        "requests": int(total["Request Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "shed": shed,
        "errors": other,
        "locust_cpu": cpu / wall,
        "kinds": [
            {
                "name": r["Name"],
                "requests": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "p50": float(r["50%"]),
                "p95": float(r["95%"]),
            }
            for r in rows
            if r["Name"] != "Aggregated"
        ],
    }


def kinds_table(first: dict, last: dict) -> list[str]:
    """Each kind of request at two steps: what the held load and the heaviest one cost it."""
    light = {k["name"]: k for k in first["kinds"]}
    heavy = {k["name"]: k for k in last["kinds"]}
    none = {"requests": 0, "p50": 0, "p95": 0, "failures": 0}
    lines = [
        f"| request ({first['users']} users → {last['users']} users) | n | p50 | p95 | failed "
        "| n | p50 | p95 | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in sorted(light.keys() | heavy.keys()):
        k, h = light.get(name, none), heavy.get(name, none)
        lines.append(
            f"| {name} | {k['requests']} | {k['p50']:.0f} | {k['p95']:.0f} "
            f"| {k['failures']} | {h['requests']} | {h['p50']:.0f} | {h['p95']:.0f} "
            f"| {h['failures']} |"
        )
    return lines


def report(
    facts: dict, steps: list[dict], bare: dict, seconds: int, command: str, machine: str
) -> str:
    held = [s for s in steps if s["errors"] == 0 and s["shed"] == 0 and s["p95"] < P95_TARGET_MS]
    best = max(held, key=lambda s: s["rps"]) if held else None
    pinned = f"pinned by `taskset` to core {LOCUST_CORE}" if PIN else "not pinned"
    lines = [
        "## 8. Capacity of one server (locust, busy-hour mix through nginx)",
        "",
        f"Command: `{command}`. This machine: {os.cpu_count()} cores, running nginx, two "
        "`telesante serve` processes (production settings, load shedding at "
        "`TELESANTE_MAX_IN_FLIGHT` requests a process, Redis channel layer), PostgreSQL, Redis "
        f"and the load generator itself: locust, one process, {pinned}; the others run on "
        "both cores, that one included, so locust takes its share of the machine it measures "
        "(its CPU, in share of one core, in the table). "
        f"Demo region: {common.spaced(facts['patients'])} patients, "
        f"{common.spaced(facts['acts'])} acts, {facts['professionals']} professionals' sessions "
        f"and tokens. Each step runs {seconds} s; times in ms. Mix (bench/locustfile.py), "
        "users weighted 9:1:1: **professionals** clicking every 1 to 3 s through the work "
        "list, patient search (page and API), télé-expertise boxes (page and API), one request "
        "opened, the téléconsultation list (page and API), and **booking a téléconsultation**: "
        "the booking page with a doctor's free slots, the form posted for a patient of theirs "
        f"on a slot no other user holds ({common.spaced(facts['slots'])} free slots published "
        "07:00–21:00 by the demo's doctors), the act's page, then the act cancelled, its slot "
        "free again; **device gateways** posting 100 measurements every 5 s; **pairs in a "
        f"call** ({facts['rooms']} rooms of booked téléconsultations): each asks the API for "
        "a room token, the doctor enters and admits the other from the waiting room over the "
        "WebSocket, the call is set up (offer and answer of 3 kB, 8 ICE candidates each way, "
        "relayed by the server), they chat every 10 s, hang up after 30 s and call again 2 to "
        "5 s later (a busier room than a real 15-minute consultation). WebSocket steps are timed "
        "from the send on one socket to the arrival on the other, and counted as requests.",
        "",
        "| users | requests/s | p50 | p95 | shed (503) | other errors | locust CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        lines.append(
            f"| {s['users']} | {s['rps']:.0f} | {s['p50']:.0f} | {s['p95']:.0f} "
            f"| {common.spaced(s['shed'])} | {common.spaced(s['errors'])} "
            f"| {s['locust_cpu']:.0%} |"
        )
    lines += [
        f"| baseline: `/healthz/live`, {bare['users']} users | {bare['rps']:.0f} "
        f"| {bare['p50']:.0f} | {bare['p95']:.0f} | {bare['shed']} | {bare['errors']} "
        f"| {bare['locust_cpu']:.0%} |",
        "",
    ]
    users_needed = SITES * ACTIVE_PER_SITE
    region = (
        f"A region of {SITES} sites with {ACTIVE_PER_SITE} professionals of a site on the "
        f"platform at once at its busy hour is {common.spaced(users_needed)} such users"
    )
    shared = (
        "An upper bound: locust, nginx, PostgreSQL and Redis share the same cores here, as the "
        f"baseline's own p95 ({bare['p95']:.0f} ms for a probe that does no work) shows; "
        "drive the load from another machine for the servers' own figure."
    )
    if best:
        lines.append(
            f"Held with no error and p95 under {P95_TARGET_MS} ms: **{best['users']} users, "
            f"{best['rps']:.0f} requests/s** (p95 {best['p95']:.0f} ms). {region}: at most "
            f"**{math.ceil(users_needed / best['users'])} servers** like this one (2 cores "
            f"each, database apart). {shared}"
        )
    else:
        lines.append(
            f"No step held with no error and p95 under {P95_TARGET_MS} ms on this machine "
            "during this run."
        )
        clean = [s for s in steps if s["errors"] == 0 and s["shed"] == 0]
        if clean:
            top = max(clean, key=lambda s: s["users"])
            lines[-1] += (
                f" The largest step with no error and nothing shed: {top['users']} users, "
                f"{top['rps']:.0f} requests/s, p95 {top['p95']:.0f} ms. {region}: "
                f"**{math.ceil(users_needed / top['users'])} servers** like this one at that "
                f"load, with that p95 rather than {P95_TARGET_MS} ms. {shared}"
            )
    beyond = [s for s in steps if s not in held]
    if beyond:
        shed = sum(s["shed"] for s in beyond)
        errors = sum(s["errors"] for s in beyond)
        lines.append(
            f"Beyond it: {common.spaced(shed)} requests shed with 503 at once and "
            f"{common.spaced(errors)} other errors over the heavier steps."
        )
    lines += ["", *kinds_table(best or steps[0], steps[-1]), "", machine]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="10,20,40,80,160,320")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    VAR.mkdir(parents=True, exist_ok=True)
    common.ensure_database(args.pg_url)
    os.environ["TELESANTE_SECRET_KEY"] = SECRET  # the sessions made here must hold in the servers
    common.setup_django(args.pg_url)
    # One pair of users in eleven is in a call (locustfile weights 9:1:1), each in a room.
    prepared = prepare(calls=max(steps) // 8 + 2)
    setup_file = VAR / "setup.json"
    setup_file.write_text(json.dumps(prepared["setup"]))
    from tests.deploy.test_nginx import running_nginx, site_config

    from telesante.core.tls import self_signed

    static = VAR / "static-root"
    env = {**os.environ, "TELESANTE_VAR_DIR": str(static)}
    collect = [str(BIN / "telesante"), "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, env=env, check=True)
    certs = VAR / "certs"
    certs.mkdir(exist_ok=True)
    self_signed(certs)
    results = []
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"Machine: {now} · load before the run {load} · commit {commit}."
    with ExitStack() as stack:
        ports = [stack.enter_context(server(args.pg_url, f"s{n}")) for n in (1, 2)]
        tls = free_port()
        site = site_config(ports, free_port(), tls, certs, static)
        # Each user holds a connection to nginx, which holds one to a server (two in a call).
        stack.enter_context(running_nginx(VAR / "nginx", site, tls, connections=8 * max(steps)))
        url = f"https://127.0.0.1:{tls}"
        for users in steps:
            prefix = VAR / f"step{users}"
            step = locust(url, setup_file, users, args.seconds, prefix, *MIX)
            print(step, flush=True)
            results.append(step)
        bare = locust(url, setup_file, steps[-1], args.seconds, VAR / "bare", "Bare")
        print("bare", bare, flush=True)
    command = (
        f".venv/bin/python bench/run_capacity.py --steps {args.steps} --seconds {args.seconds}"
    )
    body = report(prepared["facts"], results, bare, args.seconds, command, machine)
    print(body)
    common.write_section(body, MARK)


if __name__ == "__main__":
    random.seed(1)
    main()
