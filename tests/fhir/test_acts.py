"""Télé-expertise (ServiceRequest + Task), téléconsultation (Appointment) and reports
(DocumentReference + Binary) through the FHIR facade: created by the same services, read
through the wall, audited."""

import base64
import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.acts.models import Act
from telesante.core.models import AuditEntry
from telesante.teleconsultation import booking
from telesante.teleexpertise import services
from telesante.teleexpertise.models import TeleExpertise
from tests.fhir.conftest import fhir_client, french_outcome, get, post
from tests.rooms.conftest import in_call
from tests.teleexpertise.conftest import jpeg


def wound_request(patient_id: int, photo: bytes | None = None, consent: str = "active") -> dict:
    answers = [
        ("wound_type", {"valueString": "Escarre"}),
        ("location", {"valueString": "Sacrum"}),
        ("length_cm", {"valueDecimal": 4}),
        ("width_cm", {"valueString": "3,5"}),
        ("stage", {"valueString": "Stade 3"}),
    ]
    contained = [
        {
            "resourceType": "QuestionnaireResponse",
            "id": "form",
            "status": "completed",
            "item": [{"linkId": name, "answer": [answer]} for name, answer in answers],
        },
        {
            "resourceType": "Consent",
            "id": "consent",
            "status": consent,
            "scope": {"text": "treatment"},
            "category": [{"text": "Télé-expertise"}],
            "verification": [{"verified": True}],
        },
    ]
    if photo is not None:
        contained.append(
            {
                "resourceType": "Binary",
                "id": "photo1",
                "contentType": "image/jpeg",
                "data": base64.b64encode(photo).decode(),
            }
        )
        contained[0]["item"].append(
            {"linkId": "photos", "answer": [{"valueReference": {"reference": "#photo1"}}]}
        )
    return {
        "resourceType": "ServiceRequest",
        "contained": contained,
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "code": {"coding": [{"system": "urn:telesante:filiere", "code": "plaies_cicatrisation"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "reasonCode": [{"text": "Escarre sacrée qui s'aggrave ?"}],
        "supportingInfo": [{"reference": "#form"}, {"reference": "#consent"}],
    }


def test_service_request_creates_the_teleexpertise_with_its_photo(te_world):
    w = te_world.w
    nurse = fhir_client(w.nurse_a)
    body = post(nurse, "/fhir/r4/ServiceRequest", wound_request(w.patient_a.pk, jpeg().read()))
    te = TeleExpertise.objects.get(act_id=int(body["id"]))
    assert (te.urgency, te.question, te.form_data["width_cm"]) == (
        "urgent",
        body["reasonCode"][0]["text"],
        3.5,
    )
    assert te.act.attachments.get().content_type == "image/jpeg"
    assert body["code"]["coding"][0]["code"] == "plaies_cicatrisation"
    assert AuditEntry.objects.filter(action="create", object_id=str(te.act_id)).exists()
    task = get(nurse, f"/fhir/r4/Task/{te.act_id}")
    assert (task["status"], task["focus"]["reference"]) == (
        "requested",
        f"ServiceRequest/{te.act_id}",
    )
    services.claim(None, te_world.wound_expert, te)
    assert get(nurse, f"/fhir/r4/Task/{te.act_id}")["status"] == "in-progress"
    assert get(fhir_client(te_world.wound_expert), f"/fhir/r4/ServiceRequest/{te.act_id}")[
        "id"
    ] == str(te.act_id)


def test_service_request_refusals_name_the_fields(te_world):
    w = te_world.w
    nurse = fhir_client(w.nurse_a)
    no_photo = post(nurse, "/fhir/r4/ServiceRequest", wound_request(w.patient_a.pk), 400)
    assert "au moins 1 fichier" in french_outcome(no_photo, "invalid")
    assert {"photos"} <= {e for i in no_photo["issue"] for e in i.get("expression", [])}
    refused = post(
        nurse,
        "/fhir/r4/ServiceRequest",
        wound_request(w.patient_a.pk, jpeg().read(), "rejected"),
        400,
    )
    assert "refuse" in french_outcome(refused, "invalid")
    foreign = post(
        fhir_client(w.nurse_b),
        "/fhir/r4/ServiceRequest",
        wound_request(w.patient_a.pk, jpeg().read()),
        404,
    )
    french_outcome(foreign, "not-found")
    bad = wound_request(w.patient_a.pk)
    bad["subject"] = {"reference": "Group/1"}
    assert "Patient/<id>" in french_outcome(
        post(nurse, "/fhir/r4/ServiceRequest", bad, 400), "invalid"
    )
    assert not TeleExpertise.objects.exists()
    wrong = post(nurse, "/fhir/r4/ServiceRequest", {"resourceType": "Patient"}, 400)
    assert "ServiceRequest attendue" in french_outcome(wrong, "invalid")


def answered(te_world) -> TeleExpertise:
    from tests.teleexpertise.conftest import wound_request as new_request

    te = services.create(None, te_world.w.nurse_a, new_request(te_world))
    services.claim(None, te_world.wound_expert, te)
    return services.answer(
        None, te_world.wound_expert, te, "Détersion, pansement hydrocellulaire", "", "none"
    )


def test_report_as_document_reference_and_binary(te_world):
    te = answered(te_world)
    nurse = fhir_client(te_world.w.nurse_a)
    pid = te_world.w.patient_a.pk
    found = get(nurse, f"/fhir/r4/DocumentReference?patient=Patient/{pid}")
    assert [e["resource"]["id"] for e in found["entry"]] == [str(te.act_id)]
    doc = found["entry"][0]["resource"]
    assert doc["content"][0]["attachment"]["url"] == f"Binary/{te.act_id}"
    assert doc["content"][0]["format"]["code"] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert doc["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "11488-4", "display": "Compte rendu de consultation"}
    ]
    today = timezone.localdate().isoformat()
    assert get(nurse, f"/fhir/r4/DocumentReference?date={today}")["total"] == 1
    assert get(nurse, "/fhir/r4/DocumentReference?date=lt2001")["total"] == 0
    get(nurse, f"/fhir/r4/DocumentReference/{te.act_id}")
    pdf = get(nurse, f"/fhir/r4/Binary/{te.act_id}")
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="export", object_id=str(te.act_id)).exists()
    task = get(nurse, f"/fhir/r4/Task/{te.act_id}")
    assert task["status"] == "completed"
    assert task["output"][0]["valueString"].startswith("Détersion")
    other = fhir_client(te_world.w.nurse_b)
    for url in (f"DocumentReference/{te.act_id}", f"Binary/{te.act_id}", f"Task/{te.act_id}"):
        french_outcome(get(other, f"/fhir/r4/{url}", 404), "not-found")
    assert get(other, "/fhir/r4/DocumentReference")["total"] == 0


def test_service_request_and_task_searches(te_world):
    te = answered(te_world)
    nurse = fhir_client(te_world.w.nurse_a)
    pid = te_world.w.patient_a.pk
    for kind in ("ServiceRequest", "Task"):
        found = get(nurse, f"/fhir/r4/{kind}?patient={pid}")
        assert [e["resource"]["id"] for e in found["entry"]] == [str(te.act_id)]
        assert get(nurse, f"/fhir/r4/{kind}?date=ge2001-01-01")["total"] == 1
        assert get(nurse, f"/fhir/r4/{kind}?date=lt2001")["total"] == 0
        assert get(fhir_client(te_world.w.nurse_b), f"/fhir/r4/{kind}")["total"] == 0
    assert get(nurse, "/fhir/r4/ServiceRequest?code=plaies_cicatrisation")["total"] == 1
    assert get(nurse, "/fhir/r4/ServiceRequest?code=dermatologie")["total"] == 0
    # every search that listed it: patient and date for both kinds, and the code
    listed = AuditEntry.objects.filter(action="search", object_id=str(te.act_id))
    assert listed.count() == 5
    get(nurse, "/fhir/r4/Task/999999", 404)
    get(nurse, f"/fhir/r4/Appointment/{te.act_id}", 404)  # an act of another kind


def test_act_searches_in_constant_queries(te_world):
    from tests.teleexpertise.conftest import wound_request as new_request

    nurse = fhir_client(te_world.w.nurse_a)
    services.create(None, te_world.w.nurse_a, new_request(te_world))
    answered(te_world)  # one of each kind of row before counting

    def queries() -> list[int]:
        counts = []
        for kind in ("ServiceRequest", "Task", "DocumentReference"):
            with CaptureQueriesContext(connection) as ctx:
                get(nurse, f"/fhir/r4/{kind}?_count=50")
            counts.append(len(ctx.captured_queries))
        return counts

    queries()
    few = queries()
    for _n in range(4):
        answered(te_world)
    assert queries() == few


def test_appointment_booked_on_a_published_slot(tc_world):
    w, cardio = tc_world.w, tc_world.cardiologist
    ch = cardio.memberships.get().structure
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).weekday()
    booking.add_availability(None, cardio, ch.pk, tomorrow, datetime.time(9), datetime.time(12))
    start = booking.free_slots(cardio)[0].start
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "contained": [
            {
                "resourceType": "Consent",
                "id": "c",
                "status": "active",
                "scope": {"text": "treatment"},
                "category": [{"text": "Téléconsultation"}],
                "verification": [{"verified": True}],
            }
        ],
        "serviceType": [{"coding": [{"system": "urn:telesante:acte", "code": "teleconsultation"}]}],
        "description": "Essoufflement à l'effort",
        "start": start.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{w.patient_a.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{cardio.pk}"}, "status": "accepted"},
        ],
        "supportingInformation": [{"reference": "#c"}],
    }
    nurse = fhir_client(w.nurse_a)
    body = post(nurse, "/fhir/r4/Appointment", appointment)
    act = Act.objects.get(pk=int(body["id"]))
    assert act.teleconsultation.scheduled_at == start
    assert body["status"] == "booked" and body["description"] == "Essoufflement à l'effort"
    assert body["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-appointment"
    ]
    taken = post(nurse, "/fhir/r4/Appointment", appointment, 400)
    assert "créneau" in french_outcome(taken, "invalid")
    assert taken["issue"][1]["expression"] == ["scheduled_at"]
    found = get(
        nurse,
        f"/fhir/r4/Appointment?patient=Patient/{w.patient_a.pk}&date={start.date().isoformat()}",
    )
    assert str(act.pk) in [e["resource"]["id"] for e in found["entry"]]
    assert get(fhir_client(cardio), f"/fhir/r4/Appointment/{act.pk}")["start"] == start.isoformat()
    french_outcome(get(fhir_client(w.nurse_b), f"/fhir/r4/Appointment/{act.pk}", 404), "not-found")
    no_consent = {**appointment, "supportingInformation": []}
    assert "Consentement" in french_outcome(
        post(nurse, "/fhir/r4/Appointment", no_consent, 400), "invalid"
    )


def test_appointment_search_in_constant_queries(tc_world):
    from telesante.teleconsultation import services as tc_services
    from tests.rooms.conftest import booking as new_booking

    nurse = fhir_client(tc_world.w.nurse_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(nurse, "/fhir/r4/Appointment?_count=50")
        return len(ctx.captured_queries)

    queries()
    few = queries()
    for _n in range(4):
        done = tc_services.create(
            None, tc_world.w.nurse_a, new_booking(tc_world.w, tc_world.cardiologist)
        )
        in_call(done, tc_world.cardiologist)
        tc_services.save_report(None, tc_world.cardiologist, done, "RAS", finish=True)
    assert queries() == few


def test_an_end_of_monitoring_report_is_typed_as_telemedicine(tsv):
    from telesante.telesurveillance import enrolment as enrolments
    from telesante.telesurveillance.models import Enrolment, EnrolmentState

    enrolment = Enrolment.objects.get(pk=tsv.enrolment.pk)
    enrolments.end(None, tsv.operator, enrolment, EnrolmentState.ENDED)
    doc = get(fhir_client(tsv.operator), f"/fhir/r4/DocumentReference/{enrolment.act_id}")
    assert doc["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "85208-7", "display": "CR de télémédecine"}
    ]
