import datetime

from django.utils import timezone
from django_tasks import task

from telesante.telesurveillance import adherence, alerts, forfaits, rules


def run(now: datetime.datetime) -> dict[str, int]:
    """Every minute: missing data, alerts that waited for the reading hours, adherence at 1 and
    2 months, the forfait acts of the months over. Idempotent, so several workers may run it."""
    today = timezone.localtime(now).date()
    return {
        "missing": len(rules.missing_data(now)),
        "delivered": alerts.deliver_waiting(now),
        "flagged": len(adherence.check(today)),
        "forfaits": len(forfaits.bill(today)),
    }


@task()
def monitor() -> dict[str, int]:
    return run(timezone.now())
