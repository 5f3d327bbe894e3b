"""The restore drill, as the hosting team would run it: a PostgreSQL cluster archiving its WAL
(`deploy/backup/postgresql-archive.conf`), the platform writing to it, a base backup and a copy
of the documents (`deploy/backup/telesante-backup`), more writes, then a restore to a point in
time into a new cluster (`deploy/backup/telesante-restore`): everything written up to that point
is there, documents' checksums included, and nothing after it.

The measured RPO (archive_timeout, the documents' timer) and RTO (this restore's duration) are
in docs/deploy.md."""

import os
import shutil
import time
from pathlib import Path

from tests.deploy.conftest import (
    PG_BIN,
    ROOT,
    Cluster,
    as_postgres,
    new_cluster,
    platform,
    run_python,
)
from tests.e2e.server import free_port

BACKUP = ROOT / "deploy" / "backup"


def write(cluster: Cluster, media: Path, tag: str, count: int) -> dict:
    return run_python(
        cluster.url, media, f"from tests.deploy.drill_writes import write; write({tag!r}, {count})"
    )


def archived(cluster: Cluster) -> None:
    """Closes the current WAL segment and waits until the archiver has copied it."""
    segment = cluster.psql("select pg_walfile_name(pg_switch_wal())").strip()
    deadline = time.monotonic() + 60
    while cluster.psql("select last_archived_wal from pg_stat_archiver").strip() < segment:
        assert time.monotonic() < deadline, "WAL non archivé"
        time.sleep(0.2)


def test_point_in_time_restore_loses_nothing_up_to_the_chosen_moment(workdir: Path):
    backups, media, media_back = workdir / "backups", workdir / "media", workdir / "media-restored"
    for folder in (backups, backups / "wal", media, media_back):
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")
    archive_conf = (BACKUP / "postgresql-archive.conf").read_text()
    primary = new_cluster(
        workdir, extra_conf=archive_conf.replace("/var/backups/telesante", str(backups))
    )
    platform(primary.url, media, "migrate", "--verbosity", "0")
    os.chmod(media, 0o777)  # the platform (root here) writes, the backup (postgres) reads

    first = write(primary, media, "avant", 12)
    backup_env = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(primary.port),
        "PGUSER": "postgres",
        "TELESANTE_MEDIA_ROOT": str(media),
    }
    as_postgres(str(BACKUP / "telesante-backup"), str(backups), env=backup_env)
    time.sleep(1.1)  # the documents' copies are named by the second
    kept = write(primary, media, "pendant", 8)
    assert kept["patients"] == first["patients"] + 8
    time.sleep(1)
    target = primary.psql("select now()").strip()
    time.sleep(1)
    lost = write(primary, media, "apres", 5)
    assert lost["patients"] == kept["patients"] + 5
    archived(primary)
    as_postgres(str(BACKUP / "telesante-backup"), str(backups), "documents", env=backup_env)

    port_restored = free_port()
    started = time.monotonic()
    as_postgres(
        str(BACKUP / "telesante-restore"),
        str(backups),
        target,
        str(workdir / "restored"),
        str(media_back),
        str(port_restored),
        env={"PG_BIN": str(PG_BIN)},
    )
    restore_seconds = time.monotonic() - started
    restored_url = f"postgres://postgres@127.0.0.1:{port_restored}/telesante"
    code = "import json; from tests.deploy.drill_writes import state; print(json.dumps(state()))"
    after = run_python(restored_url, media_back, code)
    assert after == kept  # every row and document up to the target, none after
    assert all(stored == read for stored, read in after["documents"].values())
    assert not any(name.startswith("apres") for name in after["documents"])
    print(f"RTO mesuré : restauration en {restore_seconds:.1f} s")
