"""The opérateur's monthly forfait, recorded as an act (REGULATORY.md: the operator bills a
monthly forfait).

Once a month is over, every enrolment active during it gets one act of kind télésurveillance:
the opérateur team and the enrolment's médecin opérateur perform it, the prescriber requests it
(as for the enrolment), and it carries the `TSF` billing code, billed by the médecin opérateur,
with the month's adherence (a month under 50 % is billed with a warning; the 1- and 2-month
checkpoints of adherence.py still flag the monitoring itself). A `Forfait` row links the act
to its enrolment and month; its unique constraint makes a rerun, or two workers at once, create
nothing twice.

An enrolment is active from `starts_on` to `ends_on` (both included), and until the day its
act was closed when it was ended or stopped earlier.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.acts.models import Act, ActStatus, BillingCode
from telesante.patients.models import ActKind
from telesante.telesurveillance import adherence, reports
from telesante.telesurveillance.models import Enrolment, Forfait

CODE = "TSF"
# Months looked back at each run: a prescription covers 12 months at most (enrolment.py), so a
# worker stopped for a while loses no month of any monitoring.
LOOKBACK_MONTHS = 13


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def active_days(enrolment: Enrolment) -> tuple[datetime.date, datetime.date]:
    """First and last day of monitoring (both included)."""
    last = enrolment.ends_on
    if enrolment.act.done_at is not None:
        last = min(last, timezone.localdate(enrolment.act.done_at))
    return enrolment.starts_on, last


def _candidates(first: datetime.date, following: datetime.date):
    """Enrolments active during [first, following) without that month's forfait."""
    return (
        Enrolment.objects.filter(starts_on__lt=following, ends_on__gte=first)
        .filter(Q(act__done_at__isnull=True) | Q(act__done_at__gte=_midnight(first)))
        .exclude(forfaits__month=first)
        .select_related("act")
        .order_by("pk")
    )


def record(enrolment: Enrolment, month: datetime.date) -> Forfait | None:
    """The month's act, its code and its forfait row; None when already recorded (by this run
    or another worker) or when the enrolment was not active that month."""
    first, following = adherence.month_bounds(month)
    start, last = active_days(enrolment)
    start, end = max(start, first), min(last + datetime.timedelta(days=1), following)
    if end <= start:
        return None
    share = adherence.adherence(enrolment, first, following).share
    warnings = []
    if share < adherence.THRESHOLD:
        warnings = [_("Observance du mois sous 50 %% (%(p)s %%).") % {"p": round(100 * share)}]
    source = enrolment.act
    try:
        with transaction.atomic():
            act = Act.objects.create(
                kind=ActKind.TELESURVEILLANCE,
                filiere_id=source.filiere_id,
                patient_id=source.patient_id,
                requester_id=enrolment.prescriber_id,
                requesting_structure_id=source.requesting_structure_id,
                requesting_team_id=source.requesting_team_id,
                performing_team_id=enrolment.team_id,
                status=ActStatus.DONE,
                consent_id=source.consent_id,
                requested_at=_midnight(start),
                done_at=_midnight(end),
            )
            act.performers.add(enrolment.operator_id)
            BillingCode.objects.create(
                act=act, code=CODE, professional_id=enrolment.operator_id, warnings=warnings
            )
            forfait = Forfait.objects.create(
                act=act, enrolment=enrolment, month=first, adherence=share
            )
            reports.attach_monthly(forfait)
            return forfait
    except IntegrityError:
        return None  # another worker recorded this month first: its act stands alone


def bill(today: datetime.date) -> list[Forfait]:
    """Every month over before `today`, within the look-back, for the enrolments active during
    it that have no forfait for it yet (oldest month first)."""
    current = today.replace(day=1)
    months = []
    month = current
    for _n in range(LOOKBACK_MONTHS):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        months.append(month)
    created = []
    for first in reversed(months):
        following = adherence.month_bounds(first)[1]
        for enrolment in _candidates(first, following):
            forfait = record(enrolment, first)
            if forfait is not None:
                created.append(forfait)
    return created


def of(enrolment: Enrolment) -> list[Forfait]:
    """The enrolment's monthly acts with their codes, oldest first (two queries)."""
    return list(
        enrolment.forfaits.select_related("act").prefetch_related(
            "act__billing_codes", "act__deliveries"
        )
    )
