from django.utils import timezone
from django_tasks import task

from telesante.outbox import services


@task()
def send_outbox() -> dict[str, int]:
    """The outbox's lines due now (new ones, and failed ones whose delay is over)."""
    return services.send_due(timezone.now())
