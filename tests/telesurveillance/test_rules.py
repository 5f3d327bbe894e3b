"""Threshold rules with a controlled clock: absolute, relative, missing data."""

import datetime

from telesante.core.models import AuditEntry
from telesante.telesurveillance import catalog, ingest, rules
from telesante.telesurveillance.models import Alert, AlertState, Enrolment, EnrolmentState
from tests.telesurveillance.conftest import NOW, TSV

DAY = datetime.timedelta(days=1)


def send(t: TSV, *items: tuple, now=NOW) -> ingest.Result:
    """items: (message id, type, value, time)."""
    serial = {"weight": "SC-0001"}
    batch = [
        {
            "id": mid,
            "device": serial.get(ty, "OX-0001"),
            "type": ty,
            "value": v,
            "unit": catalog.TYPES[ty].unit,
            "at": at.isoformat(),
        }
        for mid, ty, v, at in items
    ]
    return ingest.ingest(batch, ingest.Scope(exploitant=t.enrolment.exploitant), now)


def test_spo2_under_90_opens_one_critical_alert_until_resolved(tsv):
    assert send(tsv, ("a", "spo2", 95, NOW)).alerts == 0
    assert send(tsv, ("b", "spo2", 89, NOW), ("c", "spo2", 87, NOW)).alerts == 1
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.value) == ("spo2:below", 4, 87)
    assert alert.message == "Saturation en oxygène (SpO2) 87 %, inférieure au seuil (90)"
    assert alert.patient_id == tsv.w.patient_a.pk and alert.opened_at == NOW
    assert AuditEntry.objects.filter(object_type="alert", action="create").count() == 1
    assert send(tsv, ("d", "spo2", 85, NOW)).alerts == 0  # still open: no second alert
    Alert.objects.update(state=AlertState.RESOLVED)
    assert send(tsv, ("e", "spo2", 86, NOW)).alerts == 1


def test_heart_rate_above_and_below_are_two_rules(tsv):
    result = send(tsv, ("a", "heart_rate", 130, NOW), ("b", "heart_rate", 40, NOW))
    assert result.alerts == 2
    assert set(Alert.objects.values_list("rule", flat=True)) == {
        "heart_rate:above",
        "heart_rate:below",
    }


def test_weight_gain_of_2_kg_within_3_days(tsv):
    send(tsv, ("d1", "weight", 80.0, NOW - 3 * DAY), ("d2", "weight", 81.0, NOW - 2 * DAY))
    assert not Alert.objects.exists()
    assert send(tsv, ("d3", "weight", 82.1, NOW - DAY)).alerts == 1
    alert = Alert.objects.get()
    assert alert.rule == "weight:rise" and alert.severity == 3
    assert alert.message == "Poids : +2,1 kg en 3 jours (de 80 à 82,1)"


def test_a_slow_gain_over_more_than_3_days_does_not_alert(tsv):
    send(tsv, ("d1", "weight", 80.0, NOW - 5 * DAY), ("d2", "weight", 81.0, NOW - 3 * DAY))
    send(tsv, ("d3", "weight", 81.9, NOW - DAY), ("d4", "weight", 82.5, NOW))
    assert not Alert.objects.exists()


def test_late_data_reveal_a_gain_after_the_fact(tsv):
    send(tsv, ("d3", "weight", 82.0, NOW))
    assert not Alert.objects.exists()
    # The reading of two days ago arrives late (the scale was offline).
    assert send(tsv, ("d1", "weight", 79.5, NOW - 2 * DAY)).alerts == 1
    assert Alert.objects.get().value == 82.0


def test_missing_data_after_48_hours(tsv):
    send(tsv, ("a", "weight", 80, NOW))
    assert rules.missing_data(NOW + datetime.timedelta(hours=47)) == []
    opened = rules.missing_data(NOW + datetime.timedelta(hours=49))
    assert len(opened) == 1
    assert opened[0].message == "Aucune donnée reçue depuis 49 h"
    assert opened[0].severity == 2
    assert rules.missing_data(NOW + datetime.timedelta(hours=60)) == []  # still open


def test_missing_data_counts_from_the_start_when_nothing_ever_came(tsv):
    start = datetime.datetime.combine(tsv.enrolment.starts_on, datetime.time(), tzinfo=datetime.UTC)
    assert rules.missing_data(start + datetime.timedelta(hours=47)) == []
    assert len(rules.missing_data(start + datetime.timedelta(hours=48))) == 1


def test_patient_thresholds_override_the_programme(tsv):
    e = tsv.enrolment
    e.thresholds = [t for t in e.thresholds if t.get("type") != "spo2"] + [
        {"type": "spo2", "kind": "below", "value": 92, "severity": 3}
    ]
    e.save()
    assert send(tsv, ("a", "spo2", 91, NOW)).alerts == 1
    assert Alert.objects.get().severity == 3


def _weight_rule(tsv: TSV, **rule) -> None:
    """The patient's weight rules replaced by one relative rule."""
    e = tsv.enrolment
    e.thresholds = [t for t in e.thresholds if t.get("type") != "weight"] + [
        {"type": "weight", "value": 2, "days": 3, "severity": 3, **rule}
    ]
    e.save()


def test_a_change_of_exactly_the_amount_over_exactly_the_window_alerts(tsv):
    assert send(tsv, ("a", "weight", 80.0, NOW - 3 * DAY), ("b", "weight", 82.0, NOW)).alerts == 1
    assert Alert.objects.get().message == "Poids : +2 kg en 3 jours (de 80 à 82)"


