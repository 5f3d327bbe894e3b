"""Adherence at 1 and 2 months, reports, the worker's checks."""

import datetime
import io

from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from telesante.telesurveillance import adherence, reports, tasks
from telesante.telesurveillance.models import Alert, Enrolment, EnrolmentState
from tests.telesurveillance.conftest import NOW, PARIS, START, TSV
from tests.telesurveillance.test_rules import send

DAY = datetime.timedelta(days=1)


def at(day: int) -> datetime.datetime:
    """Morning of the n-th day of the monitoring (day 0 is the start)."""
    return datetime.datetime.combine(START, datetime.time(8), tzinfo=PARIS) + day * DAY


def daily(t: TSV, days: range, types=("weight", "heart_rate", "spo2")) -> None:
    values = {"weight": 80, "heart_rate": 70, "spo2": 96, "systolic_bp": 120}
    for d in days:
        send(t, *((f"{ty}-{d}", ty, values[ty], at(d)) for ty in types), now=at(d) + DAY)


def test_adherence_counts_one_transmission_a_day_per_expected_type(tsv):
    daily(tsv, range(30))
    month1 = adherence.checkpoint(tsv.enrolment, 1)
    # 6 types expected daily for heart failure; 3 of them sent every day.
    assert (month1.expected, month1.received, month1.percent) == (180, 90, 50)
    send(tsv, ("extra", "weight", 80, at(3) + datetime.timedelta(hours=5)), now=at(4))
    assert adherence.checkpoint(tsv.enrolment, 1).received == 90  # twice a day counts once


def test_under_half_at_one_month_is_flagged(tsv):
    daily(tsv, range(0, 30, 2))
    assert adherence.check(START + 29 * DAY) == []  # the month is not over
    flagged = adherence.check(START + 30 * DAY)
    assert [e.pk for e in flagged] == [tsv.enrolment.pk]
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.adherence_flag == (
        "Observance 25 % au mois 1 (moins de la moitié des transmissions attendues) : suivi à "
        "réévaluer ou arrêter."
    )
    assert adherence.check(START + 61 * DAY) == []  # flagged once


def test_just_under_half_is_flagged_and_half_is_not(tsv):
    # Less than half of the expected data stops or reviews the monitoring (REGULATORY.md):
    # 81 of 180 (45 %) is flagged, 90 of 180 (50 %) is not.
    daily(tsv, range(27))
    assert adherence.checkpoint(tsv.enrolment, 1).percent == 45
    assert [e.pk for e in adherence.check(START + 30 * DAY)] == [tsv.enrolment.pk]
    assert "Observance 45 % au mois 1" in Enrolment.objects.get(pk=tsv.enrolment.pk).adherence_flag


def test_exactly_half_is_not_flagged(tsv):
    daily(tsv, range(30))
    assert adherence.checkpoint(tsv.enrolment, 1).share == 0.5
    assert adherence.check(START + 30 * DAY) == []


def test_only_active_monitorings_are_checked(tsv):
    daily(tsv, range(0, 30, 2))
    Enrolment.objects.filter(pk=tsv.enrolment.pk).update(state=EnrolmentState.ENDED)
    assert adherence.check(START + 30 * DAY) == []


def test_the_second_month_is_checked_too(tsv):
    daily(tsv, range(30), types=("weight", "heart_rate", "spo2", "systolic_bp"))
    assert adherence.check(START + 31 * DAY) == []
    daily(tsv, range(30, 60, 3))
    flagged = adherence.check(START + 60 * DAY)
    assert len(flagged) == 1 and "au mois 2" in flagged[0].adherence_flag


def test_reports_carry_measurements_alerts_adherence_and_the_15_notice(tsv):
    daily(tsv, range(3))
    send(tsv, ("low", "spo2", 85, at(3)), now=at(4))
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(reports.monthly(tsv.enrolment, START))).pages
    )
    assert "bilan de 01/2026" in text
    assert "Saturation en oxygène" in text and "min 85" in text
    assert "Critique" in text
    assert "appelez le 15" in text
    final = PdfReader(io.BytesIO(reports.final(tsv.enrolment))).pages[0].extract_text()
    assert "fin de suivi" in final and "Insuffisance cardiaque" in final


