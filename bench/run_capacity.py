#!/usr/bin/env python
"""How much one server holds: locust drives the busy-hour mix (bench/locustfile.py) through
nginx (deploy/nginx/telesante.conf, TLS) into two `telesante serve` processes in production mode,
PostgreSQL seeded with the demo region and Redis, all on this machine.

    .venv/bin/python bench/run_capacity.py [--steps 10,20,40,80,160,320] [--seconds 30]

Each step runs that many simulated users (professionals clicking every 1 to 3 s, one device
gateway in ten posting 100 measurements every 5 s) for --seconds. The capacity is the largest
step with no error and p95 under 300 ms; beyond it, the platform should shed load (503 at once,
core/shedding.py) rather than time out. Baseline in the same run: the bare liveness probe
(`/healthz/live`, no database) under the largest step. Rewrites its section of
docs/benchmarks.md.
"""

import argparse
import csv
import json
import math
import os
import random
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
VAR = ROOT / "var" / "capacity"
BIN = Path(sys.executable).parent
P95_TARGET_MS = 300
# A region of 500 sites at its busy hour: 4 professionals of a site on the platform at once.
SITES, ACTIVE_PER_SITE = 500, 4


def prepare() -> dict:
    """The demo region, sessions and tokens of its professionals, devices and search terms."""
    from allauth.mfa.models import Authenticator
    from django.core.management import call_command
    from django.db.models.functions import Substr
    from django.test import Client

    from telesante.accounts.models import ApiToken, User
    from telesante.acts.models import Act
    from telesante.demo.monitoring import BASE, EXPLOITANT, SENDS
    from telesante.demo.seeding import is_seeded
    from telesante.patients.models import Patient
    from telesante.telesurveillance import catalog
    from telesante.telesurveillance.models import Device, DeviceToken

    call_command("migrate", verbosity=0)
    if not is_seeded():
        call_command("seed_demo", verbosity=0)
    common.vacuum_analyze()
    professionals = []
    # Accounts with their second factor, as every professional has in production (the others
    # would be sent to enrol one).
    with_totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP).values("user")
    accounts = User.objects.filter(memberships__isnull=False, is_active=True, pk__in=with_totp)
    for user in accounts.distinct():
        client = Client()
        client.force_login(user)
        _token, raw = ApiToken.issue(user)
        professionals.append({"session": client.cookies["sessionid"].value, "token": raw})
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
        },
        "setup": {
            "professionals": professionals,
            "terms": terms,
            "devices": devices,
            "gateway_token": gateway,
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
    subprocess.run(command, env=env, capture_output=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
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
    }


def report(facts: dict, steps: list[dict], bare: dict, seconds: int, command: str) -> str:
    held = [s for s in steps if s["errors"] == 0 and s["shed"] == 0 and s["p95"] < P95_TARGET_MS]
    best = max(held, key=lambda s: s["rps"]) if held else None
    lines = [
        "## 8. Capacity of one server (locust, busy-hour mix through nginx)",
        "",
        f"Command: `{command}`. This machine: {os.cpu_count()} cores, running nginx, two "
        "`telesante serve` processes (production settings, load shedding at "
        "`TELESANTE_MAX_IN_FLIGHT` requests a process), PostgreSQL, Redis and locust itself. "
        f"Demo region: {common.spaced(facts['patients'])} patients, "
        f"{common.spaced(facts['acts'])} acts, {facts['professionals']} professionals' sessions "
        f"and tokens. Each step runs {seconds} s; times in ms. Mix (bench/locustfile.py): "
        "work list, patient search (page and API), télé-expertise boxes (page and API), one "
        "request opened, téléconsultation list (page and API), one user in ten a device gateway "
        "posting 100 measurements every 5 s. Not in the mix yet: bookings and room signalling.",
        "",
        "| users | requests/s | p50 | p95 | shed (503) | other errors |",
        "|---|---|---|---|---|---|",
    ]
    for s in steps:
        lines.append(
            f"| {s['users']} | {s['rps']:.0f} | {s['p50']:.0f} | {s['p95']:.0f} "
            f"| {common.spaced(s['shed'])} | {common.spaced(s['errors'])} |"
        )
    lines += [
        f"| baseline: `/healthz/live`, {bare['users']} users | {bare['rps']:.0f} "
        f"| {bare['p50']:.0f} | {bare['p95']:.0f} | {bare['shed']} | {bare['errors']} |",
        "",
    ]
    if best:
        users_needed = SITES * ACTIVE_PER_SITE
        per_user = best["rps"] / best["users"]
        servers = math.ceil(users_needed * per_user / best["rps"])
        lines.append(
            f"Held with no error and p95 under {P95_TARGET_MS} ms: **{best['users']} users, "
            f"{best['rps']:.0f} requests/s** (p95 {best['p95']:.0f} ms). A region of "
            f"{SITES} sites with {ACTIVE_PER_SITE} professionals of a site on the platform at "
            f"once at its busy hour is {common.spaced(users_needed)} such users: at most "
            f"**{servers} servers** like this one (2 cores each, database apart). An upper "
            "bound: locust, nginx, PostgreSQL and Redis share the same cores here, as the "
            f"baseline's own p95 ({bare['p95']:.0f} ms for a probe that touches nothing) "
            "shows; drive the load from another machine for the servers' own figure."
        )
    else:
        lines.append(f"No step held with no error and p95 under {P95_TARGET_MS} ms.")
    beyond = [s for s in steps if s not in held]
    if beyond:
        shed = sum(s["shed"] for s in beyond)
        errors = sum(s["errors"] for s in beyond)
        lines.append(
            f"Beyond it: {common.spaced(shed)} requests shed with 503 at once and "
            f"{common.spaced(errors)} other errors over the heavier steps."
        )
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
    prepared = prepare()
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
    with ExitStack() as stack:
        ports = [stack.enter_context(server(args.pg_url, f"s{n}")) for n in (1, 2)]
        tls = free_port()
        site = site_config(ports, free_port(), tls, certs, static)
        stack.enter_context(running_nginx(VAR / "nginx", site, tls))
        url = f"https://127.0.0.1:{tls}"
        for users in steps:
            prefix = VAR / f"step{users}"
            step = locust(url, setup_file, users, args.seconds, prefix, "Professional", "Gateway")
            print(step, flush=True)
            results.append(step)
        bare = locust(url, setup_file, steps[-1], args.seconds, VAR / "bare", "Bare")
        print("bare", bare, flush=True)
    command = ".venv/bin/python bench/run_capacity.py"
    body = report(prepared["facts"], results, bare, args.seconds, command)
    print(body)
    common.write_section(body, MARK)


if __name__ == "__main__":
    random.seed(1)
    main()
