"""What clients send, checked as they send it: search parameters, posted resources, Bundles;
each refusal a French OperationOutcome naming what is wrong."""

import base64
import datetime
import json

import pytest
from django.test import Client

from telesante.fhir import search
from telesante.fhir.gateway import item
from telesante.teleexpertise.models import TeleExpertise
from tests.conftest import make_structure
from tests.fhir.conftest import FHIR_JSON, fhir_client, french_outcome, get, post
from tests.fhir.test_acts import wound_request
from tests.teleexpertise.conftest import jpeg


@pytest.mark.parametrize(
    ("raw", "inside", "outside"),
    [
        ("2026-02", "2026-02-28T23:00:00+01:00", "2026-03-01T00:00:00+01:00"),
        ("2026-12", "2026-12-31T12:00:00+01:00", "2027-01-01T00:00:00+01:00"),
        ("2026", "2026-06-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00"),
        ("eq2026-02-10T10:00:00+01:00", "2026-02-10T10:00:00+01:00", "2026-02-10T10:00:01+01:00"),
        ("gt2026-02-10", "2026-02-11T00:00:00+01:00", "2026-02-10T23:59:00+01:00"),
        ("le2026-02-10", "2026-02-10T23:59:00+01:00", "2026-02-11T00:00:00+01:00"),
    ],
)
def test_date_prefixes_and_precisions(raw, inside, outside):
    q = search.date_q("date", raw, "at")
    bounds = dict(q.children)

    def matches(moment: str) -> bool:
        at = datetime.datetime.fromisoformat(moment)
        return all(at >= v if k.endswith("__gte") else at < v for k, v in bounds.items())

    assert matches(inside) and not matches(outside)


@pytest.mark.parametrize("raw", ["2026-02-10T10:00", "lundi", "ge", "2026-13"])
def test_bad_dates_are_named(raw):
    with pytest.raises(search.BadSearch, match="date attendue"):
        search.date_q("date", raw, "at")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Patient/12", 12), ("12", 12), ("http://h/fhir/r4/Patient/12", 12)],
)
def test_references(raw, expected):
    assert search.reference_id("patient", raw, "Patient") == expected


@pytest.mark.parametrize("raw", ["Group/12", "Patient/x", "Patient/" + "9" * 19])
def test_bad_references(raw):
    with pytest.raises(search.BadSearch):
        search.reference_id("patient", raw, "Patient")


def test_gateway_item_reads_what_an_observation_carries():
    assert item(
        {
            "identifier": "not a list",
            "device": "x",
            "code": {"coding": ["x", {"system": "urn:telesante:mesure", "code": "steps"}]},
            "valueQuantity": {"value": 3, "unit": "{steps}"},
            "effectiveInstant": "2026-02-10T10:00:00+01:00",
        }
    ) == {
        "id": None,
        "device": None,
        "type": "steps",
        "value": 3,
        "unit": "{steps}",
        "at": "2026-02-10T10:00:00+01:00",
    }
    assert item({"code": "x", "valueQuantity": 5})["type"] is None


def send(client: Client, body, status: int) -> dict:
    response = client.post("/fhir/r4/", body, content_type=FHIR_JSON)
    assert response.status_code == status, response.content[:500]
    return response.json()


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("x", "objet JSON"),
        ({"resource": {"resourceType": "Observation"}}, "POST Observation"),
        (
            {"resource": {"resourceType": "Observation"}, "request": {"method": "PUT"}},
            "POST Observation",
        ),
        (
            {
                "resource": {"resourceType": "Observation"},
                "request": {"method": "POST", "url": "Patient"},
            },
            "POST Observation",
        ),
    ],
)
def test_malformed_entries(tsv, entry, words):
    from telesante.telesurveillance.models import DeviceToken

    _token, raw = DeviceToken.issue(exploitant=tsv.enrolment.exploitant)
    gateway = Client(headers={"Authorization": f"Bearer {raw}"})
    body = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
    outcome = send(gateway, body, 400)
    assert words in french_outcome(outcome, "invalid")
    assert outcome["issue"][1]["expression"] == ["Bundle.entry[0]"]
    batch = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": [entry]})
    answer = send(gateway, batch, 200)
    assert answer["entry"][0]["response"]["status"] == "400 Bad Request"
    too_many = {"resourceType": "Bundle", "type": "batch", "entry": "x"}
    assert "Liste" in french_outcome(send(gateway, json.dumps(too_many), 400), "invalid")
    assert "illisible" in french_outcome(send(gateway, "{", 400), "invalid")
    assert "Bundle attendue" in french_outcome(send(gateway, "[]", 400), "invalid")


