"""Threshold rules: absolute (SpO2 below 90 %), relative (weight +2 kg in 3 days) on new
measurements, and missing data (nothing for 48 h) checked by the worker. Every function takes
`now`, so tests control the clock."""

import bisect
import datetime
from collections import defaultdict, deque

from django.db import connection
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils.translation import gettext as _

from telesante.core import audit
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.telesurveillance import catalog, pgfast
from telesante.telesurveillance.models import (
    Alert,
    AlertState,
    Enrolment,
    EnrolmentState,
    Measurement,
)

LIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


def rule_key(rule: dict) -> str:
    return "missing" if rule["kind"] == "missing" else f"{rule['type']}:{rule['kind']}"


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _absolute(row: tuple, rule: dict) -> tuple | None:
    _e, _d, type_code, value, _u, at, _m = row
    crossed = value < rule["value"] if rule["kind"] == "below" else value > rule["value"]
    if not crossed:
        return None
    label = catalog.TYPES[type_code].label
    text = _("%(label)s %(v)s %(u)s, %(word)s (%(t)s)") % {
        "label": label,
        "v": _fmt(value),
        "u": catalog.TYPES[type_code].shown_unit,
        "word": _("inférieure au seuil") if rule["kind"] == "below" else _("supérieure au seuil"),
        "t": _fmt(rule["value"]),
    }
    return value, at, text


def _relative(series: list[tuple], new_rows: list[tuple], rule: dict) -> list[tuple]:
    """Points of the series that changed by the rule's amount within its window, where the
    window holds a new row (late data may reveal a change after the fact). A sliding-window
    minimum (of the value, or of its opposite for a fall) keeps this linear."""
    # Every relative rule has its days (thresholds.py and programmes.json require them).
    window = datetime.timedelta(days=rule["days"])
    rising = rule["kind"] == "rise"
    sign = 1 if rising else -1
    new_times = sorted(r[5] for r in new_rows)
    kind = catalog.TYPES[rule["type"]]
    found = []
    lowest: deque[int] = deque()  # indices of the window, increasing signed values
    left = 0
    for i, (at, value) in enumerate(series):
        while series[left][0] < at - window:
            left += 1
        while lowest and lowest[0] < left:
            lowest.popleft()
        if lowest:
            start = series[lowest[0]][1]
            k = bisect.bisect_left(new_times, at - window)
            touched = k < len(new_times) and new_times[k] <= at
            if touched and sign * (value - start) >= rule["value"]:
                text = _("%(label)s : %(d)s %(u)s en %(n)s jours (de %(a)s à %(b)s)") % {
                    "label": kind.label,
                    "d": ("+" if rising else "−") + _fmt(abs(value - start)),
                    "u": kind.shown_unit,
                    "n": rule["days"],
                    "a": _fmt(start),
                    "b": _fmt(value),
                }
                found.append((value, at, text))
        while lowest and sign * series[lowest[-1]][1] >= sign * value:
            lowest.pop()
        lowest.append(i)
    return found


def _series(rule: dict, rows: list[tuple]) -> dict[int, list[tuple]]:
    """Stored points of the rule's type around the new rows, per enrolment, by time, for the
    enrolments whose values spread by the rule's amount over that span: a change of that
    amount within a window needs it, so the database leaves out the steady majority."""
    window = datetime.timedelta(days=rule["days"])
    enrolments = list({r[0] for r in rows})
    low = min(r[5] for r in rows) - window
    high = max(r[5] for r in rows) + window
    if connection.vendor == "postgresql":  # thousands of enrolments: one bound array
        points = pgfast.rows(
            "SELECT enrolment_id, at, value FROM (SELECT enrolment_id, at, value, "  # noqa: S608
            "max(value) OVER w - min(value) OVER w AS spread "
            f"FROM {Measurement._meta.db_table} "
            "WHERE enrolment_id = ANY(%s) AND type = %s AND at BETWEEN %s AND %s "
            "WINDOW w AS (PARTITION BY enrolment_id)) AS x WHERE spread >= %s ORDER BY at",
            [enrolments, rule["type"], low, high, rule["value"]],
        )
    else:
        around = Measurement.objects.filter(
            enrolment_id__in=enrolments, type=rule["type"], at__gte=low, at__lte=high
        )
        moving = (
            around.values("enrolment_id")
            .annotate(spread=Max("value") - Min("value"))
            .filter(spread__gte=rule["value"])
            .values("enrolment_id")
        )
        points = (
            around.filter(enrolment_id__in=moving)
            .order_by("at")
            .values_list("enrolment_id", "at", "value")
        )
    series: dict[int, list[tuple]] = defaultdict(list)
    for eid, at, value in points:
        series[eid].append((at, value))
    return series


