#!/usr/bin/env python
"""Télésurveillance ingest benchmark, through the real production server (`telesante serve`).

    .venv/bin/python bench/run_telesurveillance.py [--measurements 3000000] [--workers 2]

1. Baseline: a raw psycopg `COPY` of the very rows the API will store, into a copy of the
   measurements table (same columns, indexes and unique key), in the same database and run.
2. HTTP: gateway clients post batches of 10,000 measurements (`POST
   /api/v1/telesurveillance/measurements`) to `telesante serve` on PostgreSQL, rules evaluated
   (a few readings cross a threshold): measurements/s, and the ratio to the COPY rate.
3. Alert latency under that load: a probe posts one low SpO2 for a patient of a probe team every
   200 ms and waits for the alert on the team's WebSocket (`/ws/telesurveillance/equipes/…`,
   Redis channel layer shared by the server's workers): p50/p99 from before the POST to the
   WebSocket message.
4. MQTT: `telesante mqtt-bridge` draining messages of 6 readings (one device's morning)
   published at QoS 1 to a Mosquitto of the bench's own: measurements/s.

The database `telesante_bench_tsv` is dropped and created at each run. Rewrites its section of
docs/benchmarks.md. The machine is shared and noisy: compare the ratio to COPY between runs.
"""

import argparse
import asyncio
import contextlib
import datetime
import http.client
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_patient_search import (
    BIN,
    ROOT,
    VAR,
    Server,
    bench_env,
    free_port,
    log,
    machine_facts,
    pg_admin,
    setup_django,
    telesante,
    write_doc,
)

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench_tsv"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
EXPLOITANT = "BenchGateway"
TYPES = [  # one device-morning of a heart-failure patient
    ("weight", "kg", 78.0, 0.3),
    ("spo2", "%", 96.0, 1.0),
    ("heart_rate", "/min", 72.0, 4.0),
    ("systolic_bp", "mm[Hg]", 128.0, 6.0),
    ("diastolic_bp", "mm[Hg]", 78.0, 4.0),
    ("symptom_score", "{score}", 1.0, 0.5),
]
BATCH = 10_000
PROBE_EVERY = 0.2
COMMAND = ".venv/bin/python bench/run_telesurveillance.py"
MEASUREMENTS_PATH = "/api/v1/telesurveillance/measurements"


# ----------------------------------------------------------------------------- data


def recreate(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing database {name!r}: only a *bench* database is dropped.")
    with pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"database {name} created")


@dataclass
class Setup:
    token: str  # the gateway's token (every device of EXPLOITANT)
    serials: list[str]  # load devices
    probes: list[str]  # one device per probe patient
    probe_team: int
    probe_cookie: str  # session of a probe team member, for the WebSocket


