"""Pages: the team board, the enrolment form, the patient page with its charts, the reports;
the measurements API; the permission wall."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from telesante.accounts.models import Membership, Profession
from telesante.core.models import AuditEntry
from telesante.patients.models import Consent, Patient
from telesante.structures.models import StructureKind
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance.models import Enrolment
from tests.conftest import api_client, logged_in, make_patient, make_structure, make_user
from tests.telesurveillance.conftest import ALWAYS, TSV, new_enrolment
from tests.telesurveillance.test_rules import send


def recent(t: TSV) -> None:
    """Readings of the last days (the page shows the last 30 days), one under the threshold."""
    now = timezone.now().replace(microsecond=0)
    for d in range(5, 0, -1):
        at = now - datetime.timedelta(days=d)
        send(t, (f"w{d}", "weight", 80 + d / 10, at), (f"s{d}", "spo2", 95, at), now=now)
    send(t, ("s0", "spo2", 87, now - datetime.timedelta(hours=1)), now=now)


def enrol_more(t: TSV, n: int) -> None:
    for i in range(n):
        p = make_patient(t.team, birth_name=f"SUIVI{i}", first_names="Jean")
        enrolments.enrol(
            None,
            t.operator,
            new_enrolment(t.w, t.team, t.team_doctor, patient_id=p.pk, devices=[f"SCX-{i:04}"]),
        )


def test_board_sorts_patients_by_their_worst_alert_and_audits_the_list(tsv):
    enrol_more(tsv, 2)
    recent(tsv)
    page = logged_in(tsv.operator).get(reverse("telesurveillance_board"))
    html = page.content.decode()
    assert html.index("DORVANE") < html.index("SUIVI0")
    assert "Critique" in html and 'data-teams="' in html
    assert AuditEntry.objects.filter(actor_id=tsv.operator.pk, action="search").count() == 3
    fragment = logged_in(tsv.operator).get(reverse("telesurveillance_board") + "?fragment=1")
    assert b"<h1>" not in fragment.content and b"DORVANE" in fragment.content


def test_board_costs_constant_queries(tsv):
    client = logged_in(tsv.operator)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("telesurveillance_board")).status_code == 200
        return len(ctx)

    count()
    one = count()
    enrol_more(tsv, 4)
    assert count() == one


def test_board_pages_audit_only_the_rows_shown_and_refresh_keeps_the_page(tsv, pages_of_two):
    enrol_more(tsv, 3)  # DORVANE (critical alert first), then SUIVI0..2 by name
    recent(tsv)
    client = logged_in(tsv.operator)
    url = reverse("telesurveillance_board")
    first = client.get(url).content.decode()
    assert "DORVANE" in first and "SUIVI0" in first and "SUIVI1" not in first
    assert "Page 1 sur 2 (4 résultats)" in first and 'href="?page=2"' in first
    assert AuditEntry.objects.filter(actor_id=tsv.operator.pk, action="search").count() == 2
    # The live refresh of page 2 answers page 2's rows, its links open whole pages.
    rows = client.get(url, {"page": "2", "fragment": "1"}).content.decode()
    assert "SUIVI1" in rows and "SUIVI2" in rows and "DORVANE" not in rows
    assert "<h1>" not in rows and 'href="?page=1"' in rows and "fragment" not in rows


def test_patient_page_draws_a_chart_per_measurement_with_its_thresholds(tsv):
    recent(tsv)
    html = (
        logged_in(tsv.operator)
        .get(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
        .content.decode()
    )
    assert html.count('<svg viewBox="0 0 640 240"') == 6  # the six heart-failure measures
    assert 'data-type="spo2"' in html and 'data-threshold="90"' in html
    assert "seuil min 90" in html and 'class="chart-alert"' in html
    assert "appelez le 15" in html
    assert "Prendre en compte" in html and "SC-0001" in html
    assert f"Médecin opérateur : {tsv.team_doctor}" in html
    assert "(tous les jours)" in html
    Enrolment.objects.filter(pk=tsv.enrolment.pk).update(reading_weekdays="1,3,5")
    again = logged_in(tsv.operator).get(
        reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    )
    assert "(lundi, mercredi, vendredi)" in again.content.decode()
    assert AuditEntry.objects.filter(actor_id=tsv.operator.pk, action="read").exists()


def test_prescriber_sees_the_page_without_handling_alerts(tsv):
    recent(tsv)
    html = (
        logged_in(tsv.w.doctor_a)
        .get(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
        .content.decode()
    )
    assert "Saturation" in html and "Prendre en compte" not in html


def form_data(t: TSV, patient: Patient) -> dict:
    """The enrolment form filled in for `patient`, without the information and consents."""
    return {
        "patient": patient.pk,
        "programme": "insuffisance_respiratoire",
        "team": t.care_team.pk,
        "operator": t.team_doctor.pk,
        "prescriber": t.w.doctor_a.pk,
        "prescribed_on": "2026-03-01",
        "exploitant": "RespiHome",
        "devices": "OXY-9001\nOXY-9002",
        "starts_on": "2026-03-02",
        "ends_on": "2026-09-01",
        "reading_start": "08:00",
        "reading_end": "18:00",
        "reading_weekdays": ["1", "2", "3", "4", "5"],
    }


CONSENTS = {"information_given": "on", "act_consent": "on", "data_consent": "on"}


def test_enrolment_form_enrols_and_names_every_missing_item(tsv):
    client = logged_in(tsv.operator)
    form = client.get(reverse("telesurveillance_enrol"))
    assert "Insuffisance rénale chronique" in form.content.decode()
    # The patient is searched as a patient; the operator's only team is already chosen.
    assert 'placeholder="Nom, prénom ou date de naissance (jj/mm/aaaa)…"' in form.content.decode()
    team = form.content.decode().split('name="team"')[1].split("</select>")[0]
    assert f'<option value="{tsv.care_team.pk}" selected>' in team and "-----" not in team
    patient = make_patient(tsv.team, birth_name="NOUVEAU", first_names="Paul")
    data = form_data(tsv, patient)
    refused = client.post(reverse("telesurveillance_enrol"), data).content.decode()
    assert "Le patient doit être informé" in refused
    assert "consentement du patient au traitement de ses données" in refused
    assert not Enrolment.objects.filter(act__patient=patient).exists()
    data |= CONSENTS
    response = client.post(reverse("telesurveillance_enrol"), data)
    created = Enrolment.objects.get(act__patient=patient)
    assert response.url == reverse("telesurveillance_patient", args=[created.pk])
    assert sorted(created.devices.values_list("serial", flat=True)) == ["OXY-9001", "OXY-9002"]
    assert created.act.performing_structure == tsv.team and created.act.requester == tsv.w.doctor_a
    assert created.operator == tsv.team_doctor
    assert list(created.act.performers.all()) == [tsv.team_doctor]
    assert created.act.consent.note == "Télésurveillance"
    assert created.data_consent.note == "Traitement des données de télésurveillance"
    assert created.thresholds == created.programme.thresholds
    again = client.post(reverse("telesurveillance_enrol"), data).content.decode()
    assert "Dispositif déjà attribué : OXY-9001, OXY-9002." in again


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"programme": "inconnu"}, "programme", "Programme inconnu."),
        ({"prescriber_id": 0}, "prescriber", "Le prescripteur doit être un médecin inscrit."),
        ({"operator_id": 0}, "operator", "Le médecin opérateur doit être un médecin inscrit."),
        ({"devices": []}, "devices", "Indiquez au moins un dispositif (numéro de série)."),
        ({"devices": ["a b"]}, "devices", "Numéro de série invalide : a b."),
        ({"devices": ["AB-1", "AB-1"]}, "devices", "Un numéro de série est répété."),
        ({"ends_on": datetime.date(2026, 1, 1)}, "ends_on", "La fin doit suivre le début."),
        (
            {"ends_on": datetime.date(2027, 6, 1)},
            "ends_on",
            "Une prescription couvre au plus 12 mois.",
        ),
        (
            {"reading_start": datetime.time(9), "reading_end": datetime.time(7)},
            "reading_end",
            "La fin des heures de lecture doit suivre leur début.",
        ),
        (
            {"reading_weekdays": [8]},
            "reading_weekdays",
            "Jours de lecture : de 1 (lundi) à 7 (dimanche).",
        ),
        ({"exploitant": " "}, "exploitant", "Indiquez l'exploitant du dispositif."),
        ({"prescribed_on": None}, "prescribed_on", "Indiquez la date de la prescription."),
        ({"starts_on": None}, "starts_on", "Indiquez la date de début."),
        ({"ends_on": None}, "ends_on", "Indiquez la date de fin."),
        (
            {"act_consent": False},
            "act_consent",
            "Le consentement du patient à la télésurveillance manque.",
        ),
    ],
)
def test_enrolment_refuses_bad_input_and_saves_nothing(tsv, overrides, field, message):
    consents = Consent.objects.count()
    new = new_enrolment(tsv.w, tsv.team, tsv.team_doctor, **{"devices": ["NEW-0001"], **overrides})
    with pytest.raises(ValidationError) as exc:
        enrolments.enrol(None, tsv.operator, new)
    assert exc.value.message_dict[field] == [message]
    assert Consent.objects.count() == consents and Enrolment.objects.count() == 1


def operator_choice(client) -> object:
    """The médecin opérateur the enrolment form proposes."""
    return client.get(reverse("telesurveillance_enrol")).context["form"]["operator"].value()


def test_the_form_proposes_the_user_as_operator_when_a_doctor_else_the_teams_only_one(tsv):
    assert operator_choice(logged_in(tsv.operator)) == tsv.team_doctor.pk  # the only doctor
    assert operator_choice(logged_in(tsv.team_doctor)) == tsv.team_doctor.pk
    second = make_user("cardio2@example.test", structure=tsv.team, profession=Profession.DOCTOR)
    assert operator_choice(logged_in(tsv.operator)) is None  # two doctors: the user chooses
    assert operator_choice(logged_in(second)) == second.pk
    html = logged_in(tsv.operator).get(reverse("telesurveillance_enrol")).content.decode()
    assert "Médecin opérateur" in html and "facture le forfait" in html


def test_the_form_refuses_an_operator_who_is_not_a_doctor_of_the_team(tsv):
    # The nurse also belongs to a second team, whose doctor the form lists.
    elsewhere = make_structure("CH de Mayenne — télésurveillance", kind=StructureKind.CH)
    Membership.objects.create(user=tsv.operator, structure=elsewhere)
    other_doctor = make_user(
        "cardio.mayenne@example.test", structure=elsewhere, profession=Profession.DOCTOR
    )
    patient = make_patient(tsv.team, birth_name="NOUVEAU", first_names="Paul")
    data = form_data(tsv, patient) | CONSENTS
    client = logged_in(tsv.operator)
    for operator, message in (
        (tsv.operator, "Choisissez un médecin membre de l'équipe opérateur."),
        (other_doctor, "Le médecin opérateur doit être membre de l'équipe opérateur choisie."),
    ):
        page = client.post(reverse("telesurveillance_enrol"), data | {"operator": operator.pk})
        assert page.context["form"].errors["operator"] == [message]
        assert escape(message) in page.content.decode()
    assert not Enrolment.objects.filter(act__patient=patient).exists()


def test_only_a_member_of_the_team_enrols_a_patient_it_sees(tsv):
    with pytest.raises(Http404):  # not a member of the team
        enrolments.enrol(
            None,
            tsv.other_operator,
            new_enrolment(tsv.w, tsv.team, tsv.team_doctor, devices=["Z-001"]),
        )
    with pytest.raises(Http404):  # patient_b is not visible to the team
        enrolments.enrol(
            None,
            tsv.operator,
            new_enrolment(
                tsv.w, tsv.team, tsv.team_doctor, patient_id=tsv.w.patient_b.pk, devices=["Z-001"]
            ),
        )


def test_the_team_sees_the_enrolled_patient_others_get_404(tsv):
    assert api_client(tsv.operator).get(f"/api/v1/patients/{tsv.w.patient_a.pk}").status_code == 200
    other = api_client(tsv.other_operator)
    assert other.get(f"/api/v1/patients/{tsv.w.patient_a.pk}").status_code == 404


def test_measurements_api_filters_by_type_and_costs_constant_queries(tsv):
    recent(tsv)
    client = api_client(tsv.operator)
    url = f"/api/v1/telesurveillance/patients/{tsv.w.patient_a.pk}/measurements"
    spo2 = client.get(url, {"type": "spo2"}).json()
    assert [m["value"] for m in spo2][:2] == [87.0, 95.0]
    assert {m["device"] for m in spo2} == {"OX-0001"} and spo2[0]["unit"] == "%"
    assert len(client.get(url).json()) == 11
    older = client.get(url, {"type": "spo2", "offset": 1, "limit": 2})
    assert [m["value"] for m in older.json()] == [95.0, 95.0]
    assert older["X-Total-Count"] == str(len(spo2))
    bad = client.get(url, {"type": "tension"})
    assert bad.status_code == 400 and "type" in bad.json()["errors"]
    since = (timezone.now() - datetime.timedelta(days=2, hours=1)).isoformat()
    assert len(client.get(url, {"type": "weight", "since": since}).json()) == 2

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    one = count()
    send(
        tsv,
        *((f"more{i}", "heart_rate", 70, timezone.now()) for i in range(20)),
        now=timezone.now(),
    )
    assert count() == one


def test_reports_download_and_ending_stores_the_final_report(tsv):
    recent(tsv)
    client = logged_in(tsv.operator)
    url = reverse("telesurveillance_report", args=[tsv.enrolment.pk])
    month = client.get(url, {"mois": timezone.now().strftime("%Y-%m")})
    assert month["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(month.content)).pages[0].extract_text()
    assert "bilan de" in text and f"Médecin opérateur\n{tsv.team_doctor.display_name}" in text
    assert client.get(url, {"mois": "2026-13"}).status_code == 404
    refused = client.post(
        reverse("telesurveillance_end", args=[tsv.enrolment.pk]), {"state": "autre"}, follow=True
    )
    assert "État de fin inconnu." in refused.content.decode()
    client.post(reverse("telesurveillance_end", args=[tsv.enrolment.pk]), {"state": "stopped"})
    tsv.enrolment.refresh_from_db()
    tsv.enrolment.act.refresh_from_db()
    assert tsv.enrolment.state == "stopped" and tsv.enrolment.act.status == "done"
    stored = PdfReader(tsv.enrolment.act.report.open("rb")).pages[0].extract_text()
    assert "fin de suivi" in stored and f"Médecin opérateur\n{tsv.team_doctor}" in stored
    assert client.get(url)["Content-Type"] == "application/pdf"


def test_reading_hours_default_to_weekdays(tsv):
    e = enrolments.enrol(
        None,
        tsv.operator,
        new_enrolment(
            tsv.w,
            tsv.team,
            tsv.team_doctor,
            programme="diabete",
            devices=["WK-0001"],
            reading_weekdays=[1, 2, 3, 4, 5],
        ),
    )
    assert e.reading_weekdays == "1,2,3,4,5" and ALWAYS["reading_start"] == e.reading_start


def test_the_end_of_monitoring_report_goes_to_the_prescriber_and_the_patient(
    tsv, django_capture_on_commit_callbacks, mailoutbox
):
    from telesante.notifications.models import Notification

    url = reverse("telesurveillance_end", args=[tsv.enrolment.pk])
    client = logged_in(tsv.operator)
    refused = client.post(url, {"state": "ended", "patient_contact": "pas un contact"}, follow=True)
    assert "Numéro de téléphone invalide" in refused.content.decode()
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.state == "active" and not mailoutbox
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"state": "ended", "patient_contact": "alix.d@example.test"})
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.state == "ended" and tsv.enrolment.act.report
    prescriber = tsv.enrolment.prescriber
    note = Notification.objects.get(user=prescriber, act=tsv.enrolment.act)
    assert note.text == f"Compte rendu de fin de télésurveillance pour {tsv.w.patient_a}"
    assert note.url == reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    to_prescriber = [m for m in mailoutbox if prescriber.email in m.to]
    to_patient = [m for m in mailoutbox if "alix.d@example.test" in m.to]
    assert len(to_prescriber) == 1 and len(to_patient) == 1
    for message in (*to_prescriber, *to_patient):
        text = message.subject + message.body
        assert "DORVANE" not in text and "Alix" not in text and "cardiaque" not in text
    assert "compte rendu de fin de suivi est prêt" in to_patient[0].body
    # The prescriber reads the report through the wall (their own prescription).
    assert logged_in(prescriber).get(note.url).status_code == 200
