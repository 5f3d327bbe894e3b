"""Adherence: the share of the expected transmissions received.

A transmission is a day with a measurement of an expected type, counted at most once a day and
at most `per_week` times a week; adherence under 50 % over the first or the second month flags
the monitoring for review or stop (REGULATORY.md, télésurveillance)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from telesante.telesurveillance.models import Enrolment, EnrolmentState, Measurement

THRESHOLD = 0.5
MONTH_DAYS = 30


@dataclass
class Adherence:
    start: datetime.date
    end: datetime.date  # exclusive
    expected: int
    received: int

    @property
    def share(self) -> float:
        return self.received / self.expected if self.expected else 1.0

    @property
    def percent(self) -> int:
        return round(100 * self.share)


def _days_per_type(enrolment: Enrolment, start: datetime.date, end: datetime.date) -> dict:
    rows = (
        Measurement.objects.filter(
            enrolment=enrolment,
            at__date__gte=start,
            at__date__lt=end,
            type__in=list(enrolment.expected()),
        )
        .annotate(day=TruncDate("at"))
        .values_list("type", "day")
        .distinct()
    )
    days: dict[str, set] = defaultdict(set)
    for type_code, day in rows:
        days[type_code].add(day)
    return days


def adherence(enrolment: Enrolment, start: datetime.date, end: datetime.date) -> Adherence:
    """Over [start, end) clipped to the enrolment's dates."""
    start, end = max(start, enrolment.starts_on), min(end, enrolment.ends_on)
    if end <= start:
        return Adherence(start, start, 0, 0)
    span = (end - start).days
    days = _days_per_type(enrolment, start, end)
    expected = received = 0
    for type_code, per_week in enrolment.expected().items():
        expected += round(per_week * span / 7)
        # Per week, at most `per_week` days count: extra readings do not make up for gaps.
        weeks: dict[int, int] = defaultdict(int)
        for day in days.get(type_code, ()):
            weeks[(day - start).days // 7] += 1
        received += sum(min(n, per_week) for n in weeks.values())
    return Adherence(start, end, expected, min(received, expected))


def checkpoint(enrolment: Enrolment, month: int) -> Adherence:
    start = enrolment.starts_on + datetime.timedelta(days=MONTH_DAYS * (month - 1))
    return adherence(enrolment, start, start + datetime.timedelta(days=MONTH_DAYS))


def checkpoints(enrolment: Enrolment, today: datetime.date) -> list[tuple[int, Adherence]]:
    """The 1- and 2-month checkpoints already reached."""
    done = []
    for month in (1, 2):
        if enrolment.starts_on + datetime.timedelta(days=MONTH_DAYS * month) > today:
            break
        done.append((month, checkpoint(enrolment, month)))
    return done


def check(today: datetime.date) -> list[Enrolment]:
    """At 1 and 2 months: flag active enrolments under half of the expected data."""
    flagged = []
    for enrolment in Enrolment.objects.filter(state=EnrolmentState.ACTIVE, adherence_flag=""):
        for month, result in checkpoints(enrolment, today):
            if result.share < THRESHOLD:
                enrolment.adherence_flag = _(
                    "Observance %(p)s %% au mois %(m)s (moins de la moitié des transmissions "
                    "attendues) : suivi à réévaluer ou arrêter."
                ) % {"p": result.percent, "m": month}
                enrolment.save(update_fields=["adherence_flag"])
                flagged.append(enrolment)
                break
    return flagged


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following
