"""SMS through the HTTP APIs of two French operators, as TELESANTE_SMS_BACKEND classes.

- `OVHcloudSMSBackend`: OVHcloud's API, `POST {url}/sms/{account}/jobs`, each request signed
  with the application secret and the consumer key (X-Ovh-* headers, "$1$" + SHA-1 of the
  secret, the consumer key, the method, the full URL, the body and the timestamp).
- `SMSFactorBackend`: SMSFactor's API, `POST {url}/send` with the token as a Bearer header and
  the message in a JSON body.

Settings (TELESANTE_SMS_*): URL (the API's root, overridable for a test server or another
region), KEY (OVHcloud application key, SMSFactor token), SECRET and CONSUMER_KEY (OVHcloud),
ACCOUNT (OVHcloud SMS service name, "sms-xx11111-1"), SENDER (the sender name the operator
registered), TIMEOUT (seconds). Numbers are normalised from French typing (06 12 34 56 78,
+33 6…, 0033 6…) to E.164. Any failure raises `SMSError` with a French message, so the task
queue records it.
"""

import hashlib
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from telesante.notifications.delivery import clean_phone


class SMSError(Exception):
    """An SMS the operator did not accept (French message)."""


def _setting(name: str) -> str:
    value = getattr(settings, f"TELESANTE_SMS_{name}", "")
    if not value:
        raise ImproperlyConfigured(f"TELESANTE_SMS_{name} is required by the SMS backend.")
    return value


class HTTPSMSBackend:
    """What both operators share: the settings, the JSON POST, its timeout and its errors."""

    operator = ""
    default_url = ""

    def __init__(self) -> None:
        self.url = (settings.TELESANTE_SMS_URL or self.default_url).rstrip("/")
        self.key = _setting("KEY")
        self.sender = _setting("SENDER")
        self.timeout = settings.TELESANTE_SMS_TIMEOUT

    def post(self, url: str, body: dict, headers: dict[str, str]) -> dict:
        data = json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's, from settings)
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise SMSError(
                _("SMS non envoyé : %(operator)s a répondu HTTP %(status)d.")
                % {"operator": self.operator, "status": exc.code}
            ) from exc
        except TimeoutError as exc:  # connected, no answer in time
            raise self.timed_out() from exc
        except (OSError, ValueError) as exc:  # refused, unreachable, not JSON
            raise self.unreachable() from exc

    def timed_out(self) -> SMSError:
        return SMSError(
            _("SMS non envoyé : %(operator)s n'a pas répondu dans les %(s)s secondes.")
            % {"operator": self.operator, "s": self.timeout}
        )

    def unreachable(self) -> SMSError:
        return SMSError(
            _("SMS non envoyé : %(operator)s injoignable ou réponse illisible.")
            % {"operator": self.operator}
        )

    def refused(self, detail: str) -> SMSError:
        return SMSError(
            _("SMS non envoyé : %(operator)s l'a refusé (%(detail)s).")
            % {"operator": self.operator, "detail": detail}
        )


class OVHcloudSMSBackend(HTTPSMSBackend):
    operator = "OVHcloud"
    default_url = "https://eu.api.ovh.com/1.0"

    def __init__(self) -> None:
        super().__init__()
        self.secret = _setting("SECRET")
        self.consumer_key = _setting("CONSUMER_KEY")
        self.account = _setting("ACCOUNT")

    def signature(self, method: str, url: str, body: str, timestamp: str) -> str:
        signed = "+".join([self.secret, self.consumer_key, method, url, body, timestamp])
        return "$1$" + hashlib.sha1(signed.encode()).hexdigest()  # noqa: S324 (OVHcloud's scheme)

    def send(self, to: str, text: str) -> None:
        url = f"{self.url}/sms/{self.account}/jobs"
        body = {
            "message": text,
            "receivers": [clean_phone(to)],
            "sender": self.sender,
            # Messages of care, not marketing: no « STOP » line is added.
            "noStopClause": True,
            "priority": "high",
        }
        # The signature covers the exact bytes sent, so post() re-encodes the same dict the
        # same way (json.dumps is deterministic for a dict built in this order).
        timestamp = str(int(time.time()))
        answer = self.post(
            url,
            body,
            {
                "X-Ovh-Application": self.key,
                "X-Ovh-Consumer": self.consumer_key,
                "X-Ovh-Timestamp": timestamp,
                "X-Ovh-Signature": self.signature("POST", url, json.dumps(body), timestamp),
            },
        )
        if answer.get("invalidReceivers") or not answer.get("validReceivers"):
            raise self.refused(_("numéro refusé"))


class SMSFactorBackend(HTTPSMSBackend):
    operator = "SMSFactor"
    default_url = "https://api.smsfactor.com"

    def send(self, to: str, text: str) -> None:
        body = {
            "sms": {
                "message": {"text": text, "sender": self.sender, "pushtype": "alert"},
                # SMSFactor takes international numbers without the « + ».
                "recipients": {"gsm": [{"value": clean_phone(to).removeprefix("+")}]},
            }
        }
        answer = self.post(f"{self.url}/send", body, {"Authorization": f"Bearer {self.key}"})
        if answer.get("status") != 1:
            raise self.refused(str(answer.get("message") or answer.get("status")))
