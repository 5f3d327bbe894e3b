"""The enrolment API: enrol through the form's service, list and read, end, thresholds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telesante.acts.models import Act
from telesante.core.models import AuditEntry
from telesante.patients.models import Consent
from telesante.telesurveillance import enrolment
from telesante.telesurveillance.models import Device, Enrolment
from tests.conftest import api_client, at_once, make_patient
from tests.telesurveillance.conftest import TSV
from tests.telesurveillance.test_pages import enrol_more

BASE = "/api/v1/telesurveillance/enrolments"


def payload(t: TSV, **overrides) -> dict:
    patient = make_patient(t.team, birth_name="ENVOYE", first_names="Lise")
    return {
        "patient_id": patient.pk,
        "team_id": t.care_team.pk,
        "programme": "insuffisance_respiratoire",
        "prescriber_id": t.w.doctor_a.pk,
        "operator_id": t.team_doctor.pk,
        "prescribed_on": "2026-03-01",
        "information_given": True,
        "act_consent": True,
        "data_consent": True,
        "exploitant": "RespiHome",
        "devices": ["OXY-9001", "TH-9001"],
        "device_label": "Oxymètre",
        "starts_on": "2026-03-02",
        "ends_on": "2026-09-01",
        "reading_start": "07:30",
        "reading_end": "19:00",
        "reading_weekdays": [1, 2, 3, 4, 5, 6],
        **overrides,
    }


def test_an_enrolment_created_through_the_api_is_the_forms(tsv: TSV):
    response = api_client(tsv.operator).post(BASE, payload(tsv), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    created = Enrolment.objects.get(pk=body["id"])
    assert body["programme"] == "insuffisance_respiratoire" and body["state"] == "active"
    assert body["reading_start"] == "07:30:00" and body["reading_weekdays"] == [1, 2, 3, 4, 5, 6]
    assert [d["serial"] for d in body["devices"]] == ["OXY-9001", "TH-9001"]
    assert body["thresholds"] == created.programme.thresholds and body["forfaits"] == []
    assert created.act.performing_structure == tsv.team and created.act.requester == tsv.w.doctor_a
    assert body["operator_id"] == created.operator_id == tsv.team_doctor.pk
    assert list(created.act.performers.all()) == [tsv.team_doctor]
    assert created.act.consent.note == "Télésurveillance"
    assert created.data_consent.note == "Traitement des données de télésurveillance"
    assert AuditEntry.objects.filter(action="create", object_id=str(created.pk), via="api").exists()


def counts() -> tuple[int, int, int]:
    return Enrolment.objects.count(), Consent.objects.count(), Act.objects.count()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"prescribed_on": "hier"}, "prescribed_on", "Date invalide (format AAAA-MM-JJ)."),
        ({"reading_start": "matin"}, "reading_start", "Heure invalide (format HH:MM)."),
        ({"devices": "SC-1"}, "devices", "Liste attendue."),
        ({"act_consent": "peut-être"}, "act_consent", "Booléen attendu (true ou false)."),
        ({"team_id": None}, "team_id", "Nombre entier attendu."),
    ],
)
def test_a_malformed_enrolment_is_refused_in_french_with_422(tsv: TSV, overrides, field, message):
    before = counts()
    body = payload(tsv, **overrides)
    response = api_client(tsv.operator).post(BASE, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][field] == [message]
    assert counts() == before


def test_a_missing_field_is_named(tsv: TSV):
    body = payload(tsv)
    del body["exploitant"]
    response = api_client(tsv.operator).post(BASE, body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"exploitant": ["Champ obligatoire."]}


@pytest.mark.parametrize(
    ("who", "message"),
    [
        # A nurse of the team, then a doctor from outside it.
        (lambda t: t.operator, "Le médecin opérateur doit être un médecin inscrit."),
        (
            lambda t: t.w.doctor_a,
            "Le médecin opérateur doit être membre de l'équipe opérateur choisie.",
        ),
    ],
)
def test_the_operator_must_be_a_doctor_of_the_team(tsv: TSV, who, message):
    before = counts()
    body = payload(tsv, operator_id=who(tsv).pk)
    response = api_client(tsv.operator).post(BASE, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"operator": [message]}
    del body["operator_id"]
    missing = api_client(tsv.operator).post(BASE, body, content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"operator_id": ["Champ obligatoire."]}
    assert counts() == before


def test_rules_refuse_an_enrolment_field_by_field_and_save_nothing(tsv: TSV):
    before = counts()
    body = payload(tsv, data_consent=False, devices=["SC-0001", "a b"], ends_on="2026-01-01")
    response = api_client(tsv.operator).post(BASE, body, content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["data_consent"] == [
        "Le consentement du patient au traitement de ses données manque."
    ]
    assert errors["devices"] == ["Numéro de série invalide : a b."]
    assert errors["ends_on"] == ["La fin doit suivre le début."]
    again = payload(tsv, patient_id=tsv.w.patient_a.pk, programme="insuffisance_cardiaque")
    twice = api_client(tsv.operator).post(BASE, again, content_type="application/json")
    assert twice.json()["errors"]["programme"] == ["Ce patient est déjà suivi dans ce programme."]
    assert counts()[0] == before[0]


def post_at_once(tsv: TSV, bodies: list[dict]) -> list:
    """The bodies posted by as many threads released together; the responses, refused last."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite sérialise les écritures : pas de concurrence à éprouver.")
    clients = [api_client(tsv.operator) for _ in bodies]
    responses = at_once(
        lambda n: clients[n].post(BASE, bodies[n], content_type="application/json"), len(bodies)
    )
    return sorted(responses, key=lambda r: r.status_code)


