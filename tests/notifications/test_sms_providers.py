"""The SMS operators' backends against stand-in HTTP servers on 127.0.0.1 that check each
request as the operator documents it (OVHcloud: the X-Ovh-* signature; SMSFactor: the Bearer
token) and answer as the operator does."""

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from telesante.notifications import delivery
from telesante.notifications.sms_providers import (
    OVHcloudSMSBackend,
    SMSError,
    SMSFactorBackend,
)

AK, AS, CK, ACCOUNT, TOKEN = "ak-test", "as-secret", "ck-consumer", "sms-ab12345-1", "tok-123"


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.received: list[dict] = []
        self.hold = threading.Event()  # cleared: requests wait until it is set (or 30 s)
        self.hold.set()
        self.root = f"http://127.0.0.1:{self.server_port}"


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.hold.wait(30)
        raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.received.append({"path": self.path, "headers": self.headers, "raw": raw})
        self.check(raw)


class OVHcloud(Handler):
    """POST /1.0/sms/{service}/jobs: the signature is "$1$" + SHA-1 of
    AS+CK+METHOD+URL+BODY+TIMESTAMP joined by "+", the timestamp within 5 minutes."""

    def check(self, raw: str) -> None:
        h = self.headers
        url = self.server.root + self.path
        signed = "+".join([AS, h["X-Ovh-Consumer"] or "", "POST", url, raw, h["X-Ovh-Timestamp"]])
        expected = "$1$" + hashlib.sha1(signed.encode()).hexdigest()
        if h["X-Ovh-Application"] != AK or h["X-Ovh-Consumer"] != CK:
            return self.answer(403, {"message": "Invalid application key"})
        if h["X-Ovh-Signature"] != expected or abs(time.time() - int(h["X-Ovh-Timestamp"])) > 300:
            return self.answer(400, {"message": "Invalid signature"})
        if self.path != f"/1.0/sms/{ACCOUNT}/jobs":
            return self.answer(404, {"message": "This service does not exist"})
        body = json.loads(raw)
        valid = [r for r in body["receivers"] if r.startswith(("+336", "+337"))]
        invalid = [r for r in body["receivers"] if r not in valid]
        return self.answer(
            200,
            {
                "ids": [1],
                "validReceivers": valid,
                "invalidReceivers": invalid,
                "totalCreditsRemoved": len(valid),
            },
        )


class SMSFactor(Handler):
    """POST /send with « Authorization: Bearer <token> » and {"sms": {"message", "recipients"}}."""

    def check(self, raw: str) -> None:
        if self.headers["Authorization"] != f"Bearer {TOKEN}":
            return self.answer(401, {"status": -1, "message": "Unauthorized"})
        gsm = json.loads(raw)["sms"]["recipients"]["gsm"]
        if not all(g["value"].startswith(("336", "337")) for g in gsm):
            return self.answer(200, {"status": -7, "message": "Invalid recipient"})
        return self.answer(200, {"status": 1, "message": "OK", "sent": len(gsm), "cost": 1})


def serve(handler) -> StandIn:
    server = StandIn(handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def ovh(settings):
    server = serve(OVHcloud)
    settings.TELESANTE_SMS_BACKEND = "telesante.notifications.sms_providers.OVHcloudSMSBackend"
    settings.TELESANTE_SMS_URL = f"{server.root}/1.0/"
    settings.TELESANTE_SMS_KEY, settings.TELESANTE_SMS_SECRET = AK, AS
    settings.TELESANTE_SMS_CONSUMER_KEY, settings.TELESANTE_SMS_ACCOUNT = CK, ACCOUNT
    settings.TELESANTE_SMS_SENDER = "TELESANTE"
    settings.TELESANTE_SMS_TIMEOUT = 0.5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smsfactor(settings):
    server = serve(SMSFactor)
    settings.TELESANTE_SMS_BACKEND = "telesante.notifications.sms_providers.SMSFactorBackend"
    settings.TELESANTE_SMS_URL = server.root
    settings.TELESANTE_SMS_KEY = TOKEN
    settings.TELESANTE_SMS_SENDER = "TELESANTE"
    settings.TELESANTE_SMS_TIMEOUT = 0.5
    yield server
    server.shutdown()
    server.server_close()


def test_ovhcloud_signs_the_job_and_sends_the_number_in_e164(ovh):
    backend = delivery.sms_backend()
    assert isinstance(backend, OVHcloudSMSBackend)
    backend.send("06 12 34 56 78", "Votre code : 482 913")
    (request,) = ovh.received
    assert request["path"] == f"/1.0/sms/{ACCOUNT}/jobs"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["raw"]) == {
        "message": "Votre code : 482 913",
        "receivers": ["+33612345678"],
        "sender": "TELESANTE",
        "noStopClause": True,
        "priority": "high",
    }


