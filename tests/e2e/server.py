"""The real ASGI server (`telesante serve`: pages and WebSockets) for browser tests.

pytest-django's `live_server` is a WSGI thread: it cannot serve /ws/notifications/. This starts
`telesante serve` as a subprocess on the test's own database, which must then be a file (on
SQLite: TELESANTE_TEST_SQLITE, which scripts/run-tests sets) and its data committed
(`transactional_db`). Every wait is bounded.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

TELESANTE = Path(sys.executable).with_name("telesante")
START_SECONDS = 30
STOP_SECONDS = 5


@dataclass
class Server:
    url: str
    log: Path
    proc: subprocess.Popen


PG_SOCKETS = Path("/var/run/postgresql")


def database_url(settings_dict: dict, over_socket: bool = False) -> str:
    """A TELESANTE_DATABASE_URL for the database the test runs on (its test name included);
    PostgreSQL through its Unix socket when `over_socket` (a server in a network namespace)."""
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"].endswith("sqlite3"):
        if name == ":memory:" or name.startswith("file:memorydb") or "mode=memory" in name:
            message = (
                "Base SQLite en mémoire : le serveur ne la voit pas. Lancez avec "
                "TELESANTE_TEST_SQLITE=$PWD/var/e2e.sqlite3 (scripts/run-tests le fait)."
            )
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        return f"sqlite:///{Path(name).resolve()}"
    if "postgresql" in settings_dict["ENGINE"]:
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        if over_socket:
            if not (PG_SOCKETS / ".s.PGSQL.5432").exists():
                pytest.skip(f"Pas de socket PostgreSQL dans {PG_SOCKETS}.")
            host, port = quote(str(PG_SOCKETS), safe=""), ""
        return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"
    pytest.skip(f"Moteur non géré par le serveur de test : {settings_dict['ENGINE']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str, netns: str | None) -> bool:
    if netns:  # the server's loopback is the namespace's: ask from there
        probe = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)"
        command = ["ip", "netns", "exec", netns, sys.executable, "-c", probe, f"{url}/healthz"]
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_server(
    media_root: Path,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    netns: str | None = None,
) -> Iterator[Server]:
    """`telesante serve` on a free port of 127.0.0.1, on the test database; stopped on exit.

    `extra_env` adds settings, e.g. TELESANTE_REDIS_URL for processes sharing rooms; `netns`
    runs it in that network namespace (tests/e2e/netns.py)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # One process, its own in-memory channel layer and cache (parallel workers do not mix).
    dropped = {"DJANGO_ALLOW_ASYNC_UNSAFE", "TELESANTE_REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        TELESANTE_DEBUG="1",
        TELESANTE_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        TELESANTE_DATABASE_URL=database_url(connection.settings_dict, over_socket=bool(netns)),
        TELESANTE_MEDIA_ROOT=str(media_root),
        TELESANTE_VAR_DIR=str(log_dir / "var"),
        TELESANTE_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "server.log"
    with log.open("wb") as out:
        inside = ["ip", "netns", "exec", netns] if netns else []
        proc = subprocess.Popen(
            [*inside, str(TELESANTE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log_dir,
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while not _healthy(url, netns):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Le serveur n'a pas démarré :\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
            yield Server(url=url, log=log, proc=proc)
        finally:
            proc.terminate()
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_SECONDS)
