#!/usr/bin/env python
"""FHIR gateway ingest against the batch API, in the same run, through `telesante serve`.

    .venv/bin/python bench/run_fhir_ingest.py [--measurements 300000] [--workers 2]

The same readings (device-mornings of heart-failure patients, a few SpO2 under the threshold)
are posted twice on PostgreSQL, each under its own message ids so both are stored:

0. Warm-up: two requests of each kind, not timed.
1. Baseline: `POST /api/v1/telesurveillance/measurements`, batches of `--batch` items.
2. FHIR: `POST /fhir/r4/` transaction Bundles of as many Observations (LOINC, UCUM), the same
   gateway token; the same ingest service, rules and alerts.

The two alternate in `--rounds` rounds (a sixth of each, then the next sixth...).

Target: the FHIR rate at least 0.5× the batch API's. The database `telesante_bench_fhir` is
dropped and created at each run. Rewrites its section of docs/benchmarks.md.
"""

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_patient_search import VAR, Server, bench_env, log, setup_django, telesante, write_doc
from bench.run_telesurveillance import machine_facts, populate, post_all, readings, recreate

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/telesante_bench_fhir"
COMMAND = ".venv/bin/python bench/run_fhir_ingest.py"
BATCH_PATH = "/api/v1/telesurveillance/measurements"
FHIR_PATH = "/fhir/r4/"
UCUM, LOINC = "http://unitsofmeasure.org", "http://loinc.org"


