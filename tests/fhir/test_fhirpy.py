"""A real FHIR client (fhirpy) against the running server (pytest-django `live_server`): every
resource, every search parameter, paging through `next` links, the writes; each resource the
server sends is validated by the R4B models and the FR Core rules."""

import base64
import datetime
import importlib

import pytest
from django.apps import apps
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from telesante.accounts.models import ApiToken
from telesante.core.identifiers import luhn_complete
from telesante.patients import services as patients
from telesante.patients.models import IdentityStatus
from telesante.teleconsultation import booking
from telesante.teleconsultation import services as tc_services
from telesante.teleexpertise import services as te_services
from telesante.telesurveillance.models import DeviceToken
from tests.conftest import make_patient
from tests.fhir.conftest import check
from tests.fhir.test_acts import answered, wound_request
from tests.fhir.test_observations import bundle, observation, spo2
from tests.rooms.conftest import booking as new_booking
from tests.rooms.conftest import in_call
from tests.teleexpertise.conftest import jpeg
from tests.telesurveillance.conftest import NOW


@pytest.fixture(autouse=True)
def filieres(live_server):
    """The live server's transactional tests flush what the data migration loaded."""
    importlib.import_module("telesante.acts.migrations.0002_filieres").load(apps, None)


def client_for(live_server, user=None, token: str = "") -> SyncFHIRClient:
    if user is not None:
        _token, token = ApiToken.issue(user)
    return SyncFHIRClient(f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}")


def found(search) -> list[dict]:
    """Every match, following the server's `next` links; each checked."""
    return [check(r.serialize()) for r in search.fetch_all()]


def ids(search) -> list[str]:
    return [r["id"] for r in found(search)]


def test_patients_directory_and_consent(live_server, world):
    world.patient_a.identity_status = IdentityStatus.QUALIFIED
    world.patient_a.matricule, world.patient_a.matricule_kind = "2400353130123", "NIR"
    world.patient_a.save()
    rpps = luhn_complete("1000000000")
    world.doctor_a.rpps = rpps
    world.doctor_a.save()
    for n in range(5):
        make_patient(world.ehpad_a, birth_name=f"SUIVI{n}", first_names="Léa")
    consent = patients.consent_to_act(
        None, world.nurse_a, world.patient_a, "teleexpertise", world.ehpad_a
    )
    fhir = client_for(live_server, world.nurse_a)

    check(fhir.execute("metadata", method="get"))
    a = str(world.patient_a.pk)
    assert len(found(fhir.resources("Patient").limit(2))) == 6  # three pages
    assert fhir.resources("Patient").count() == 6
    assert ids(fhir.resources("Patient").search(name="dorvane")) == [a]
    assert ids(fhir.resources("Patient").search(birthdate="1940-03-02").search(name="dorvane")) == [
        a
    ]
    assert len(ids(fhir.resources("Patient").search(birthdate__ge="1940"))) == 6
    assert ids(
        fhir.resources("Patient").search(identifier="urn:oid:1.2.250.1.213.1.4.8|2400353130123")
    ) == [a]
    patient = fhir.reference("Patient", a).to_resource()
    assert check(patient.serialize())["identifier"][0]["value"] == "2400353130123"
    with pytest.raises(ResourceNotFound):
        fhir.reference("Patient", str(world.patient_b.pk)).to_resource()

    doctor = str(world.doctor_a.pk)
    assert ids(
        fhir.resources("Practitioner").search(identifier=f"urn:oid:1.2.250.1.71.4.2.1|8{rpps}")
    ) == [doctor]
    assert ids(fhir.resources("Practitioner").search(name="doctor")) == [doctor]
    check(fhir.reference("Practitioner", doctor).to_resource().serialize())
    roles = found(fhir.resources("PractitionerRole").search(practitioner=f"Practitioner/{doctor}"))
    assert roles[0]["organization"]["reference"] == f"Organization/{world.ehpad_a.pk}"
    assert (
        len(
            found(
                fhir.resources("PractitionerRole").search(
                    organization=f"Organization/{world.ehpad_a.pk}"
                )
            )
        )
        == 3
    )
    check(fhir.reference("PractitionerRole", roles[0]["id"]).to_resource().serialize())
    orgs = ids(
        fhir.resources("Organization").search(identifier="https://finess.esante.gouv.fr|530000011")
    )
    assert orgs == [str(world.ehpad_a.pk)]
    assert ids(fhir.resources("Organization").search(name="verger")) == [str(world.ehpad_b.pk)]
    check(fhir.reference("Organization", orgs[0]).to_resource().serialize())

    assert ids(fhir.resources("Consent").search(patient=f"Patient/{a}")) == [str(consent.pk)]
    check(fhir.reference("Consent", str(consent.pk)).to_resource().serialize())
    with pytest.raises(OperationOutcome) as refused:
        fhir.resources("Patient").search(birthdate="02/03/1940").fetch()
    assert "date attendue" in str(refused.value)