@pytest.mark.django_db(transaction=True)
def test_two_enrolments_posted_at_once_enrol_the_patient_once(tsv: TSV):
    first = payload(tsv)
    before = (*counts(), Device.objects.count())
    # Other devices: only the patient's active enrolment can refuse the second post.
    created, refused = post_at_once(tsv, [first, {**first, "devices": ["OXY-9002", "TH-9002"]}])
    assert (created.status_code, refused.status_code) == (201, 400)
    assert refused.json()["errors"] == {
        "programme": ["Ce patient est déjà suivi dans ce programme."]
    }
    # One enrolment, its act, both its consents and its two devices; nothing of the other post.
    after = (*counts(), Device.objects.count())
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1, 2]
    assert (
        Enrolment.objects.filter(
            act__patient_id=first["patient_id"], programme="insuffisance_respiratoire"
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_one_device_claimed_for_two_patients_at_once_goes_to_one(tsv: TSV):
    first, second = payload(tsv), payload(tsv)
    assert first["patient_id"] != second["patient_id"]
    before = (*counts(), Device.objects.count())
    created, refused = post_at_once(tsv, [first, second])
    assert (created.status_code, refused.status_code) == (201, 400)
    assert refused.json()["errors"] == {
        "devices": ["Dispositif déjà attribué : OXY-9001, TH-9001."]
    }
    after = (*counts(), Device.objects.count())
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1, 2]
    owner = Device.objects.get(serial="OXY-9001").enrolment.act.patient_id
    assert owner == Enrolment.objects.get(pk=created.json()["id"]).act.patient_id


def test_a_device_taken_between_the_check_and_the_insert_is_named(tsv: TSV, monkeypatch):
    """What the post refused last above meets when its check ran before the other committed:
    the unique serial refuses the insert, the device is named and nothing of the post stays
    (on both databases, the check made to come too early)."""
    first, second = payload(tsv), payload(tsv)
    client = api_client(tsv.operator)
    assert client.post(BASE, first, content_type="application/json").status_code == 201
    before = (*counts(), Device.objects.count())
    checks, taken = [], enrolment._taken

    def too_early(serials: list[str]) -> list[str]:
        checks.append(serials)
        return [] if len(checks) == 1 else taken(serials)

    monkeypatch.setattr(enrolment, "_taken", too_early)
    refused = client.post(BASE, second, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "devices": ["Dispositif déjà attribué : OXY-9001, TH-9001."]
    }
    assert len(checks) == 2
    assert (*counts(), Device.objects.count()) == before


def test_the_list_shows_the_teams_enrolments_at_a_constant_cost(tsv: TSV):
    client = api_client(tsv.operator)

    def listed() -> tuple[list, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(BASE)
        assert response.status_code == 200
        return response.json(), len(ctx)

    listed()  # the token's first use is recorded once
    rows, one = listed()
    assert [r["id"] for r in rows] == [tsv.enrolment.pk]
    assert [d["serial"] for d in rows[0]["devices"]] == ["SC-0001", "OX-0001"]
    enrol_more(tsv, 4)
    rows, five = listed()
    assert len(rows) == 5 and five == one
    assert AuditEntry.objects.filter(action="search", via="api").count() == 7
    assert api_client(tsv.other_operator).get(BASE).json() == []
    assert [r["id"] for r in api_client(tsv.w.doctor_a).get(BASE).json()][-1] == tsv.enrolment.pk
    assert client.get(BASE, {"state": "ended"}).json() == []
    assert client.get(BASE, {"state": "perdu"}).status_code == 422
    assert len(client.get(BASE, {"limit": 2}).json()) == 2
    rest = client.get(BASE, {"limit": 2, "offset": 4})
    assert [r["id"] for r in rest.json()] == [tsv.enrolment.pk] and rest["X-Total-Count"] == "5"
    assert client.get(BASE, {"limit": 0}).status_code == 422


def test_end_stops_once_then_answers_409(tsv: TSV):
    client = api_client(tsv.operator)
    url = f"{BASE}/{tsv.enrolment.pk}/end"
    bad = client.post(url, {"state": "pause"}, content_type="application/json")
    assert bad.status_code == 422 and "state" in bad.json()["errors"]
    done = client.post(url, {"state": "stopped"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "stopped"
    again = client.post(url, {"state": "ended"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["detail"] == "Ce suivi est déjà terminé."
    tsv.enrolment.act.refresh_from_db()
    assert tsv.enrolment.act.status == "done" and tsv.enrolment.act.report


def test_thresholds_are_read_changed_and_reset_through_the_api(tsv: TSV):
    client = api_client(tsv.operator)
    url = f"{BASE}/{tsv.enrolment.pk}/thresholds"
    read = client.get(url).json()
    assert read["thresholds"] == read["programme_defaults"] and read["changes"] == []
    spo2 = {"type": "spo2", "kind": "below", "value": 88.0, "severity": 4}
    changed = client.put(url, {"thresholds": [spo2]}, content_type="application/json")
    assert changed.status_code == 200
    body = changed.json()
    assert body["thresholds"] == [spo2]
    assert body["changes"][0].startswith(
        "seuil modifié : Saturation en oxygène (SpO2) : minimum 90"
    )
    out_of_range = client.put(
        url, {"thresholds": [{**spo2, "value": 101}]}, content_type="application/json"
    )
    assert out_of_range.status_code == 400
    assert out_of_range.json()["errors"]["thresholds.0.value"] == [
        "Seuil hors des valeurs possibles (30 à 100 %)."
    ]
    unknown = client.put(
        url, {"thresholds": [{**spo2, "kind": "autour"}]}, content_type="application/json"
    )
    assert unknown.status_code == 422 and "thresholds.0.kind" in unknown.json()["errors"]
    reset = client.post(f"{url}/reset").json()
    assert reset["thresholds"] == reset["programme_defaults"] and reset["changes"]
    assert client.get(url).json()["thresholds"] == reset["programme_defaults"]
    client.post(f"{BASE}/{tsv.enrolment.pk}/end", {"state": "ended"}, "application/json")
    ended = client.put(url, {"thresholds": [spo2]}, content_type="application/json")
    assert ended.status_code == 409
