"""Messages to people without an account (patients, guests): e-mail through Django's mail
settings, SMS through a pluggable backend.

An SMS backend is a class with `send(to, text)`, named in TELESANTE_SMS_BACKEND: the console one
prints (development, demo); an SMS operator's is one more class with the same method. Both ways
go through the task queue after commit, like every e-mail.
"""

import re
import sys

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from telesante.notifications.tasks import send_email, send_sms

FRENCH_NUMBER = re.compile(r"0[1-9][0-9]{8}")
INTERNATIONAL_NUMBER = re.compile(r"\+[1-9][0-9]{7,14}")
FRENCH_E164 = re.compile(r"\+33([1-9][0-9]{8})")


class ConsoleSMSBackend:
    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"[SMS] à {to} : {text}\n")
        sys.stdout.flush()


def sms_backend():
    return import_string(settings.TELESANTE_SMS_BACKEND)()


def clean_email(raw: str) -> str:
    value = raw.strip()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("Adresse e-mail invalide.")) from exc
    return value


def clean_phone(raw: str) -> str:
    """A phone number in international form (+33…); French national numbers (06…) accepted."""
    value = re.sub(r"[\s.\-()]", "", raw)
    if value.startswith("00"):
        value = "+" + value[2:]
    if FRENCH_NUMBER.fullmatch(value):
        value = "+33" + value[1:]
    if not INTERNATIONAL_NUMBER.fullmatch(value):
        raise ValidationError(
            _("Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78).")
        )
    return value


def clean_contact(raw: str) -> str:
    """An e-mail address or a phone number, normalised ("" when none is given)."""
    value = raw.strip()
    if not value:
        return ""
    return clean_email(value) if "@" in value else clean_phone(value)


def send(to: str, subject: str, text: str) -> None:
    """After commit, an e-mail to an address, an SMS to a number (as `clean_contact` gives)."""
    if "@" in to:
        transaction.on_commit(lambda: send_email.enqueue([to], subject, text))
    else:
        transaction.on_commit(lambda: send_sms.enqueue(to, text))
