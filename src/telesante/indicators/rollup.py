"""Rebuilding the monthly roll-up: the dirty months before each computation, or everything."""

import datetime
from collections import Counter

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from telesante.acts.models import Act, ActStatus
from telesante.indicators.models import (
    ActMonth,
    ActorMonth,
    DelayMonth,
    DirtyMonth,
    RegionDelayMonth,
)
from telesante.patients.models import ActKind

# Télésurveillance counts by its months: the opérateur's monthly acts (telesurveillance/
# forfaits.py) are the acts done and billed; the enrolment's act, which frames them (prescription,
# consents, final report), is not counted a second time.
COUNTED = (
    ~Q(status__in=[ActStatus.DRAFT, ActStatus.CANCELLED, ActStatus.NOT_DONE])
    & Q(requested_at__isnull=False)
    & Q(telesurveillance__isnull=True)
)
KEYS = [
    "kind",
    "filiere_id",
    "requesting_structure_id",
    "performing_structure_id",
    "requester__profession",
]


def month_of(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date().replace(day=1)


def _bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    start = datetime.datetime.combine(month, datetime.time.min)
    end = datetime.datetime.combine(following, datetime.time.min)
    return timezone.make_aware(start), timezone.make_aware(end)


def _replace(model, month: datetime.date, rows: list) -> None:
    model.objects.filter(month=month).delete()
    model.objects.bulk_create(rows, batch_size=5000)


def rebuild_month(month: datetime.date) -> int:
    start, end = _bounds(month)
    groups = (
        Act.objects.filter(COUNTED, requested_at__gte=start, requested_at__lt=end)
        .values(*KEYS)
        .annotate(
            done_n=Count("pk", filter=Q(status=ActStatus.DONE)),
            other_n=Count("pk", filter=~Q(status=ActStatus.DONE)),
        )
        .order_by()
    )
    rows = []
    for g in groups:
        for done, n in ((True, g["done_n"]), (False, g["other_n"])):
            if n:
                rows.append(
                    ActMonth(
                        month=month,
                        kind=g["kind"],
                        filiere_id=g["filiere_id"],
                        requesting_structure_id=g["requesting_structure_id"],
                        performing_structure_id=g["performing_structure_id"],
                        profession=g["requester__profession"],
                        done=done,
                        n=n,
                    )
                )
    _replace(ActMonth, month, rows)
    return len(rows) + rebuild_actors(month, start, end) + rebuild_delays(month, start, end)


def rebuild_delays(month: datetime.date, start, end) -> int:
    answered = Act.objects.filter(
        kind=ActKind.TELEEXPERTISE,
        status=ActStatus.DONE,
        requested_at__gte=start,
        requested_at__lt=end,
        done_at__isnull=False,
    ).values_list(
        "requesting_structure_id", "filiere_id", "requester__profession", "requested_at", "done_at"
    )
    counts: Counter = Counter()
    for structure, filiere, profession, asked, done in answered.iterator(chunk_size=5000):
        hours = max(0, round((done - asked).total_seconds() / 3600))
        counts[structure, filiere, profession, hours] += 1
    region: Counter = Counter()
    for (_structure, filiere, profession, hours), n in counts.items():
        region[filiere, profession, hours] += n
    _replace(
        RegionDelayMonth,
        month,
        [
            RegionDelayMonth(month=month, filiere_id=f, profession=p, hours=h, n=n)
            for (f, p, h), n in region.items()
        ],
    )
    _replace(
        DelayMonth,
        month,
        [
            DelayMonth(
                month=month,
                requesting_structure_id=structure,
                filiere_id=filiere,
                profession=profession,
                hours=hours,
                n=n,
            )
            for (structure, filiere, profession, hours), n in counts.items()
        ],
    )
    return len(counts)


def rebuild_actors(month: datetime.date, start, end) -> int:
    acts = Act.objects.filter(COUNTED, requested_at__gte=start, requested_at__lt=end)
    common = ("requesting_structure_id", "kind", "filiere_id")
    seen = set()
    for role in ("requester", "performers"):
        seen.update(
            acts.filter(**{f"{role}__isnull": False})
            .values_list(f"{role}__id", f"{role}__profession", *common)
            .distinct()
            .order_by()
        )
    _replace(
        ActorMonth,
        month,
        [
            ActorMonth(
                month=month,
                user_id=user,
                profession=profession,
                requesting_structure_id=structure,
                kind=kind,
                filiere_id=filiere,
            )
            for user, profession, structure, kind, filiere in seen
        ],
    )
    return len(seen)


def refresh_dirty() -> None:
    """Rebuild the months whose acts changed since the last computation.

    The dirty rows stay locked while their months are rebuilt: a concurrent computation skips
    them (and reads the last committed roll-up), and an act saved meanwhile waits to mark its
    month again (signals.py), so no change is lost and no month is rolled up twice.
    """
    with transaction.atomic():
        months = list(
            DirtyMonth.objects.select_for_update(skip_locked=True).values_list("month", flat=True)
        )
        for month in months:
            rebuild_month(month)
        DirtyMonth.objects.filter(month__in=months).delete()


def refresh_all() -> int:
    """Rebuild every month from the first to the last request (acts loaded in bulk)."""
    span = Act.objects.filter(COUNTED).aggregate(
        first=Min("requested_at"), last=Max("requested_at")
    )
    rows = 0
    with transaction.atomic():
        ActMonth.objects.all().delete()
        ActorMonth.objects.all().delete()
        DelayMonth.objects.all().delete()
        RegionDelayMonth.objects.all().delete()
        DirtyMonth.objects.all().delete()
        if span["first"] is None:
            return 0
        month, last = month_of(span["first"]), month_of(span["last"])
        while month <= last:
            rows += rebuild_month(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
    return rows
