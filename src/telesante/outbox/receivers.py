"""The outbox's two recipients, stood in locally: an SMTP server that requires STARTTLS
(aiosmtpd) and an IHE MHD Document Recipient (ITI-65) over HTTP. `telesante local-receivers`
runs both for the demo and files what arrives under a folder; the tests run the same servers in
process and keep what arrives in memory.
"""

import base64
import datetime
import json
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes
    # The server requires STARTTLS; kept so that a test can see the message came encrypted.
    tls: bool

    @property
    def attachments(self) -> list[str]:
        return [part.get_filename() or "" for part in self.message.iter_attachments()]


class MailHandler:
    """aiosmtpd handler: each message, parsed, goes to `file`."""

    def __init__(self, file: Callable[[Mail], None]) -> None:
        self.file = file

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        self.file(
            Mail(
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                message=message_from_bytes(raw, policy=policy.default),
                raw=raw,
                tls=session.ssl is not None,
            )
        )
        return "250 OK"


def smtp_server(
    handler: MailHandler, host: str, port: int, cert_file: Path, key_file: Path
) -> Controller:
    """An SMTP server (not started) that refuses mail until the client has started TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return Controller(handler, hostname=host, port=port, tls_context=context, require_starttls=True)


def check_bundle(bundle: dict) -> list[str]:
    """What an ITI-65 Document Recipient checks before it files: the errors (empty when OK)."""
    try:
        return _bundle_errors(bundle)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        return [f"Bundle mal formé ({type(exc).__name__} : {exc})"]


def _bundle_errors(bundle: dict) -> list[str]:
    errors = []
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        errors.append("ce n'est pas un Bundle de type transaction")
    by_type = {e["resource"]["resourceType"]: e for e in bundle.get("entry", [])}
    if set(by_type) != {"List", "DocumentReference", "Binary"}:
        errors.append(f"entrées attendues List, DocumentReference, Binary : reçu {sorted(by_type)}")
        return errors
    doc = by_type["DocumentReference"]["resource"]
    if doc["content"][0]["attachment"]["url"] != by_type["Binary"]["fullUrl"]:
        errors.append("le DocumentReference ne désigne pas le Binary")
    if (
        by_type["List"]["resource"]["entry"][0]["item"]["reference"]
        != by_type["DocumentReference"]["fullUrl"]
    ):
        errors.append("le lot de soumission (List) ne contient pas le DocumentReference")
    data = base64.b64decode(by_type["Binary"]["resource"]["data"])
    if len(data) != doc["content"][0]["attachment"]["size"]:
        errors.append("la taille déclarée diffère de celle du document")
    return errors


def outcome(diagnostics: str) -> dict:
    """A refusal as FHIR says it."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}],
    }


class _RecipientHandler(BaseHTTPRequestHandler):
    server: "DocumentRecipient"

    def do_POST(self) -> None:
        try:
            bundle = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        except ValueError:
            reason = "Corps de requête illisible : un Bundle JSON est attendu."
            self.server.refused(reason)
            status, body = 400, outcome(reason)
        else:
            status, body = self.server.receive(bundle, self.headers)
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args) -> None:
        # Each Bundle filed or refused is logged by `file` or `refused`; the access log would
        # only repeat it.
        pass


class DocumentRecipient(ThreadingHTTPServer):
    """An MHD Document Recipient: a Bundle POSTed at any path is checked as a real recipient
    would (`check_bundle`), then filed, and answered with a transaction-response; otherwise an
    OperationOutcome saying why (422)."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        file: Callable[[dict], None],
        refused: Callable[[str], None] = lambda reason: None,
    ) -> None:
        super().__init__(address, _RecipientHandler)
        self.file, self.refused = file, refused

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/fhir"

    def receive(self, bundle: dict, headers) -> tuple[int, dict]:
        errors = check_bundle(bundle)
        if errors:
            reason = " ; ".join(errors)
            self.refused(reason)
            return 422, outcome(reason)
        self.file(bundle)
        return 200, {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [{"response": {"status": "201 Created"}} for _ in bundle["entry"]],
        }


class Filing:
    """What `telesante local-receivers` does with what arrives: one file each (mail/*.eml,
    mhd/*.json under its folder) and one log line."""

    def __init__(self, folder: Path, log: Callable[[str], None]) -> None:
        self.mail_folder, self.mhd_folder = folder / "mail", folder / "mhd"
        self.mail_folder.mkdir(parents=True, exist_ok=True)
        self.mhd_folder.mkdir(parents=True, exist_ok=True)
        self.log = log

    @staticmethod
    def _name(suffix: str) -> str:
        # Sorted by arrival, and never the same across restarts.
        now = datetime.datetime.now(datetime.UTC)
        return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.{suffix}"

    def mail(self, mail: Mail) -> None:
        path = self.mail_folder / self._name("eml")
        path.write_bytes(mail.raw)
        self.log(
            f"Courriel reçu{' (TLS)' if mail.tls else ''} de {mail.sender} pour "
            f"{', '.join(mail.recipients)} : « {mail.message['Subject']} » ; pièces jointes : "
            f"{', '.join(mail.attachments) or 'aucune'} → {path}"
        )

    def refusal(self, reason: str) -> None:
        self.log(f"Bundle refusé : {reason}")

    def bundle(self, bundle: dict) -> None:
        path = self.mhd_folder / self._name("json")
        path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
        resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
        document = resources["DocumentReference"]
        self.log(
            f"Bundle ITI-65 reçu : « {document.get('description', '')} », "
            f"{len(bundle['entry'])} entrées ({', '.join(resources)}) → {path}"
        )
