from django.core.mail import send_mail
from django_tasks import task


@task()
def send_email(recipients: list[str], subject: str, body: str) -> int:
    return send_mail(subject, body, None, recipients)
