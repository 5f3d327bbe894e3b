#!/usr/bin/env python
"""Where the time of a patient search goes, on the benchmark's database (seed it first with
bench/run_patient_search.py).

    .venv/bin/python bench/profile_patient_search.py [--db postgres|sqlite] [--profile]

In process (Django's test client, no server, one persistent database connection):
- the SQL statements one search issues, with their times;
- EXPLAIN ANALYZE (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite) of the search query, per query kind;
- median time of the whole view, of the search query alone and of the audit insert;
- the cost of opening a database connection (PostgreSQL);
- with --profile, a pyinstrument profile of the view (pyinstrument must be importable).
Writes nothing under docs/: its output is for the reader (and var/bench/profile-<db>.txt).
"""

import argparse
import io
import statistics
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run_patient_search as bench


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=bench.DEFAULT_PG_URL)
    parser.add_argument("--sqlite-path", default=str(bench.DEFAULT_SQLITE))
    parser.add_argument("--email", help="account to search as (default: the demo nurse)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15, help="timings: repeats per query")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the view")
    parser.add_argument("--seed", type=int, default=20251123)
    args = parser.parse_args()
    args.repeat = max(1, min(args.repeat, 200))

    url = bench.db_url(args)
    env = bench.bench_env(url)
    bench.setup_django(env)
    out = io.StringIO()
    with redirect_stdout(out):
        report(args, env)
    bench.VAR.mkdir(parents=True, exist_ok=True)
    (bench.VAR / f"profile-{args.db}.txt").write_text(out.getvalue())
    print(out.getvalue())


def report(args: argparse.Namespace, env: dict[str, str]) -> None:
    from django.db import connection
    from django.test import Client

    from telesante.accounts.models import ApiToken, User
    from telesante.core import policy
    from telesante.patients.models import Patient
    from telesante.patients.services import fold, parse_date

    email = bench.pick_nurse(env, args.email)
    queries, info = bench.make_queries(email, args.queries, args.seed)
    user = User.objects.get(email=email)
    _token, raw = ApiToken.issue(user, name="bench-profile")
    client = Client(headers={"Authorization": f"Bearer {raw}"}, SERVER_NAME="127.0.0.1")
    examples = {}
    for q in queries:
        examples.setdefault(q.kind, q)
    print(f"{bench.patient_count():,} patients; {email} sees {info['visible_patients']:,}")
    print(f"database: {connection.vendor}\n")

    def search_qs(text: str):
        qs = policy.visible_patients(user)
        for word in text.split():
            date = parse_date(word)
            qs = qs.filter(birth_date=date) if date else qs.filter(search_key__contains=fold(word))
        return qs.order_by("birth_name", "first_names", "pk")[:50]

    # 1. The statements of one search through the view.
    q = examples.get("surname prefix", queries[0])
    client.get(q.path)
    statements = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append(((time.perf_counter() - started) * 1000, sql))

    for _ in range(5):  # the last of 5 runs
        statements.clear()
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(q.path)
            total = (time.perf_counter() - started) * 1000
    print(f"## SQL of GET {q.path} (status {response.status_code}), {total:.1f} ms in all\n")
    for ms, sql in statements:
        print(f"- {ms:.2f} ms: {' '.join(sql.split())[:300]}")
    print()

    # 2. Plans, one per query kind.
    for kind, q in examples.items():
        sql, params = search_qs(q.text).query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
        print(f"## Plan, {kind}: q={q.text!r}\n\n```\n{plan}\n```\n")

    # 3. Timings: view, query alone, audit insert, per kind.
    print("## Median ms per query kind (in process, persistent connection)\n")
    print("| kind | n | whole view | search query alone | rows |")
    print("|---|---:|---:|---:|---:|")
    by_kind: dict[str, list[tuple[float, float, int]]] = {}
    budget = time.monotonic() + 300
    for q in queries:
        if time.monotonic() > budget:
            break
        view = median_ms(lambda q=q: client.get(q.path), max(1, args.repeat // 5))
        rows = []
        alone = median_ms(lambda q=q, rows=rows: rows.append(len(list(search_qs(q.text)))), 3)
        by_kind.setdefault(q.kind, []).append((view, alone, rows[-1]))
    for kind, values in sorted(by_kind.items()):
        print(
            f"| {kind} | {len(values)} | {statistics.median(v[0] for v in values):.1f} | "
            f"{statistics.median(v[1] for v in values):.1f} | "
            f"{statistics.fmean(v[2] for v in values):.1f} |"
        )
    everything = [v for values in by_kind.values() for v in values]
    print(
        f"| all | {len(everything)} | {statistics.median(v[0] for v in everything):.1f} | "
        f"{statistics.median(v[1] for v in everything):.1f} | "
        f"{statistics.fmean(v[2] for v in everything):.1f} |\n"
    )
    bare = median_ms(lambda: client.get(bench.BARE_PATH), 200)
    print(f"bare view in process: {bare:.2f} ms\n")

    # 4. Opening a connection, as every request does under ASGI with persistent connections.
    if connection.vendor == "postgresql":
        import psycopg

        dsn = bench.urlparse(env["TELESANTE_DATABASE_URL"])._replace(scheme="postgresql").geturl()

        def connect():
            with psycopg.connect(dsn) as conn:
                conn.execute("SELECT 1").fetchone()

        print(f"psycopg connect + SELECT 1 + close: {median_ms(connect, 50):.2f} ms (median)\n")

    print(f"Patients in the table: {Patient.objects.count():,}")

    if args.profile:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not importable: skipped --profile")
            return
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for q in queries[:200]:
            client.get(q.path)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
