#!/usr/bin/env python
"""Télé-expertise boxes at a million acts, through the real production server.

    .venv/bin/python bench/run_inbox.py [--scale 50]

`GET /api/v1/teleexpertise?box=inbox` as the demo wound-care expert and
`GET /api/v1/teleexpertise?box=outbox` as the demo EHPAD nurse, on PostgreSQL seeded with
`telesante seed-demo --scale 50` (20,000 télé-expertises per unit: 1,000,000 acts), one request
at a time on one keep-alive connection, each followed by a request to the bare Django view
(`/bench/bare`) on the same server: the baseline. Figures: p95 of each box and its ratio to the
bare view's p95. Reuses the patient search benchmark's server, client and report helpers, and
its database (`telesante_bench`).
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_patient_search as common

COMMAND = ".venv/bin/python bench/run_inbox.py"
ACTS_PER_SCALE = 20_000


def account(env: dict[str, str], role: str, specialty: str = "") -> str:
    accounts = json.loads(common.telesante(env, "demo-accounts", "--json"))
    for a in accounts:
        if a["role"] == role and (not specialty or a["specialty"] == specialty):
            return a["email"]
    sys.exit(f"no demo account with role {role} {specialty}")


def box_sizes(expert: str, nurse: str) -> dict[str, int]:
    from telesante.accounts.models import User
    from telesante.acts.models import Act
    from telesante.teleexpertise import services

    return {
        "acts": Act.objects.count(),
        "inbox": services.inbox(User.objects.get(email=expert)).count(),
        "outbox": services.outbox(User.objects.get(email=nurse)).count(),
    }


def measure(port: int, token: str, path: str, requests: int) -> dict:
    client = common.Client(port, token)
    first = client.get(path)
    if first[1] != 200:
        sys.exit(f"{path} answered {first[1]}: {first[2][:300]!r}")
    for _ in range(20):  # warm-up, not counted
        client.get(path)
        client.get(common.BARE_PATH)
    box, bare, items = [], [], 0
    for _ in range(requests):
        ms, status, body = client.get(path)
        if status != 200:
            sys.exit(f"{path} answered {status}")
        box.append(ms)
        items = len(json.loads(body))
        bare.append(client.get(common.BARE_PATH)[0])
    client.close()
    return {"box": common.percentiles(box), "bare": common.percentiles(bare), "items": items}


def body(args, facts: dict, data: dict, sizes: dict, results: dict) -> str:
    rows, lines = [], []
    for name, (who, r) in results.items():
        b, base = r["box"], r["bare"]
        lines.append(
            f"**{name} p95 = {b['p95']:.1f} ms, {b['p95'] / base['p95']:.1f}× the bare view's "
            f"p95 ({base['p95']:.1f} ms)**"
        )
        rows.append(
            f"| `GET /api/v1/teleexpertise?box={name}` ({who}; {sizes[name]:,} requests in the "
            f"box, {r['items']} listed) | {b['n']} | {b['p50']:.1f} | **{b['p95']:.1f}** | "
            f"{b['p99']:.1f} | {b['max']:.1f} |"
        )
        rows.append(
            f"| bare view `/bench/bare` (baseline, same run) | {base['n']} | {base['p50']:.1f} | "
            f"{base['p95']:.1f} | {base['p99']:.1f} | {base['max']:.1f} |"
        )
    return "\n".join(
        [
            " · ".join(lines) + f" — target p95 < 50 ms at {sizes['acts']:,} acts.",
            "",
            f"`{COMMAND} --scale {args.scale}` · 1 server worker (`telesante serve`, demo mode, "
            f"production settings otherwise) · {args.requests} requests per box, one at a time on "
            "one keep-alive connection, each followed by one bare request.",
            "",
            "| target | n | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Machine: {common.facts_line(facts, data)}.",
        ]
    )


def parser(description: str, requests: int) -> argparse.ArgumentParser:
    """The options of the benchmarks on the million-act database (this one, run_read_path)."""
    out = argparse.ArgumentParser(description=description)
    out.add_argument("--scale", type=int, default=50)
    out.add_argument("--pg-url", default=common.DEFAULT_PG_URL)
    out.add_argument("--requests", type=int, default=requests)
    out.add_argument("--reseed", action="store_true")
    out.add_argument("--max-load", type=float, default=1.5)
    out.add_argument("--max-wait", type=float, default=120)
    out.add_argument("--no-doc", action="store_true")
    return out


def million_acts(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """The bench's PostgreSQL database, seeded at `--scale` if it lacks the data, vacuumed; the
    environment of its server and commands, and what was done to the data."""
    args.db, args.sqlite_path = "postgres", ""
    url = common.db_url(args)
    common.ensure_pg_database(url)
    env = common.bench_env(url)
    common.setup_django(env)
    data = common.ensure_data(args, url, env)
    common.vacuum_analyze("postgres")
    return env, data


def main() -> None:
    args = parser(__doc__.split("\n\n")[0], 400).parse_args()
    env, data = million_acts(args)
    expert = account(env, "expert", "plaies_cicatrisation")
    nurse = account(env, "nurse")
    sizes = box_sizes(expert, nurse)
    if sizes["acts"] < 0.9 * ACTS_PER_SCALE * args.scale:
        sys.exit(f"{sizes['acts']} acts: expected about {ACTS_PER_SCALE * args.scale}")
    common.log(f"{sizes['acts']:,} acts; inbox {sizes['inbox']:,}, outbox {sizes['outbox']:,}")
    tokens = {
        email: common.telesante(env, "create-token", email, "--name", "bench").split()[-1]
        for email in (expert, nurse)
    }
    common.VAR.mkdir(parents=True, exist_ok=True)
    facts = common.machine_facts("postgres")
    results = {}
    with common.Server(env, 1, common.VAR / "server-inbox.log") as server:
        common.wait_for_quiet(args.max_load, args.max_wait)
        for name, who, email in (
            ("inbox", "the demo wound-care expert", expert),
            ("outbox", "the demo EHPAD nurse", nurse),
        ):
            started = time.monotonic()
            r = measure(
                server.port, tokens[email], f"/api/v1/teleexpertise?box={name}", args.requests
            )
            results[name] = (who, r)
            common.log(
                f"{name}: p95 {r['box']['p95']:.1f} ms, bare p95 {r['bare']['p95']:.1f} ms "
                f"({time.monotonic() - started:.0f} s)"
            )
    text = body(args, facts, data, sizes, results)
    publish(
        args, "teleexpertise-inbox:postgres", "## 3. Télé-expertise boxes at 1,000,000 acts", text
    )


def publish(args: argparse.Namespace, name: str, heading: str, text: str) -> None:
    """The figures into their section of docs/benchmarks.md, or printed with --no-doc."""
    if args.no_doc:
        print(text)
        return
    common.write_doc([(name, heading, text)])
    common.log(f"wrote {common.DOC.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
