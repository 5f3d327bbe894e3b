from django_tasks import task

from telesante.teleconsultation import booking


@task()
def remind() -> dict[str, int]:
    return booking.send_reminders()
