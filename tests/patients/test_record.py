"""The patient's page lists the acts the user may see (every kind), their reports, the
monitorings and what the user may do on each: paged, audited, at a constant SQL cost."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.core.models import AuditAction, AuditEntry
from telesante.patients import record
from telesante.teleconsultation import services as tc_services
from telesante.telesurveillance import forfaits
from tests.conftest import logged_in
from tests.rooms.conftest import TC, booking, in_call, tc_world  # noqa: F401
from tests.teleexpertise.conftest import te_world  # noqa: F401
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401


@pytest.fixture
def both(tc_world: TC, tsv: TSV) -> tuple[TC, TSV]:  # noqa: F811
    """patient_a: a téléconsultation booked by nurse_a with the cardiologist, and a monitoring
    by the opérateur team on doctor_a's prescription with its January forfait."""
    forfaits.record(tsv.enrolment, datetime.date(2026, 1, 1))
    return tc_world, tsv


def page_of(user, patient_pk: int, number: int | None = None):
    url = reverse("patient_detail", args=[patient_pk])
    return logged_in(user).get(url, {"page": number} if number else {})


def test_the_requesting_nurse_gets_her_acts_with_room_and_report(both):
    tc_of, _tsv = both
    w, tc = tc_of.w, tc_of.consultation
    done = tc_services.create(None, w.nurse_a, booking(w, tc_of.cardiologist))
    in_call(done, tc_of.cardiologist)
    tc_services.save_report(None, tc_of.cardiologist, done, "RAS", finish=True)
    page = page_of(w.nurse_a, w.patient_a.pk)
    html = page.content.decode()
    assert page.status_code == 200
    rows = {row.act.pk: row for row in page.context["record"].acts}
    # Her two téléconsultations; the monitoring is the opérateur team's and doctor_a's.
    assert set(rows) == {tc.pk, done.pk}
    assert rows[tc.pk].room_url == reverse("room", args=[tc_of.room.slug])
    assert rows[tc.pk].open_url == reverse("teleconsultation_detail", args=[tc.pk])
    assert rows[tc.pk].report_url == "" and rows[done.pk].room_url == ""  # closed
    assert rows[done.pk].report_url == reverse("teleconsultation_report", args=[done.pk])
    assert "Rejoindre la salle" in html and "Compte rendu (PDF)" in html
    assert "Dyspnée d&#x27;effort" in html and "Réalisé" in html and "Planifié" in html
    # What she may start for this patient.
    assert f"{reverse('teleconsultation_create')}?patient={w.patient_a.pk}" in html
    assert f"{reverse('teleexpertise_create')}?patient={w.patient_a.pk}" in html


def test_the_prescriber_sees_the_monitoring_and_no_room_he_is_not_party_to(both):
    tc, monitored = both
    w = tc.w
    page = page_of(w.doctor_a, w.patient_a.pk)
    listed = page.context["record"]
    rows = {row.act.pk: row for row in listed.acts}
    forfait = monitored.enrolment.forfaits.get()
    # doctor_a: member of the EHPAD (its téléconsultation), prescriber of the monitoring.
    assert set(rows) == {tc.consultation.pk, monitored.enrolment.pk, forfait.act_id}
    assert rows[tc.consultation.pk].room_url == ""  # not a party to it
    followed = reverse("telesurveillance_patient", args=[monitored.enrolment.pk])
    assert rows[monitored.enrolment.pk].open_url == followed
    assert rows[monitored.enrolment.pk].summary == monitored.enrolment.programme.name
    assert rows[forfait.act_id].forfait_month == datetime.date(2026, 1, 1)
    assert rows[forfait.act_id].open_url == followed
    [monitoring] = listed.monitorings
    assert monitoring.enrolment.pk == monitored.enrolment.pk and monitoring.open_url == followed
    html = page.content.decode()
    assert "Forfait mensuel de l'opérateur, janvier 2026" in html
    assert "En cours" in html and "Ouvrir le suivi" in html


def test_every_listed_act_is_audited_once(both):
    tc, _monitored = both
    w = tc.w
    page_of(w.doctor_a, w.patient_a.pk)
    entries = AuditEntry.objects.filter(actor_id=w.doctor_a.pk, detail="dossier du patient")
    assert entries.filter(action=AuditAction.SEARCH).count() == 3
    assert set(entries.values_list("patient_id", flat=True)) == {w.patient_a.pk}
    reads = AuditEntry.objects.filter(
        actor_id=w.doctor_a.pk, object_type="patient", action=AuditAction.READ
    )
    assert reads.count() == 1


def test_acts_come_a_page_at_a_time_at_a_constant_cost(both, monkeypatch):
    tc, monitored = both
    w = tc.w
    monkeypatch.setattr(record, "ACTS_PER_PAGE", 5)

    def cost(user) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            page = page_of(user, w.patient_a.pk)
        assert page.status_code == 200
        return len(ctx.captured_queries), len(page.context["record"].acts)

    few = {user.pk: cost(user) for user in (w.nurse_a, w.doctor_a)}
    for _ in range(4):
        tc_services.create(None, w.nurse_a, booking(w, tc.cardiologist))
    for month in (2, 3, 4):
        forfaits.record(monitored.enrolment, datetime.date(2026, month, 1))
    many = {user.pk: cost(user) for user in (w.nurse_a, w.doctor_a)}
    for user in (w.nurse_a, w.doctor_a):
        assert many[user.pk][1] > few[user.pk][1], user
        assert many[user.pk][0] == few[user.pk][0], user
    # doctor_a: five téléconsultations, the monitoring and its four forfaits, newest first.
    first = page_of(w.doctor_a, w.patient_a.pk).context["record"]
    second = page_of(w.doctor_a, w.patient_a.pk, 2).context["record"]
    assert first.page.paginator.count == 10 and second.page.number == 2
    whens = [row.when for row in first.acts + second.acts]
    assert len(whens) == 10 and whens == sorted(whens, reverse=True)
    assert not {r.act.pk for r in first.acts} & {r.act.pk for r in second.acts}
    assert page_of(w.doctor_a, w.patient_a.pk, 99).context["record"].page.number == 2


def test_another_structure_gets_no_page(both):
    tc, _tsv = both
    assert page_of(tc.w.nurse_b, tc.w.patient_a.pk).status_code == 404


def test_a_tele_expertise_opens_on_its_page_with_its_report(te_world):  # noqa: F811
    from tests.teleexpertise.conftest import answered

    te = answered(te_world)
    rows = page_of(te_world.w.nurse_a, te_world.w.patient_a.pk).context["record"].acts
    [row] = rows
    assert row.act.pk == te.pk and row.summary == te.act.filiere.name
    assert row.open_url == reverse("teleexpertise_detail", args=[te.pk])
    assert row.act.report  # the answer's PDF
    assert row.report_url == reverse("teleexpertise_report", args=[te.pk])
    assert row.room_url == ""
