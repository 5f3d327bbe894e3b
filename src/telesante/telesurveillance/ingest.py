"""The one ingest path for device measurements (HTTP batch API and MQTT bridge).

Items are checked one by one (a bad item is named, the others kept), then inserted in bulk
with the device's message id as the idempotence key (ON CONFLICT DO NOTHING RETURNING: a
resend counts once, and only new rows reach the rules), all in one transaction.
"""

import datetime
import functools
import json
import math
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from telesante.core import bounds
from telesante.core.observability import MEASUREMENTS
from telesante.telesurveillance import catalog, pgfast, rules
from telesante.telesurveillance.alerts import deliver_after_commit
from telesante.telesurveillance.models import Device, EnrolmentState, Measurement

MAX_ITEMS = 10_000
# Device clocks drift; a time further ahead than this is a device error, not late data.
FUTURE_TOLERANCE = datetime.timedelta(minutes=10)
# In French for devices and reports; pages show it translated.
EMERGENCY_NOTICE = gettext_noop(
    "La télésurveillance n'est pas un service d'urgence : en cas d'urgence, appelez le 15."
)
SQLITE_CHUNK = 2000  # 8 parameters a row, under SQLite's 32,766 variables


@dataclass(frozen=True)
class Scope:
    """What a token may send for: one device, or every device of a gateway's exploitant.
    The MQTT bridge is trusted: the broker binds each device to its own topic."""

    serial: str = ""
    exploitant: str = ""
    trusted: bool = False

    def allows(self, serial: str, exploitant: str) -> bool:
        if self.trusted:
            return True
        return serial == self.serial if self.serial else exploitant == self.exploitant


@dataclass
class Result:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)
    alerts: int = 0
    # Rank of each item not stored because already received (the FHIR batch answers 200 for it).
    duplicate_indexes: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "alerts": self.alerts,
            "notice": EMERGENCY_NOTICE,
        }


@dataclass
class _DeviceInfo:
    id: int
    enrolment_id: int
    patient_id: int
    exploitant: str
    active: bool
    earliest: datetime.datetime  # readings before the monitoring started are a clock error
    thresholds: list


def _number(raw) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _time(
    raw, now: datetime.datetime, earliest: datetime.datetime | None
) -> tuple[datetime.datetime | None, str]:
    if not isinstance(raw, str):
        return None, _("Date et heure ISO 8601 attendues (ex. 2026-03-01T08:15:00+01:00).")
    try:
        at = datetime.datetime.fromisoformat(raw)
    except ValueError:
        return None, _("Date et heure ISO 8601 attendues (ex. 2026-03-01T08:15:00+01:00).")
    if at.tzinfo is None:
        return None, _("Fuseau horaire manquant (ex. +01:00 ou Z).")
    if at > now + FUTURE_TOLERANCE:
        return None, _("Date dans le futur : horloge du dispositif à vérifier.")
    if at < (earliest or bounds.EARLIEST):
        return None, _("Date antérieure au début du suivi : horloge du dispositif à vérifier.")
    return at, ""


