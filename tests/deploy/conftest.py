"""A PostgreSQL cluster of the test's own (initdb, its own port and folder), so that a test may
stop, restart or restore it without touching the suite's database; and the platform's command
run against it."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.server import TELESANTE, free_port

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


def as_postgres(*command: str, env: dict | None = None) -> str:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Cluster:
    data: Path
    port: int
    work: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/telesante"

    def psql(self, sql: str, db: str = "postgres") -> str:
        return as_postgres(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-Atc", sql, db
        )

    def pg_ctl(self, *args: str) -> None:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.work / f"{self.data.name}.log"), "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


def platform(database_url: str, media: Path, *args: str) -> str:
    """`telesante ARGS` against that database, the tests' package importable (drill_writes)."""
    env = {
        **os.environ,
        "TELESANTE_DEBUG": "1",
        "TELESANTE_DATABASE_URL": database_url,
        "TELESANTE_MEDIA_ROOT": str(media),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [str(TELESANTE), *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_python(database_url: str, media: Path, code: str) -> dict:
    """Runs `code` in `telesante shell`; its last printed line is JSON."""
    return json.loads(platform(database_url, media, "shell", "-c", code).strip().splitlines()[-1])


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder the postgres user owns; every cluster started in it is stopped afterwards."""
    if PG_BIN is None or not shutil.which("runuser"):
        if os.environ.get("CI") == "true":
            pytest.fail("Binaires du serveur PostgreSQL absents (paquet postgresql).")
        pytest.skip("Binaires du serveur PostgreSQL absents")
    if connection.vendor != "postgresql":
        pytest.skip("Ces exercices tournent dans la passe PostgreSQL de la suite.")
    work = Path(tempfile.mkdtemp(prefix="telesante-drill-"))
    shutil.chown(work, "postgres", "postgres")
    yield work
    for pid in work.glob("*/postmaster.pid"):
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pid.parent), "-m", "immediate", "stop")
    shutil.rmtree(work, ignore_errors=True)


def new_cluster(work: Path, name: str = "primary", extra_conf: str = "") -> Cluster:
    """initdb, trust on 127.0.0.1, a free port; started, with an empty `telesante` database."""
    cluster = Cluster(data=work / name, port=free_port(), work=work)
    as_postgres(str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust")
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(extra_conf)
        conf.write(f"\nport = {cluster.port}\nlisten_addresses = '127.0.0.1'\n")
        conf.write(f"unix_socket_directories = '{work}'\n")
    cluster.start()
    cluster.psql("create database telesante")
    return cluster
