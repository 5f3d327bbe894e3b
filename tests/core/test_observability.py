"""Probes, metrics and request ids, against the real Redis and Mosquitto."""

import io
import json
import logging
import os

import pytest
from django.test import Client

from telesante.core.logs import RequestIdFilter
from telesante.core.observability import MEASUREMENTS
from tests.conftest import require_service
from tests.telesurveillance.conftest import NOW, TSV, tsv  # noqa: F401
from tests.telesurveillance.test_rules import send

REDIS_URL = os.environ.get("TELESANTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MQTT_URL = os.environ.get("TELESANTE_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
NOBODY_LISTENS = "redis://127.0.0.1:1/0"


def test_liveness_touches_nothing(db):
    response = Client().get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_each_dependency(db, settings):
    settings.REDIS_URL = ""
    settings.TELESANTE_MQTT_REQUIRED = False
    for path in ("/healthz", "/healthz/ready"):
        response = Client().get(path)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "redis": "not_configured",
            "broker": "not_configured",
        }


def test_readiness_with_redis_and_broker_up(db, settings):
    require_service("Redis", REDIS_URL, 6379)
    require_service("Mosquitto", MQTT_URL, 1883)
    settings.REDIS_URL = REDIS_URL
    settings.TELESANTE_MQTT_REQUIRED, settings.TELESANTE_MQTT_URL = True, MQTT_URL
    body = Client().get("/healthz/ready").json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok", "broker": "ok"}


@pytest.mark.parametrize("down", ["redis", "broker"])
def test_readiness_fails_when_a_dependency_is_down(db, settings, down):
    settings.REDIS_URL = NOBODY_LISTENS if down == "redis" else ""
    settings.TELESANTE_MQTT_REQUIRED = down == "broker"
    settings.TELESANTE_MQTT_URL = "mqtt://127.0.0.1:1"
    response = Client().get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()[down] == "unreachable"
    # Liveness stays up: the process itself is fine, restarting it would not help.
    assert Client().get("/healthz/live").status_code == 200


def test_metrics_for_the_monitoring_network_only(db, settings):
    settings.TELESANTE_METRICS_NETWORKS = ["127.0.0.1/32", "10.20.0.0/16"]
    settings.TELESANTE_TRUSTED_PROXIES = ["127.0.0.1"]
    Client().get("/healthz/live")  # one request counted by view
    inside = Client(REMOTE_ADDR="10.20.3.4").get("/metrics")
    assert inside.status_code == 200
    text = inside.content.decode()
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz-live"}'
        in text
    )
    assert "telesante_worker_queue_depth 0.0" in text
    assert "telesante_measurements_ingested_total" in text
    assert Client(REMOTE_ADDR="192.168.1.9").get("/metrics").status_code == 404
    # Through our proxy, the client's own address decides, not the proxy's.
    relayed = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert relayed.get("/metrics").status_code == 404


def test_ingest_counts_the_measurements_stored(tsv: TSV):  # noqa: F811
    before = MEASUREMENTS._value.get()
    send(tsv, ("m1", "weight", 80.0, NOW), ("m2", "weight", 81.0, NOW), ("m1", "weight", 80.0, NOW))
    assert MEASUREMENTS._value.get() == before + 2  # the duplicate is not counted


def test_request_id_from_our_proxy_is_kept_and_logged(db, settings):
    settings.TELESANTE_TRUSTED_PROXIES = ["127.0.0.1"]
    given = "0123456789abcdef0123456789abcdef"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    from pythonjsonlogger.json import JsonFormatter

    handler.setFormatter(JsonFormatter("%(levelname)s %(request_id)s %(message)s"))
    logger = logging.getLogger("telesante.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_REQUEST_ID=given).get("/healthz/live")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert response["X-Request-ID"] == given
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == given
    assert line["path"] == "/healthz/live"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize("given", ["spoofed-by-a-client-0001", "bad id\nwith a newline"])
def test_request_id_from_anyone_else_is_replaced(db, settings, given):
    settings.TELESANTE_TRUSTED_PROXIES = ["127.0.0.1"]
    remote = "198.51.100.2" if "spoofed" in given else "127.0.0.1"
    response = Client(REMOTE_ADDR=remote, HTTP_X_REQUEST_ID=given).get("/healthz/live")
    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


def answer_to(rf, path: str, error: Exception):
    """What the platform's 500 handler answers for `error`, raised while serving `path`."""
    from telesante.core.views import server_error

    try:
        raise error
    except Exception:
        return server_error(rf.get(path))


def test_the_database_out_of_reach_answers_503_in_french(rf, db):
    from django.db import OperationalError

    page = answer_to(rf, "/patients/", OperationalError("connection refused"))
    assert page.status_code == 503 and page["Retry-After"] == "5"
    html = page.content.decode()
    assert "Service momentanément indisponible" in html
    assert "La base de données ne répond pas." in html
    api = answer_to(rf, "/api/v1/me", OperationalError("connection refused"))
    assert api.status_code == 503
    assert json.loads(api.content) == {
        "detail": "La base de données ne répond pas. Réessayez dans quelques secondes."
    }
    crash = answer_to(rf, "/patients/", ZeroDivisionError())
    assert crash.status_code == 500 and "Une erreur est survenue" in crash.content.decode()
