from django_tasks import task

from telesante.teleexpertise import escalation


@task()
def escalate() -> dict[str, int]:
    return escalation.run()
