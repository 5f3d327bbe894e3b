#!/usr/bin/env python
"""Indicators over 10,000,000 acts in PostgreSQL.

    .venv/bin/python bench/run_indicators.py [--acts 10000000] [--runs 15] [--pg-url URL]

In its own database (default ``telesante_bench_indicators``, created when missing): migrations,
territories and the demo region (``seed-demo``), then acts generated inside PostgreSQL with
``generate_series`` (no ORM) until the table holds ``--acts`` rows, spread over 2019–2024, and
the monthly roll-up rebuilt once (``refresh-indicators``, timed). Then, in one process, the full
``compute()`` of the dashboard for five filter sets, ``--runs`` times each (p50/p95), and in the
same run the baseline: a plain ``SELECT count(*)`` over the same acts table. The ratio p95 / p95
of count(*) is the figure to compare between runs. Rewrites its section of docs/benchmarks.md.
"""

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench_indicators"
MARK = "indicators:postgres"
SCENARIOS = [
    {"territory": "53", "period": "2022-S1"},
    {"period": "2023"},
    {"territory": "reg:52", "period": "2021-S2", "kind": "teleexpertise"},
    {"period": "2020-03", "structure_kind": "ehpad", "rural": "1"},
    {},
]
CHUNK = 1_000_000

# Acts spread evenly over six years; the kinds, statuses and delays cycle with the row number.
# Each requesting site sends to one of the hospitals and asks through five of its members.
GENERATE = """
WITH s AS (SELECT array_agg(id ORDER BY id) AS ids FROM structures_structure
           WHERE kind NOT IN ('ch', 'chu', 'samu')),
     h AS (SELECT array_agg(id ORDER BY id) AS ids FROM structures_structure
           WHERE kind IN ('ch', 'chu')),
     u AS (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_user),
     p AS (SELECT array_agg(id ORDER BY id) AS ids FROM patients_patient),
     f AS (SELECT array_agg(code ORDER BY code) AS codes FROM acts_filiere),
     k AS (SELECT ARRAY['teleexpertise', 'teleconsultation', 'teleexpertise', 'telesoin',
                        'teleexpertise', 'telesurveillance', 'teleconsultation',
                        'teleassistance'] AS kinds),
     g AS (SELECT n, timestamptz '2019-01-01 00:00+01'
                     + (n::float8 / %(total)s) * interval '2191 days' AS at
           FROM generate_series(%(first)s, %(last)s) AS n)
INSERT INTO acts_act (kind, filiere_id, patient_id, requester_id, requesting_structure_id,
                      performing_structure_id, status, created_at, requested_at, due_at,
                      done_at, report)
SELECT kind, CASE WHEN kind = 'teleexpertise' THEN f.codes[1 + n %% array_length(f.codes, 1)] END,
       p.ids[1 + n %% array_length(p.ids, 1)],
       u.ids[1 + ((n %% array_length(s.ids, 1)) * 5 + n %% 5) %% array_length(u.ids, 1)],
       s.ids[1 + n %% array_length(s.ids, 1)],
       h.ids[1 + (n %% array_length(s.ids, 1)) %% array_length(h.ids, 1)],
       CASE WHEN n %% 10 < 7 THEN 'done' WHEN n %% 10 = 7 THEN 'cancelled' ELSE 'requested' END,
       at, at, at + interval '7 days',
       CASE WHEN n %% 10 < 7 THEN at + (1 + n %% 167) * interval '1 hour' END, ''
FROM g, s, h, u, p, f, k, LATERAL (SELECT k.kinds[1 + g.n %% 8] AS kind) AS chosen
"""


