"""Bad input to the télésurveillance API answers a French 4xx, never a 500: dates outside their
window, times with a zone, ids beyond 64 bits, NUL bytes. Valid items of a batch are kept."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from telesante.telesurveillance.models import Measurement
from tests.conftest import api_client
from tests.telesurveillance.conftest import START, TSV, item, post
from tests.telesurveillance.test_api_enrolments import BASE, payload

BIG = 2**63  # one more than the largest bigint


def test_a_reading_in_year_one_is_refused_alone(tsv: TSV):
    response = post(tsv.scale_token, [item(1, at="0001-01-03T00:00:00Z"), item(2)])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {
            "index": 0,
            "errors": {
                "at": ["Date antérieure au début du suivi : horloge du dispositif à vérifier."]
            },
        }
    ]
    assert list(Measurement.objects.values_list("message_id", flat=True)) == ["2"]


def test_a_reading_before_the_monitoring_started_is_refused(tsv: TSV):
    before = f"{START.replace(day=START.day - 2).isoformat()}T12:00:00+01:00"
    eve = f"{START.replace(day=START.day - 1).isoformat()}T12:00:00+01:00"
    body = post(tsv.scale_token, [item(1, at=before), item(2, at=eve)]).json()
    assert [r["index"] for r in body["rejected"]] == [0]
    assert body["accepted"] == 1  # the device set up the day before


def test_nul_bytes_in_a_batch_are_refused_per_item(tsv: TSV):
    response = post(tsv.scale_token, [item("a\x00b"), item(2, device="SC-\x000001"), item(3)])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1
    assert {r["index"]: sorted(r["errors"]) for r in body["rejected"]} == {
        0: ["id"],
        1: ["device"],
    }


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("post", "/end", {"state": "ended"}),
        ("get", "/thresholds", None),
        ("put", "/thresholds", {"thresholds": []}),
        ("post", "/thresholds/reset", None),
    ],
)
def test_ids_beyond_64_bits_are_refused(tsv: TSV, method: str, suffix: str, body):
    client = api_client(tsv.operator)
    response = getattr(client, method)(
        f"{BASE}/{BIG}{suffix}", body, content_type="application/json"
    )
    assert response.status_code == 404, response.content  # names no object
    assert response.json() == {"detail": "Ressource introuvable."}


def test_an_enrolment_with_a_big_patient_id_is_refused(tsv: TSV):
    response = api_client(tsv.operator).post(
        BASE, payload(tsv, patient_id=BIG), content_type="application/json"
    )
    assert response.status_code == 404, response.content


def test_reading_hours_with_a_zone_are_refused(tsv: TSV):
    response = api_client(tsv.operator).post(
        BASE, payload(tsv, reading_start="07:29:12Z"), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {
        "reading_start": ["Heure locale attendue, sans fuseau (format HH:MM)."]
    }


def test_enrolment_days_outside_the_platforms_years_are_refused(tsv: TSV):
    response = api_client(tsv.operator).post(
        BASE,
        payload(tsv, starts_on="9999-01-01", ends_on="9999-06-01"),
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    message = ["Date hors de la période plausible (2000 à 2099)."]
    assert response.json()["errors"] == {"starts_on": message, "ends_on": message}


def test_measurements_since_year_one_are_refused(tsv: TSV):
    client = api_client(tsv.operator)
    url = f"/api/v1/telesurveillance/patients/{tsv.w.patient_a.pk}/measurements"
    response = client.get(url, {"since": "0001-01-01T00:00:00+14:00"})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {
        "since": ["Date hors de la période plausible (2000 à 2099)."]
    }
    assert client.get(url, {"since": "2026-01-01T00:00:00+01:00"}).status_code == 200


@pytest.mark.django_db(transaction=True)  # the ASGI handler reads from its own thread
def test_a_batch_without_forwarded_proto_in_production_is_answered(tsv: TSV, settings):
    """Production settings behind a TLS proxy that does not redirect: the security middleware
    asks the request whether it is secure once the rows are stored."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    response = async_to_sync(AsyncClient().post)(  # an ASGI request, as behind uvicorn
        "/api/v1/telesurveillance/measurements",
        json.dumps({"measurements": [item(1)]}),
        content_type="application/json",
        authorization=f"Bearer {tsv.scale_token}",  # ASGI header names as they are
    )
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS
