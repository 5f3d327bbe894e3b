"""What the patient page shows: a chart per measurement type, alerts, adherence."""

import datetime
from collections import defaultdict

from django.db.models import QuerySet

from telesante.telesurveillance import charts
from telesante.telesurveillance.models import Alert, Enrolment, Measurement

DAYS = 30


def charts_for(enrolment: Enrolment, now: datetime.datetime, days: int = DAYS) -> list:
    start = now - datetime.timedelta(days=days)
    points = defaultdict(list)
    rows = (
        Measurement.objects.filter(enrolment=enrolment, at__gte=start, at__lte=now)
        .order_by("at")
        .values_list("type", "at", "value")
    )
    for type_code, at, value in rows:
        points[type_code].append((at, value))
    types = list(enrolment.expected()) + sorted(set(points) - set(enrolment.expected()))
    return [charts.render(t, points.get(t, []), enrolment.thresholds, start, now) for t in types]


def alerts_of(enrolment: Enrolment) -> QuerySet[Alert]:
    return enrolment.alerts.select_related("acknowledged_by", "resolved_by").order_by(
        "state", "-severity", "-opened_at"
    )
