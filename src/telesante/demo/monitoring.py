"""Demo télésurveillance: patients of the MSP, on its GP's prescription, followed by the CH de
Laval team with its cardiologist as médecin opérateur; devices, 45 days of readings (through the
ingest service, so the rules fire), demo device tokens, and what the worker would have done over
those days: adherence checked at one month, the forfait act of each month over."""

import datetime
import random

from django.utils import timezone

from telesante.accounts.models import User, hash_token
from telesante.patients.models import Patient
from telesante.structures.models import Team
from telesante.telesurveillance import adherence, catalog, forfaits, ingest, rules
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance.models import (
    Alert,
    Device,
    DeviceToken,
    Programme,
)

EXPLOITANT = "CardioSuivi (démonstration)"
HISTORY_DAYS = 45
# (programme, device kinds, scenario): a scenario shapes the readings so that the board shows
# every kind of alert and one adherence problem.
PLAN = [
    ("insuffisance_cardiaque", ("SC", "OX", "TA"), "weight_gain"),
    ("insuffisance_cardiaque", ("SC", "OX", "TA"), "low_spo2"),
    ("insuffisance_cardiaque", ("SC", "OX", "TA"), "steady"),
    ("insuffisance_cardiaque", ("SC", "OX", "TA"), "silent"),
    ("insuffisance_cardiaque", ("SC", "OX", "TA"), "poor_adherence"),
    ("insuffisance_respiratoire", ("OX", "TH"), "steady"),
    ("diabete", ("GL", "PD", "SC"), "high_glucose"),
    ("insuffisance_renale", ("SC", "TA"), "steady"),
]
# Which device sends which measurement type.
SENDS = {
    "SC": ("weight",),
    "OX": ("spo2", "heart_rate", "respiratory_rate"),
    "TA": ("systolic_bp", "diastolic_bp", "symptom_score"),
    "TH": ("body_temperature",),
    "GL": ("glucose",),
    "PD": ("steps",),
}
LABELS = {
    "SC": "Balance connectée",
    "OX": "Oxymètre de pouls",
    "TA": "Tensiomètre et questionnaire",
    "TH": "Thermomètre",
    "GL": "Lecteur de glycémie",
    "PD": "Podomètre",
}
BASE = {
    "weight": 78.0,
    "spo2": 96.0,
    "heart_rate": 72.0,
    "respiratory_rate": 16.0,
    "systolic_bp": 128.0,
    "diastolic_bp": 78.0,
    "symptom_score": 1.0,
    "body_temperature": 36.8,
    "glucose": 7.0,
    "steps": 4500.0,
}


def token_of(serial: str) -> str:
    """Demo device tokens are derived from the serial (demo mode only, printed by
    `demo-accounts`); real tokens are random (`create-token --device`)."""
    return f"dv_demo_{serial}"


def _value(rng: random.Random, kind: str, scenario: str, day: int) -> float:
    noise = {"weight": 0.3, "steps": 900.0, "glucose": 0.8, "body_temperature": 0.2}.get(
        kind, BASE[kind] * 0.02
    )
    value = BASE[kind] + rng.gauss(0, noise)
    last = day >= HISTORY_DAYS - 3
    if scenario == "weight_gain" and kind == "weight" and last:
        value += 1.1 * (day - (HISTORY_DAYS - 4))  # +3.3 kg over the last three days
    if scenario == "low_spo2" and kind == "spo2" and day == HISTORY_DAYS - 1:
        value = 87.0
    if scenario == "high_glucose" and kind == "glucose" and day == HISTORY_DAYS - 2:
        value = 19.4
    decimals = 0 if kind in ("steps", "symptom_score", "spo2", "heart_rate") else 1
    return round(max(value, 0), decimals)


def _readings(rng, serials: dict[str, str], scenario: str, start: datetime.datetime) -> list:
    items = []
    for day in range(HISTORY_DAYS):
        if scenario == "silent" and day >= HISTORY_DAYS - 3:
            break
        if scenario == "poor_adherence" and rng.random() < 0.7:
            continue
        morning = start + datetime.timedelta(days=day, hours=7, minutes=rng.randint(0, 90))
        for prefix, serial in serials.items():
            for kind in SENDS[prefix]:
                items.append(
                    {
                        "id": f"{serial}-{day}-{kind}",
                        "device": serial,
                        "type": kind,
                        "value": _value(rng, kind, scenario, day),
                        "unit": catalog.TYPES[kind].unit,
                        "at": morning.isoformat(),
                    }
                )
    return items


def seed(
    rng: random.Random, team: Team, prescriber: User, operator: User, patients: list[Patient]
) -> None:
    """Enrol `patients` (one per PLAN line) in the team's care under `operator` (a doctor of the
    team), with devices and history."""
    now = timezone.now()
    start_day = timezone.localdate() - datetime.timedelta(days=HISTORY_DAYS)
    start = datetime.datetime.combine(
        start_day, datetime.time(), tzinfo=timezone.get_current_timezone()
    )
    programmes = {p.code: p for p in Programme.objects.all()}
    for n, (patient, (code, kinds, scenario)) in enumerate(zip(patients, PLAN, strict=False)):
        serials = {k: f"DEMO-{k}-{n + 1:03}" for k in kinds}
        enrolment = enrolments.store(
            None,
            operator,
            patient,
            team,
            prescriber,
            operator,
            programmes[code],
            {
                "prescribed_on": start_day - datetime.timedelta(days=2),
                "exploitant": EXPLOITANT,
                "starts_on": start_day,
                "ends_on": start_day + datetime.timedelta(days=180),
                "reading_start": datetime.time(0),
                "reading_end": datetime.time(23, 59, 59),
                "reading_weekdays": "1,2,3,4,5,6,7",
            },
            {s: LABELS[k] for k, s in serials.items()},
        )
        devices = list(enrolment.devices.all())
        DeviceToken.objects.bulk_create(
            DeviceToken(
                device=d, prefix=token_of(d.serial)[:10], digest=hash_token(token_of(d.serial))
            )
            for d in devices
        )
        items = _readings(rng, serials, scenario, start)
        ingest.ingest(items, ingest.Scope(trusted=True), now, deliver=False)
    rules.missing_data(now)
    adherence.check(timezone.localdate())
    forfaits.bill(timezone.localdate())
    # The history is past: its alerts are on the board, not sent again by a worker.
    Alert.objects.filter(enrolment__team=team, delivered_at__isnull=True).update(delivered_at=now)


def devices() -> list[dict]:
    """The demo devices, for `demo-accounts --json`."""
    rows = Device.objects.filter(serial__startswith="DEMO-").select_related(
        "enrolment__act__patient", "enrolment__programme"
    )
    return [
        {
            "serial": d.serial,
            "label": d.label,
            "patient": str(d.enrolment.act.patient),
            "patient_id": d.enrolment.act.patient_id,
            "programme": d.enrolment.programme_id,
            "token": token_of(d.serial),
        }
        for d in rows.order_by("serial")
    ]
