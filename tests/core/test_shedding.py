"""Load shedding in front of the application: requests beyond the limit answer 503 at once, the
others are served, and calls, probes and static files are never refused."""

import asyncio
import json

from telesante.core.shedding import SHED, ShedLoad


class Held:
    """An application whose answers wait until the test releases them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope, receive, send) -> None:
        self.started += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def ask(app, path: str, kind: str = "http") -> tuple[int, dict, bytes]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": kind, "path": path}, None, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def test_beyond_the_limit_answers_503_in_french_at_once():
    async def scenario():
        held = Held()
        app = ShedLoad(held, limit=2)
        served = [asyncio.create_task(ask(app, "/patients/")) for _ in range(2)]
        while held.started < 2:
            await asyncio.sleep(0)
        shed_before = SHED._value.get()
        status, headers, body = await asyncio.wait_for(ask(app, "/api/v1/me"), 1)
        page = await asyncio.wait_for(ask(app, "/patients/"), 1)
        # Probes, metrics and static files pass whatever the load.
        probe = asyncio.create_task(ask(app, "/healthz/ready"))
        static = asyncio.create_task(ask(app, "/static/css/app.css"))
        while held.started < 4:
            await asyncio.sleep(0)
        held.release.set()
        results = await asyncio.gather(*served, probe, static)
        after = await ask(app, "/patients/")  # the load gone, served again
        return status, headers, body, page, results, after, SHED._value.get() - shed_before

    status, headers, body, page, results, after, shed = asyncio.run(scenario())
    assert status == 503
    assert headers[b"retry-after"] == b"2"
    assert json.loads(body) == {
        "detail": "Plateforme très sollicitée : réessayez dans quelques secondes."
    }
    assert page[0] == 503 and page[2].decode().startswith("Plateforme très sollicitée")
    assert [r[0] for r in results] == [200, 200, 200, 200]
    assert after[0] == 200
    assert shed == 2


def test_no_limit_when_set_to_zero():
    async def scenario():
        held = Held()
        held.release.set()
        app = ShedLoad(held, limit=0)
        return await asyncio.gather(*(ask(app, "/patients/") for _ in range(50)))

    assert {r[0] for r in asyncio.run(scenario())} == {200}
