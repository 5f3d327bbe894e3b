"""/api/v1/patients: search, creation with duplicate check, read; French errors, never a 500."""

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from telesante.api import _schema_message
from telesante.core.models import AuditAction, AuditEntry
from telesante.patients.models import IdentityStatus, Patient, PatientAttachment
from tests.conftest import api_client, make_patient

NIR_WOMAN = "240035313000128"
URL = "/api/v1/patients"


def body(world, **fields) -> dict:
    return {
        "birth_name": "Quenorel",
        "first_names": "Ilda",
        "birth_date": "1931-05-04",
        "sex": "F",
        "birthplace_code": "53130",
        "structure_id": world.ehpad_a.pk,
        **fields,
    }


def post(client: Client, data) -> object:
    payload = data if isinstance(data, str) else json.dumps(data)
    return client.post(URL, payload, content_type="application/json")


@pytest.fixture
def nurse(world) -> Client:
    return api_client(world.nurse_a)


# Search.


def test_search_by_name_returns_own_patients(world, nurse):
    response = nurse.get(URL, {"q": "Dorvâne"})
    assert response.status_code == 200
    [found] = response.json()
    assert found["id"] == world.patient_a.pk
    assert found["birth_name"] == "DORVANE"
    assert found["birth_date"] == "1940-03-02"
    assert found["identity_status"] == "PROV"
    assert found["ins_matricule"] == ""


def test_search_by_birth_date_in_french_format(world, nurse):
    make_patient(world.ehpad_a, "AUBRAC", "Noé", birth_date="1951-12-24", sex="M")
    names = [p["birth_name"] for p in nurse.get(URL, {"q": "24/12/1951"}).json()]
    assert names == ["AUBRAC"]


def test_search_does_not_cross_the_wall(world):
    assert api_client(world.nurse_b).get(URL, {"q": "dorvane"}).json() == []


def test_search_with_a_nul_character_is_refused_naming_the_field(world, nurse):
    response = nurse.get(URL, {"q": "dorv\x00ane"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["Caractère nul interdit."]}


def test_search_limit_is_bounded(world, nurse):
    for i in range(3):
        make_patient(world.ehpad_a, f"NOM{i}", "Test")
    assert len(nurse.get(URL, {"limit": 2}).json()) == 2
    assert len(nurse.get(URL, {"limit": -5}).json()) == 1
    assert len(nurse.get(URL, {"limit": 10**30}).json()) == 4


def test_search_is_audited_as_api(world, nurse):
    nurse.get(URL, {"q": "dorvane"}, HTTP_USER_AGENT="script-import/2")
    entry = AuditEntry.objects.get(action=AuditAction.SEARCH)
    assert (entry.via, entry.user_agent, entry.patient_id) == (
        "api",
        "script-import/2",
        world.patient_a.pk,
    )


def test_observer_gets_403_in_french(world):
    client = api_client(world.observer)
    for response in [client.get(URL), post(client, body(world))]:
        assert response.status_code == 403
        assert "observateurs régionaux" in response.json()["detail"]
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


# Creation.


def test_create_returns_201_and_attaches_to_the_structure(world, nurse):
    response = post(nurse, body(world, attachment_kind="resident"))
    assert response.status_code == 201
    data = response.json()
    patient = Patient.objects.get(pk=data["id"])
    assert data["birth_name"] == "QUENOREL"
    assert data["identity_status"] == "PROV"
    assert PatientAttachment.objects.get(patient=patient).kind == "resident"
    assert patient.attachments.get().structure == world.ehpad_a
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert (entry.patient_id, entry.via) == (patient.pk, "api")


def test_likely_duplicate_gets_409_with_candidates_then_201_when_confirmed(world, nurse):
    twin = body(world, birth_name="Dorvanne", first_names="Alix", birth_date="1940-03-02")
    conflict = post(nurse, twin)
    assert conflict.status_code == 409
    data = conflict.json()
    assert "confirm_not_duplicate" in data["detail"]
    assert [c["id"] for c in data["candidates"]] == [world.patient_a.pk]
    assert data["other_structures"] == 0
    assert not Patient.objects.filter(birth_name="DORVANNE").exists()
    created = post(nurse, {**twin, "confirm_not_duplicate": True})
    assert created.status_code == 201
    assert Patient.objects.filter(birth_name="DORVANNE").count() == 1


def test_duplicate_in_another_structure_is_only_counted(world, nurse):
    lookalike = body(world, birth_name="Valmorin", first_names="Basile", sex="M")
    lookalike["birth_date"] = "1940-03-02"
    data = post(nurse, lookalike).json()
    assert data["candidates"] == []
    assert data["other_structures"] == 1
    assert "VALMORIN" not in json.dumps(data)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"birth_date": str(timezone.localdate() + datetime.timedelta(days=1))},
            "birth_date",
            "ne peut pas être dans le futur",
        ),
        ({"birthplace_code": "53999"}, "birthplace_code", "Code INSEE de commune inconnu"),
        ({"birthplace_code": "99999"}, "birthplace_code", "Code pays INSEE inconnu"),
        ({"birth_name": "   "}, "birth_name", "obligatoire"),
        ({"first_names": "Ilda\x00"}, "first_names", "Caractère nul interdit"),
    ],
)
def test_business_rule_errors_are_400_naming_the_field(world, nurse, fields, field, message):
    response = post(nurse, body(world, **fields))
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] == "Données invalides."
    assert list(data["errors"]) == [field]
    assert message in data["errors"][field][0]
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"birth_name", "first_names", "birth_date", "sex", "birthplace_code", "structure_id"}),
        ({"birth_date": "02/03/1990"}, {"birth_date"}),
        ({"birth_date": "1990-02-30"}, {"birth_date"}),
        ({"sex": "X"}, {"sex"}),
        ({"sex": None}, {"sex"}),
        ({"birthplace_code": "531"}, {"birthplace_code"}),
        ({"birth_name": "x" * 101}, {"birth_name"}),
        ({"structure_id": "abc"}, {"structure_id"}),
        ({"attachment_kind": "ami"}, {"attachment_kind"}),
        ({"confirm_not_duplicate": "peut-être"}, {"confirm_not_duplicate"}),
    ],
)
def test_missing_or_malformed_fields_are_422_naming_them(world, nurse, data, fields):
    payload = data if data == {} else body(world, **data)
    response = post(nurse, payload)
    assert response.status_code == 422
    answer = response.json()
    assert answer["detail"] == "Données invalides."
    assert set(answer["errors"]) == fields
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


