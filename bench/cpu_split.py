#!/usr/bin/env python
"""Whose CPU a list costs under load: the server's process or PostgreSQL's.

    .venv/bin/python bench/cpu_split.py [--seconds 6] [--connections 8] [--rounds 2] [--only LIST…]

On the database of bench/run_read_path.py (seeded by it), the production server with one
worker, load shedding off, serves each list's paths (those of bench/profile_read_path.py: the
first page and the next ones by cursor; the work list as the demo GP's home page fetches it) to
wrk, as its demo account; the bare view first. For
each leg, the CPU time the server's processes and PostgreSQL's processes spent (read from
/proc before and after), divided by the requests served. Linux only. Writes nothing under
docs/.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import profile_read_path, run_inbox, run_read_path
from bench import run_patient_search as bench

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_requests.lua"
WORK_LIST = "work list"


def cpu_seconds(matches) -> float:
    """The CPU time (user and system) of the processes whose command line matches."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if matches(name, command):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def walk(port: int, token: str, start: str) -> list[str]:
    paths = [start]
    while "cursor=" in start and len(paths) < profile_read_path.PAGES:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", paths[-1], headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        after = response.getheader("X-Next-Cursor")
        conn.close()
        if not after:
            break
        paths.append(start.split("cursor=")[0] + "cursor=" + after)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    lists = [*profile_read_path.LISTS, WORK_LIST]
    parser.add_argument("--only", nargs="+", choices=lists, default=lists)
    args = parser.parse_args()
    env = bench.bench_env(bench.DEFAULT_PG_URL)
    serving = dict(env, TELESANTE_MAX_IN_FLIGHT="0")
    server_port = bench.free_port()

    def server(name: str, command: str) -> bool:
        return "telesante" in command and f"--port {server_port}" in command

    def postgres(name: str, command: str) -> bool:
        return name.startswith("postgres")

    log = bench.VAR / "server-cpu-split.log"
    bench.VAR.mkdir(parents=True, exist_ok=True)
    with bench.Server(serving, 1, log, port=server_port) as running:
        legs = [("bare view", "", "", [bench.BARE_PATH])]
        for name in args.only:
            if name == WORK_LIST:  # the home page's fragment, with the demo GP's session
                bench.setup_django(env)
                cookie = run_read_path.session_cookie(run_inbox.account(env, "gp"))
                legs.append((name, "", cookie, ["/liste-de-travail/"]))
                continue
            role, specialty, start = profile_read_path.LISTS[name]
            email = run_inbox.account(env, role, specialty)
            token = bench.telesante(env, "create-token", email, "--name", "bench").split()[-1]
            legs.append((name, token, "", walk(running.port, token, start)))
        for name, token, cookie, paths in legs:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listed:
                listed.write("\n".join(paths) + "\n")
            wrk_env = dict(
                os.environ, BENCH_PATHS=listed.name, BENCH_TOKEN=token, BENCH_COOKIE=cookie
            )
            for _ in range(args.rounds):
                at, ours, theirs = time.monotonic(), cpu_seconds(server), cpu_seconds(postgres)
                out = subprocess.run(
                    [
                        "wrk",
                        "-t1",
                        f"-c{args.connections}",
                        f"-d{args.seconds}s",
                        "-s",
                        str(WRK_SCRIPT),
                        f"http://127.0.0.1:{running.port}",
                    ],
                    env=wrk_env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                elapsed = time.monotonic() - at
                server_cpu, pg_cpu = cpu_seconds(server) - ours, cpu_seconds(postgres) - theirs
                result = json.loads(out.strip().splitlines()[-1])
                served = max(result["requests"], 1)
                print(
                    f"{name}: {served / elapsed:.0f} req/s, server CPU "
                    f"{1000 * server_cpu / served:.2f} ms a request, PostgreSQL CPU "
                    f"{1000 * pg_cpu / served:.2f} ms, {result['errors_status']} errors",
                    flush=True,
                )
            os.unlink(listed.name)


if __name__ == "__main__":
    main()