def _check(item, devices: dict[str, _DeviceInfo], now) -> tuple[tuple, dict]:
    """One item: its row values, or its errors by field (French). `devices` holds only those
    the token may send for; `now` sets the window of acceptable device times."""
    if not isinstance(item, dict):
        return (), {"__all__": [_("Objet JSON attendu.")]}
    errors: dict[str, list[str]] = {}
    message_id = item.get("id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 64 or "\x00" in message_id:
        errors["id"] = [_("Identifiant du message attendu (texte de 1 à 64 caractères).")]
    serial = item.get("device")
    device = devices.get(serial) if isinstance(serial, str) else None
    if device is None:
        errors["device"] = [_("Dispositif inconnu ou non autorisé pour ce jeton.")]
    elif not device.active:
        errors["device"] = [_("Le suivi de ce dispositif est terminé.")]
    kind = catalog.TYPES.get(item.get("type")) if isinstance(item.get("type"), str) else None
    if kind is None:
        errors["type"] = [
            _("Type de mesure inconnu ; attendu : %(t)s.") % {"t": ", ".join(catalog.TYPES)}
        ]
    value = _number(item.get("value"))
    if value is None:
        errors["value"] = [_("Nombre attendu.")]
    unit = item.get("unit")
    if kind is not None and value is not None:
        converted = catalog.canonical(kind.code, value, unit) if isinstance(unit, str) else None
        if converted is None:
            errors["unit"] = [
                _("Unité non acceptée pour %(t)s ; attendu : %(u)s.")
                % {"t": kind.code, "u": ", ".join(catalog.units(kind.code))}
            ]
        elif not kind.low <= converted <= kind.high:
            errors["value"] = [
                _("Valeur hors des limites plausibles (%(lo)s à %(hi)s %(u)s).")
                % {"lo": kind.low, "hi": kind.high, "u": kind.unit}
            ]
        value = converted
    at, problem = _time(item.get("at"), now, device.earliest if device else None)
    if problem:
        errors["at"] = [problem]
    if errors:
        return (), errors
    return (device.enrolment_id, device.id, kind.code, value, kind.unit, at, message_id), {}


@functools.lru_cache(maxsize=4096)
def _rules(text: str) -> list:
    """Thresholds as stored (JSON text), decoded once per distinct text: most patients keep
    their programme's defaults, so a batch holds few distinct texts. Read-only."""
    return json.loads(text)


def _devices(items: list) -> dict[str, _DeviceInfo]:
    serials = {i.get("device") for i in items if isinstance(i, dict)}
    # A NUL byte cannot be stored nor looked up in PostgreSQL text: such a serial is unknown.
    serials = [s for s in serials if isinstance(s, str) and "\x00" not in s]
    if connection.vendor == "postgresql":
        rows = pgfast.devices(serials)
    else:
        rows = (
            Device.objects.filter(serial__in=serials)
            .annotate(rules=Cast("enrolment__thresholds", TextField()))
            .values_list(
                "serial",
                "id",
                "enrolment_id",
                "enrolment__act__patient_id",
                "enrolment__exploitant",
                "enrolment__state",
                "enrolment__starts_on",
                "rules",
            )
        )
    # The window opens the day before the start (a device set up the day before).
    zone = timezone.get_current_timezone()
    return {
        serial: _DeviceInfo(
            did,
            eid,
            pid,
            exploitant,
            state == EnrolmentState.ACTIVE,
            datetime.datetime.combine(start - datetime.timedelta(days=1), datetime.time(), zone),
            _rules(text),
        )
        for serial, did, eid, pid, exploitant, state, start, text in rows
    }


def _insert(rows: list[tuple], received_at: datetime.datetime) -> set[tuple[int, str]]:
    """Insert, skipping (device, message id) already stored; the keys that were skipped."""
    if connection.vendor == "postgresql":
        return pgfast.insert_measurements(rows, received_at)
    table = Measurement._meta.db_table
    columns = "enrolment_id, device_id, type, value, unit, at, received_at, message_id"
    inserted: set[tuple[int, str]] = set()
    with connection.cursor() as cursor:
        # SQLite keeps datetimes as naive UTC text, as the ORM writes them.
        stamp = connection.ops.adapt_datetimefield_value
        received = stamp(received_at)
        for start in range(0, len(rows), SQLITE_CHUNK):
            chunk = rows[start : start + SQLITE_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params = [
                p for e, d, t, v, u, a, m in chunk for p in (e, d, t, v, u, stamp(a), received, m)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
                "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id",
                params,
            )
            inserted.update(cursor.fetchall())
    return {(r[1], r[6]) for r in rows} - inserted


def ingest(
    items, scope: Scope, now: datetime.datetime | None = None, *, deliver: bool = True
) -> Result:
    """Check, store and evaluate a batch of measurements; never raises for bad items.
    `deliver=False` (history loaded in bulk) opens alerts without pushing them."""
    now = now or timezone.now()
    result = Result()
    if not isinstance(items, list):
        result.rejected.append({"index": None, "errors": {"measurements": [_("Liste attendue.")]}})
        return result
    devices = {s: d for s, d in _devices(items).items() if scope.allows(s, d.exploitant)}
    rows: list[tuple] = []
    seen: dict[tuple[int, str], int] = {}  # (device, message id) -> rank in the batch
    for index, item in enumerate(items):
        row, errors = _check(item, devices, now)
        if errors:
            result.rejected.append({"index": index, "errors": errors})
        elif (row[1], row[6]) in seen:
            result.duplicates += 1  # the same message twice in one batch
            result.duplicate_indexes.append(index)
        else:
            seen[(row[1], row[6])] = index
            rows.append(row)
    if not rows:
        return result
    thresholds = {d.enrolment_id: d.thresholds for d in devices.values()}
    patients = {d.enrolment_id: d.patient_id for d in devices.values()}
    with transaction.atomic():
        stored = _insert(rows, now)
        new = [r for r in rows if (r[1], r[6]) not in stored] if stored else rows
        # `stored` may also name rows staged earlier in the same transaction (pgfast's stage
        # is emptied at commit): only this batch's are its duplicates.
        result.duplicate_indexes += [seen[key] for key in stored if key in seen]
        alerts = rules.evaluate(new, thresholds, patients, now)
        if deliver:
            deliver_after_commit(alerts)
    result.accepted = len(new)
    MEASUREMENTS.inc(result.accepted)
    result.duplicates += len(rows) - len(new)
    result.alerts = len(alerts)
    return result