def setup_django(pg_url: str) -> None:
    os.environ["TELESANTE_DATABASE_URL"] = pg_url
    os.environ.setdefault("TELESANTE_DEBUG", "1")
    os.environ["TELESANTE_DEMO"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "telesante.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def ensure_database(pg_url: str) -> None:
    import psycopg

    name = pg_url.rsplit("/", 1)[1]
    admin = pg_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(target: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from telesante.demo.seeding import is_seeded
    from telesante.indicators.rollup import refresh_all

    call_command("migrate", verbosity=0)
    if not is_seeded():
        call_command("load_territories", verbosity=0)
        call_command("seed_demo", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM acts_act")
        have = cursor.fetchone()[0]
    facts = {"generated": 0, "generate_s": 0.0, "rollup_s": None}
    if have < target:
        started = time.perf_counter()
        for first in range(have + 1, target + 1, CHUNK):
            last = min(first + CHUNK - 1, target)
            with connection.cursor() as cursor:
                # The ids come from the tables themselves: skip the per-row foreign key checks.
                cursor.execute("SET session_replication_role = replica")
                cursor.execute(GENERATE, {"first": first, "last": last, "total": target})
                cursor.execute("SET session_replication_role = DEFAULT")
            print(f"  actes générés : {spaced(last)}", flush=True)
        vacuum_analyze()
        facts["generated"] = target - have
        facts["generate_s"] = time.perf_counter() - started
    from telesante.indicators.models import ActMonth

    if facts["generated"] or not ActMonth.objects.exists():
        started = time.perf_counter()
        refresh_all()
        vacuum_analyze()
        facts["rollup_s"] = time.perf_counter() - started
    return facts


def spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def vacuum_analyze() -> None:
    """Statistics and the visibility map (index-only scans) after a bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(runs: int) -> dict:
    from django.db import connection

    from telesante.indicators import filters
    from telesante.indicators.figures import compute

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM acts_act")
        total = cursor.fetchone()[0]
    per_scenario: dict[str, list[float]] = {}
    counts: list[float] = []
    for params in SCENARIOS:  # warm-up: caches and plans, not measured
        compute(filters.parse(params))
    for _ in range(runs):
        for params in SCENARIOS:
            started = time.perf_counter()
            result = compute(filters.parse(params))
            elapsed = (time.perf_counter() - started) * 1000
            label = "&".join(f"{k}={v}" for k, v in params.items()) or "(aucun filtre)"
            per_scenario.setdefault(label, []).append(elapsed)
            assert result.summary["acts"] >= 0
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM acts_act")
                cursor.fetchone()
            counts.append((time.perf_counter() - started) * 1000)
    every = [t for times in per_scenario.values() for t in times]
    return {"total": total, "per_scenario": per_scenario, "all": every, "count": counts}


def report(facts: dict, m: dict, runs: int, command: str) -> str:
    p95, p95_count = percentile(m["all"], 0.95), percentile(m["count"], 0.95)
    lines = [
        f"Run {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node()} "
        f"({os.cpu_count()} cores, PostgreSQL), `{command}`.",
        "",
        f"- Acts in the table: **{spaced(m['total'])}**",
    ]
    if facts["generated"]:
        lines.append(
            f"- Generated this run: {spaced(facts['generated'])} acts in "
            f"{facts['generate_s']:.0f} s (`generate_series`, inside PostgreSQL)"
        )
    if facts["rollup_s"] is not None:
        lines.append(
            f"- Monthly roll-up rebuilt in {facts['rollup_s']:.0f} s (`refresh-indicators`)"
        )
    lines += [
        f"- Full indicators (`compute()`, every figure of the dashboard), {runs} runs × "
        f"{len(SCENARIOS)} filter sets: p50 **{statistics.median(m['all']):.0f} ms**, "
        f"p95 **{p95:.0f} ms** (target < 500 ms)",
        f"- Baseline, same run: `SELECT count(*) FROM acts_act` p50 "
        f"{statistics.median(m['count']):.0f} ms, p95 **{p95_count:.0f} ms**",
        f"- Ratio p95 indicators / p95 count(*): **{p95 / p95_count:.2f}**",
        "",
        "| filters | p50 (ms) | p95 (ms) |",
        "| --- | ---: | ---: |",
    ]
    for label, times in m["per_scenario"].items():
        lines.append(
            f"| `{label}` | {statistics.median(times):.0f} | {percentile(times, 0.95):.0f} |"
        )
    return "\n".join(lines)


def write_section(body: str, mark: str = MARK) -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{mark} -->", f"<!-- /bench:{mark} -->"
    block = f"{start}\n{body}\n{end}"
    if start in text:
        text = re.sub(
            re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S
        )
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--acts", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    ensure_database(args.pg_url)
    setup_django(args.pg_url)
    facts = prepare(args.acts)
    m = measure(args.runs)
    command = ".venv/bin/python bench/run_indicators.py" + (
        f" --acts {args.acts}" if args.acts != 10_000_000 else ""
    )
    body = report(facts, m, args.runs, command)
    print(body)
    write_section(body)


if __name__ == "__main__":
    main()