def populate(patients: int, probes: int) -> Setup:
    """Load patients and probe patients enrolled with one gateway device each, in bulk."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction

    from telesante.accounts.models import Membership, Profession, User
    from telesante.accounts.sessions import SessionStore
    from telesante.acts.models import Act, ActStatus
    from telesante.patients.models import ActKind, Consent, ConsentDecision, Patient
    from telesante.structures.models import Commune, Departement, Region, Structure, Team
    from telesante.telesurveillance.models import Device, DeviceToken, Enrolment, Programme

    programme = Programme.objects.get(pk="insuffisance_cardiaque")
    always = {"reading_start": datetime.time(0), "reading_end": datetime.time(23, 59, 59)}
    today = datetime.date.today()
    with transaction.atomic():
        region = Region.objects.create(code="52", name="Pays de la Loire")
        dept = Departement.objects.create(code="53", name="Mayenne", region=region)
        Commune.objects.create(code="53130", name="Laval", departement=dept)
        load_team = Structure.objects.create(name="Équipe de charge", kind="ch", commune_id="53130")
        probe_team = Structure.objects.create(name="Équipe sonde", kind="ch", commune_id="53130")
        doctor = User.objects.create_user(
            "prescripteur@bench.test", None, profession=Profession.DOCTOR
        )
        probe_nurse = User.objects.create_user("sonde@bench.test", None)
        Membership.objects.create(user=probe_nurse, structure=probe_team)
        load_nurse = User.objects.create_user("charge@bench.test", None)
        Membership.objects.create(user=load_nurse, structure=load_team)
        teams = [load_team] * patients + [probe_team] * probes
        people = Patient.objects.bulk_create(
            Patient(
                birth_name=f"BENCH{i}",
                first_names="Test",
                birth_date="1950-01-01",
                sex="F",
                birthplace_code="53130",
                search_key=f"BENCH{i} TEST",
            )
            for i in range(len(teams))
        )
        consents = Consent.objects.bulk_create(
            Consent(
                patient=p,
                act_kind=ActKind.TELESURVEILLANCE,
                information_given=True,
                decision=ConsentDecision.CONSENT,
                collected_by=doctor,
            )
            for p in people
        )
        acts = Act.objects.bulk_create(
            Act(
                kind=ActKind.TELESURVEILLANCE,
                patient=p,
                requester=doctor,
                requesting_structure=t,
                performing_structure=t,
                status=ActStatus.IN_PROGRESS,
                consent=c,
            )
            for p, t, c in zip(people, teams, consents, strict=True)
        )
        enrolments = Enrolment.objects.bulk_create(
            Enrolment(
                act=a,
                programme=programme,
                prescriber=doctor,
                operator=doctor,
                prescribed_on=today,
                data_consent=c,
                team=Team.default_for(t.pk),  # the structure's care team
                exploitant=EXPLOITANT,
                starts_on=today - datetime.timedelta(days=400),
                ends_on=today + datetime.timedelta(days=30),
                reading_weekdays="1,2,3,4,5,6,7",
                thresholds=programme.thresholds,
                **always,
            )
            for a, t, c in zip(acts, teams, consents, strict=True)
        )
        devices = Device.objects.bulk_create(
            Device(serial=f"{'LOAD' if t == load_team else 'PROBE'}-{i:06}", enrolment=e)
            for i, (e, t) in enumerate(zip(enrolments, teams, strict=True))
        )
        _t, token = DeviceToken.issue(exploitant=EXPLOITANT)
    session = SessionStore()
    session[SESSION_KEY] = str(probe_nurse.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = probe_nurse.get_session_auth_hash()
    session.create()
    return Setup(
        token=token,
        serials=[d.serial for d in devices[:patients]],
        probes=[d.serial for d in devices[patients:]],
        probe_team=probe_team.pk,
        probe_cookie=session.session_key,
    )


def readings(serials: list[str], total: int, seed: int) -> list[dict]:
    """Device-mornings in time order (day by day, all patients), like a day of a region's
    devices; about one SpO2 reading in 2,000 under the threshold (alerts under load)."""
    rng = random.Random(seed)
    days = -(-total // (len(serials) * len(TYPES)))
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days + 1)
    items = []
    for day in range(days):
        for serial in serials:
            at = (start + datetime.timedelta(days=day, seconds=rng.randint(0, 7200))).isoformat()
            for kind, unit, base, sd in TYPES:
                value = max(0.0, round(base + rng.gauss(0, sd), 1))
                if kind == "spo2":
                    value = min(value, 100.0)
                if kind == "spo2" and rng.random() < 0.0005:
                    value = 86.0
                items.append(
                    {
                        "id": f"{serial}-{day}-{kind}",
                        "device": serial,
                        "type": kind,
                        "value": value,
                        "unit": unit,
                        "at": at,
                    }
                )
                if len(items) == total:
                    return items
    return items


# ----------------------------------------------------------------------------- COPY


def copy_baseline(url: str, items: list[dict]) -> dict:
    """The same rows, written by psycopg COPY into a copy of the table (indexes included)."""
    import psycopg

    from telesante.telesurveillance import catalog
    from telesante.telesurveillance.models import Device

    devices = dict(Device.objects.values_list("serial", "id"))
    enrolment_of = dict(Device.objects.values_list("id", "enrolment_id"))
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for item in items:
        device = devices[item["device"]]
        value = catalog.canonical(item["type"], item["value"], item["unit"])
        rows.append(
            (
                enrolment_of[device],
                device,
                item["type"],
                value,
                item["unit"],
                datetime.datetime.fromisoformat(item["at"]),
                now,
                item["id"],
            )
        )
    columns = "enrolment_id, device_id, type, value, unit, at, received_at, message_id"
    with psycopg.connect(urlparse(url)._replace(scheme="postgresql").geturl()) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE telesurveillance_measurement INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, len(rows), BATCH):
                with cur.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
                    for row in rows[i : i + BATCH]:
                        copy.write_row(row)
                conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return {"rows": len(rows), "seconds": seconds, "rate": len(rows) / seconds}


# ----------------------------------------------------------------------------- HTTP


def post(
    conn: http.client.HTTPConnection,
    token: str,
    body: bytes,
    path: str = MEASUREMENTS_PATH,
    kind: str = "application/json",
) -> dict:
    conn.request(
        "POST", path, body=body, headers={"Authorization": f"Bearer {token}", "Content-Type": kind}
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path} {response.status}: {data[:300]!r}")
    return json.loads(data)


def post_all(
    port: int,
    token: str,
    bodies: list[bytes],
    clients: int,
    tally: Callable[[dict], None],
    path: str = MEASUREMENTS_PATH,
    kind: str = "application/json",
) -> tuple[float, list[float]]:
    """`clients` keep-alive connections post the pre-serialised bodies as fast as answered;
    `tally` reads each answer (under a lock). Returns the seconds and each request's ms."""
    todo = list(reversed(bodies))
    lock = threading.Lock()
    times: list[float] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if not todo:
                    break
                body = todo.pop()
            started = time.perf_counter()
            answer = post(conn, token, body, path, kind)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                times.append(elapsed)
                tally(answer)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, times


