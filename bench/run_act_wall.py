#!/usr/bin/env python
"""The act wall (core/policy.py) at 100,000 acts, care teams included.

    .venv/bin/python bench/run_act_wall.py [--scale 5] [--runs 30]

PostgreSQL seeded with `telesante seed-demo --scale 5` (20,000 télé-expertises per unit). For
demo accounts of every kind (an expert with thousands of acts, a hospital expert whose team holds
a few hundred, an EHPAD nurse, a GP member of several sites), in-process, warm:
- `wall`: the newest page (50) of `policy.visible_acts(user)`, the UNION of index-driven lists;
- `tc list`: the first page of the téléconsultation list (`teleconsultation.services.listing`);
- `former wall`, baseline measured in the same run: the same page through the rule as it was
  written before (one OR across the joins, DISTINCT), for the same account;
- `bare`: the user's own requests (`Act.objects.filter(requester=user)`), one index range.
Figures: median and p95 in ms. Rewrites its section of docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_indicators as common

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench_wall"
MARK = "act-wall:postgres"
ACCOUNTS = [
    "expert.plaies",
    "expert.cardiologie",
    "expert.psychiatrie",
    "infirmiere",
    "medecin.generaliste",
]
PAGE = 50


def prepare(scale: int) -> dict:
    from django.core.management import call_command

    from telesante.acts.models import Act
    from telesante.demo.seeding import is_seeded

    call_command("migrate", verbosity=0)
    if not is_seeded():
        call_command("seed_demo", scale=scale, verbosity=0)
    common.vacuum_analyze()
    return {"acts": Act.objects.count()}


def former_wall(user):
    """The act rule before care teams, as it was written: an OR across joins, then DISTINCT."""
    from django.db.models import Q

    from telesante.accounts.models import Membership
    from telesante.acts.models import Act
    from telesante.teleexpertise.pools import pool_q

    mine = Membership.objects.filter(user=user).values("structure")
    return Act.objects.filter(
        Q(requester=user)
        | Q(performers=user)
        | Q(assisted_by__act__performers=user)
        | Q(requesting_structure__in=mine)
        | Q(performing_structure__in=mine)
        | Q(teleexpertise__named_expert=user)
        | pool_q(user, prefix="teleexpertise__")
    ).distinct()


def teams_label(names: list[str]) -> str:
    """ "Cardiologie, Télésurveillance"; "Équipe de la structure ×6" for one name on six sites."""
    counts = {n: names.count(n) for n in names}
    return ", ".join(n if c == 1 else f"{n} ×{c}" for n, c in counts.items())


def timed(fn, runs: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(runs: int) -> list[dict]:
    from telesante.accounts.models import User
    from telesante.acts.models import Act
    from telesante.core import policy
    from telesante.demo.seeding import DEMO_DOMAIN
    from telesante.teleconsultation import services as teleconsultation

    rows = []
    for local in ACCOUNTS:
        user = User.objects.get(email=f"{local}@{DEMO_DOMAIN}")
        queries = {
            "wall": lambda u=user: list(policy.visible_acts(u).order_by("-pk")[:PAGE]),
            "tc list": lambda u=user: list(teleconsultation.listing(u)[:PAGE]),
            "former wall": lambda u=user: list(former_wall(u).order_by("-pk")[:PAGE]),
            "bare": lambda u=user: list(Act.objects.filter(requester=u).order_by("-pk")[:PAGE]),
        }
        row = {
            "account": local,
            "teams": teams_label(list(policy.member_teams(user).values_list("name", flat=True))),
            "visible": policy.visible_acts(user).count(),
            "formerly": former_wall(user).count(),
        }
        for name, fn in queries.items():
            times = timed(fn, runs)
            row[name] = (statistics.median(times), common.percentile(times, 0.95))
        rows.append(row)
        print(row, flush=True)
    return rows


def report(facts: dict, rows: list[dict], runs: int, command: str) -> str:
    lines = [
        "## 7. The act wall with care teams",
        "",
        f"Command: `{command}` (PostgreSQL, `seed-demo`: {common.spaced(facts['acts'])} acts; "
        f"{runs} runs per figure after a warm-up, in-process; median / p95 in ms). The former "
        "wall is the rule as written before care teams (an OR across joins, DISTINCT), measured "
        "in the same run as the baseline; `bare` is the account's own requests, one index range.",
        "",
        "| account (teams) | acts visible (formerly) | wall | téléconsultation list "
        "| former wall | bare | wall ÷ former |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:

        def cell(name: str, r: dict = r) -> str:
            return f"{r[name][0]:.1f} / {r[name][1]:.1f}"

        lines.append(
            f"| {r['account']} ({r['teams']}) | {common.spaced(r['visible'])} "
            f"({common.spaced(r['formerly'])}) | {cell('wall')} | {cell('tc list')} "
            f"| {cell('former wall')} | {cell('bare')} "
            f"| {r['wall'][0] / r['former wall'][0]:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    common.ensure_database(args.pg_url)
    common.setup_django(args.pg_url)
    facts = prepare(args.scale)
    rows = measure(args.runs)
    command = ".venv/bin/python bench/run_act_wall.py" + (
        f" --scale {args.scale}" if args.scale != 5 else ""
    )
    body = report(facts, rows, args.runs, command)
    print(body)
    common.write_section(body, MARK)


if __name__ == "__main__":
    main()
