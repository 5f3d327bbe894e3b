"""A patient's thresholds: copied from the programme's defaults at enrolment, changed by the
opérateur team, reset to the defaults. Every change is checked (French messages naming the
rule and the field) and audited rule by rule: who changed which threshold from what to what.
The rules read the new thresholds from the next measurement on (ingest reads them per batch).

A rule is one of:
    {"type": "spo2", "kind": "below" | "above", "value": 90, "severity": 4}
    {"type": "weight", "kind": "rise" | "fall", "value": 2, "days": 3, "severity": 3}
    {"kind": "missing", "hours": 48, "severity": 2}
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telesante.accounts.models import User
from telesante.core import audit, numbers, policy
from telesante.core.actions import Conflict
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction, AuditEntry
from telesante.telesurveillance import catalog
from telesante.telesurveillance.models import Enrolment, EnrolmentState, Severity
from telesante.telesurveillance.rules import rule_key

KINDS = {
    "below": gettext_lazy("Minimum (alerte en dessous)"),
    "above": gettext_lazy("Maximum (alerte au-dessus)"),
    "rise": gettext_lazy("Hausse en N jours"),
    "fall": gettext_lazy("Baisse en N jours"),
    "missing": gettext_lazy("Absence de données"),
}
ABSOLUTE, RELATIVE = ("below", "above"), ("rise", "fall")
MAX_DAYS = 30
MAX_HOURS = 24 * 30
# Audit entries of a threshold change start with this word (history shown on the page).
AUDIT_PREFIX = "seuil"


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def describe(rule: dict) -> str:
    """The rule in French, e.g. « SpO2 : minimum 90 % (critique) »."""
    severity = Severity(rule["severity"]).label.lower()
    if rule["kind"] == "missing":
        return _("Absence de données pendant %(h)s h (%(s)s)") % {"h": rule["hours"], "s": severity}
    kind = catalog.TYPES[rule["type"]]
    values = {"label": kind.label, "v": _fmt(rule["value"]), "u": kind.shown_unit, "s": severity}
    if rule["kind"] in RELATIVE:
        values["d"] = rule["days"]
        text = (
            _("%(label)s : hausse de %(v)s %(u)s en %(d)s jours (%(s)s)")
            if rule["kind"] == "rise"
            else _("%(label)s : baisse de %(v)s %(u)s en %(d)s jours (%(s)s)")
        )
        return text % values
    text = (
        _("%(label)s : minimum %(v)s %(u)s (%(s)s)")
        if rule["kind"] == "below"
        else _("%(label)s : maximum %(v)s %(u)s (%(s)s)")
    )
    return text % values


def _integer(raw, low: int, high: int) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return raw if isinstance(raw, int) and low <= raw <= high else None


def _number(raw) -> float | None:
    """A JSON number, or a number as text the French way (« 3,5 »: the API takes both)."""
    try:
        return numbers.parse(raw)
    except ValueError:
        return None


def _one(raw) -> tuple[dict, dict[str, str]]:
    """One rule, normalised, or its errors by field."""
    if not isinstance(raw, dict):
        return {}, {"__all__": _("Objet JSON attendu.")}
    errors: dict[str, str] = {}
    kind = raw.get("kind")
    if kind not in KINDS:
        errors["kind"] = _("Règle inconnue ; attendu : %(k)s.") % {"k": ", ".join(KINDS)}
    severity = _integer(raw.get("severity"), Severity.LOW, Severity.CRITICAL)
    if severity is None:
        errors["severity"] = _("Gravité de 1 (faible) à 4 (critique).")
    if kind == "missing":
        hours = _integer(raw.get("hours"), 1, MAX_HOURS)
        if hours is None:
            errors["hours"] = _("Durée sans données en heures, de 1 à %(n)s.") % {"n": MAX_HOURS}
        return {"kind": kind, "hours": hours, "severity": severity}, errors
    type_code = raw.get("type")
    measure = catalog.TYPES.get(type_code) if isinstance(type_code, str) else None
    if measure is None:
        errors["type"] = _("Mesure inconnue ; attendu : %(t)s.") % {"t": ", ".join(catalog.TYPES)}
    value = _number(raw.get("value"))
    if value is None:
        errors["value"] = _("Indiquez la valeur du seuil (nombre).")
    elif measure is not None and kind in ABSOLUTE and not measure.low <= value <= measure.high:
        errors["value"] = _("Seuil hors des valeurs possibles (%(lo)s à %(hi)s %(u)s).") % {
            "lo": _fmt(measure.low),
            "hi": _fmt(measure.high),
            "u": measure.shown_unit,
        }
    elif measure is not None and kind in RELATIVE and not 0 < value <= measure.high - measure.low:
        errors["value"] = _("La variation doit être positive (en %(u)s).") % {
            "u": measure.shown_unit
        }
    rule = {"type": type_code, "kind": kind, "value": value, "severity": severity}
    if kind in RELATIVE:
        rule["days"] = _integer(raw.get("days"), 1, MAX_DAYS)
        if rule["days"] is None:
            errors["days"] = _("Nombre de jours de 1 à %(n)s.") % {"n": MAX_DAYS}
    return rule, errors


def check(raw) -> list[dict]:
    """The rules normalised, or a ValidationError keyed `thresholds.<rank>.<field>` (or
    `thresholds` for the list as a whole)."""
    if not isinstance(raw, list):
        raise ValidationError({"thresholds": [_("Liste de seuils attendue.")]})
    errors: dict[str, list[str]] = {}
    rules, seen = [], {}
    for index, item in enumerate(raw):
        rule, problems = _one(item)
        for name, message in problems.items():
            errors[f"thresholds.{index}.{name}"] = [message]
        if problems:
            continue
        key = rule_key(rule)
        if key in seen:
            errors[f"thresholds.{index}.kind"] = [
                _("Même règle que le seuil n° %(n)s : gardez-en une seule.") % {"n": seen[key] + 1}
            ]
            continue
        seen[key] = index
        rules.append(rule)
    for type_code in catalog.TYPES:
        low, high = seen.get(f"{type_code}:below"), seen.get(f"{type_code}:above")
        if low is not None and high is not None and raw[low]["value"] >= raw[high]["value"]:
            errors[f"thresholds.{high}.value"] = [
                _("Le maximum doit dépasser le minimum (%(v)s).") % {"v": _fmt(raw[low]["value"])}
            ]
    if errors:
        raise ValidationError(errors)
    return rules


def changes(old: list[dict], new: list[dict]) -> list[str]:
    """What moved, one line per rule."""
    before = {rule_key(r): r for r in old}
    after = {rule_key(r): r for r in new}
    lines = []
    for key, rule in after.items():
        if key not in before:
            lines.append(_("seuil ajouté : %(r)s") % {"r": describe(rule)})
        elif rule != before[key]:
            lines.append(
                _("seuil modifié : %(a)s → %(b)s")
                % {"a": describe(before[key]), "b": describe(rule)}
            )
    lines += [
        _("seuil retiré : %(r)s") % {"r": describe(rule)}
        for key, rule in before.items()
        if key not in after
    ]
    return lines


def hints(enrolment: Enrolment) -> list[str]:
    """For each of the patient's rules, how it stands against the programme's default."""
    defaults = {rule_key(r): r for r in enrolment.programme.thresholds}
    out = []
    for rule in enrolment.thresholds:
        default = defaults.get(rule_key(rule))
        if default is None:
            out.append(_("Propre à ce patient (absent du programme)."))
        elif default == rule:
            out.append(_("Valeur du programme."))
        else:
            out.append(_("Programme : %(r)s.") % {"r": describe(default)})
    return out


def may_change(user: User, enrolment: Enrolment) -> bool:
    return enrolment.team_id in policy.member_team_ids(user)


def change(
    request: HttpRequest | None, user: User, enrolment: Enrolment, raw, *, note: str = ""
) -> list[str]:
    """Replace the patient's thresholds; what moved, in the user's language (the audit trail
    gets the same lines in French)."""
    if not may_change(user, enrolment):
        raise PermissionDenied(_("Seule l'équipe opérateur modifie les seuils."))
    if enrolment.state != EnrolmentState.ACTIVE:
        raise Conflict(_("Ce suivi est terminé : ses seuils ne changent plus."))
    rules = check(raw)
    with transaction.atomic():
        current = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        lines = changes(current.thresholds, rules)
        if not lines:
            return []
        Enrolment.objects.filter(pk=enrolment.pk).update(thresholds=rules)
        enrolment.thresholds = rules
        with product_language():
            recorded = changes(current.thresholds, rules)
        for line in recorded:
            audit.record(
                request,
                user,
                AuditAction.UPDATE,
                [enrolment],
                detail=f"{line}{note}",
                structure_id=enrolment.team.structure_id,
            )
    return lines


def reset(request: HttpRequest | None, user: User, enrolment: Enrolment) -> list[str]:
    """Back to the programme's defaults."""
    with product_language():
        note = _(" (retour aux seuils du programme)")
    return change(request, user, enrolment, enrolment.programme.thresholds, note=note)


def history(enrolment: Enrolment, limit: int = 20) -> QuerySet[AuditEntry]:
    """The latest threshold changes, from the audit trail."""
    return AuditEntry.objects.filter(
        patient_id=enrolment.patient_id,  # the trail's index
        object_type="enrolment",
        object_id=str(enrolment.pk),
        action=AuditAction.UPDATE,
        detail__startswith=AUDIT_PREFIX,
    )[:limit]
