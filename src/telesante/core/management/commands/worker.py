"""`telesante worker`: runs queued background tasks (django-tasks database backend) and,
every minute, queues the periodic ones (télé-expertise deadlines, téléconsultation reminders,
télésurveillance checks: missing data, waiting alerts, adherence, forfaits; the documents'
outbox, whose failed lines wait out their back-off; the expired sessions). Several workers may
run: each periodic task is idempotent."""

import threading

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from telesante.accounts.tasks import clear_expired_sessions
from telesante.outbox.tasks import send_outbox
from telesante.teleconsultation.tasks import remind
from telesante.teleexpertise.tasks import escalate
from telesante.telesurveillance.tasks import monitor

TICK_SECONDS = 60
PERIODIC = [escalate, remind, monitor, send_outbox, clear_expired_sessions]


class Command(DBWorkerCommand):
    help = (
        "Exécute les tâches de fond (e-mails, relances et escalades des échéances, rappels "
        "des téléconsultations, contrôles de télésurveillance)."
    )

    def handle(self, *args, **options) -> None:
        for periodic in PERIODIC:
            periodic.enqueue()
        if not options.get("batch"):
            stop = threading.Event()
            threading.Thread(target=self._tick, args=(stop,), daemon=True).start()
        super().handle(*args, **options)

    @staticmethod
    def _tick(stop: threading.Event) -> None:
        while not stop.wait(TICK_SECONDS):
            for periodic in PERIODIC:
                periodic.enqueue()
