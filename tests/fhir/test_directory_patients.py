"""Patient, Practitioner, PractitionerRole, Organization, Consent and the metadata: read and
search through the wall, audited, paged, with French OperationOutcomes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telesante.core.identifiers import INS_NIR_OID, luhn_complete
from telesante.core.models import AuditEntry
from telesante.patients import services as patients
from telesante.patients.models import IdentityStatus
from tests.conftest import make_patient
from tests.fhir.conftest import check, fhir_client, french_outcome, get

MATRICULE = "2400353130123"  # a synthetic NIR, key-free matricule of 13 digits


def qualify(patient) -> None:
    patient.identity_status = IdentityStatus.QUALIFIED
    patient.matricule, patient.matricule_kind = MATRICULE, "NIR"
    patient.save()


def test_metadata_is_public_and_lists_every_resource(client):
    body = get(client, "/fhir/r4/metadata")
    assert body["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in body["rest"][0]["resource"]}
    assert kinds >= {"Patient", "Observation", "ServiceRequest", "Task", "Appointment", "Binary"}
    profiles = {r["type"]: r.get("supportedProfile") for r in body["rest"][0]["resource"]}
    fr_core = "https://hl7.fr/ig/fhir/core/StructureDefinition/"
    assert profiles["Patient"] == [fr_core + "fr-core-patient", fr_core + "fr-core-patient-ins"]
    assert profiles["Practitioner"] == [fr_core + "fr-core-practitioner"]
    assert profiles["Organization"] == [fr_core + "fr-core-organization"]
    assert profiles["Appointment"] == [fr_core + "fr-core-appointment"]
    assert profiles["Observation"] == [
        "http://hl7.org/fhir/StructureDefinition/vitalsigns",
        fr_core + "fr-core-observation-body-weight",
        fr_core + "fr-core-observation-heartrate",
        fr_core + "fr-core-observation-body-temperature",
        fr_core + "fr-core-observation-resp-rate",
    ]
    # FR Core 2.1.0 profiles none of these: the base resource is what they conform to.
    assert not any(profiles[kind] for kind in ("ServiceRequest", "Task", "Consent", "Binary"))


def test_anonymous_gets_401_outcome(world, client):
    body = get(client, f"/fhir/r4/Patient/{world.patient_a.pk}", 401)
    assert "Jeton" in french_outcome(body, "login")


def test_patient_read_fr_core_without_ins_until_qualified(world, fhir):
    body = get(fhir, f"/fhir/r4/Patient/{world.patient_a.pk}")
    assert body["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
    ]
    assert "identifier" not in body
    assert body["name"][0] == {
        "use": "official",
        "family": "DORVANE",
        "given": ["Alix"],
        "extension": [
            {
                "url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-list-given-name",
                "valueString": "Alix",
            }
        ],
    }
    world.patient_a.matricule, world.patient_a.matricule_kind = MATRICULE, "NIR"
    world.patient_a.identity_status = IdentityStatus.VALIDATED
    world.patient_a.save()
    assert "identifier" not in get(fhir, f"/fhir/r4/Patient/{world.patient_a.pk}")
    world.patient_a.identity_status = IdentityStatus.QUALIFIED
    world.patient_a.save()
    body = get(fhir, f"/fhir/r4/Patient/{world.patient_a.pk}")
    assert body["identifier"][0]["system"] == INS_NIR_OID
    assert body["identifier"][0]["value"] == MATRICULE
    assert body["meta"]["profile"][0].endswith("fr-core-patient-ins")


def test_other_structure_patient_is_a_404_outcome_and_the_refusal_audited(world):
    body = get(fhir_client(world.nurse_b), f"/fhir/r4/Patient/{world.patient_a.pk}", 404)
    french_outcome(body, "not-found")
    refusal = AuditEntry.objects.get(action="denied")
    assert (refusal.patient_id, refusal.via) == (world.patient_a.pk, "api")


def test_read_is_audited(world, fhir):
    get(fhir, f"/fhir/r4/Patient/{world.patient_a.pk}")
    entry = AuditEntry.objects.get(action="read")
    assert (entry.actor_id, entry.patient_id, entry.via) == (
        world.nurse_a.pk,
        world.patient_a.pk,
        "api",
    )


def test_patient_search_by_each_parameter_stays_inside_the_wall(world, fhir):
    qualify(world.patient_a)
    other = make_patient(
        world.ehpad_a, birth_name="ÉLOI", first_names="Zoé", birth_date="1950-06-01"
    )

    def ids(query: str) -> list[str]:
        return [e["resource"]["id"] for e in get(fhir, f"/fhir/r4/Patient?{query}")["entry"]]

    a, o = str(world.patient_a.pk), str(other.pk)
    assert ids("name=dorvane") == [a]
    assert ids("name=eloi") == [o]  # accents folded
    assert ids("birthdate=1950-06-01") == [o]
    assert ids("birthdate=ge1945") == [o]
    assert ids("birthdate=lt1945-01-01") == [a]
    assert ids(f"identifier={INS_NIR_OID}|{MATRICULE}") == [a]
    assert ids(f"identifier={MATRICULE}") == [a]
    assert ids(f"identifier=urn:oid:1.2.250.1.213.1.4.9|{MATRICULE}") == []
    assert ids("name=valmorin") == []  # patient_b is EHPAD B's
    listed = AuditEntry.objects.filter(action="search").values_list("patient_id", flat=True)
    assert set(listed) == {world.patient_a.pk, other.pk}


def test_search_pages_with_next_links(world, fhir):
    for n in range(4):
        make_patient(world.ehpad_a, birth_name=f"PAGE{n}", first_names="Test")
    first = get(fhir, "/fhir/r4/Patient?_count=2")
    assert first["total"] == 5 and len(first["entry"]) == 2
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=2" in nxt
    second = get(fhir, nxt.replace("http://testserver", ""))
    assert [link["relation"] for link in second["link"]] == ["self", "previous", "next"]
    last = get(fhir, "/fhir/r4/Patient?_count=2&_offset=4")
    assert len(last["entry"]) == 1
    assert "next" not in [link["relation"] for link in last["link"]]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("birthdate=02/03/1940", "date attendue"),
        ("birthdate=xx1940", "date attendue"),
        ("_count=many", "_count"),
        ("_count=5000", "_count"),
        ("colour=blue", "inconnu"),
        ("name=a&name=b", "répété"),
    ],
)
def test_bad_search_parameters_are_a_400_in_french(world, fhir, query, words):
    body = get(fhir, f"/fhir/r4/Patient?{query}", 400)
    assert words in french_outcome(body, "invalid")


def test_observer_gets_403(world):
    body = get(fhir_client(world.observer), "/fhir/r4/Patient", 403)
    french_outcome(body, "forbidden")


def test_patient_search_queries_do_not_grow_with_rows(world, fhir):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(fhir, "/fhir/r4/Patient?_count=50")
        return len(ctx.captured_queries)

    queries()  # the token's first use of the minute is recorded once
    few = queries()
    for n in range(12):
        make_patient(world.ehpad_a, birth_name=f"NOMBRE{n}", first_names="Test")
    assert queries() == few


def test_practitioner_and_roles_with_national_identifiers(world, fhir):
    rpps = luhn_complete("1000000000")
    world.doctor_a.rpps = rpps
    world.doctor_a.save()
    found = get(fhir, f"/fhir/r4/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|8{rpps}")
    assert [e["resource"]["id"] for e in found["entry"]] == [str(world.doctor_a.pk)]
    doctor = found["entry"][0]["resource"]
    assert {i["system"]: i["value"] for i in doctor["identifier"]} == {
        "urn:oid:1.2.250.1.71.4.2.1": f"8{rpps}",
        "https://rpps.esante.gouv.fr": rpps,
    }
    by_rpps = get(fhir, f"/fhir/r4/Practitioner?identifier=https://rpps.esante.gouv.fr|{rpps}")
    assert by_rpps["total"] == 1
    assert get(fhir, "/fhir/r4/Practitioner?name=doctor")["total"] == 1
    get(fhir, f"/fhir/r4/Practitioner/{world.doctor_a.pk}")
    roles = get(fhir, f"/fhir/r4/PractitionerRole?practitioner=Practitioner/{world.doctor_a.pk}")
    role = roles["entry"][0]["resource"]
    assert role["organization"]["reference"] == f"Organization/{world.ehpad_a.pk}"
    assert role["specialty"][0]["coding"][0]["code"] == "medecine_generale"
    assert role["code"][0]["coding"][0]["code"] == "medecin"
    get(fhir, f"/fhir/r4/PractitionerRole/{role['id']}")
    members = get(fhir, f"/fhir/r4/PractitionerRole?organization={world.ehpad_a.pk}")
    assert members["total"] == 3  # nurse, admin and doctor of EHPAD A
    get(fhir, f"/fhir/r4/Practitioner/{world.observer.pk}", 404)  # no membership: not listed
    get(fhir, "/fhir/r4/PractitionerRole/999999", 404)


def test_organization_by_finess_and_idnatst(world, fhir):
    by_finess = get(
        fhir, "/fhir/r4/Organization?identifier=https://finess.esante.gouv.fr|530000011"
    )
    assert [e["resource"]["name"] for e in by_finess["entry"]] == ["EHPAD Les Tilleuls"]
    by_idnst = get(fhir, "/fhir/r4/Organization?identifier=urn:oid:1.2.250.1.71.4.2.2|1720000012")
    assert [e["resource"]["name"] for e in by_idnst["entry"]] == ["EHPAD Le Verger"]
    assert get(fhir, "/fhir/r4/Organization?name=verger")["total"] == 1
    assert get(fhir, "/fhir/r4/Organization?identifier=other|530000011")["total"] == 0
    body = get(fhir, f"/fhir/r4/Organization/{world.ehpad_b.pk}")
    assert body["address"][0]["city"] == "Le Mans"
    get(fhir, "/fhir/r4/Organization/999999", 404)


def test_directory_searches_in_constant_queries(world, fhir):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            get(fhir, url)
        return len(ctx.captured_queries)

    urls = ["/fhir/r4/Practitioner", "/fhir/r4/PractitionerRole", "/fhir/r4/Organization"]
    queries(urls[0])  # the token's first use of the minute is recorded once
    before = [queries(u) for u in urls]
    from tests.conftest import make_structure, make_user

    for n in range(5):
        s = make_structure(f"MSP {n}", finess=None)
        make_user(f"pro{n}@example.test", structure=s)
    assert [queries(u) for u in urls] == before


def test_consent_read_and_search_through_the_wall(world, fhir):
    consent = patients.consent_to_act(
        None, world.nurse_a, world.patient_a, "teleexpertise", world.ehpad_a
    )
    found = get(fhir, f"/fhir/r4/Consent?patient=Patient/{world.patient_a.pk}")
    assert [e["resource"]["id"] for e in found["entry"]] == [str(consent.pk)]
    body = get(fhir, f"/fhir/r4/Consent/{consent.pk}")
    assert (body["status"], body["provision"]["type"]) == ("active", "permit")
    other = fhir_client(world.nurse_b)
    french_outcome(get(other, f"/fhir/r4/Consent/{consent.pk}", 404), "not-found")
    get(other, f"/fhir/r4/Consent?patient={world.patient_a.pk}", 404)
    get(fhir, "/fhir/r4/Consent", 400)  # patient required
    get(fhir, "/fhir/r4/Consent/999999", 404)


def test_ids_out_of_range_are_404(world, fhir):
    french_outcome(get(fhir, f"/fhir/r4/Patient/{2**64}", 404), "not-found")
    check(get(fhir, "/fhir/r4/Patient?patient=Organization/1", 400))
