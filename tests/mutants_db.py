"""pytest plugin of `make mutants` only (`-p tests.mutants_db`, see pyproject's [tool.mutmut]).

Every mutant runs its tests in a new pytest session; migrating a new database each time would
cost more than the tests. The first session keeps a copy of its freshly migrated database (a
template); every later session starts from a copy of that template in a SQLite file of its own
(a slot, locked while the session runs, so that concurrent mutants never share a database)."""

import fcntl
import sqlite3
from pathlib import Path

import pytest

VAR = Path(__file__).resolve().parents[1] / "var"
TEMPLATE = VAR / "mutants-template.sqlite3"
SLOTS = 8
_held: list = []


def _copy(source: Path, target: Path) -> None:
    # The backup API copies a consistent database, WAL included.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    from django.db import connections

    VAR.mkdir(exist_ok=True)
    for slot in range(SLOTS):
        lock = (VAR / f"mutants-{slot}.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _held.append(lock)
        name = VAR / f"mutants-{slot}.sqlite3"
        if TEMPLATE.exists():
            _copy(TEMPLATE, name)
        else:
            name.unlink(missing_ok=True)
        connections["default"].settings_dict["TEST"]["NAME"] = str(name)
        return
    raise pytest.UsageError(f"make mutants : les {SLOTS} bases de test sont occupées.")


def pytest_unconfigure(config: pytest.Config) -> None:
    while _held:
        _held.pop().close()


@pytest.fixture(scope="session", autouse=True)
def _mutants_template(django_db_setup, django_db_blocker) -> None:
    """Keep the first freshly migrated database as the template of the next sessions."""
    if not TEMPLATE.exists():
        with django_db_blocker.unblock():
            from django.db import connection

            _copy(Path(connection.settings_dict["NAME"]), TEMPLATE)
