"""How a guest receives the code of their link: a pluggable backend (`send(to, text)`).

The console backend prints (development, demo); the email backend uses Django's mail settings;
an SMS operator's backend is one more class with the same method, named in
TELESANTE_GUEST_CODE_BACKEND.
"""

import sys

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string


class ConsoleBackend:
    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"[code invité] à {to} : {text}\n")
        sys.stdout.flush()


class EmailBackend:
    def send(self, to: str, text: str) -> None:
        send_mail("Votre code de téléconsultation", text, None, [to])


def backend():
    return import_string(settings.TELESANTE_GUEST_CODE_BACKEND)()
