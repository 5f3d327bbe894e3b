"""`telesante worker`: runs queued background tasks (django-tasks database backend) and,
every minute, queues the deadline escalation and the télésurveillance checks (missing data,
waiting alerts, adherence, forfaits). Several workers may run: escalation is
idempotent."""

import threading

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from telesante.teleexpertise.tasks import escalate
from telesante.telesurveillance.tasks import monitor

TICK_SECONDS = 60


class Command(DBWorkerCommand):
    help = (
        "Exécute les tâches de fond (e-mails, relances, escalades des échéances, "
        "contrôles de télésurveillance)."
    )

    def handle(self, *args, **options) -> None:
        escalate.enqueue()
        monitor.enqueue()
        if not options.get("batch"):
            stop = threading.Event()
            threading.Thread(target=self._tick, args=(stop,), daemon=True).start()
        super().handle(*args, **options)

    @staticmethod
    def _tick(stop: threading.Event) -> None:
        while not stop.wait(TICK_SECONDS):
            escalate.enqueue()
            monitor.enqueue()
