from django_tasks import task

from telesante.teleconsultation import reminders


@task()
def remind() -> dict[str, int]:
    return reminders.send_reminders()
