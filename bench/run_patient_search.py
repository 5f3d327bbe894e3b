#!/usr/bin/env python
"""Patient search benchmark, through the real production server (`telesante serve`, uvicorn).

    .venv/bin/python bench/run_patient_search.py [--db postgres|sqlite|both] [--scale 50]

1. Latency: a few hundred varied searches `GET /api/v1/patients?q=…` with a demo nurse's bearer
   token, sent one after the other on one keep-alive connection, each followed by a request to a
   bare Django view (`/bench/bare`, a small JSON dict, served by the same server): p50/p95/p99 of
   both and the ratio p95 / p95_bare.
2. Throughput: requests/s of the same searches under concurrent load (wrk, 127.0.0.1 only,
   bounded in time) against the bare view, with 1 then 2 server workers, and the ratio.

Seeds the database with `telesante seed-demo --scale N` when it lacks the data (and reuses it
otherwise), starts and stops the server, and rewrites its own sections of docs/benchmarks.md.
The machine is shared and noisy: compare ratios between runs, not absolute figures.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
LUA = ROOT / "bench" / "wrk_requests.lua"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench"
DEFAULT_SQLITE = ROOT / "var" / "bench" / "telesante_bench.sqlite3"
BASE_PATIENTS = 2340  # seed-demo: 2,000 EHPAD + 40 FAM residents + 300 office patients × scale
BARE_PATH = "/bench/bare"
SEARCH_PATH = "/api/v1/patients?q="
DB_LABELS = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
COMMAND = ".venv/bin/python bench/run_patient_search.py"
DEFAULT_SETTINGS = "bench.settings"

SKELETON = """# Benchmarks

Each benchmark runs with one command and rewrites only its own sections below (between its
`<!-- bench:… -->` markers); text outside the markers is kept. The machine is shared and noisy:
every figure comes with a baseline measured in the same run on the same server, and the ratio to
that baseline is the number to compare from one run to the next.

## 1. Patient search latency at 100,000 patients