def observation(item: dict) -> dict:
    """A reading as a gateway's Observation: LOINC code (or the platform's), UCUM quantity."""
    from telesante.telesurveillance import catalog

    loinc = catalog.TYPES[item["type"]].loinc
    coding = (
        {"system": LOINC, "code": loinc}
        if loinc[:1].isdigit()
        else {"system": "urn:telesante:mesure", "code": item["type"]}
    )
    device = {"system": "urn:telesante:dispositif", "value": item["device"]}
    return {
        "resource": {
            "resourceType": "Observation",
            "identifier": [{"system": "urn:telesante:message-dispositif", "value": item["id"]}],
            "status": "final",
            "code": {"coding": [coding]},
            "subject": {"identifier": device},
            "effectiveDateTime": item["at"],
            "valueQuantity": {"value": item["value"], "system": UCUM, "code": item["unit"]},
            "device": {"identifier": device},
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def batch_body(items: list[dict]) -> bytes:
    return json.dumps({"measurements": items}).encode()


def fhir_body(items: list[dict]) -> bytes:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [observation(i) for i in items],
    }
    return json.dumps(bundle).encode()


def batch_stored(answer: dict) -> int:
    return answer["accepted"]


def fhir_stored(answer: dict) -> int:
    return sum(e["response"]["status"].startswith("201") for e in answer["entry"])


def load(
    port: int,
    token: str,
    path: str,
    bodies: list[bytes],
    clients: int,
    stored: Callable[[dict], int],
) -> dict:
    """`clients` keep-alive connections post the pre-serialised bodies as fast as answered."""
    totals = {"stored": 0}
    kind = "application/fhir+json" if path == FHIR_PATH else "application/json"

    def tally(answer: dict) -> None:
        totals["stored"] += stored(answer)

    seconds, ms = post_all(port, token, bodies, clients, tally, path, kind)
    return {
        "stored": totals["stored"],
        "bodies": len(bodies),
        "megabytes": sum(map(len, bodies)) / 1e6,
        "seconds": seconds,
        "rate": totals["stored"] / seconds,
        "p50_ms": statistics.median(ms),
    }


def merged(parts: list[dict]) -> dict:
    """The rounds of one path as one figure: rows and seconds summed, the median of the
    rounds' medians."""
    stored, seconds = sum(p["stored"] for p in parts), sum(p["seconds"] for p in parts)
    return {
        "stored": stored,
        "bodies": sum(p["bodies"] for p in parts),
        "megabytes": sum(p["megabytes"] for p in parts),
        "seconds": seconds,
        "rate": stored / seconds,
        "p50_ms": statistics.median(p["p50_ms"] for p in parts),
    }


def report(args, facts, batch: dict, fhir: dict, alerts: int) -> str:
    ratio = fhir["rate"] / batch["rate"]

    def row(label: str, r: dict, vs: str) -> str:
        return (
            f"| {label} | {r['stored']:,} | {r['bodies']} ({r['megabytes']:.0f} MB) | "
            f"{r['p50_ms']:.0f} | {r['seconds']:.1f} | **{r['rate']:,.0f}** | {vs} |"
        )

    return "\n".join(
        [
            f"{facts['date']} · {facts['cores']} cores ({facts['cpu']}), load before the run "
            f"{facts['load']} · Python {facts['python']}, Django {facts['django']}, uvicorn "
            f"{facts['uvicorn']} · {facts['database']} · commit {facts['commit']} · "
            f"{args.patients:,} patients, {args.workers} server worker(s), {args.clients} "
            f"HTTP clients, {args.batch:,} readings a request, {args.rounds} alternating rounds",
            "",
            "| measure | stored | requests | ms a request (p50) | s | readings/s | vs batch API |",
            "|---|---:|---:|---:|---:|---:|---:|",
            row(f"`POST {BATCH_PATH}` (baseline)", batch, "1"),
            row(
                f"`POST {FHIR_PATH}` transaction Bundles of Observations", fhir, f"**{ratio:.2f}×**"
            ),
            "",
            f"Alerts opened over both runs: {alerts} (the same readings twice). "
            f"Target: FHIR ≥ 0.5× the batch API ({'met' if ratio >= 0.5 else 'not met'}).",
            "",
            f"    {COMMAND} --measurements {args.measurements} --workers {args.workers} "
            f"--batch {args.batch} --rounds {args.rounds}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--measurements", type=int, default=300_000)
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6, help="alternations of the two paths")
    parser.add_argument("--no-doc", action="store_true", help="print, do not write the doc")
    args = parser.parse_args(argv)
    VAR.mkdir(parents=True, exist_ok=True)
    recreate(args.pg_url)
    env = bench_env(args.pg_url)
    setup_django(env)
    telesante(env, "migrate", "--verbosity", "0")
    from django.db import connection

    from telesante.telesurveillance.models import Alert

    setup = populate(args.patients, 0)
    items = readings(setup.serials, args.measurements, seed=7)
    fhir_items = [{**i, "id": f"fhir-{i['id']}"} for i in items]
    chunks = range(0, len(items), args.batch)
    batch_bodies = [batch_body(items[i : i + args.batch]) for i in chunks]
    fhir_bodies = [fhir_body(fhir_items[i : i + args.batch]) for i in chunks]
    log(f"{args.patients} patients, {len(items):,} readings")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    facts = machine_facts("postgres")
    warm = readings(setup.serials, 2 * args.batch, seed=8)
    rounds = max(1, min(args.rounds, len(batch_bodies)))
    with Server(env, args.workers, VAR / "server-fhir-ingest.log") as server:
        # Both paths once before timing: the first requests of a worker load caches.
        for path, make, count in (
            (BATCH_PATH, batch_body, batch_stored),
            (FHIR_PATH, fhir_body, fhir_stored),
        ):
            warm_items = [{**i, "id": f"warm-{path}-{i['id']}"} for i in warm]
            bodies = [make(warm_items[i : i + args.batch]) for i in range(0, len(warm), args.batch)]
            load(server.port, setup.token, path, bodies, args.clients, count)
        # Rounds alternate the two paths, so that both meet the same machine (the table's
        # growth, a neighbour's load) rather than one getting the quiet minute.
        parts: dict[str, list[dict]] = {BATCH_PATH: [], FHIR_PATH: []}
        for r in range(rounds):
            for path, bodies, count in (
                (BATCH_PATH, batch_bodies, batch_stored),
                (FHIR_PATH, fhir_bodies, fhir_stored),
            ):
                part = load(server.port, setup.token, path, bodies[r::rounds], args.clients, count)
                parts[path].append(part)
        batch, fhir = (merged(parts[BATCH_PATH]), merged(parts[FHIR_PATH]))
        log(f"batch API {batch['rate']:,.0f} readings/s, FHIR {fhir['rate']:,.0f} readings/s")
    text = report(args, facts, batch, fhir, Alert.objects.count())
    (VAR / "fhir_ingest.json").write_text(json.dumps({"batch": batch, "fhir": fhir}, indent=2))
    print(text)
    if not args.no_doc:
        write_doc([("fhir-ingest", "## 8. FHIR gateway ingest against the batch API", text)])
        log("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
