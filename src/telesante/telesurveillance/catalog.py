"""Measurement types: UCUM units (the canonical one first) and their LOINC codes.

Values are stored in the canonical unit; other accepted units are converted on entry
(glucose in mg/dL becomes mmol/L), so thresholds and charts speak one unit per type.
"""

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MeasureType:
    code: str
    label: str | Promise  # shown in the reader's language
    unit: str  # canonical UCUM unit
    loinc: str  # LOINC code documented for the FHIR facade and exports
    low: float  # plausible range (a value outside is rejected as a device error)
    high: float
    # Other accepted UCUM units and the factor that turns them into the canonical unit.
    other_units: dict[str, float] = field(default_factory=dict)

    @property
    def shown_unit(self) -> str | Promise:
        """The unit as written for people (UCUM `mm[Hg]` is mmHg, `Cel` is °C)."""
        return SHOWN_UNITS.get(self.unit, self.unit)


SHOWN_UNITS = {"mm[Hg]": "mmHg", "Cel": "°C", "{steps}": _("pas"), "{score}": _("points")}


TYPES: dict[str, MeasureType] = {
    t.code: t
    for t in [
        MeasureType("weight", _("Poids"), "kg", "29463-7", 1, 400),
        MeasureType("heart_rate", _("Fréquence cardiaque"), "/min", "8867-4", 10, 300),
        MeasureType(
            "systolic_bp", _("Pression artérielle systolique"), "mm[Hg]", "8480-6", 40, 300
        ),
        MeasureType(
            "diastolic_bp", _("Pression artérielle diastolique"), "mm[Hg]", "8462-4", 20, 200
        ),
        MeasureType("spo2", _("Saturation en oxygène (SpO2)"), "%", "59408-5", 30, 100),
        MeasureType("body_temperature", _("Température"), "Cel", "8310-5", 25, 45),
        MeasureType(
            "glucose",
            _("Glycémie"),
            "mmol/L",
            "15074-8",
            0.5,
            60,
            # 1 mmol/L of glucose = 18.016 mg/dL (LOINC 2339-0 is the mass form).
            other_units={"mg/dL": 1 / 18.016},
        ),
        MeasureType("respiratory_rate", _("Fréquence respiratoire"), "/min", "9279-1", 2, 80),
        MeasureType("steps", _("Nombre de pas"), "{steps}", "55423-8", 0, 200_000),
        # Sum of the answers to the programme's symptom questionnaire (0: no symptom).
        MeasureType(
            "symptom_score", _("Questionnaire de symptômes (score)"), "{score}", "—", 0, 100
        ),
    ]
}


def canonical(type_code: str, value: float, unit: str) -> float | None:
    """The value in the type's canonical unit, or None when the unit is not accepted."""
    kind = TYPES[type_code]
    if unit == kind.unit:
        return value
    factor = kind.other_units.get(unit)
    return None if factor is None else round(value * factor, 3)


def units(type_code: str) -> list[str]:
    kind = TYPES[type_code]
    return [kind.unit, *kind.other_units]
