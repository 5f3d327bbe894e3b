"""Per-patient thresholds: checked in French, audited rule by rule, applied from the next
measurement, drawn on the charts, reset to the programme's defaults; the page and its form."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from telesante.core.actions import Conflict
from telesante.core.models import AuditEntry
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance import thresholds
from telesante.telesurveillance.models import Alert, Programme
from tests.conftest import logged_in
from tests.telesurveillance.conftest import NOW, TSV
from tests.telesurveillance.test_pages import recent
from tests.telesurveillance.test_rules import send

SPO2 = {"type": "spo2", "kind": "below", "value": 90, "severity": 4}
WEIGHT = {"type": "weight", "kind": "rise", "value": 2, "days": 3, "severity": 3}
MISSING = {"kind": "missing", "hours": 48, "severity": 2}


def test_every_programme_default_passes_the_checks(tsv: TSV):
    for programme in Programme.objects.all():
        assert thresholds.check(programme.thresholds) == programme.thresholds, programme.code


@pytest.mark.parametrize(
    ("rules", "key", "message"),
    [
        ([{**SPO2, "type": "tension"}], "thresholds.0.type", "Mesure inconnue"),
        ([{**SPO2, "kind": "autour"}], "thresholds.0.kind", "Règle inconnue"),
        ([{**SPO2, "value": 120}], "thresholds.0.value", "Seuil hors des valeurs possibles (30 à"),
        ([{**SPO2, "value": None}], "thresholds.0.value", "Indiquez la valeur du seuil"),
        ([{**SPO2, "severity": 5}], "thresholds.0.severity", "Gravité de 1 (faible) à 4"),
        ([{**WEIGHT, "days": 0}], "thresholds.0.days", "Nombre de jours de 1 à 30."),
        ([{**WEIGHT, "value": -1}], "thresholds.0.value", "La variation doit être positive"),
        ([{**MISSING, "hours": 0}], "thresholds.0.hours", "Durée sans données en heures"),
        (
            [SPO2, MISSING, {**SPO2, "value": 88}],
            "thresholds.2.kind",
            "Même règle que le seuil n° 1",
        ),
        (
            [
                {"type": "heart_rate", "kind": "below", "value": 120, "severity": 3},
                {"type": "heart_rate", "kind": "above", "value": 100, "severity": 3},
            ],
            "thresholds.1.value",
            "Le maximum doit dépasser le minimum (120)",
        ),
        (["spo2 < 90"], "thresholds.0.__all__", "Objet JSON attendu."),
        ({"spo2": 90}, "thresholds", "Liste de seuils attendue."),
    ],
)
def test_bad_rules_are_named_in_french_and_nothing_changes(tsv: TSV, rules, key, message):
    before = tsv.enrolment.thresholds
    with pytest.raises(ValidationError) as exc:
        thresholds.change(None, tsv.operator, tsv.enrolment, rules)
    assert exc.value.message_dict[key][0].startswith(message)
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.thresholds == before
    assert not AuditEntry.objects.filter(detail__startswith="seuil").exists()


def test_a_change_is_audited_rule_by_rule_from_what_to_what(tsv: TSV):
    rules = [{**SPO2, "value": 88}, WEIGHT, {**MISSING, "hours": 24, "severity": 3}]
    lines = thresholds.change(None, tsv.operator, tsv.enrolment, rules)
    assert lines == [
        "seuil modifié : Saturation en oxygène (SpO2) : minimum 90 % (critique) → "
        "Saturation en oxygène (SpO2) : minimum 88 % (critique)",
        "seuil modifié : Absence de données pendant 48 h (modérée) → "
        "Absence de données pendant 24 h (élevée)",
        "seuil retiré : Fréquence cardiaque : maximum 120 /min (élevée)",
        "seuil retiré : Fréquence cardiaque : minimum 45 /min (élevée)",
        "seuil retiré : Pression artérielle systolique : minimum 90 mmHg (élevée)",
        "seuil retiré : Questionnaire de symptômes (score) : maximum 4 points (modérée)",
    ]
    entries = AuditEntry.objects.filter(detail__startswith="seuil").order_by("id")
    assert [e.detail for e in entries] == lines
    assert {(e.actor_id, e.object_type, e.patient_id, e.action) for e in entries} == {
        (tsv.operator.pk, "enrolment", tsv.w.patient_a.pk, "update")
    }
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.thresholds == rules
    assert thresholds.change(None, tsv.operator, tsv.enrolment, rules) == []  # no change
    assert entries.count() == len(lines)


def test_the_new_threshold_applies_from_the_next_measurement(tsv: TSV):
    thresholds.change(None, tsv.operator, tsv.enrolment, [{**SPO2, "value": 85}])
    assert send(tsv, ("a", "spo2", 87, NOW)).alerts == 0
    assert send(tsv, ("b", "spo2", 84, NOW)).alerts == 1
    assert Alert.objects.get().message.endswith("inférieure au seuil (85)")


def test_only_the_operator_team_changes_thresholds(tsv: TSV):
    with pytest.raises(PermissionDenied):
        thresholds.change(None, tsv.w.doctor_a, tsv.enrolment, [SPO2])
    with pytest.raises(PermissionDenied):
        thresholds.reset(None, tsv.w.doctor_a, tsv.enrolment)


def test_an_ended_monitoring_keeps_its_thresholds(tsv: TSV):
    enrolments.end(None, tsv.operator, tsv.enrolment, "ended")
    with pytest.raises(Conflict, match="Ce suivi est terminé"):
        thresholds.change(None, tsv.operator, tsv.enrolment, [SPO2])
    client = logged_in(tsv.operator)
    patient = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    assert "Modifier les seuils" not in client.get(patient).content.decode()
    url = reverse("telesurveillance_thresholds", args=[tsv.enrolment.pk])
    page = client.post(url, form_data(tsv.enrolment.thresholds), follow=True).content.decode()
    assert "ses seuils ne changent plus" in page
    reset = reverse("telesurveillance_thresholds_reset", args=[tsv.enrolment.pk])
    assert "ses seuils ne changent plus" in client.post(reset, follow=True).content.decode()


def form_data(rules: list[dict], extra: dict | None = None, **changes) -> dict:
    """The page's formset posted back: `rules` as its rows, `changes` as "<rank>-<field>"."""
    data = {
        "seuils-TOTAL_FORMS": str(len(rules) + 1),
        "seuils-INITIAL_FORMS": str(len(rules)),
        "seuils-MIN_NUM_FORMS": "0",
        "seuils-MAX_NUM_FORMS": "1000",
    }
    for i, rule in enumerate([*rules, extra or {}]):
        for name in ("type", "kind", "value", "days", "hours", "severity"):
            value = rule.get(name, "")
            data[f"seuils-{i}-{name}"] = str(value).replace(".", ",")
    data.update({f"seuils-{k.replace('_', '-')}": v for k, v in changes.items()})
    return data


