from django.core.mail import send_mail
from django_tasks import task


@task()
def send_email(recipients: list[str], subject: str, body: str) -> int:
    return send_mail(subject, body, None, recipients)


@task()
def send_sms(to: str, text: str) -> None:
    from telesante.notifications.delivery import sms_backend  # delivery queues this task

    sms_backend().send(to, text)
