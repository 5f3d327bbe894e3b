"""Real local servers for the outbox: an SMTP server speaking STARTTLS with its own certificate
(aiosmtpd), and an MHD Document Recipient (a plain HTTP server) that parses the Bundle."""

import base64
import json
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.server import free_port
from tests.tls import self_signed


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: the server's, and the CA the client trusts."""
    return self_signed(tmp_path_factory.mktemp("tls"), "cert.pem", "key.pem")


@dataclass
class Mailbox:
    port: int
    messages: list = field(default_factory=list)
    tls_seen: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.tls_seen.append(session.ssl is not None)
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def smtp_server(settings, tls_files):
    """An SMTP server that requires STARTTLS; settings point the MSSanté backend at it."""
    cert_file, key_file = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    box = Mailbox(port=free_port())
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, tls_context=context, require_starttls=True
    )
    controller.start()
    settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.SMTPBackend"
    settings.TELESANTE_MSSANTE_HOST = "127.0.0.1"
    settings.TELESANTE_MSSANTE_PORT = box.port
    settings.TELESANTE_MSSANTE_CA_FILE = str(cert_file)
    settings.TELESANTE_MSSANTE_IMPLICIT_TLS = False
    settings.TELESANTE_MSSANTE_FROM = "telesante@ght53.mssante.fr"
    yield box
    controller.stop()


@dataclass
class Receiver:
    url: str
    bundles: list = field(default_factory=list)
    # Set to a status code to refuse the next Bundles with an OperationOutcome.
    refuse_with: int | None = None
    tokens: list = field(default_factory=list)


def check_bundle(bundle: dict) -> list[str]:
    """What an ITI-65 Document Recipient checks before it files: the errors (empty when OK)."""
    errors = []
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        errors.append("not a transaction Bundle")
    by_type = {e["resource"]["resourceType"]: e for e in bundle.get("entry", [])}
    if set(by_type) != {"List", "DocumentReference", "Binary"}:
        errors.append(f"entries {sorted(by_type)}")
        return errors
    doc = by_type["DocumentReference"]["resource"]
    if doc["content"][0]["attachment"]["url"] != by_type["Binary"]["fullUrl"]:
        errors.append("DocumentReference does not point at the Binary")
    if (
        by_type["List"]["resource"]["entry"][0]["item"]["reference"]
        != by_type["DocumentReference"]["fullUrl"]
    ):
        errors.append("SubmissionSet does not list the DocumentReference")
    data = base64.b64decode(by_type["Binary"]["resource"]["data"])
    if len(data) != doc["content"][0]["attachment"]["size"]:
        errors.append("size differs")
    return errors


@pytest.fixture
def mhd_receiver(settings):
    """A local MHD Document Recipient; settings point the DMP backend at it."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver.tokens.append(self.headers.get("Authorization", ""))
            bundle = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            errors = check_bundle(bundle)
            if receiver.refuse_with or errors:
                status = receiver.refuse_with or 422
                body = {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "error",
                            "code": "invalid",
                            "diagnostics": "; ".join(errors) or "INS inconnue",
                        }
                    ],
                }
            else:
                receiver.bundles.append(bundle)
                status = 200
                body = {
                    "resourceType": "Bundle",
                    "type": "transaction-response",
                    "entry": [{"response": {"status": "201 Created"}} for _ in bundle["entry"]],
                }
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    settings.TELESANTE_DMP_BACKEND = "telesante.outbox.dmp.MHDBackend"
    settings.TELESANTE_DMP_MHD_URL = receiver.url
    settings.TELESANTE_DMP_MHD_TOKEN = "jeton-de-test"
    yield receiver
    server.shutdown()
    server.server_close()