def test_a_body_over_the_limit_is_413(tsv, settings):
    from telesante.telesurveillance.models import DeviceToken

    settings.TELESANTE_MEASUREMENTS_MAX_BYTES = 100
    _token, raw = DeviceToken.issue(exploitant=tsv.enrolment.exploitant)
    gateway = Client(headers={"Authorization": f"Bearer {raw}"})
    body = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": [{}] * 50})
    french_outcome(send(gateway, body, 413), "too-long")


def test_expertise_answers_as_attachments_codings_and_lists(te_world):
    w = te_world.w
    request = wound_request(w.patient_a.pk)
    form = request["contained"][0]["item"]
    form[4] = {"linkId": "stage", "answer": [{"valueCoding": {"code": "Stade 3"}}]}
    photo = base64.b64encode(jpeg().read()).decode()
    form.append(
        {
            "linkId": "photos",
            "answer": [
                {"valueAttachment": {"contentType": "image/jpeg", "data": photo, "title": "a.jpg"}},
                {"valueAttachment": {"contentType": "image/jpeg", "data": photo}},
            ],
        }
    )
    request["requester"] = {"reference": f"Organization/{w.ehpad_a.pk}"}
    request["performer"] = [{"reference": f"Practitioner/{te_world.wound_expert.pk}"}]
    request["priority"] = "routine"
    body = post(fhir_client(w.nurse_a), "/fhir/r4/ServiceRequest", request)
    te = TeleExpertise.objects.get(act_id=int(body["id"]))
    assert te.form_data["stage"] == "Stade 3" and te.urgency == "normal"
    assert te.named_expert == te_world.wound_expert
    assert sorted(te.act.attachments.values_list("original_name", flat=True)) == [
        "a.jpg",
        "photos.jpg",  # named after the type sniffed from the content
    ]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda r: r["contained"][0]["item"].append(
                {"linkId": "photos", "answer": [{"valueReference": {"reference": "#nothing"}}]}
            ),
            "photos",
            "Binary contenu",
        ),
        (
            lambda r: r["contained"][0]["item"].append(
                {"linkId": "photos", "answer": [{"valueAttachment": {"data": "!!"}}]}
            ),
            "photos",
            "base64",
        ),
        (lambda r: r.update(contained="x"), "contained", "Liste"),
        (
            lambda r: r.update(supportingInfo=[{"reference": "#form"}]),
            "supportingInfo",
            "Consentement",
        ),
    ],
)
def test_expertise_input_refusals(te_world, change, field, words):
    request = wound_request(te_world.w.patient_a.pk)
    change(request)
    body = post(fhir_client(te_world.w.nurse_a), "/fhir/r4/ServiceRequest", request, 400)
    assert words in french_outcome(body, "invalid")
    assert body["issue"][1]["expression"] == [field]


def test_a_member_of_two_structures_names_the_requesting_one(te_world):
    from telesante.accounts.models import Membership

    w = te_world.w
    Membership.objects.create(user=w.nurse_a, structure=make_structure("MSP", finess=None))
    request = wound_request(w.patient_a.pk, jpeg().read())
    body = post(fhir_client(w.nurse_a), "/fhir/r4/ServiceRequest", request, 400)
    assert "structure demandeuse" in french_outcome(body, "invalid")


def test_appointment_input_refusals(tc_world):
    nurse = fhir_client(tc_world.w.nurse_a)
    no_one = {"resourceType": "Appointment", "participant": "x"}
    assert "participant" in french_outcome(
        post(nurse, "/fhir/r4/Appointment", no_one, 400), "invalid"
    )
    wall_clock = {
        "resourceType": "Appointment",
        "start": "2026-03-02T14:30",
        "participant": [
            {"actor": {"reference": f"Patient/{tc_world.w.patient_a.pk}"}},
            {"actor": {"reference": f"Practitioner/{tc_world.cardiologist.pk}"}},
        ],
        "contained": [{"resourceType": "Consent", "id": "c", "status": "active"}],
        "supportingInformation": [{"reference": "#c"}],
    }
    body = post(nurse, "/fhir/r4/Appointment", wall_clock, 400)
    assert "fuseau" in french_outcome(body, "invalid")


def test_search_parameters_of_the_directory(world, fhir):
    assert get(fhir, "/fhir/r4/Practitioner?identifier=other|123")["total"] == 0
    assert (
        get(fhir, "/fhir/r4/Organization?identifier=urn:oid:1.2.250.1.71.4.2.2|3123")["total"] == 0
    )
    get(fhir, "/fhir/r4/PractitionerRole?practitioner=Organization/1", 400)


def test_a_nul_byte_is_refused_before_the_services(world, fhir):
    body = json.dumps({"resourceType": "ServiceRequest", "reasonCode": [{"text": "a\x00b"}]})
    response = fhir.post("/fhir/r4/ServiceRequest", body, content_type=FHIR_JSON)
    assert response.status_code == 400
    assert french_outcome(response.json(), "invalid") == "Caractère nul interdit."
    response = fhir.get("/fhir/r4/Patient?name=a%00b")
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["name"]
