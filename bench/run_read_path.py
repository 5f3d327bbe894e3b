#!/usr/bin/env python
"""Every list read through the act or patient wall, at a million acts, against the bare view.

    .venv/bin/python bench/run_read_path.py [--requests 200] [--seconds 8] [--only LIST…]

On PostgreSQL seeded with `telesante seed-demo --scale 50` (1,000,000 acts, 117,000 patients;
the patient search benchmark's database, `telesante_bench`), the production server with one
worker serves each list to the demo account that uses it, read by cursor as an integrator walks
it (`?cursor=` then the `X-Next-Cursor` of each page, five pages deep; patient search: the first
page of a few hundred varied searches). The work list is the home page's fragment, with the
account's session. Two figures per list, each against the bare Django view in the same run on
the same server, asked with no token and no session (a session costs the bare view two
statements, as it does every page):
- latency: one request at a time on one keep-alive connection, each followed by one bare
  request; p95 of the list ÷ p95 of the bare view (target ≤ 5);
- throughput: wrk, 8 connections, bare and list legs in ABBA order; list req/s ÷ bare req/s
  (target ≥ 0.3). The server's load shedding is off (`TELESANTE_MAX_IN_FLIGHT=0`): beyond 6
  requests in flight it answers 503 at once, which wrk counts as served, and the latency
  phase's walk that follows a wrk leg would meet the leg's last requests.
And the audit: every row the latency phase received has its audit entry (none lost).
"""

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_inbox
import run_patient_search as common

COMMAND = ".venv/bin/python bench/run_read_path.py"
PAGES = 5  # cursor pages walked per list
WARM_UP = 100  # requests of a list before its latency is measured: 5 for each pooled connection
HEADING = "## 9. Reads through the walls at 1,000,000 acts"


@dataclass
class Target:
    name: str  # what the doc calls it
    who: str  # the account reading it (a demo role)
    email: str
    start: str  # the first page's path
    api: bool = True  # False: a page of the site, read with the account's session
    paths: list[str] = field(default_factory=list)


def targets(env: dict[str, str]) -> list[Target]:
    gp = run_inbox.account(env, "gp")
    expert = run_inbox.account(env, "expert", "plaies_cicatrisation")
    nurse = run_inbox.account(env, "nurse")
    operator = run_inbox.account(env, "monitoring_operator")
    return [
        Target("téléconsultations", "the demo GP", gp, "/api/v1/teleconsultations?cursor="),
        Target(
            "télé-expertise inbox",
            "the demo wound-care expert",
            expert,
            "/api/v1/teleexpertise?box=inbox&cursor=",
        ),
        Target(
            "télé-expertise outbox",
            "the demo EHPAD nurse",
            nurse,
            "/api/v1/teleexpertise?box=outbox&cursor=",
        ),
        Target(
            "télésurveillance alerts",
            "the demo monitoring operator",
            operator,
            "/api/v1/telesurveillance/alerts?limit=50&cursor=",
        ),
        Target(
            "télésurveillance enrolments",
            "the demo monitoring operator",
            operator,
            "/api/v1/telesurveillance/enrolments?limit=50&cursor=",
        ),
        Target("patient search", "the demo EHPAD nurse", nurse, ""),
        Target("work list", "the demo GP", gp, "/liste-de-travail/", api=False),
    ]


def session_cookie(email: str) -> str:
    """A server-side session for the account (the database holds sessions): its cookie."""
    from django.test import Client

    from telesante.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    return f"sessionid={client.cookies['sessionid'].value}"


def walk(client: common.Client, start: str) -> list[str]:
    """The first page and the next ones by cursor, as an integrator reads the list."""
    paths, path = [], start
    while path and len(paths) < PAGES:
        _ms, status, body = client.get(path)
        if status != 200:
            sys.exit(f"{path} answered {status}: {body[:300]!r}")
        paths.append(path)
        cursor = client.last_headers.get("X-Next-Cursor")
        path = f"{start}{cursor}" if cursor else ""
    return paths


def audit_count() -> int:
    from telesante.core.models import AuditEntry

    return AuditEntry.objects.count()


def measure(client: common.Client, target: Target, requests: int) -> dict:
    # Warm-up, not counted: the server lends its pooled connections in turn (up to 20, grown by
    # the wrk leg before), and a connection prepares a statement on its third run. One request
    # a path left most connections cold: their first runs, planned, were the p95.
    for i in range(WARM_UP):
        client.get(target.paths[i % len(target.paths)])
        client.get(common.BARE_PATH, anonymous=True)
    before, rows = audit_count(), 0
    listed, bare = [], []
    for i in range(requests):
        ms, status, body = client.get(target.paths[i % len(target.paths)])
        if status != 200:
            sys.exit(f"{target.name} answered {status}")
        listed.append(ms)
        if target.api:
            rows += len(json.loads(body))
        bare.append(client.get(common.BARE_PATH, anonymous=True)[0])
    audited = audit_count() - before
    return {
        "list": common.percentiles(listed),
        "bare": common.percentiles(bare),
        "rows": rows,
        "audited": audited,
    }


