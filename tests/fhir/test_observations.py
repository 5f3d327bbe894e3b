"""Observations: a device gateway's transaction or batch Bundle through the ingest service of
the batch API (same checks, rules and alerts), and the reads through the wall."""

import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from telesante.core.models import AuditEntry
from telesante.telesurveillance.models import Alert, DeviceToken, Measurement
from tests.fhir.conftest import FHIR_JSON, check, fhir_client, french_outcome, get
from tests.telesurveillance.conftest import NOW

LOINC = "http://loinc.org"


def observation(mid: str, loinc: str, value: float, unit: str, at=NOW, serial="OX-0001") -> dict:
    return {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:telesante:message-dispositif", "value": mid}],
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"identifier": {"system": "urn:telesante:dispositif", "value": serial}},
        "effectiveDateTime": at.isoformat(),
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": unit},
        "device": {"identifier": {"system": "urn:telesante:dispositif", "value": serial}},
    }


def spo2(mid: str, value: float, at=NOW) -> dict:
    return observation(mid, "59408-5", value, "%", at)


def bundle(*observations: dict, kind: str = "transaction") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": o, "request": {"method": "POST", "url": "Observation"}}
            for o in observations
        ],
    }


@pytest.fixture
def gateway(tsv) -> Client:
    """The exploitant's gateway: every device of its patients."""
    _token, raw = DeviceToken.issue(exploitant=tsv.enrolment.exploitant)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def send(client: Client, body: dict, status: int = 200) -> dict:
    response = client.post("/fhir/r4/", json.dumps(body), content_type=FHIR_JSON)
    assert response.status_code == status, response.content[:800]
    assert response["Content-Type"].startswith(FHIR_JSON)
    return check(response.json())


def test_transaction_stores_and_raises_the_same_alert_as_the_batch_api(tsv, gateway):
    answer = send(
        gateway,
        bundle(
            spo2("a", 95), spo2("b", 85), observation("c", "29463-7", 81.5, "kg", serial="SC-0001")
        ),
    )
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 3
    assert Measurement.objects.count() == 3
    alert = Alert.objects.get()
    assert (alert.rule, alert.value) == ("spo2:below", 85)
    assert alert.message == "Saturation en oxygène (SpO2) 85 %, inférieure au seuil (90)"
    # resent: counted once, answered 200
    again = send(gateway, bundle(spo2("a", 95)))
    assert again["entry"][0]["response"]["status"] == "200 OK"
    assert Measurement.objects.count() == 3


def test_a_bad_observation_refuses_the_whole_transaction(tsv, gateway):
    body = send(gateway, bundle(spo2("a", 85), spo2("b", 12)), 400)
    text = french_outcome(body, "invalid")
    assert "limites plausibles" in text
    assert body["issue"][1]["expression"] == ["Bundle.entry[1].resource.valueQuantity.value"]
    assert not Measurement.objects.exists() and not Alert.objects.exists()


def test_a_batch_keeps_the_good_entries_and_names_the_bad(tsv, gateway):
    glucose = observation("g", "15074-8", 5, "mg/dL")
    not_obs = {
        "resource": {"resourceType": "Patient"},
        "request": {"method": "POST", "url": "Patient"},
    }
    body = bundle(spo2("a", 85), glucose, spo2("a", 85), kind="batch")
    body["entry"].append(not_obs)
    answer = send(gateway, body)
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "400 Bad Request", "200 OK", "400 Bad Request"]
    issue = answer["entry"][1]["response"]["outcome"]["issue"][0]
    assert issue["expression"] == ["Bundle.entry[1].resource.valueQuantity.value"]
    assert "limites plausibles" in issue["diagnostics"]  # 5 mg/dL is 0.28 mmol/L
    assert Measurement.objects.count() == 1 and Alert.objects.count() == 1


def test_gateway_needs_its_device_token(tsv, world):
    # a professional's token does not send measurements, nor does another exploitant's
    french_outcome(send(fhir_client(world.nurse_a), bundle(spo2("a", 95)), 401), "login")
    _token, raw = DeviceToken.issue(exploitant="Autre SAS")
    other = Client(headers={"Authorization": f"Bearer {raw}"})
    answer = send(other, bundle(spo2("a", 95)), 400)
    assert "Dispositif inconnu" in french_outcome(answer, "invalid")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"resourceType": "Patient"}, "Bundle attendue"),
        ({"resourceType": "Bundle", "type": "searchset"}, "transaction ou batch"),
        (
            {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {}}]},
            "Observations",
        ),
    ],
)
def test_malformed_bundles_are_400(tsv, gateway, body, words):
    assert words in french_outcome(send(gateway, body, 400), "invalid")