def test_the_page_changes_adds_and_removes_thresholds_and_the_charts_draw_them(tsv: TSV):
    recent(tsv)
    client = logged_in(tsv.operator)
    url = reverse("telesurveillance_thresholds", args=[tsv.enrolment.pk])
    page = client.get(url).content.decode()
    assert page.count('<fieldset class="threshold') == len(tsv.enrolment.thresholds) + 1
    assert "Valeur du programme." in page and "Ajouter un seuil" in page
    rules = tsv.enrolment.thresholds
    spo2 = rules.index(SPO2)
    new_rule = {"type": "body_temperature", "kind": "above", "value": 38.5, "severity": 2}
    data = form_data(rules, extra=new_rule, **{f"{spo2}_value": "88,5", "1_DELETE": "on"})
    response = client.post(url, data)
    assert response.url == reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    tsv.enrolment.refresh_from_db()
    assert {**SPO2, "value": 88.5} in tsv.enrolment.thresholds
    assert WEIGHT not in tsv.enrolment.thresholds and new_rule in tsv.enrolment.thresholds
    patient = client.get(response.url).content.decode()
    assert "Seuils enregistrés" in patient and "seuil ajouté : Température" in patient
    assert 'data-threshold="88.5"' in patient and "seuil min 88,5" in patient
    assert 'data-threshold="90"' not in patient
    assert "minimum 88,5 %" in patient  # the list of the patient's thresholds
    again = client.get(url).content.decode()
    assert "Programme : Saturation en oxygène (SpO2) : minimum 90 % (critique)." in again
    assert "Propre à ce patient" in again and "Operateur TEST" in again  # history


def test_the_page_shows_french_errors_on_the_row_and_saves_nothing(tsv: TSV):
    client = logged_in(tsv.operator)
    url = reverse("telesurveillance_thresholds", args=[tsv.enrolment.pk])
    rules = tsv.enrolment.thresholds
    bad = form_data(
        rules, extra={"type": "spo2", "kind": "rise", "severity": 2}, **{"0_value": "150"}
    )
    page = client.post(url, bad).content.decode()
    assert "Seuils non enregistrés" in page
    assert "Seuil hors des valeurs possibles (30 à 100 %)." in page
    assert "Indiquez la valeur du seuil (nombre)." in page
    assert "Nombre de jours de 1 à 30." in page
    assert (
        "Saisissez un nombre (par exemple 3,5)."
        in client.post(url, form_data(rules, **{"0_value": "abc"})).content.decode()
    )
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.thresholds == rules


def test_reset_brings_back_the_programme_defaults(tsv: TSV):
    thresholds.change(None, tsv.operator, tsv.enrolment, [{**SPO2, "value": 85}])
    client = logged_in(tsv.operator)
    reset = reverse("telesurveillance_thresholds_reset", args=[tsv.enrolment.pk])
    page = client.post(reset, follow=True).content.decode()
    assert "Seuils du programme rétablis" in page
    tsv.enrolment.refresh_from_db()
    assert tsv.enrolment.thresholds == tsv.enrolment.programme.thresholds
    assert AuditEntry.objects.filter(
        detail__endswith="(retour aux seuils du programme)", actor_id=tsv.operator.pk
    ).exists()
    again = client.post(reset, follow=True).content.decode()
    assert "Les seuils sont déjà ceux du programme." in again


def test_the_prescriber_reads_the_thresholds_without_the_edit_link(tsv: TSV):
    page = (
        logged_in(tsv.w.doctor_a)
        .get(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
        .content.decode()
    )
    assert "Saturation en oxygène (SpO2) : minimum 90 % (critique)" in page
    assert "Modifier les seuils" not in page
