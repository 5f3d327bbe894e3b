"""What a hosting team watches: Prometheus metrics, a request id in every log line, and the
liveness and readiness probes.

Each `telesante serve` process is scraped on its own port (one systemd unit per process), so
the metrics live in that process's default registry; django-prometheus adds the per-view
request counts and latencies.
"""

import contextvars
import ipaddress
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus import middleware
from django_prometheus.utils import Time
from prometheus_client import REGISTRY, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from telesante.core.audit import client_ip
from telesante.core.logs import REQUEST_ID

log = logging.getLogger("telesante.request")

# What nginx's $request_id looks like (32 hex digits); anything else from a client is replaced.
_ID_SHAPE = re.compile(r"[A-Za-z0-9-]{8,64}")

WEBSOCKETS = Gauge("telesante_websocket_connections", "WebSocket connections open", ["route"])
MEASUREMENTS = Counter("telesante_measurements_ingested", "Télésurveillance measurements stored")


class RequestIdMiddleware:
    """Takes the id nginx gives (X-Request-ID) from a trusted proxy, or makes one; answers with
    it, and logs one line per request. Async under `serve`, sync under the test client."""

    sync_capable = async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        token, started = _begin(request)
        try:
            return _end(request, self.get_response(request), started)
        finally:
            REQUEST_ID.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        token, started = _begin(request)
        try:
            return _end(request, await self.get_response(request), started)
        finally:
            REQUEST_ID.reset(token)


def _begin(request: HttpRequest) -> tuple[contextvars.Token, float]:
    given = request.headers.get("X-Request-ID", "")
    from_proxy = request.META.get("REMOTE_ADDR") in settings.TELESANTE_TRUSTED_PROXIES
    request_id = given if from_proxy and _ID_SHAPE.fullmatch(given) else uuid.uuid4().hex
    return REQUEST_ID.set(request_id), time.perf_counter()


def _end(request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
    response["X-Request-ID"] = REQUEST_ID.get()
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "client": client_ip(request),
        },
    )
    return response


class PrometheusAfterMiddleware(middleware.PrometheusAfterMiddleware):
    """django-prometheus's, except that a Content-Length which is no number (the request is
    then refused further on, in French) is not counted instead of ending in a 500 here."""

    def process_request(self, request: HttpRequest) -> None:
        try:
            super().process_request(request)
        except ValueError:
            request.prometheus_after_middleware_event = Time()


class CountWebSockets:
    """ASGI wrapper counting the WebSocket connections open, by route (rooms, the callers of a
    télérégulation « appel », notifications, boards)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        parts = scope.get("path", "").strip("/").split("/")
        route = parts[1] if len(parts) > 1 and parts[0] == "ws" else "other"
        gauge = WEBSOCKETS.labels(route=route)
        gauge.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            gauge.dec()


class QueueDepth:
    """The worker's tasks waiting, read when Prometheus scrapes (one indexed count)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registering asks for the names: without this, it would count at import, opening the
        # database (and its pool) before the settings are final, tests' database included.
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("telesante_worker_queue_depth", "Tasks waiting for the worker")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        family = self._family()
        try:
            family.add_metric(
                [], DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()
            )
        except Exception:  # the database down must not break the scrape of the other metrics
            return
        yield family


REGISTRY.register(QueueDepth())


def _allowed(request: HttpRequest) -> bool:
    address = client_ip(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net) for net in settings.TELESANTE_METRICS_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for the monitoring network only (TELESANTE_METRICS_NETWORKS);
    anyone else gets a 404, as for a page that does not exist."""
    if not _allowed(request):
        return HttpResponse(status=404)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers: restart it if not. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True


def _redis() -> bool | None:
    if not settings.REDIS_URL:
        return None
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _broker() -> bool | None:
    if not settings.TELESANTE_MQTT_REQUIRED:
        return None
    url = urlsplit(settings.TELESANTE_MQTT_URL)
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 1883), timeout=1):
        return True


CHECKS = {"database": _database, "redis": _redis, "broker": _broker}


def readiness(request: HttpRequest) -> JsonResponse:
    """Whether this process can serve: its database, Redis and the MQTT broker when they are
    configured. 503 takes it out of the proxy's rotation until they are back."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            up = check()
        except Exception:  # any failure of a dependency means: not ready
            up = False
        results[name] = "not_configured" if up is None else ("ok" if up else "unreachable")
    ready = "unreachable" not in results.values()
    return JsonResponse(
        {"status": "ok" if ready else "error", **results}, status=200 if ready else 503
    )