def test_the_worker_tick_runs_every_check(tsv, mailoutbox):
    send(tsv, ("a", "weight", 80, at(0)), now=at(1))
    result = tasks.run(at(40))
    assert result == {"missing": 1, "delivered": 1, "flagged": 1, "forfaits": 1}
    assert Alert.objects.get().rule == "missing"
    assert tasks.run(at(40)) == {"missing": 0, "delivered": 0, "flagged": 0, "forfaits": 0}


def test_device_and_gateway_tokens_from_the_command(tsv):
    out = io.StringIO()
    call_command("create_token", device="OX-0001", stdout=out)
    assert out.getvalue().startswith("dv_")
    call_command("create_token", gateway="CardioSuivi SAS", stdout=out)
    for bad in ({"device": "NOPE"}, {"gateway": "Inconnu"}, {}):
        try:
            call_command("create_token", **bad)
        except CommandError as exc:
            assert str(exc)
        else:
            raise AssertionError(bad)
    assert NOW


def weight_only(t: TSV, per_week: int) -> Enrolment:
    """The enrolment expecting only a weight, `per_week` times a week (in memory)."""
    t.enrolment.programme.measures = [{"type": "weight", "per_week": per_week}]
    return t.enrolment


def test_the_weeks_of_the_weekly_count_start_on_the_first_day(tsv):
    # Days 6 and 7 fall in the first and the second week: two weeks with one weight each.
    daily(tsv, [6, 7], types=("weight",))
    result = adherence.adherence(weight_only(tsv, 1), START, START + 14 * DAY)
    assert (result.expected, result.received) == (2, 2)


def test_readings_beyond_the_weekly_count_do_not_make_up_for_a_missing_week(tsv):
    daily(tsv, [0, 1, 2], types=("weight",))  # three weights in the first week, none after
    result = adherence.adherence(weight_only(tsv, 1), START, START + 14 * DAY)
    assert (result.expected, result.received) == (2, 1)
    result = adherence.adherence(weight_only(tsv, 2), START, START + 14 * DAY)
    assert (result.expected, result.received) == (4, 2)


def test_more_received_than_expected_counts_as_all_expected(tsv):
    # Eight days at once a week: one expected, two weeks began (days 0 and 7).
    daily(tsv, [0, 7], types=("weight",))
    result = adherence.adherence(weight_only(tsv, 1), START, START + 8 * DAY)
    assert (result.expected, result.received, result.share) == (1, 1, 1.0)


def test_adherence_is_clipped_to_the_monitoring_and_empty_outside_it(tsv):
    enrolment = weight_only(tsv, 7)
    daily(tsv, [0, 1], types=("weight",))
    before = adherence.adherence(enrolment, START - 40 * DAY, START - 10 * DAY)
    assert before == adherence.Adherence(START, START, 0, 0)
    assert (before.share, before.percent) == (1.0, 100)
    clipped = adherence.adherence(enrolment, START - 10 * DAY, START + 7 * DAY)
    assert clipped == adherence.Adherence(START, START + 7 * DAY, 7, 2)
    after = enrolment.ends_on + DAY
    assert adherence.adherence(enrolment, after, after + 30 * DAY) == adherence.Adherence(
        after, after, 0, 0
    )


def test_the_check_writes_the_flag_alone(tsv):
    # The worker's check must not write back the rest of an enrolment that a doctor may be
    # ending at the same moment: one UPDATE of the flag only.
    daily(tsv, range(0, 30, 2))
    with CaptureQueriesContext(connection) as queries:
        assert len(adherence.check(START + 30 * DAY)) == 1
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert updates[0].split(" SET ")[1].split(" WHERE ")[0].startswith('"adherence_flag" = ')
    assert '"state"' not in updates[0].split(" WHERE ")[0]
