"""Real local servers for the outbox, the product's own (outbox/receivers.py): an SMTP server
speaking STARTTLS with its own certificate (aiosmtpd), and an MHD Document Recipient that checks
the Bundle; here they keep what arrives in memory."""

import threading
from dataclasses import dataclass, field

import pytest

from telesante.core.tls import self_signed
from telesante.outbox import receivers
from tests.e2e.server import free_port


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: the server's, and the CA the client trusts."""
    return self_signed(tmp_path_factory.mktemp("tls"), "cert.pem", "key.pem")


@dataclass
class Mailbox:
    port: int
    messages: list = field(default_factory=list)
    tls_seen: list = field(default_factory=list)

    def file(self, mail: receivers.Mail) -> None:
        self.tls_seen.append(mail.tls)
        self.messages.append((mail.recipients, mail.message))


@pytest.fixture
def smtp_server(settings, tls_files):
    """An SMTP server that requires STARTTLS; settings point the MSSanté backend at it."""
    box = Mailbox(port=free_port())
    controller = receivers.smtp_server(
        receivers.MailHandler(box.file), "127.0.0.1", box.port, *tls_files
    )
    controller.start()
    settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.SMTPBackend"
    settings.TELESANTE_MSSANTE_HOST = "127.0.0.1"
    settings.TELESANTE_MSSANTE_PORT = box.port
    settings.TELESANTE_MSSANTE_CA_FILE = str(tls_files[0])
    settings.TELESANTE_MSSANTE_IMPLICIT_TLS = False
    settings.TELESANTE_MSSANTE_FROM = "telesante@ght53.mssante.fr"
    yield box
    controller.stop()


class Receiver(receivers.DocumentRecipient):
    """The product's Document Recipient keeping what it files, the tokens it was shown, and
    refusing every Bundle while `refuse_with` holds a status code."""

    def __init__(self) -> None:
        self.bundles: list[dict] = []
        self.tokens: list[str] = []
        self.refuse_with: int | None = None
        super().__init__(("127.0.0.1", 0), self.bundles.append)

    def receive(self, bundle: dict, headers) -> tuple[int, dict]:
        self.tokens.append(headers.get("Authorization", ""))
        if self.refuse_with:
            return self.refuse_with, receivers.outcome("INS inconnue")
        return super().receive(bundle, headers)


@pytest.fixture
def mhd_receiver(settings):
    """A local MHD Document Recipient; settings point the DMP backend at it."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    settings.TELESANTE_DMP_BACKEND = "telesante.outbox.dmp.MHDBackend"
    settings.TELESANTE_DMP_MHD_URL = receiver.url
    settings.TELESANTE_DMP_MHD_TOKEN = "jeton-de-test"
    yield receiver
    receiver.shutdown()
    receiver.server_close()
