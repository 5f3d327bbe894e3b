"""Load shedding: beyond a number of HTTP requests in flight in one process, answer 503 at once
(in French, with Retry-After) rather than queue requests until every one of them is late.
Each request runs in a thread of its own, but the threads of a process run Python one at a time
(the interpreter lock): requests in flight share one core, so a long queue only adds waiting.
WebSockets (calls, notifications), probes, metrics and static files are never refused."""

import json
from collections.abc import Callable

from django.conf import settings
from prometheus_client import Counter, Gauge

IN_FLIGHT = Gauge("telesante_http_in_flight", "HTTP requests being served by this process")
SHED = Counter("telesante_http_shed", "HTTP requests refused with 503 because of the load")
NEVER_SHED = ("/healthz", "/metrics", "/static/")
MESSAGE = "Plateforme très sollicitée : réessayez dans quelques secondes."


class ShedLoad:
    def __init__(self, app: Callable, limit: int | None = None) -> None:
        self.app = app
        self.limit = settings.TELESANTE_MAX_IN_FLIGHT if limit is None else limit
        self.in_flight = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or self.limit <= 0 or path.startswith(NEVER_SHED):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            SHED.inc()
            await refuse(path, send)
            return
        self.in_flight += 1
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            IN_FLIGHT.dec()


async def refuse(path: str, send: Callable) -> None:
    if path.startswith("/api/"):
        body, kind = json.dumps({"detail": MESSAGE}, ensure_ascii=False), b"application/json"
    else:
        body, kind = MESSAGE, b"text/plain"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", kind + b"; charset=utf-8"),
                (b"retry-after", b"2"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