`GET /api/v1/patients?q=<words>` with a demo nurse's bearer token, served by the production
server (`telesante serve`: uvicorn, 1 worker, `TELESANTE_DEMO=1` so the demo secret is accepted,
otherwise production settings) on `telesante seed-demo --scale 50` data. A few hundred varied
searches built from the data (surname prefixes, surname + first name, birth dates dd/mm/yyyy),
sent one at a time; each is followed by a request to a bare Django view returning a small JSON
dict (`/bench/bare`, defined in `bench/urls.py`, never in the product's URLs) on the same server:
the baseline. Figure: p95 of the search, and p95_search / p95_bare.

    .venv/bin/python bench/run_patient_search.py --db postgres --scale 50
    .venv/bin/python bench/run_patient_search.py --db sqlite --scale 50

### PostgreSQL

<!-- bench:patient-search:postgres -->
_Not run yet._
<!-- /bench:patient-search:postgres -->

### SQLite

<!-- bench:patient-search:sqlite -->
_Not run yet._
<!-- /bench:patient-search:sqlite -->

## 2. Patient-list API throughput

Requests/s of the same searches under concurrent load (wrk on 127.0.0.1, bounded in time)
against the bare view, on the same server, in the same run, with 1 then 2 uvicorn workers; the
ratio search / bare. Same command as above (one run measures both).

### PostgreSQL

<!-- bench:patient-list-throughput:postgres -->
_Not run yet._
<!-- /bench:patient-list-throughput:postgres -->

### SQLite

<!-- bench:patient-list-throughput:sqlite -->
_Not run yet._
<!-- /bench:patient-list-throughput:sqlite -->
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ----------------------------------------------------------------------------- environment


def db_url(args: argparse.Namespace) -> str:
    if args.db == "postgres":
        url = args.pg_url
        if urlparse(url).path.lstrip("/") in {"", "test", "postgres"}:
            sys.exit(f"Refusing database {url!r}: use a database of the bench's own.")
        return url
    return f"sqlite:///{Path(args.sqlite_path).resolve()}"


def bench_env(url: str, settings: str = "bench.settings") -> dict[str, str]:
    """The server's and the commands' environment: demo mode (the demo secret is accepted),
    production otherwise (no DEBUG, no query logging), the bench's settings and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELESANTE_")}
    env.update(
        TELESANTE_DEMO="1",
        TELESANTE_DATABASE_URL=url,
        TELESANTE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE=settings,
        PYTHONPATH=os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH")] if p),
    )
    return env


def telesante(env: dict[str, str], *argv: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [str(BIN / "telesante"), *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(
            f"telesante {' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result.stdout


def pg_admin(url: str):
    import psycopg

    admin = urlparse(url)._replace(scheme="postgresql", path="/postgres").geturl()
    return psycopg.connect(admin, autocommit=True, connect_timeout=5)


def ensure_pg_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with pg_admin(url) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"CREATE DATABASE {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def recreate_database(args: argparse.Namespace, url: str) -> None:
    """Start from an empty database: seed-demo does nothing when a demo region is there."""
    from django.db import connections

    connections.close_all()
    target = urlparse(url).path.lstrip("/") if args.db == "postgres" else args.sqlite_path
    if "bench" not in Path(target).name:
        sys.exit(f"{target} lacks the demo data at this scale; only a *bench* database is reset.")
    if args.db == "postgres":
        name = target
        log(f"DROP DATABASE {name}")
        with pg_admin(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        ensure_pg_database(url)
    else:
        path = Path(args.sqlite_path).resolve()
        log(f"removing {path}")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def patient_count() -> int:
    from telesante.patients.models import Patient

    return Patient.objects.count()


def ensure_data(args: argparse.Namespace, url: str, env: dict[str, str]) -> dict:
    """Reuse the database when it holds the demo region at this scale; otherwise start from an
    empty database and seed it. Returns what was done."""
    expected = BASE_PATIENTS * args.scale
    telesante(env, "migrate", "--verbosity", "0")
    count = patient_count()
    if abs(count - expected) <= 0.1 * expected and not args.reseed:
        log(f"reusing the database: {count} patients (expected about {expected})")
        return {"seeded": False, "patients": count, "seed_seconds": None}
    if count:
        recreate_database(args, url)
        telesante(env, "migrate", "--verbosity", "0")
    log(f"seeding: telesante seed-demo --scale {args.scale} ({count} patients before)")
    started = time.monotonic()
    telesante(env, "seed-demo", "--scale", str(args.scale), "--verbosity", "0", timeout=3 * 3600)
    seconds = time.monotonic() - started
    count = patient_count()
    log(f"seeded {count} patients in {seconds:.0f} s")
    if abs(count - expected) > 0.1 * expected:
        sys.exit(f"seed-demo --scale {args.scale} left {count} patients (expected {expected}).")
    return {"seeded": True, "patients": count, "seed_seconds": seconds}


def vacuum_analyze(db: str) -> None:
    """PostgreSQL in production runs autovacuum, which keeps the planner's statistics; this
    machine's server runs with autovacuum off, so the bench does it (SQLite has no equivalent
    that Django runs: it is left as the product leaves it)."""
    if db != "postgres":
        return
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"VACUUM (ANALYZE) in {time.monotonic() - started:.1f} s")


def pick_nurse(env: dict[str, str], email: str | None) -> str:
    if email:
        return email
    accounts = json.loads(telesante(env, "demo-accounts", "--json"))
    if isinstance(accounts, dict):
        accounts = accounts.get("accounts", list(accounts.values()))
    for account in sorted(accounts, key=lambda a: a.get("role") != "nurse"):
        text = json.dumps(account, ensure_ascii=False).lower()
        if "infirmi" in text or "nurse" in text:
            return account["email"]
    sys.exit("No nurse among `telesante demo-accounts --json`; pass --email.")


# ----------------------------------------------------------------------------- queries


@dataclass
class Query:
    kind: str
    text: str

    @property
    def path(self) -> str:
        return SEARCH_PATH + quote(self.text)


QUERY_KINDS = {
    "surname prefix": "3 to 5 first letters of a surname the nurse can see",
    "surname + first name": "full surname and first first name of a patient the nurse can see",
    "birth date": "a birth date dd/mm/yyyy of a patient the nurse can see",
    "surname + birth date": "a surname and a birth date dd/mm/yyyy",
    "prefix, any patient": "3 to 5 first letters of any patient's surname (often not visible)",
}


def make_queries(email: str, count: int, seed: int) -> tuple[list[Query], dict]:
    """Realistic searches built from the data: mostly patients the nurse may see."""
    from telesante.accounts.models import User
    from telesante.core import policy
    from telesante.patients.models import Patient

    rng = random.Random(seed)
    nurse = User.objects.get(email=email)
    visible_ids = list(policy.visible_patients(nurse).values_list("pk", flat=True)[:200_000])
    if not visible_ids:
        sys.exit(f"{email} sees no patient: cannot build realistic searches.")
    sample_ids = rng.sample(visible_ids, min(len(visible_ids), 2000))
    visible = list(
        Patient.objects.filter(pk__in=sample_ids).values_list(
            "birth_name", "first_names", "birth_date"
        )
    )
    max_id = Patient.objects.order_by("-pk").values_list("pk", flat=True).first()
    any_names = list(
        Patient.objects.filter(
            pk__in=[rng.randint(1, max_id) for _ in range(max(50, count))]
        ).values_list("birth_name", flat=True)
    )
    weights = [35, 25, 15, 10, 15]
    queries = []
    for kind in rng.choices(list(QUERY_KINDS), weights=weights, k=count):
        name, first_names, birth = rng.choice(visible)
        words = name.split()
        surname = words[0] if words else name
        if kind == "surname prefix":
            text = surname[: rng.randint(3, 5)].capitalize()
        elif kind == "surname + first name":
            text = f"{name} {first_names.split()[0]}"
        elif kind == "birth date":
            text = birth.strftime("%d/%m/%Y")
        elif kind == "surname + birth date":
            text = f"{surname} {birth:%d/%m/%Y}"
        else:
            other = rng.choice(any_names) if any_names else name
            text = other[: rng.randint(3, 5)].lower()
        queries.append(Query(kind, text))
    return queries, {"visible_patients": len(visible_ids)}


# ----------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    env: dict[str, str]
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log_file = open(self.log_path, "w")  # closed in __exit__
        self.proc = subprocess.Popen(
            [
                str(BIN / "telesante"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its workers
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.__exit__()
                sys.exit(f"the server exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", BARE_PATH)
                if conn.getresponse().status == 200:
                    conn.close()
                    log(f"server up: {self.workers} worker(s) on port {self.port}")
                    return self
            time.sleep(0.3)
        self.__exit__()
        sys.exit(f"the server did not answer within 90 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log_file.close()


def wait_for_quiet(max_load: float, max_wait: float) -> str:
    """Wait (bounded) for the 1-minute load average to fall to `max_load`: the machine is
    shared. Returns the load averages when measurement starts."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)
    load = os.getloadavg()
    if load[0] > max_load:
        log(f"load still {load[0]:.2f} after {max_wait:.0f} s: measuring anyway")
    return "{:.2f} {:.2f} {:.2f}".format(*load)