def http_load(port: int, token: str, items: list[dict], clients: int) -> dict:
    """`clients` keep-alive connections post the batches (pre-serialised) as fast as answered."""
    bodies = [
        json.dumps({"measurements": items[i : i + BATCH]}).encode()
        for i in range(0, len(items), BATCH)
    ]
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "alerts": 0}

    def tally(answer: dict) -> None:
        for key in ("accepted", "duplicates", "alerts"):
            totals[key] += answer[key]
        totals["rejected"] += len(answer["rejected"])

    seconds, ms = post_all(port, token, bodies, clients, tally)
    return totals | {
        "items": len(items),
        "batches": len(bodies),
        "seconds": seconds,
        "rate": totals["accepted"] / seconds,
        "batch_p50_ms": statistics.median(ms),
    }


class Probe:
    """Posts one low SpO2 for a probe patient every PROBE_EVERY seconds while the load runs,
    and times its arrival on the probe team's WebSocket."""

    def __init__(self, port: int, setup: Setup) -> None:
        self.port, self.setup = port, setup
        self.sent: dict[int, float] = {}  # enrolment id -> perf_counter at POST
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.enrolments = self._enrolments()

    def _enrolments(self) -> dict[str, int]:
        from telesante.telesurveillance.models import Device

        return dict(
            Device.objects.filter(serial__in=self.setup.probes).values_list(
                "serial", "enrolment_id"
            )
        )

    async def _listen(self) -> None:
        import websockets

        url = f"ws://127.0.0.1:{self.port}/ws/telesurveillance/equipes/{self.setup.probe_team}/"
        headers = {
            "Cookie": f"sessionid={self.setup.probe_cookie}",
            "Origin": f"http://127.0.0.1:{self.port}",
        }
        async with websockets.connect(url, additional_headers=headers) as ws:
            self.ready.set()
            while not self.stop.is_set() or len(self.latencies) < len(self.sent):
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=2))
                except TimeoutError:
                    if self.stop.is_set():
                        break
                    continue
                sent = self.sent.get(message.get("enrolment"))
                if sent is not None and message.get("state") == "open":
                    self.latencies.append((time.perf_counter() - sent) * 1000)

    def listen(self) -> None:
        asyncio.run(self._listen())

    def send(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for serial in self.setup.probes:
            if self.stop.wait(PROBE_EVERY):
                break
            at = datetime.datetime.now(datetime.UTC).isoformat()
            body = json.dumps(
                {
                    "measurements": [
                        {
                            "id": str(uuid.uuid4()),
                            "device": serial,
                            "type": "spo2",
                            "value": 85,
                            "unit": "%",
                            "at": at,
                        }
                    ]
                }
            ).encode()
            self.sent[self.enrolments[serial]] = time.perf_counter()
            post(conn, self.setup.token, body)
        conn.close()


# ----------------------------------------------------------------------------- CPU


def _cpu_seconds(pid: int, children: bool) -> float:
    """User + system CPU of a process (and of its finished, waited-for children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = [int(f) for f in fields[11:15]]  # utime, stime, cutime, cstime
    return sum(ticks if children else ticks[:2]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds of a process tree: the server's master and its workers, live or exited."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            parent_of[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError):
            total += _cpu_seconds(pid, children=True)
        todo += [child for child, parent in parent_of.items() if parent == pid]
    return total


def database_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL process serving the bench database, and of the server's
    own processes (WAL writer, checkpointer…), by pid. The database runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            seconds[pid] = _cpu_seconds(pid, children=False)
    return seconds


class CpuMeter:
    """CPU spent during a phase by the server, PostgreSQL and this bench process (the HTTP
    clients and the probe): where a 2-core machine's time goes."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> "CpuMeter":
        self.server = tree_cpu(self.server_pid)
        self.database = database_cpu()
        self.client = self._own()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.server = tree_cpu(self.server_pid) - self.server
        self.database = sum(s - self.database.get(pid, 0.0) for pid, s in database_cpu().items())
        self.client = self._own() - self.client

    @staticmethod
    def _own() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def figures(self, batches: int) -> dict:
        busy = (self.server + self.database + self.client) / (self.wall * (os.cpu_count() or 1))
        per_batch = {
            name: 1000 * seconds / batches
            for name, seconds in (
                ("server", self.server),
                ("database", self.database),
                ("client", self.client),
            )
        }
        return {"cpu_ms_per_batch": per_batch, "cores_busy": busy}


# ----------------------------------------------------------------------------- MQTT


def mqtt_rate(env: dict[str, str], items: list[dict], tmp: Path) -> dict:
    """Our own Mosquitto (in-flight window raised, as a production broker for the bridge
    should be), `telesante mqtt-bridge`, and a publisher of device-mornings at QoS 1."""
    import paho.mqtt.client as mqtt

    from telesante.telesurveillance.models import Measurement

    port = free_port()
    config = tmp / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 10000\n"
        "max_queued_messages 1000000\n" + ("user root\n" if os.geteuid() == 0 else "")
    )
    broker = subprocess.Popen(
        ["/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bridge = None
    try:
        time.sleep(0.5)
        last_id = Measurement.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        stored_count = Measurement.objects.filter(pk__gt=last_id).count
        bridge = subprocess.Popen(
            [
                str(BIN / "telesante"),
                "mqtt-bridge",
                "--url",
                f"mqtt://127.0.0.1:{port}",
                "--idle-exit",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
        publisher.max_inflight_messages_set(1000)
        publisher.max_queued_messages_set(0)
        publisher.connect("127.0.0.1", port)
        publisher.loop_start()
        groups = [items[i : i + len(TYPES)] for i in range(0, len(items), len(TYPES))]
        messages = [
            (
                f"telesante/v1/devices/{group[0]['device']}/measurements",
                json.dumps({"measurements": group}).encode(),
            )
            for group in groups
        ]
        # Until the bridge has subscribed, a message would reach nobody: send the first one
        # until it is stored (a repeat is a duplicate).
        deadline = time.monotonic() + 60
        while stored_count() < len(groups[0]) and time.monotonic() < deadline:
            publisher.publish(*messages[0], qos=1)
            time.sleep(0.5)
        before = stored_count()
        messages = messages[1:]
        items = [item for group in groups[1:] for item in group]
        started = time.perf_counter()
        for topic, payload in messages:
            publisher.publish(topic, payload, qos=1)
        target, seen, idle_since = before + len(items), before, time.monotonic()
        while seen < target and time.monotonic() - idle_since < 30:  # stop when stuck
            time.sleep(0.2)
            if (count := stored_count()) > seen:
                seen, idle_since = count, time.monotonic()
        seconds = time.perf_counter() - started
        stored = stored_count() - before
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        if bridge is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(bridge.pid, 15)
            bridge.wait(15)
        broker.terminate()
        broker.wait(10)
    return {
        "messages": len(messages),
        "items": len(items),
        "stored": stored,
        "seconds": seconds,
        "rate": stored / seconds,
    }


# ----------------------------------------------------------------------------- report


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if samples else 0.0


def body(args, facts, copy, load, probe, mqtt_result) -> str:
    ratio = load["rate"] / copy["rate"]
    cpu = load["cpu_ms_per_batch"]
    p50, p99 = percentile(probe, 50), percentile(probe, 99)
    return "\n".join(
        [
            f"{facts['date']} · {facts['cores']} cores ({facts['cpu']}), load before the run "
            f"{facts['load']} · Python {facts['python']}, Django {facts['django']}, uvicorn "
            f"{facts['uvicorn']} · {facts['database']} · commit {facts['commit']} · "
            f"{args.patients:,} patients, {args.workers} server worker(s), {args.clients} "
            "HTTP clients",
            "",
            "| measure | rows | seconds | rows/s | vs COPY |",
            "|---|---:|---:|---:|---:|",
            f"| raw psycopg `COPY` (baseline) | {copy['rows']:,} | {copy['seconds']:.1f} | "
            f"{copy['rate']:,.0f} | 1 |",
            f"| `POST {MEASUREMENTS_PATH}` (batches of {BATCH:,}, rules) | "
            f"{load['accepted']:,} | {load['seconds']:.1f} | **{load['rate']:,.0f}** | "
            f"**{ratio:.2f}×** |",
            f"| `telesante mqtt-bridge` ({len(TYPES)} readings a message, QoS 1) | "
            f"{mqtt_result['stored']:,} | {mqtt_result['seconds']:.1f} | "
            f"{mqtt_result['rate']:,.0f} | {mqtt_result['rate'] / copy['rate']:.2f}× |",
            "",
            f"HTTP: {load['batches']} batches, median {load['batch_p50_ms']:.0f} ms a batch; "
            f"{load['alerts']} alerts opened by the load's readings; rejected "
            f"{load['rejected']}, duplicates {load['duplicates']}.",
            "",
            f"CPU a batch of {BATCH:,} during the HTTP phase: server {cpu['server']:.0f} ms, "
            f"PostgreSQL {cpu['database']:.0f} ms, bench clients and probe "
            f"{cpu['client']:.0f} ms; the cores were {load['cores_busy']:.0%} busy.",
            "",
            f"Alert latency under that load (POST of a low SpO2 → alert on the team's "
            f"WebSocket), {len(probe)} probes: **p50 {p50:.0f} ms, p99 {p99:.0f} ms** "
            f"(max {max(probe, default=0):.0f} ms).",
            "",
            f"Targets: ≥ 50,000 measurements/s over HTTP "
            f"({'met' if load['rate'] >= 50_000 else 'not met'}), ≥ 0.4× COPY "
            f"({'met' if ratio >= 0.4 else 'not met'}), alert p99 < 1 s "
            f"({'met' if p99 < 1000 else 'not met'}).",
            "",
            f"    {COMMAND} --measurements {args.measurements} --workers {args.workers}",
        ]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--measurements", type=int, default=3_000_000)
    parser.add_argument("--mqtt-measurements", type=int, default=300_000)
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--probes", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the doc")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    VAR.mkdir(parents=True, exist_ok=True)
    recreate(args.pg_url)
    env = bench_env(args.pg_url) | {
        "TELESANTE_REDIS_URL": args.redis_url,
        "TELESANTE_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    setup_django(env)
    telesante(env, "migrate", "--verbosity", "0")
    from django.db import connection

    setup = populate(args.patients, args.probes)
    items = readings(setup.serials, args.measurements, seed=5)
    log(f"{args.patients} patients, {len(items):,} readings")
    copy = copy_baseline(args.pg_url, items)
    log(f"COPY {copy['rate']:,.0f} rows/s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    facts = machine_facts("postgres")
    with Server(env, args.workers, VAR / "server-telesurveillance.log") as server:
        probe = Probe(server.port, setup)
        listener = threading.Thread(target=probe.listen, daemon=True)
        listener.start()
        if not probe.ready.wait(10):
            sys.exit("probe WebSocket did not connect")
        sender = threading.Thread(target=probe.send, daemon=True)
        sender.start()
        with CpuMeter(server.proc.pid) as cpu:
            load = http_load(server.port, setup.token, items, args.clients)
        load |= cpu.figures(load["batches"])
        probe.stop.set()
        sender.join(30)
        listener.join(30)
    log(
        f"HTTP {load['rate']:,.0f} measurements/s ({load['rate'] / copy['rate']:.2f}× COPY), "
        f"alerts p50 {percentile(probe.latencies, 50):.0f} ms p99 "
        f"{percentile(probe.latencies, 99):.0f} ms over {len(probe.latencies)} probes"
    )
    mqtt_items = readings(setup.serials, args.mqtt_measurements, seed=6)
    for item in mqtt_items:
        item["id"] = "mqtt-" + item["id"]
    with tempfile.TemporaryDirectory() as tmp:
        mqtt_result = mqtt_rate(env, mqtt_items, Path(tmp))
    log(f"MQTT bridge {mqtt_result['rate']:,.0f} measurements/s")
    text = body(args, facts, copy, load, probe.latencies, mqtt_result)
    raw = {"copy": copy, "http": load, "alert_ms": probe.latencies, "mqtt": mqtt_result}
    (VAR / "telesurveillance.json").write_text(json.dumps(raw, indent=2, default=str))
    print(text)
    if not args.no_doc:
        write_doc(
            [("telesurveillance", "## 4. Télésurveillance ingest (HTTP, MQTT) and alerts", text)]
        )
        log("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
