import datetime

from django.utils import timezone
from django_tasks import task

from telesante.telesurveillance import adherence, alerts, rules


def run(now: datetime.datetime) -> dict[str, int]:
    """Every minute: missing data, alerts that waited for the reading hours, adherence at 1 and
    2 months, last month's forfaits. Idempotent, so several workers may run it."""
    last_month = timezone.localtime(now).date().replace(day=1) - datetime.timedelta(days=1)
    return {
        "missing": len(rules.missing_data(now)),
        "delivered": alerts.deliver_waiting(now),
        "flagged": len(adherence.check(now.date())),
        "forfaits": len(adherence.bill_month(last_month)),
    }


@task()
def monitor() -> dict[str, int]:
    return run(timezone.now())