def body(args, facts: dict, data: dict, acts: int, results: list[tuple[Target, dict]]) -> str:
    rows = []
    for target, r in results:
        lat, base, thr = r["latency"]["list"], r["latency"]["bare"], r["throughput"]
        ratio, rps_ratio = lat["p95"] / base["p95"], thr["search"]["rps"] / thr["bare"]["rps"]
        audit = (
            f"{r['latency']['audited']:,} / {r['latency']['rows']:,}"
            if target.api
            else f"{r['latency']['audited']:,} entries"
        )
        rows.append(
            f"| {target.name} ({target.who}; {len(target.paths)} paths) | {lat['p50']:.1f} | "
            f"**{lat['p95']:.1f}** | {base['p95']:.1f} | **{ratio:.1f}×** "
            f"{'✓' if ratio <= 5 else '✗'} | {thr['search']['rps']:.0f} | "
            f"{thr['bare']['rps']:.0f} | **{rps_ratio:.2f}** {'✓' if rps_ratio >= 0.3 else '✗'} "
            f"| {thr['search']['errors'] + thr['bare']['errors']} | {audit} |"
        )
    return "\n".join(
        [
            f"`{COMMAND} --requests {args.requests} --seconds {args.seconds:g}` · "
            f"{acts:,} acts, {data['patients']:,} patients · 1 server worker (`telesante serve`, "
            "demo mode, production settings otherwise) · lists read by cursor (first page, then "
            f"the next ones, {PAGES} pages deep), 50 rows a page · latency: {args.requests} "
            f"requests per list after {WARM_UP} of warm-up, one at a time, each followed by one "
            "bare request · throughput: "
            f"wrk, 1 thread, 8 connections, {args.seconds:g} s per target in ABBA order, load "
            "shedding off · the bare view asked with no token and no session. "
            "Targets: p95 ≤ 5× the bare view's, throughput ≥ 0.3× the bare view's.",
            "",
            "| list | p50 ms | p95 ms | bare p95 ms | p95 ratio | list req/s | bare req/s "
            "| req/s ratio | wrk errors | audit entries / rows received |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Machine: {common.facts_line(facts, data)}.",
        ]
    )


def main() -> None:
    options = run_inbox.parser(__doc__.split("\n\n")[0], 200)
    options.add_argument("--seconds", type=float, default=8)
    options.add_argument("--searches", type=int, default=200)
    options.add_argument(
        "--only",
        nargs="+",
        metavar="LIST",
        help="measure only the lists whose names start with these words (implies --no-doc)",
    )
    args = options.parse_args()
    args.no_doc = args.no_doc or bool(args.only)
    env, data = run_inbox.million_acts(args)
    from telesante.acts.models import Act

    acts = Act.objects.count()
    everything = targets(env)
    lists = [t for t in everything if not args.only or t.name.startswith(tuple(args.only))]
    tokens = {
        email: common.telesante(env, "create-token", email, "--name", "bench").split()[-1]
        for email in {t.email for t in lists}
    }
    searcher = next(t for t in everything if t.name == "patient search")
    queries, _info = common.make_queries(searcher.email, args.searches, seed=7)
    common.VAR.mkdir(parents=True, exist_ok=True)
    facts = common.machine_facts("postgres")
    results = []
    # The views' cost is measured, not admission: no 503 for wrk's connections beyond 6.
    serving = dict(env, TELESANTE_MAX_IN_FLIGHT="0")
    with common.Server(serving, 1, common.VAR / "server-read-path.log") as server:
        common.wait_for_quiet(args.max_load, args.max_wait)
        for target in lists:
            cookie = "" if target.api else session_cookie(target.email)
            client = common.Client(server.port, tokens[target.email], cookie)
            if target.start:
                target.paths = walk(client, target.start)
            else:  # patient search: the first page of each search, by cursor
                target.paths = [f"{q.path}&cursor=" for q in queries]
            started = time.monotonic()
            latency = measure(client, target, args.requests)
            client.close()
            throughput = common.measure_throughput_paths(
                server.port,
                tokens[target.email] if target.api else "",
                target.paths,
                args.seconds,
                8,
                common.VAR,
                cookie,
            )
            results.append((target, {"latency": latency, "throughput": throughput}))
            common.log(
                f"{target.name}: p95 {latency['list']['p95']:.1f} ms (bare "
                f"{latency['bare']['p95']:.1f}), {throughput['search']['rps']:.0f} req/s (bare "
                f"{throughput['bare']['rps']:.0f}), audited {latency['audited']} for "
                f"{latency['rows']} rows ({time.monotonic() - started:.0f} s)"
            )
    run_inbox.publish(args, "read-path:postgres", HEADING, body(args, facts, data, acts, results))


if __name__ == "__main__":
    main()