@pytest.mark.parametrize("typed", ["+33 6 12 34 56 78", "0033 6.12.34.56.78", "06-12-34-56-78"])
def test_ovhcloud_takes_the_number_as_a_french_user_types_it(ovh, typed):
    delivery.sms_backend().send(typed, "Rappel")
    assert json.loads(ovh.received[0]["raw"])["receivers"] == ["+33612345678"]


def test_ovhcloud_with_a_wrong_secret_is_a_french_error(ovh, settings):
    settings.TELESANTE_SMS_SECRET = "not-the-secret"
    with pytest.raises(SMSError, match=r"^SMS non envoyé : OVHcloud a répondu HTTP 400\.$"):
        delivery.sms_backend().send("0612345678", "Rappel")


def test_ovhcloud_refusing_the_number_is_a_french_error(ovh):
    with pytest.raises(SMSError, match=r"^SMS non envoyé : OVHcloud l'a refusé \(numéro refusé\)"):
        delivery.sms_backend().send("01 23 45 67 89", "Rappel")  # a landline
    assert len(ovh.received) == 1


def test_smsfactor_sends_with_its_bearer_token_and_the_number_without_plus(smsfactor):
    backend = delivery.sms_backend()
    assert isinstance(backend, SMSFactorBackend)
    backend.send("+33 7 00 11 22 33", "Votre téléconsultation demain à 10 h")
    (request,) = smsfactor.received
    assert request["path"] == "/send"
    assert json.loads(request["raw"]) == {
        "sms": {
            "message": {
                "text": "Votre téléconsultation demain à 10 h",
                "sender": "TELESANTE",
                "pushtype": "alert",
            },
            "recipients": {"gsm": [{"value": "33700112233"}]},
        }
    }


def test_smsfactor_with_a_wrong_token_is_a_french_error(smsfactor, settings):
    settings.TELESANTE_SMS_KEY = "wrong"
    with pytest.raises(SMSError, match=r"^SMS non envoyé : SMSFactor a répondu HTTP 401\.$"):
        delivery.sms_backend().send("0612345678", "Rappel")


def test_smsfactor_refusing_the_number_is_a_french_error(smsfactor):
    with pytest.raises(
        SMSError, match=r"^SMS non envoyé : SMSFactor l'a refusé \(Invalid recipient\)\.$"
    ):
        delivery.sms_backend().send("01 23 45 67 89", "Rappel")


def test_an_operator_slower_than_the_timeout_is_a_french_error(smsfactor, settings):
    settings.TELESANTE_SMS_TIMEOUT = 0.2
    smsfactor.hold.clear()  # the operator keeps the request without answering
    with pytest.raises(
        SMSError, match=r"^SMS non envoyé : SMSFactor n'a pas répondu dans les 0.2 secondes\.$"
    ):
        delivery.sms_backend().send("0612345678", "Rappel")
    # The error came while the operator still held the request, not after its answer.
    assert smsfactor.received == []
    smsfactor.hold.set()


def test_an_unreachable_operator_is_a_french_error(ovh, settings):
    ovh.shutdown()
    ovh.server_close()  # nothing listens on that port any more
    with pytest.raises(SMSError, match=r"^SMS non envoyé : OVHcloud injoignable"):
        delivery.sms_backend().send("0612345678", "Rappel")


def test_a_number_that_is_not_one_is_refused_before_any_request(smsfactor):
    with pytest.raises(ValidationError) as exc:
        delivery.sms_backend().send("06 12 34", "Rappel")
    assert exc.value.messages == [
        "Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
    ]
    assert smsfactor.received == []


@pytest.mark.parametrize("missing", ["KEY", "SECRET", "CONSUMER_KEY", "ACCOUNT", "SENDER"])
def test_each_ovhcloud_setting_is_required(ovh, settings, missing):
    setattr(settings, f"TELESANTE_SMS_{missing}", "")
    with pytest.raises(ImproperlyConfigured, match=f"TELESANTE_SMS_{missing}"):
        delivery.sms_backend()


def test_the_operators_own_address_when_no_url_is_set(settings):
    settings.TELESANTE_SMS_URL = ""
    settings.TELESANTE_SMS_KEY = settings.TELESANTE_SMS_SENDER = "x"
    assert SMSFactorBackend().url == "https://api.smsfactor.com"
