"""The opérateur's monthly forfait as an act: one per enrolment and month of monitoring, created
by the worker with a controlled clock, never twice."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from telesante.acts.models import Act, BillingCode
from telesante.indicators import filters
from telesante.indicators.figures import compute
from telesante.patients.models import ActKind
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance import forfaits, tasks
from telesante.telesurveillance.models import Forfait
from tests.conftest import api_client, at_once, logged_in
from tests.telesurveillance.conftest import PARIS, START, TSV, new_enrolment
from tests.telesurveillance.test_monitoring import at, daily

JANUARY, FEBRUARY, MARCH = (datetime.date(2026, m, 1) for m in (1, 2, 3))
DAY = datetime.timedelta(days=1)


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=PARIS)


def test_a_month_over_gets_one_act_with_its_code_and_adherence(tsv: TSV):
    daily(tsv, range(27))  # 5 to 31 January, half of the expected types
    assert forfaits.bill(datetime.date(2026, 1, 31)) == []  # January is not over
    [forfait] = forfaits.bill(datetime.date(2026, 2, 1))
    act = forfait.act
    assert (forfait.enrolment_id, forfait.month, round(forfait.adherence, 2)) == (
        tsv.enrolment.pk,
        JANUARY,
        0.5,
    )
    assert act.kind == ActKind.TELESURVEILLANCE and act.status == "done"
    assert act.performing_structure_id == tsv.team.pk
    assert act.requester_id == tsv.w.doctor_a.pk and act.patient_id == tsv.w.patient_a.pk
    assert act.consent_id == tsv.enrolment.act.consent_id
    # From the first day of monitoring to the end of the month.
    assert (act.requested_at, act.done_at) == (midnight(START), midnight(FEBRUARY))
    # The médecin opérateur performs the month and bills it, not the prescriber (doctor_a).
    assert list(act.performers.all()) == [tsv.team_doctor]
    [code] = act.billing_codes.all()
    assert (code.code, code.professional_id, code.warnings) == ("TSF", tsv.team_doctor.pk, [])
    assert not tsv.enrolment.act.billing_codes.exists()  # the enrolment's act bills nothing
    assert forfaits.bill(datetime.date(2026, 2, 20)) == []  # a rerun creates nothing


def test_a_month_under_half_is_billed_with_a_warning(tsv: TSV):
    daily(tsv, range(27, 40, 3))  # a few days of February
    february = [f for f in forfaits.bill(MARCH) if f.month == FEBRUARY]
    assert len(february) == 1
    warning = february[0].act.billing_codes.get().warnings[0]
    assert warning.startswith("Observance du mois sous 50 %")


def test_the_worker_catches_up_every_month_since_the_start(tsv: TSV):
    created = tasks.run(at(90))["forfaits"]  # 5 April: January, February and March
    assert created == 3
    assert list(Forfait.objects.values_list("month", flat=True)) == [JANUARY, FEBRUARY, MARCH]
    assert tasks.run(at(91))["forfaits"] == 0


def test_no_forfait_before_the_start_nor_after_a_stop(tsv: TSV):
    enrolments.end(None, tsv.operator, tsv.enrolment, "stopped", now=midnight(START) + 40 * DAY)
    created = forfaits.bill(datetime.date(2026, 6, 15))
    assert [f.month for f in created] == [JANUARY, FEBRUARY]  # stopped on 14 February
    assert created[1].act.done_at == midnight(datetime.date(2026, 2, 15))
    later = new_enrolment(
        tsv.w,
        tsv.team,
        tsv.team_doctor,
        devices=["LATE-0001"],
        starts_on=datetime.date(2026, 6, 1),
        ends_on=datetime.date(2026, 9, 1),
    )
    assert forfaits.record(enrolments.enrol(None, tsv.operator, later), JANUARY) is None


def test_a_month_recorded_twice_creates_nothing_the_second_time(tsv: TSV):
    first = forfaits.record(tsv.enrolment, JANUARY)
    acts = Act.objects.count()
    # What a second worker does when it read the same candidates: the constraint refuses it,
    # and its act and code are rolled back with it.
    assert forfaits.record(tsv.enrolment, JANUARY) is None
    assert Act.objects.count() == acts and BillingCode.objects.count() == 1
    assert Forfait.objects.get().pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_bill_each_month_once(tsv: TSV):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite sérialise les écritures : pas de concurrence à éprouver.")
    results = at_once(lambda _n: len(forfaits.bill(datetime.date(2026, 4, 10))), 2)
    assert sum(results) == 3
    assert Forfait.objects.filter(enrolment=tsv.enrolment).count() == 3
    assert Act.objects.filter(kind=ActKind.TELESURVEILLANCE).count() == 4
    assert BillingCode.objects.filter(code="TSF").count() == 3


def test_forfait_acts_are_the_acts_indicators_count(tsv: TSV):
    forfaits.bill(datetime.date(2026, 4, 10))
    summary = compute(filters.parse({"period": "2026"})).summary
    # Three months of monitoring are three acts; the enrolment that frames them is not a fourth.
    assert summary["acts_by_kind"]["telesurveillance"] == 3


def test_the_patient_page_and_the_api_list_the_monthly_acts(tsv: TSV):
    forfaits.bill(MARCH)
    html = (
        logged_in(tsv.operator)
        .get(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
        .content.decode()
    )
    assert "Forfaits mensuels" in html and "01/2026" in html and "02/2026" in html
    body = (
        api_client(tsv.operator)
        .get(f"/api/v1/telesurveillance/enrolments/{tsv.enrolment.pk}")
        .json()
    )
    assert [(f["month"], f["code"]) for f in body["forfaits"]] == [
        ("2026-01-01", "TSF"),
        ("2026-02-01", "TSF"),
    ]
