#!/usr/bin/env python
"""What each list of bench/run_read_path.py costs in process, on its database (seeded by it).

    .venv/bin/python bench/profile_read_path.py [--requests 300] [--only LIST…] [--sql]

For each list, as its demo account reads it (the same paths: the first page and the next
ones by cursor, five deep; patient search: the first page of « mar », a common trigram; the
work list with the demo GP's session), the
median over the requests of the whole view's wall time and of the process's CPU time
(Django's test client, no server, one database connection), and with --sql the number of
statements and their time, and each statement's median time (statements sent together in a
pipeline return at once: the pipeline's round trip is timed apart). The server's own work (uvicorn,
the ASGI handler) is not in these figures; the bare view's is about 1.5 ms of CPU a request.
Two trees are compared by running this with PYTHONPATH=<other tree>/src. Writes nothing under docs/.
"""

import argparse
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run_inbox
from bench import run_patient_search as bench

LISTS = {  # name → (demo role, its specialty, first page)
    "téléconsultations": ("gp", "", "/api/v1/teleconsultations?cursor="),
    "inbox": ("expert", "plaies_cicatrisation", "/api/v1/teleexpertise?box=inbox&cursor="),
    "outbox": ("nurse", "", "/api/v1/teleexpertise?box=outbox&cursor="),
    "alerts": ("monitoring_operator", "", "/api/v1/telesurveillance/alerts?limit=50&cursor="),
    "enrolments": (
        "monitoring_operator",
        "",
        "/api/v1/telesurveillance/enrolments?limit=50&cursor=",
    ),
    "patient search": ("nurse", "", "/api/v1/patients?q=mar&cursor="),
    "work list": ("gp", "", "/liste-de-travail/"),  # the home page's fragment, by session
}
PAGES = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", nargs="+", choices=list(LISTS), default=list(LISTS))
    parser.add_argument(
        "--sql", action="store_true", help="count the statements and time them, each apart too"
    )
    args = parser.parse_args()
    env = bench.bench_env(bench.DEFAULT_PG_URL)
    bench.setup_django(env)

    from django.db import connection
    from django.test import Client

    from telesante.accounts.models import ApiToken, User
    from telesante.core import prepared

    for name in args.only:
        role, specialty, start = LISTS[name]
        user = User.objects.get(email=run_inbox.account(env, role, specialty))
        if "cursor=" in start:
            _token, raw = ApiToken.issue(user, name="bench-profile")
            client = Client(headers={"Authorization": f"Bearer {raw}"}, SERVER_NAME="127.0.0.1")
        else:
            client = Client(SERVER_NAME="127.0.0.1")
            client.force_login(user)
        paths = [start]
        while "cursor=" in start and len(paths) < PAGES:
            after = client.get(paths[-1]).headers.get("X-Next-Cursor")
            if not after:
                break
            paths.append(start.split("cursor=")[0] + "cursor=" + after)
        for path in paths * 5:  # warm-up: statements prepared, plans kept
            client.get(path)
        walls, cpus, counts, sql = [], [], [], []
        timed: dict[str, list[float]] = {}  # statement (its start) → its times, ms
        request: list[float] = []

        def timing(execute, statement, params, many, context, timed=timed, request=request):
            started = time.perf_counter()
            try:
                return execute(statement, params, many, context)
            finally:
                ms = (time.perf_counter() - started) * 1000
                request.append(ms)
                text = " ".join(statement.split())
                timed.setdefault(f"{text[:80]}… ({len(text)} chars)", []).append(ms)

        if args.sql:  # statements sent in a pipeline return at once: time its round trip
            fetch = prepared._fetch

            def pipeline(connection, statement, params, generic_plan, fetch=fetch, timed=timed):
                if not generic_plan:
                    return fetch(connection, statement, params, generic_plan)
                started = time.perf_counter()
                try:
                    return fetch(connection, statement, params, generic_plan)
                finally:
                    ms = (time.perf_counter() - started) * 1000
                    timed.setdefault("(the pipeline above: sent, run, read)", []).append(ms)

            prepared._fetch = pipeline

        for n in range(args.requests):
            request.clear()
            with connection.execute_wrapper(timing) if args.sql else nullcontext():
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(paths[n % len(paths)])
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            if response.status_code != 200:
                sys.exit(f"{name}: {response.status_code} {response.content[:300]!r}")
            counts.append(len(request))
            sql.append(sum(request))
        if args.sql:
            prepared._fetch = fetch
        line = (
            f"{name}: {len(paths)} pages, wall p50 {statistics.median(walls):.2f} ms, "
            f"CPU p50 {statistics.median(cpus):.2f} ms"
        )
        if args.sql:
            line += f", {statistics.median(counts):.0f} statements, {statistics.median(sql):.2f} ms"
            # Each statement's wall time as the process sees it (sent, run, its rows read).
            line += "".join(
                f"\n  {statistics.median(ms):6.2f} ms ×{len(ms)}  {text}"
                for text, ms in timed.items()
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