def test_observation_search_by_code_and_date_through_the_wall(tsv, gateway):
    later = NOW + datetime.timedelta(days=1)
    send(
        gateway,
        bundle(
            spo2("a", 95),
            spo2("b", 96, later),
            observation("c", "29463-7", 80, "kg", serial="SC-0001"),
        ),
    )
    doctor = fhir_client(tsv.w.doctor_a)  # the prescriber
    pid = tsv.w.patient_a.pk

    def values(query: str) -> list:
        found = get(doctor, f"/fhir/r4/Observation?patient=Patient/{pid}&{query}")
        return [e["resource"]["valueQuantity"]["value"] for e in found["entry"]]

    assert values("code=http://loinc.org|59408-5") == [96, 95]  # newest first
    assert values("code=59408-5") == [96, 95]
    assert values("code=urn:telesante:mesure|weight") == [80]
    assert values("code=other|weight") == []
    assert values(f"date={later.date().isoformat()}") == [96]
    assert sorted(values(f"date=lt{later.date().isoformat()}")) == [80, 95]
    first = Measurement.objects.get(message_id="c")
    body = get(doctor, f"/fhir/r4/Observation/{first.pk}")
    assert body["valueQuantity"]["code"] == "kg"
    assert body["code"]["coding"][0] == {"system": LOINC, "code": "29463-7", "display": "Poids"}
    # FR Core's body-weight profile; SpO2 (59408-5) keeps HL7's vital-signs profile
    assert body["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-observation-body-weight"
    ]
    saturation = Measurement.objects.get(message_id="a")
    assert get(doctor, f"/fhir/r4/Observation/{saturation.pk}")["meta"]["profile"] == [
        "http://hl7.org/fhir/StructureDefinition/vitalsigns"
    ]
    # outside the wall: 404 OperationOutcome, audited as refused
    other = fhir_client(tsv.other_operator)
    french_outcome(get(other, f"/fhir/r4/Observation/{first.pk}", 404), "not-found")
    get(other, f"/fhir/r4/Observation?patient={pid}", 404)
    assert AuditEntry.objects.filter(action="denied", actor_id=tsv.other_operator.pk).count() == 2
    get(doctor, "/fhir/r4/Observation", 400)  # patient required
    get(doctor, "/fhir/r4/Observation/999999", 404)


def test_observation_search_in_constant_queries(tsv, gateway):
    doctor = fhir_client(tsv.w.doctor_a)
    url = f"/fhir/r4/Observation?patient={tsv.w.patient_a.pk}&_count=100"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(doctor, url)
        return len(ctx.captured_queries)

    send(gateway, bundle(spo2("a", 95), spo2("b", 96)))
    queries()
    few = queries()
    send(
        gateway,
        bundle(*(spo2(f"m{n}", 95, NOW - datetime.timedelta(minutes=n)) for n in range(30))),
    )
    assert queries() == few


@pytest.mark.parametrize(
    "loinc, value, unit, profile",
    [
        ("29463-7", 72.5, "kg", "fr-core-observation-body-weight"),
        ("8867-4", 64, "/min", "fr-core-observation-heartrate"),
        ("8310-5", 37.2, "Cel", "fr-core-observation-body-temperature"),
        ("9279-1", 16, "/min", "fr-core-observation-resp-rate"),
    ],
)
def test_a_vital_sign_reads_with_its_fr_core_profile(tsv, gateway, loinc, value, unit, profile):
    send(gateway, bundle(observation("v", loinc, value, unit)))
    measurement = Measurement.objects.get(message_id="v")
    # get() checks the profile's fixed LOINC code and UCUM units (tests/fhir/conftest.py)
    body = get(fhir_client(tsv.w.doctor_a), f"/fhir/r4/Observation/{measurement.pk}")
    assert body["meta"]["profile"] == [f"https://hl7.fr/ig/fhir/core/StructureDefinition/{profile}"]
    assert body["category"][0]["coding"][0]["code"] == "vital-signs"