# ----------------------------------------------------------------------------- latency


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(samples),
    }


class Client:
    """One keep-alive connection; returns (milliseconds, status, body) per request."""

    def __init__(self, port: int, token: str, cookie: str = "") -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "telesante-bench"}
        if cookie:  # a page of the site: the session instead of the token
            self.headers = {"Cookie": cookie, "User-Agent": "telesante-bench"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.last_headers: http.client.HTTPMessage | None = None

    def get(self, path: str, anonymous: bool = False) -> tuple[float, int, bytes]:
        """`anonymous`: without the token or the session (the bare view, as wrk asks it)."""
        headers = {"User-Agent": self.headers["User-Agent"]} if anonymous else self.headers
        for attempt in range(2):  # the server may close an idle keep-alive connection
            started = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                self.last_headers = response.headers
                return (time.perf_counter() - started) * 1000, response.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def measure_latency(port: int, token: str, queries: list[Query], max_seconds: float) -> dict:
    client = Client(port, token)
    check = client.get(queries[0].path)
    if check[1] != 200:
        sys.exit(f"search answered {check[1]}: {check[2][:300]!r}")
    for query in queries[:30]:  # warm-up, not counted
        client.get(query.path)
        client.get(BARE_PATH)
    search, bare, hits = [], [], []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    deadline = time.monotonic() + max_seconds
    for query in queries:
        if time.monotonic() > deadline:
            log(f"latency: time budget reached after {len(search)} queries")
            break
        ms, status, body = client.get(query.path)
        if status != 200:
            errors += 1
            continue
        search.append(ms)
        by_kind.setdefault(query.kind, []).append(ms)
        hits.append(len(json.loads(body)))
        ms, status, _body = client.get(BARE_PATH)
        if status == 200:
            bare.append(ms)
        else:
            errors += 1
    client.close()
    return {
        "search": percentiles(search),
        "bare": percentiles(bare),
        "by_kind": {
            kind: percentiles(v) | {"n": len(v)} for kind, v in by_kind.items() if len(v) >= 2
        },
        "errors": errors,
        "hits_mean": statistics.fmean(hits),
        "hits_empty": sum(1 for h in hits if h == 0) / len(hits),
        "hits_full": sum(1 for h in hits if h >= 50) / len(hits),
    }


# ----------------------------------------------------------------------------- throughput


def wrk(
    port: int, paths_file: Path, token: str, seconds: float, connections: int, cookie: str = ""
) -> dict:
    env = dict(os.environ, BENCH_PATHS=str(paths_file), BENCH_TOKEN=token, BENCH_COOKIE=cookie)
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",  # wrk takes whole seconds
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"requests"')]
    if result.returncode != 0 or not lines:
        sys.exit(
            f"wrk failed ({result.returncode}): {result.stderr[-2000:]}{result.stdout[-2000:]}"
        )
    data = json.loads(lines[-1])
    data["errors"] = sum(v for k, v in data.items() if k.startswith("errors_"))
    return data


def measure_throughput(
    port: int, token: str, queries: list[Query], seconds: float, connections: int, tmp: Path
) -> dict:
    return measure_throughput_paths(
        port, token, [q.path for q in queries], seconds, connections, tmp
    )


def measure_throughput_paths(
    port: int,
    token: str,
    paths: list[str],
    seconds: float,
    connections: int,
    tmp: Path,
    cookie: str = "",
) -> dict:
    """Bare and the paths alternate in ABBA order (half the time per leg) to cancel drift;
    the paths' figures are under "search". The cookie goes with the paths only: the bare view
    is asked without a session, as for the API's lists (whose token it does not read)."""
    files = {"bare": tmp / "bare.txt", "search": tmp / "search.txt"}
    files["bare"].write_text(BARE_PATH + "\n")
    files["search"].write_text("".join(path + "\n" for path in paths))
    cookies = {"bare": "", "search": cookie}
    for target in ("bare", "search"):  # warm-up, every worker, not counted
        wrk(port, files[target], token, 2, connections, cookies[target])
    legs = {"bare": [], "search": []}
    for target in ("bare", "search", "search", "bare"):
        legs[target].append(
            wrk(port, files[target], token, seconds / 2, connections, cookies[target])
        )
    out = {}
    for target, runs in legs.items():
        requests = sum(r["requests"] for r in runs)
        duration = sum(r["duration_us"] for r in runs) / 1e6
        out[target] = {
            # Served answers only: a 503 of the server's load shedding is not a search done.
            "rps": (requests - sum(r["errors_status"] for r in runs)) / duration,
            "requests": requests,
            "seconds": duration,
            "errors": sum(r["errors"] for r in runs),
            "p50_ms": statistics.fmean(r["latency_p50_us"] for r in runs) / 1000,
            "p99_ms": max(r["latency_p99_us"] for r in runs) / 1000,
        }
    return out


# ----------------------------------------------------------------------------- machine facts


def machine_facts(db: str) -> dict[str, str]:
    import django
    import uvicorn
    from django.db import connection

    if db == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    wrk_version = "wrk not installed"  # the benches that do not use it still run
    with contextlib.suppress(OSError):
        wrk_version = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.split(" [")[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "load": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        "python": platform.python_version(),
        "django": django.get_version(),
        "uvicorn": uvicorn.__version__,
        "database": database,
        "wrk": wrk_version,
        "commit": commit,
    }


# ----------------------------------------------------------------------------- report


def replace_section(text: str, name: str, heading: str, body: str) -> str:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text, count=1)
    return text.rstrip() + f"\n\n{heading}\n\n{block}\n"


def write_doc(sections: list[tuple[str, str, str]]) -> None:
    text = DOC.read_text() if DOC.exists() else SKELETON
    for name, heading, body in sections:
        text = replace_section(text, name, heading, body)
    DOC.write_text(text)


def facts_line(facts: dict[str, str], data: dict) -> str:
    seeded = (
        f"seeded in this run in {data['seed_seconds']:.0f} s"
        if data["seeded"]
        else "reused from an earlier run"
    )
    return (
        f"{facts['date']} · {facts['cores']} cores ({facts['cpu']}), load before the run "
        f"{facts['load']} · Python {facts['python']}, Django {facts['django']}, uvicorn "
        f"{facts['uvicorn']} · {facts['database']} · {facts['wrk']} · commit {facts['commit']} · "
        f"{data['patients']:,} patients ({seeded})"
    )


def latency_body(args, facts, data, info, result) -> str:
    s, b = result["search"], result["bare"]
    rows = [
        "| target | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `GET /api/v1/patients?q=…` | {s['n']} | {s['p50']:.1f} | **{s['p95']:.1f}** | "
        f"{s['p99']:.1f} | {s['max']:.1f} |",
        f"| bare view `{BARE_PATH}` (baseline) | {b['n']} | {b['p50']:.1f} | {b['p95']:.1f} | "
        f"{b['p99']:.1f} | {b['max']:.1f} |",
    ]
    kinds = [
        "| query kind | what | n | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {kind} | {QUERY_KINDS[kind]} | {v['n']} | {v['p50']:.1f} | {v['p95']:.1f} |"
            for kind, v in sorted(result["by_kind"].items())
        ),
    ]
    return "\n".join(
        [
            f"**p95 = {s['p95']:.1f} ms, {s['p95'] / b['p95']:.1f}× the bare view's p95 "
            f"({b['p95']:.1f} ms)** — p50 ratio {s['p50'] / b['p50']:.1f}×.",
            "",
            f"`{COMMAND} --db {args.db} --scale {args.scale}` · 1 server worker · "
            f"{s['n']} searches by {info['email']} (sees {info['visible_patients']:,} patients), "
            "one at a time on one keep-alive connection, each followed by one bare request · "
            f"{result['hits_mean']:.1f} results per search on average, "
            f"{result['hits_empty']:.0%} empty, {result['hits_full']:.0%} at the limit of 50 · "
            f"{result['errors']} errors.",
            "",
            *rows,
            "",
            *kinds,
            "",
            f"Load average (1, 5, 15 min) when the measurement started: {result['load'][0]}; "
            f"when it ended: {result['load'][1]}.",
            "",
            f"Machine: {facts_line(facts, data)}.",
        ]
    )