def test_422_for_an_unusual_error_keeps_pydantics_explanation(world, nurse):
    response = post(nurse, body(world, structure_id=1.5))
    assert response.status_code == 422
    assert response.json()["errors"]["structure_id"] == [
        "Input should be a valid integer, got a number with a fractional part"
    ]


def test_french_template_without_its_context_falls_back_to_pydantics_text():
    assert _schema_message({"type": "enum", "msg": "Input should be 'F' or 'M'"}) == (
        "Input should be 'F' or 'M'"
    )
    assert _schema_message({"type": "missing", "msg": "Field required"}) == "Champ obligatoire."


def test_422_messages_are_in_french(world, nurse):
    errors = post(nurse, {"birthplace_code": "1", "sex": "X"}).json()["errors"]
    assert errors["birth_name"] == ["Champ obligatoire."]
    assert errors["birthplace_code"] == ["Au moins 5 caractère(s)."]
    assert errors["sex"][0].startswith("Valeur non autorisée")
    assert post(nurse, body(world, birth_date="hier")).json()["errors"]["birth_date"] == [
        "Date invalide (format AAAA-MM-JJ)."
    ]


@pytest.mark.parametrize("raw", ["pas du json", "{", '"une chaîne"', "[]", "null", "123"])
def test_a_body_that_is_not_a_json_object_is_a_4xx_in_french(world, nurse, raw):
    response = post(nurse, raw)
    assert response.status_code in {400, 422}
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail in {"Corps de requête illisible : JSON attendu.", "Données invalides."}


def test_another_structures_id_is_404(world, nurse):
    response = post(nurse, body(world, structure_id=world.ehpad_b.pk))
    assert response.status_code == 404
    assert response.json() == {"detail": "Ressource introuvable."}
    assert post(nurse, body(world, structure_id=10**20)).status_code == 404
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


# Reading one patient.


def test_get_own_patient_is_200_and_audited(world, nurse):
    response = nurse.get(f"{URL}/{world.patient_a.pk}")
    assert response.status_code == 200
    assert response.json()["first_names"] == "Alix"
    entry = AuditEntry.objects.get(action=AuditAction.READ)
    assert (entry.actor_id, entry.patient_id, entry.via) == (
        world.nurse_a.pk,
        world.patient_a.pk,
        "api",
    )


@pytest.mark.parametrize("pk", ["other", "missing", "huge"])
def test_other_structures_or_unknown_patient_is_404(world, nurse, pk):
    target = {"other": world.patient_b.pk, "missing": 999999, "huge": 10**20}[pk]
    response = nurse.get(f"{URL}/{target}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ressource introuvable."}
    # The wall's refusal is recorded as such (an id beyond 64 bits never reaches it).
    refused = list(AuditEntry.objects.values_list("action", "object_id", "via"))
    assert refused == ([] if pk == "huge" else [(AuditAction.DENIED, str(target), "api")])


def test_non_numeric_id_is_422(nurse):
    response = nurse.get(f"{URL}/abc")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["patient_id"]