def test_a_rise_under_the_amount_within_the_window_does_not_alert(tsv):
    # Over 7 days the weight moves 2.9 kg, within any 3 days at most 1.5 kg.
    send(
        tsv,
        ("a", "weight", 81.0, NOW - 10 * DAY),
        ("b", "weight", 80.0, NOW - 7 * DAY),
        ("c", "weight", 81.5, NOW - 4 * DAY),
        ("d", "weight", 82.9, NOW - DAY),
    )
    assert not Alert.objects.exists()


def test_a_fall_rule_alerts_on_a_loss_and_not_on_a_gain(tsv):
    _weight_rule(tsv, kind="fall")
    send(tsv, ("a", "weight", 80.0, NOW - 3 * DAY), ("b", "weight", 83.0, NOW - 2 * DAY))
    assert not Alert.objects.exists()
    send(tsv, ("c", "weight", 81.5, NOW - DAY))  # 1.5 kg lost: under the amount
    assert not Alert.objects.exists()
    assert send(tsv, ("d", "weight", 80.5, NOW)).alerts == 1
    alert = Alert.objects.get()
    assert (alert.rule, alert.value) == ("weight:fall", 80.5)
    assert alert.message == "Poids : −2,5 kg en 3 jours (de 83 à 80,5)"


def test_the_rules_window_in_days_is_the_patients(tsv):
    _weight_rule(tsv, kind="rise", days=7)
    assert send(tsv, ("a", "weight", 80.0, NOW - 6 * DAY), ("b", "weight", 82.5, NOW)).alerts == 1
    assert Alert.objects.get().message == "Poids : +2,5 kg en 7 jours (de 80 à 82,5)"


def test_a_change_already_seen_is_not_alerted_again_by_a_later_reading(tsv):
    send(tsv, ("a", "weight", 80.0, NOW - 4 * DAY), ("b", "weight", 82.5, NOW - 3.5 * DAY))
    Alert.objects.update(state=AlertState.RESOLVED)
    # The new reading's own window (from 4 days back) holds a 1 kg rise only.
    assert send(tsv, ("c", "weight", 81.0, NOW - DAY)).alerts == 0


def test_the_window_drops_older_readings_one_by_one(tsv):
    # Only the first reading is older than 3 days before the last: the second starts the gain.
    result = send(
        tsv,
        ("a", "weight", 80.0, NOW - 10 * DAY),
        ("b", "weight", 79.0, NOW - 6 * DAY),
        ("c", "weight", 81.0, NOW - 4 * DAY),
    )
    assert result.alerts == 1
    assert Alert.objects.get().message == "Poids : +2 kg en 3 jours (de 79 à 81)"


def test_missing_data_of_active_monitorings_only(tsv):
    # Silent since its start, the ended monitoring raises nothing.
    Enrolment.objects.filter(pk=tsv.enrolment.pk).update(state=EnrolmentState.ENDED)
    assert rules.missing_data(NOW) == []
    Enrolment.objects.filter(pk=tsv.enrolment.pk).update(state=EnrolmentState.ACTIVE)
    assert len(rules.missing_data(NOW)) == 1


# The absolute rule (telesurveillance.rules._absolute) on its own: a value exactly at the
# threshold has not crossed it, whichever way the rule looks.
def reading(type_code: str, value: float) -> tuple:
    """A measurement row as the rules read it: (enrolment, device, type, value, unit, at, id)."""
    return (1, 1, type_code, value, "", NOW, "m")


SPO2_BELOW_90 = {"type": "spo2", "kind": "below", "value": 90, "severity": 4}
PULSE_ABOVE_120 = {"type": "heart_rate", "kind": "above", "value": 120, "severity": 3}


def test_a_value_exactly_at_a_below_threshold_has_not_crossed_it():
    assert rules._absolute(reading("spo2", 90), SPO2_BELOW_90) is None
    assert rules._absolute(reading("spo2", 89.5), SPO2_BELOW_90) == (
        89.5,
        NOW,
        "Saturation en oxygène (SpO2) 89,5 %, inférieure au seuil (90)",
    )


def test_a_value_exactly_at_an_above_threshold_has_not_crossed_it():
    assert rules._absolute(reading("heart_rate", 120), PULSE_ABOVE_120) is None
    assert rules._absolute(reading("heart_rate", 121), PULSE_ABOVE_120) == (
        121,
        NOW,
        "Fréquence cardiaque 121 /min, supérieure au seuil (120)",
    )


def test_an_above_rule_never_fires_on_a_low_value_nor_a_below_rule_on_a_high_one():
    assert rules._absolute(reading("heart_rate", 30), PULSE_ABOVE_120) is None
    assert rules._absolute(reading("spo2", 99), SPO2_BELOW_90) is None


def test_a_change_whose_window_holds_no_new_reading_is_not_reported_again():
    # A late reading of ten days ago arrives; the stored +5 kg between yesterday and today lies
    # in no window of that reading (it was evaluated when it arrived): nothing is reported.
    rule = {"type": "weight", "kind": "rise", "value": 2, "days": 3, "severity": 3}
    series = [(NOW - 10 * DAY, 80.0), (NOW - DAY, 80.0), (NOW, 85.0)]
    late = (1, 1, "weight", 80.0, "kg", NOW - 10 * DAY, "late")
    assert rules._relative(series, [late], rule) == []
    today = (1, 1, "weight", 85.0, "kg", NOW, "today")
    assert rules._relative(series, [today], rule) == [
        (85.0, NOW, "Poids : +5 kg en 3 jours (de 80 à 85)")
    ]