def throughput_body(args, facts, data, results: dict[int, dict]) -> str:
    rows = [
        "| server workers | search req/s | bare req/s (baseline) | ratio search/bare | "
        "search p50 / p99 ms | bare p50 / p99 ms | errors (search, bare) | 1-min load, "
        "start → end |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, r in sorted(results.items()):
        s, b = r["search"], r["bare"]
        rows.append(
            f"| {workers} | **{s['rps']:.0f}** | {b['rps']:.0f} | {s['rps'] / b['rps']:.3f} | "
            f"{s['p50_ms']:.0f} / {s['p99_ms']:.0f} | {b['p50_ms']:.0f} / {b['p99_ms']:.0f} | "
            f"{s['errors']}, {b['errors']} | {r['load'][0].split()[0]} → "
            f"{r['load'][1].split()[0]} |"
        )
    scaling = ""
    if 1 in results and 2 in results:
        gain = {t: results[2][t]["rps"] / results[1][t]["rps"] for t in ("search", "bare")}
        scaling = (
            f" From 1 to 2 workers: search ×{gain['search']:.2f}, bare ×{gain['bare']:.2f} "
            "(wrk shares the 2 cores with the server)."
        )
    return "\n".join(
        [
            f"`{COMMAND} --db {args.db} --scale {args.scale}` · wrk, 1 thread, "
            f"{args.connections} connections, 127.0.0.1, {args.seconds:g} s per target per worker "
            "count, in ABBA order (bare, search, search, bare: half the time per leg) after a 2 s "
            "warm-up of each, load shedding off (`TELESANTE_MAX_IN_FLIGHT=0`); the search target "
            "cycles through the same queries as the latency benchmark." + scaling,
            "",
            *rows,
            "",
            f"Machine: {facts_line(facts, data)}.",
        ]
    )


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="postgres")
    parser.add_argument("--scale", type=int, default=50, help="seed-demo --scale (default 50)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sqlite-path", default=str(DEFAULT_SQLITE))
    parser.add_argument("--reseed", action="store_true", help="seed even if data is there")
    parser.add_argument("--email", help="account to search as (default: the demo nurse)")
    parser.add_argument("--queries", type=int, default=400, help="searches in the latency run")
    parser.add_argument("--max-seconds", type=float, default=300, help="latency time budget")
    parser.add_argument("--seconds", type=float, default=10, help="wrk seconds per target")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", default="1,2", help="server worker counts for throughput")
    parser.add_argument("--seed", type=int, default=20251123, help="query sampling seed")
    parser.add_argument(
        "--max-load", type=float, default=1.5, help="wait for this 1-min load average first"
    )
    parser.add_argument(
        "--max-wait", type=float, default=240, help="seconds to wait for it, at most"
    )
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the doc")
    parser.add_argument(
        "--settings",
        default=DEFAULT_SETTINGS,
        help="settings module of the server, to try a change (implies --no-doc)",
    )
    args = parser.parse_args(argv)
    args.no_doc = args.no_doc or args.settings != DEFAULT_SETTINGS
    if not 1 <= args.queries <= 5000 or not 1 <= args.seconds <= 120:
        parser.error("--queries must be within 1..5000 and --seconds within 1..120")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.db == "both":  # one process per database: Django's settings are per process
        for db in ("postgres", "sqlite"):
            cmd = [sys.executable, __file__, *(argv or sys.argv[1:])]
            cmd = [c for c in cmd if c not in {"--db", "both"}] + ["--db", db]
            subprocess.run(cmd, check=True, timeout=4 * 3600)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    VAR.mkdir(parents=True, exist_ok=True)
    url = db_url(args)
    if args.db == "postgres":
        ensure_pg_database(url)
    env = bench_env(url, args.settings)
    setup_django(env)
    data = ensure_data(args, url, env)
    vacuum_analyze(args.db)
    email = pick_nurse(env, args.email)
    token = telesante(env, "create-token", email, "--name", "bench").strip().splitlines()[-1]
    queries, info = make_queries(email, args.queries, args.seed)
    info["email"] = email
    log(f"{len(queries)} queries as {email}, who sees {info['visible_patients']} patients")
    facts = machine_facts(args.db)
    label = DB_LABELS[args.db]

    with Server(env, 1, VAR / f"server-{args.db}-latency.log") as server:
        load_start = wait_for_quiet(args.max_load, args.max_wait)
        latency = measure_latency(server.port, token, queries, args.max_seconds)
        latency["load"] = (load_start, "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    s, b = latency["search"], latency["bare"]
    log(
        f"latency p50/p95/p99 search {s['p50']:.1f}/{s['p95']:.1f}/{s['p99']:.1f} ms, "
        f"bare {b['p50']:.1f}/{b['p95']:.1f}/{b['p99']:.1f} ms, p95 ratio {s['p95'] / b['p95']:.1f}"
    )

    throughput = {}
    # The searches' cost is measured, not admission: with load shedding on, wrk's connections
    # beyond a process's limit get a 503 at once, which it counts as served.
    serving = dict(env, TELESANTE_MAX_IN_FLIGHT="0")
    with tempfile.TemporaryDirectory() as tmp:
        for workers in [int(w) for w in args.workers.split(",") if w.strip()][:4]:
            log_path = VAR / f"server-{args.db}-w{workers}.log"
            with Server(serving, workers, log_path) as server:
                load_start = wait_for_quiet(args.max_load, args.max_wait)
                r = measure_throughput(
                    server.port, token, queries, args.seconds, args.connections, Path(tmp)
                )
                r["load"] = (load_start, "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            throughput[workers] = r
            log(
                f"throughput {workers} worker(s): search {r['search']['rps']:.0f} req/s, "
                f"bare {r['bare']['rps']:.0f} req/s, ratio "
                f"{r['search']['rps'] / r['bare']['rps']:.3f}"
            )

    sections = [
        (
            f"patient-search:{args.db}",
            f"### Patient search latency — {label}",
            latency_body(args, facts, data, info, latency),
        ),
        (
            f"patient-list-throughput:{args.db}",
            f"### Patient-list API throughput — {label}",
            throughput_body(args, facts, data, throughput),
        ),
    ]
    raw = {"args": vars(args), "facts": facts, "data": data, "info": info}
    raw |= {"latency": latency, "throughput": throughput}
    suffix = "" if args.settings == DEFAULT_SETTINGS else f"-{args.settings}"
    (VAR / f"patient-search-{args.db}{suffix}.json").write_text(
        json.dumps(raw, indent=2, default=str)
    )
    if args.no_doc:
        for _name, heading, body in sections:
            print(f"\n{heading}\n\n{body}")
    else:
        write_doc(sections)
        log(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