def test_gateway_transaction_and_observations(live_server, tsv, settings):
    settings.TELESANTE_INGEST_THREADS = True  # as in production: the ingest in a pool thread
    _token, raw = DeviceToken.issue(exploitant=tsv.enrolment.exploitant)
    gateway = client_for(live_server, token=raw)
    later = NOW + datetime.timedelta(hours=3)
    answer = gateway.execute(
        "",
        method="post",
        data=bundle(
            spo2("a", 84),
            spo2("b", 97, later),
            observation("c", "29463-7", 78.4, "kg", serial="SC-0001"),
        ),
    )
    assert [e["response"]["status"] for e in check(answer)["entry"]] == ["201 Created"] * 3
    assert tsv.enrolment.alerts.get().rule == "spo2:below"

    fhir = client_for(live_server, tsv.w.doctor_a)
    pid = f"Patient/{tsv.w.patient_a.pk}"
    search = fhir.resources("Observation").search(patient=pid)
    assert len(found(search.limit(1))) == 3
    assert [
        o["valueQuantity"]["value"] for o in found(search.search(code="http://loinc.org|59408-5"))
    ] == [97, 84]
    assert [
        o["valueQuantity"]["value"] for o in found(search.search(date__gt=NOW.isoformat()))
    ] == [97]
    first = found(search.search(code="urn:telesante:mesure|weight"))[0]
    check(fhir.reference("Observation", first["id"]).to_resource().serialize())
    with pytest.raises(ResourceNotFound):
        client_for(live_server, tsv.other_operator).reference(
            "Observation", first["id"]
        ).to_resource()


def test_expertise_report_and_appointment(live_server, te_world):
    w = te_world.w
    fhir = client_for(live_server, w.nurse_a)
    created = fhir.resource("ServiceRequest", **wound_request(w.patient_a.pk, jpeg().read()))
    created.save()
    act_id = created["id"]
    assert (
        check(fhir.reference("ServiceRequest", act_id).to_resource().serialize())["priority"]
        == "urgent"
    )
    assert check(fhir.reference("Task", act_id).to_resource().serialize())["status"] == "requested"
    done = answered(te_world)
    pid = f"Patient/{w.patient_a.pk}"
    assert set(ids(fhir.resources("ServiceRequest").search(patient=pid))) == {
        act_id,
        str(done.act_id),
    }
    assert (
        ids(fhir.resources("ServiceRequest").search(code="plaies_cicatrisation", date__ge="2001"))
        != []
    )
    assert len(ids(fhir.resources("Task").search(patient=pid, date__ge="2001-01-01"))) == 2
    docs = found(fhir.resources("DocumentReference").search(patient=pid, date__ge="2001"))
    assert [d["id"] for d in docs] == [str(done.act_id)]
    check(fhir.reference("DocumentReference", docs[0]["id"]).to_resource().serialize())
    pdf = fhir.reference("Binary", docs[0]["id"]).to_resource().serialize()
    assert base64.b64decode(check(pdf)["data"]).startswith(b"%PDF")
    assert te_services.get(None, w.nurse_a, int(act_id)).act.attachments.count() == 1


def test_appointments(live_server, tc_world):
    w, cardio = tc_world.w, tc_world.cardiologist
    ch = cardio.memberships.get().structure
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).weekday()
    booking.add_availability(None, cardio, ch.pk, tomorrow, datetime.time(9), datetime.time(12))
    start = booking.free_slots(cardio)[0].start
    fhir = client_for(live_server, w.nurse_a)
    appointment = fhir.resource(
        "Appointment",
        status="booked",
        contained=[
            {
                "resourceType": "Consent",
                "id": "c",
                "status": "active",
                "scope": {"text": "treatment"},
                "category": [{"text": "Téléconsultation"}],
                "verification": [{"verified": True}],
            }
        ],
        start=start.isoformat(),
        description="Suivi d'insuffisance cardiaque",
        participant=[
            {"actor": {"reference": f"Patient/{w.patient_a.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{cardio.pk}"}, "status": "accepted"},
        ],
        supportingInformation=[{"reference": "#c"}, {"reference": f"Organization/{w.ehpad_a.pk}"}],
    )
    appointment.save()
    done = tc_services.create(None, w.nurse_a, new_booking(w, cardio))
    in_call(done, cardio)
    tc_services.save_report(None, cardio, done, "RAS", finish=True)
    pid = f"Patient/{w.patient_a.pk}"
    assert appointment["id"] in ids(
        fhir.resources("Appointment").search(patient=pid, date=start.date().isoformat())
    )
    assert len(ids(fhir.resources("Appointment").search(patient=pid))) == 3
    check(fhir.reference("Appointment", appointment["id"]).to_resource().serialize())
    assert ids(fhir.resources("DocumentReference").search(patient=pid)) == [str(done.pk)]
