#!/usr/bin/env python
"""Where the time of each request of the capacity mix goes (bench/locustfile.py), in process, one
request at a time, on the database bench/run_capacity.py builds (built here if missing).

    .venv/bin/python bench/profile_capacity.py [--repeat 15] [--profile NAME] [--explain]

For each kind of request: the time of the process's first one and the median of the next (the
whole view, Django's test client, no server), the number of SQL statements and their total time,
and the slowest statements; with --plans, PostgreSQL's planning and execution times summed over
the request's SELECTs (best of two EXPLAIN ANALYZE each); with --profile, a pyinstrument profile
of the named kind (pyinstrument must be importable); with --explain, EXPLAIN ANALYZE of each
kind's slowest statement. Writes nothing under docs/.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run_capacity as capacity  # noqa: E402
import run_indicators as common  # noqa: E402


def kinds(setup: dict) -> dict:
    """Each request of the mix: name → (method, url, body, (session or token, its value))."""
    me = setup["professionals"][0]
    booker = next(p for p in setup["professionals"] if p["booking"])
    room = setup["rooms"][0]
    term = setup["terms"][0]
    device = setup["devices"][0]
    plan = {**booker["booking"], "performer": room["performer"], "kind": "teleconsultation"}
    if plan["performer"] == booker["id"]:
        plan["performer"] = room["requester"]
    query = "&".join(f"{k}={v}" for k, v in plan.items())

    def batch() -> str:
        now = time.time()
        return json.dumps(
            {
                "measurements": [
                    {
                        "id": f"prof-{now}-{n}",
                        "device": device["serial"],
                        "type": device["type"],
                        "value": device["value"],
                        "unit": device["unit"],
                        "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - n - 1)),
                    }
                    for n in range(100)
                ]
            }
        )

    performer = next(p for p in setup["professionals"] if p["id"] == room["performer"])
    me_page, me_api = ("session", me["session"]), ("token", me["token"])
    return {
        "page: accueil (liste de travail)": ("get", "/", None, me_page),
        "page: recherche de patients": ("get", f"/patients/recherche/?q={term}", None, me_page),
        "api: recherche de patients": ("get", f"/api/v1/patients?q={term}&limit=20", None, me_api),
        "page: boîtes de télé-expertise": ("get", "/teleexpertise/", None, me_page),
        "api: boîte de télé-expertise": ("get", "/api/v1/teleexpertise?limit=20", None, me_api),
        "api: téléconsultations": ("get", "/api/v1/teleconsultations?limit=20", None, me_api),
        "page: téléconsultations": ("get", "/teleconsultations/", None, me_page),
        "page: réservation (créneaux)": (
            "get",
            f"/teleconsultations/nouvelle/?{query}",
            None,
            ("session", booker["session"]),
        ),
        "api: jeton de salle": (
            "post",
            f"/api/v1/rooms/{room['slug']}/token",
            "{}",
            ("token", performer["token"]),
        ),
        "api: lot de mesures": (
            "post",
            "/api/v1/telesurveillance/measurements",
            batch,
            ("token", setup["gateway_token"]),
        ),
    }


def run_one(client, method: str, url: str, body, auth) -> int:
    kind, secret = auth
    headers = {}
    client.cookies.clear()
    if kind == "session":
        client.cookies["sessionid"] = secret
    else:
        headers["Authorization"] = f"Bearer {secret}"
    data = body() if callable(body) else body
    if method == "get":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, data=data, content_type="application/json", headers=headers)
    return response.status_code


def plan_and_run_ms(cursor, statements: list[str]) -> tuple[float, float]:
    """Planning and execution times (ms) of these SELECTs, each the best of two runs."""
    planning = execution = 0.0
    for sql in statements:
        best = None
        for _ in range(2):
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql)
            text = "\n".join(line for (line,) in cursor.fetchall())
            times = [
                float(re.search(rf"{what} Time: ([\d.]+)", text).group(1))
                for what in ("Planning", "Execution")
            ]
            best = times if best is None or sum(times) < sum(best) else best
        planning, execution = planning + best[0], execution + best[1]
    return planning, execution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=capacity.DEFAULT_PG_URL)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", help="profile only the kinds whose name contains this")
    parser.add_argument("--profile", help="pyinstrument the kind whose name contains this")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--plans", action="store_true", help="planning against execution")
    parser.add_argument("--show", type=int, default=3, help="slowest statements shown per kind")
    args = parser.parse_args()
    common.ensure_database(args.pg_url)
    os.environ["TELESANTE_SECRET_KEY"] = capacity.SECRET
    os.environ.setdefault("TELESANTE_REDIS_URL", "redis://127.0.0.1:6379/12")
    common.setup_django(args.pg_url)
    setup_file = capacity.VAR / "profile-setup.json"
    if setup_file.exists():
        setup = json.loads(setup_file.read_text())
    else:
        capacity.VAR.mkdir(parents=True, exist_ok=True)
        setup = capacity.prepare(calls=4)["setup"]
        setup_file.write_text(json.dumps(setup))

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    for name, (method, url, body, auth) in kinds(setup).items():
        if args.only and args.only not in name:
            continue
        started = time.perf_counter()
        status = run_one(client, method, url, body, auth)  # the process's first one
        first = (time.perf_counter() - started) * 1000
        times, cpu = [], []
        for _ in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            run_one(client, method, url, body, auth)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            run_one(client, method, url, body, auth)
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(
            f"{name}: HTTP {status}, first {first:.0f} ms, "
            f"median {statistics.median(times):.1f} ms "
            f"({statistics.median(cpu):.1f} ms of this process's CPU), "
            f"{len(queries.captured_queries)} statements, {sql_ms:.1f} ms SQL"
        )
        selects = [
            q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")
        ]
        if args.plans:
            with connection.cursor() as cursor:
                planning, execution = plan_and_run_ms(cursor, selects)
            print(
                f"    {len(selects)} SELECTs: planned in {planning:.1f} ms, "
                f"ran in {execution:.1f} ms"
            )
        slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
        for q in slow[: args.show]:
            print(f"    {float(q['time']) * 1000:6.1f} ms  {q['sql'][:300]}")
        if args.explain and slow and slow[0]["sql"] in selects:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slow[0]["sql"])
                for (line,) in cursor.fetchall():
                    print("      " + line)
        if args.profile and args.profile in name:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(args.repeat):
                    run_one(client, method, url, body, auth)
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