@product_language()
def evaluate(
    rows: list[tuple], thresholds: dict[int, list], patients: dict[int, int], now
) -> list[Alert]:
    """Alerts for newly stored rows (enrolment, device, type, value, unit, at, message id).
    A rule already open for the patient does not open a second alert."""
    if not rows:
        return []
    candidates: dict[tuple[int, str], tuple[int, tuple]] = {}

    def keep(eid: int, rule: dict, found: tuple) -> None:
        key = (eid, rule_key(rule))
        current = candidates.get(key)
        worse = current is None or (
            found[0] < current[1][0]
            if rule["kind"] in ("below", "fall")
            else found[0] > current[1][0]
        )
        if worse:
            candidates[key] = (rule["severity"], found)

    relative: dict[tuple, tuple[dict, list]] = {}
    # Patients mostly share their programme's thresholds (one list object): index each list
    # by measurement type once per call, not each rule for each of thousands of rows.
    indexed: dict[int, dict[str, list[dict]]] = {}
    for row in rows:
        rules = thresholds.get(row[0])
        if not rules:
            continue
        by_type = indexed.get(id(rules))
        if by_type is None:
            by_type = indexed[id(rules)] = defaultdict(list)
            for rule in rules:
                by_type[rule.get("type")].append(rule)
        for rule in by_type.get(row[2], ()):
            if rule["kind"] in ("below", "above"):
                found = _absolute(row, rule)
                if found is not None:
                    keep(row[0], rule, found)
            elif rule["kind"] in ("rise", "fall"):
                key = (rule["type"], rule["kind"], rule["value"], rule["days"])
                relative.setdefault(key, (rule, []))[1].append(row)
    for rule, matching in relative.values():
        series = _series(rule, matching)
        by_enrolment: dict[int, list[tuple]] = defaultdict(list)
        for row in matching:
            by_enrolment[row[0]].append(row)
        for eid, points in series.items():
            for found in _relative(points, by_enrolment[eid], rule):
                keep(eid, rule, found)
    if not candidates:
        return []
    return _open(candidates, patients, now)


def _open(candidates: dict, patients: dict[int, int], now) -> list[Alert]:
    live = set(
        Alert.objects.filter(
            enrolment_id__in={eid for eid, _r in candidates}, state__in=LIVE
        ).values_list("enrolment_id", "rule")
    )
    alerts = [
        Alert(
            enrolment_id=eid,
            patient_id=patients[eid],
            rule=rule,
            severity=severity,
            message=text[:300],
            value=value,
            measured_at=at,
            opened_at=now,
        )
        for (eid, rule), (severity, (value, at, text)) in candidates.items()
        if (eid, rule) not in live
    ]
    Alert.objects.bulk_create(alerts)
    audit.record(None, None, AuditAction.CREATE, alerts, detail="alerte de télésurveillance")
    return alerts


def missing_data(now: datetime.datetime) -> list[Alert]:
    """Active enrolments silent longer than their missing-data rule (48 h by default)."""
    last = Measurement.objects.filter(enrolment=OuterRef("pk")).order_by("-at").values("at")[:1]
    enrolments = (
        Enrolment.objects.filter(state=EnrolmentState.ACTIVE, starts_on__lte=now.date())
        .annotate(last=Subquery(last))
        .values_list("pk", "act__patient_id", "thresholds", "last", "starts_on")
    )
    candidates = {}
    patients = {}
    tz = datetime.UTC
    for eid, pid, thresholds, last_at, starts_on in enrolments:
        for rule in thresholds:
            if rule["kind"] != "missing":
                continue
            since = last_at or datetime.datetime.combine(starts_on, datetime.time(), tzinfo=tz)
            silent = now - since
            if silent >= datetime.timedelta(hours=rule["hours"]):
                hours = int(silent.total_seconds() // 3600)
                text = _("Aucune donnée reçue depuis %(h)s h") % {"h": hours}
                candidates[(eid, "missing")] = (rule["severity"], (None, last_at, text))
                patients[eid] = pid
    return _open(candidates, patients, now) if candidates else []
