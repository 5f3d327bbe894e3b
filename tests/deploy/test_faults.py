"""Faults a region's servers live through, with the real services: the database restarted under
load. While it is down, requests answer 503 in French within a second; when it is back, the same
server process serves again without being restarted."""

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.conftest import new_cluster, platform, run_python
from tests.e2e.server import running_server

PRODUCTION = {
    "TELESANTE_DEBUG": "",
    "TELESANTE_SECRET_KEY": "exercice-de-panne-" + "x" * 40,
    "TELESANTE_ALLOWED_HOSTS": "127.0.0.1",
    "TELESANTE_BEHIND_TLS_PROXY_NO_REDIRECT": "1",
}


# The API and a page, both needing the database.
PATHS = ["/api/v1/me", "/annuaire/"]


@dataclass
class Answer:
    at: float
    path: str
    status: int
    seconds: float
    body: bytes
    retry_after: str | None


def fetch(url: str, token: str) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Retry-After")


def load(base: str, token: str, answers: list[Answer], stop: threading.Event) -> None:
    """One client asking PATHS in turn."""
    n = 0
    while not stop.is_set():
        path = PATHS[n % len(PATHS)]
        n += 1
        started = time.monotonic()
        status, body, retry = fetch(base + path, token)
        answers.append(Answer(started, path, status, time.monotonic() - started, body, retry))
        time.sleep(0.02)


def wait_for(answers: list[Answer], seen, message: str, seconds: float = 20) -> None:
    """Until each path has an answer that is `seen`."""
    deadline = time.monotonic() + seconds
    while {a.path for a in answers if seen(a)} != set(PATHS):
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_database_restarted_under_load(workdir: Path, tmp_path):
    cluster = new_cluster(workdir)
    media = tmp_path / "media"
    media.mkdir()
    platform(cluster.url, media, "migrate", "--verbosity", "0")
    token = run_python(
        cluster.url, media, "from tests.deploy.drill_writes import professional; professional()"
    )["token"]
    env = {**PRODUCTION, "TELESANTE_DATABASE_URL": cluster.url}
    with running_server(media, tmp_path / "server", env) as server:
        answers: list[Answer] = []
        stop = threading.Event()
        clients = [
            threading.Thread(target=load, args=(server.url, token, answers, stop)) for _ in range(3)
        ]
        for client in clients:
            client.start()
        try:
            wait_for(answers, lambda a: a.status == 200, "pas de réponse avant la panne")
            down_at = time.monotonic()
            cluster.stop()
            # Both paths answered while the database is down (after its first half second).
            wait_for(answers, lambda a: a.at > down_at + 0.5, "pas de réponse pendant la panne")
            ready_down = fetch(server.url + "/healthz/ready", token)
            live_down = fetch(server.url + "/healthz/live", token)
            up_at = time.monotonic()
            cluster.start()
            wait_for(answers, lambda a: a.at > up_at and a.status == 200, "pas de reprise")
            back_at = time.monotonic()
            wait_for(answers, lambda a: a.at > back_at, "plus de réponse après la reprise")
        finally:
            stop.set()
            for client in clients:
                client.join(15)
        assert server.proc.poll() is None  # the same process, never restarted

    assert {a.status for a in answers} <= {200, 503}, {a.status for a in answers}
    during = [a for a in answers if down_at + 0.5 < a.at < up_at]
    assert during and all(a.status == 503 for a in during)
    for answer in during:
        assert answer.seconds < 1, answer
        assert answer.retry_after == "5"
        if answer.path.startswith("/api/"):
            detail = json.loads(answer.body)["detail"]
            assert detail == "La base de données ne répond pas. Réessayez dans quelques secondes."
        else:
            assert "Service momentanément indisponible" in answer.body.decode()
    assert {a.path for a in during} == set(PATHS)
    assert ready_down[0] == 503 and json.loads(ready_down[1])["database"] == "unreachable"
    assert live_down[0] == 200
    first_back = min(a.at for a in answers if a.at > up_at and a.status == 200)
    after = [a for a in answers if a.at > first_back]
    assert after and all(a.status == 200 for a in after)
    print(
        f"base arrêtée {up_at - down_at:.1f} s : {len(during)} réponses 503 "
        f"(au plus {max(a.seconds for a in during) * 1000:.0f} ms) ; "
        f"reprise {first_back - up_at:.1f} s après le redémarrage"
    )