def test_matricule_is_in_the_json_only_for_a_qualified_identity(world, nurse):
    url = f"{URL}/{world.patient_a.pk}"
    Patient.objects.filter(pk=world.patient_a.pk).update(
        identity_status=IdentityStatus.VALIDATED, matricule=NIR_WOMAN, matricule_kind="NIR"
    )
    data = nurse.get(url).json()
    assert (data["ins_matricule"], data["ins_system"]) == ("", "")
    assert NIR_WOMAN not in nurse.get(URL).content.decode()
    Patient.objects.filter(pk=world.patient_a.pk).update(identity_status=IdentityStatus.QUALIFIED)
    data = nurse.get(url).json()
    assert data["ins_matricule"] == NIR_WOMAN
    assert data["ins_system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert nurse.get(URL, {"q": "dorvane"}).json()[0]["ins_matricule"] == NIR_WOMAN


# Limits, schema, health.


def test_body_over_the_size_limit_is_a_json_413(world, nurse, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = post(nurse, body(world, birth_name="x" * 5000))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Requête trop volumineuse."}
    assert Patient.objects.count() == 2


def test_body_under_the_size_limit_is_accepted(world, nurse, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    assert post(nurse, body(world)).status_code == 201


def test_openapi_schema_is_served_and_documents_the_patient_operations(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Télésanté API"
    assert {"/api/v1/patients", "/api/v1/patients/{patient_id}"} <= set(schema["paths"])
    assert set(schema["paths"]["/api/v1/patients"]) == {"get", "post"}
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_api_docs_page_is_served(db):
    assert Client().get("/api/v1/docs").status_code == 200


def patch(client: Client, patient_id: int, data) -> object:
    return client.patch(f"{URL}/{patient_id}", json.dumps(data), content_type="application/json")


def test_update_traits_with_the_creation_checks_and_audit(world, nurse):
    patient = world.patient_a
    response = patch(nurse, patient.pk, {"used_name": "Martin", "first_names": "Alix  Marie"})
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert (patient.used_name, patient.first_names) == ("Martin", "Alix Marie")
    assert "MARTIN" in patient.search_key
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, patient_id=patient.pk).get()
    assert set(entry.detail.split(", ")) == {"first_names", "used_name"}
    future = timezone.localdate() + datetime.timedelta(days=3)
    bad = patch(nurse, patient.pk, {"birth_date": future.isoformat(), "birthplace_code": "00000"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"birth_date", "birthplace_code"}
    patient.refresh_from_db()
    assert str(patient.birth_date) == "1940-03-02"  # nothing half-saved


def test_strict_traits_of_a_validated_identity_send_it_back_to_provisional(world, nurse):
    patient = world.patient_a
    Patient.objects.filter(pk=patient.pk).update(identity_status=IdentityStatus.VALIDATED)
    assert patch(nurse, patient.pk, {"used_first_name": "Lili"}).status_code == 200
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.VALIDATED  # a used name is not a strict trait
    assert patch(nurse, patient.pk, {"birth_name": "Dorvanne"}).status_code == 200
    patient.refresh_from_db()
    assert (patient.birth_name, patient.identity_status) == ("DORVANNE", IdentityStatus.PROVISIONAL)
    change = patient.status_changes.order_by("-pk").first()
    assert (change.old_status, change.note) == (IdentityStatus.VALIDATED, "Traits stricts modifiés")


def test_strict_traits_of_a_qualified_identity_come_from_insi_only(world, nurse):
    patient = world.patient_a
    Patient.objects.filter(pk=patient.pk).update(
        identity_status=IdentityStatus.QUALIFIED, matricule=NIR_WOMAN
    )
    response = patch(nurse, patient.pk, {"sex": "M", "used_name": "Autre"})
    assert response.status_code == 400
    assert "INSi" in response.json()["errors"]["sex"][0]
    patient.refresh_from_db()
    assert (patient.sex, patient.used_name, patient.matricule) == ("F", "", NIR_WOMAN)


def test_update_outside_the_wall_is_a_404_and_observers_get_403(world):
    other = patch(api_client(world.nurse_b), world.patient_a.pk, {"used_name": "X"})
    assert other.status_code == 404
    assert (
        patch(api_client(world.observer), world.patient_a.pk, {"used_name": "X"}).status_code == 403
    )
    world.patient_a.refresh_from_db()
    assert world.patient_a.used_name == ""


def test_consent_and_refusal_are_recorded_as_the_page_does(world, nurse):
    url = f"{URL}/{world.patient_a.pk}/consents"
    data = {"act_kind": "teleconsultation", "information_given": True, "decision": "refusal"}
    response = nurse.post(url, data, content_type="application/json")
    assert response.status_code == 201, response.content
    consent = world.patient_a.consents.get()
    assert (consent.decision, consent.structure_id, consent.collected_by_id) == (
        "refusal",
        world.ehpad_a.pk,
        world.nurse_a.pk,
    )
    assert AuditEntry.objects.filter(
        action=AuditAction.CONSENT, patient_id=world.patient_a.pk
    ).exists()
    uninformed = nurse.post(
        url,
        {**data, "information_given": False, "decision": "consent"},
        content_type="application/json",
    )
    assert uninformed.status_code == 400
    assert "informé" in uninformed.json()["errors"]["information_given"][0]
    nul = nurse.post(url, {**data, "note": "a\x00b"}, content_type="application/json")
    assert nul.json()["errors"] == {"note": ["Caractère nul interdit."]}
    unknown = nurse.post(url, {**data, "act_kind": "magie"}, content_type="application/json")
    assert unknown.status_code == 422
    assert world.patient_a.consents.count() == 1
