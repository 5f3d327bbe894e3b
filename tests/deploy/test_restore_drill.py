"""The restore drill, as the hosting team would run it: a PostgreSQL cluster archiving its WAL
(`deploy/backup/postgresql-archive.conf`), the platform writing to it, a base backup and a copy
of the documents (`deploy/backup/telesante-backup`), more writes, then a restore to a point in
time into a new cluster (`deploy/backup/telesante-restore`): everything written up to that point
is there, documents' checksums included, and nothing after it.

The measured RPO (archive_timeout, the documents' timer) and RTO (this restore's duration) are
in docs/deploy.md."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.e2e.server import TELESANTE, free_port

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup"
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


def psql(port: int, sql: str, db: str = "postgres") -> str:
    return as_postgres(
        "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-Atc", sql, db
    )


def platform(port: int, media: Path, *args: str) -> str:
    env = {
        **os.environ,
        "TELESANTE_DEBUG": "1",
        "TELESANTE_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/telesante",
        "TELESANTE_MEDIA_ROOT": str(media),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [str(TELESANTE), *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write(port: int, media: Path, tag: str, count: int) -> dict:
    code = f"from tests.deploy.drill_writes import write; write({tag!r}, {count})"
    return json.loads(platform(port, media, "shell", "-c", code).strip().splitlines()[-1])


def archived(port: int) -> None:
    """Closes the current WAL segment and waits until the archiver has copied it."""
    segment = psql(port, "select pg_walfile_name(pg_switch_wal())").strip()
    deadline = time.monotonic() + 60
    while psql(port, "select last_archived_wal from pg_stat_archiver").strip() < segment:
        assert time.monotonic() < deadline, "WAL non archivé"
        time.sleep(0.2)


@pytest.fixture
def workdir() -> Iterator[Path]:
    if PG_BIN is None or not shutil.which("runuser"):
        if os.environ.get("CI") == "true":
            pytest.fail("Binaires du serveur PostgreSQL absents (paquet postgresql).")
        pytest.skip("Binaires du serveur PostgreSQL absents")
    if connection.vendor != "postgresql":
        pytest.skip("L'exercice de restauration tourne dans la passe PostgreSQL de la suite.")
    work = Path(tempfile.mkdtemp(prefix="telesante-drill-"))
    shutil.chown(work, "postgres", "postgres")
    yield work
    for data in ("primary", "restored"):
        if (work / data / "postmaster.pid").exists():
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(work / data), "-m", "immediate", "stop")
    shutil.rmtree(work, ignore_errors=True)


def test_point_in_time_restore_loses_nothing_up_to_the_chosen_moment(workdir: Path):
    primary, restored = workdir / "primary", workdir / "restored"
    backups, media, media_back = workdir / "backups", workdir / "media", workdir / "media-restored"
    for folder in (backups, backups / "wal", media, media_back):
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")
    port, port_restored = free_port(), free_port()
    as_postgres(str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust")
    archive_conf = (BACKUP / "postgresql-archive.conf").read_text()
    archive_conf = archive_conf.replace("/var/backups/telesante", str(backups))
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(archive_conf)
        conf.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n")
        conf.write(f"unix_socket_directories = '{workdir}'\n")
    as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(primary),
        "-l",
        str(workdir / "primary.log"),
        "-w",
        "start",
    )
    psql(port, "create database telesante")
    platform(port, media, "migrate", "--verbosity", "0")
    os.chmod(media, 0o777)  # the platform (root here) writes, the backup (postgres) reads

    first = write(port, media, "avant", 12)
    backup_env = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(port),
        "PGUSER": "postgres",
        "TELESANTE_MEDIA_ROOT": str(media),
    }
    as_postgres(str(BACKUP / "telesante-backup"), str(backups), env=backup_env)
    time.sleep(1.1)  # the documents' copies are named by the second
    kept = write(port, media, "pendant", 8)
    assert kept["patients"] == first["patients"] + 8
    time.sleep(1)
    target = psql(port, "select now()").strip()
    time.sleep(1)
    lost = write(port, media, "apres", 5)
    assert lost["patients"] == kept["patients"] + 5
    archived(port)
    as_postgres(str(BACKUP / "telesante-backup"), str(backups), "documents", env=backup_env)

    started = time.monotonic()
    as_postgres(
        str(BACKUP / "telesante-restore"),
        str(backups),
        target,
        str(restored),
        str(media_back),
        str(port_restored),
        env={"PG_BIN": str(PG_BIN)},
    )
    restore_seconds = time.monotonic() - started
    after = json.loads(
        platform(
            port_restored,
            media_back,
            "shell",
            "-c",
            "import json; from tests.deploy.drill_writes import state; print(json.dumps(state()))",
        )
        .strip()
        .splitlines()[-1]
    )
    assert after == kept  # every row and document up to the target, none after
    assert all(stored == read for stored, read in after["documents"].values())
    assert not any(name.startswith("apres") for name in after["documents"])
    print(f"RTO mesuré : restauration en {restore_seconds:.1f} s")
