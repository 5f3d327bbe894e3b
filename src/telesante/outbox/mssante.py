"""MSSanté: the report as an e-mail (PDF, CDA, IHE_XDM.ZIP) over SMTP with TLS to the
structure's MSSanté operator; a file backend for development and the demo."""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from django.conf import settings

from telesante.outbox.services import DeliveryError, Package
from telesante.outbox.xdm import archive


def subject(package: Package) -> str:
    """The MSSanté convention for a document with its XDM archive:
    `XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>`."""
    patient = package.act.patient
    return (
        f"XDM/1.0/DDM+{package.entry.title} {patient.birth_name.upper()} "
        f"{patient.first_first_name} {patient.birth_date:%d/%m/%Y}"
    )


def message(line, package: Package) -> EmailMessage:
    act = package.act
    msg = EmailMessage()
    msg["From"] = settings.TELESANTE_MSSANTE_FROM
    msg["To"] = line.recipient
    msg["Subject"] = subject(package)
    msg["Date"] = formatdate(localtime=True)
    # One id per line: a receiving box that sees it twice (a resend after a crash) keeps one.
    msg["Message-ID"] = f"<outbox-{line.pk}@{settings.TELESANTE_MSSANTE_FROM.rpartition('@')[2]}>"
    msg.set_content(
        f"{package.entry.title} (acte n° {act.pk}).\n"
        "Document joint en PDF, au format CDA R2 et dans l'archive IHE_XDM.ZIP.\n"
        "Message envoyé par la plateforme régionale de télésanté.\n"
    )
    name = f"compte-rendu-{act.pk}"
    msg.add_attachment(package.pdf, maintype="application", subtype="pdf", filename=f"{name}.pdf")
    msg.add_attachment(
        package.document, maintype="application", subtype="xml", filename=f"{name}.xml"
    )
    msg.add_attachment(
        archive(package.entry, package.document),
        maintype="application",
        subtype="zip",
        filename="IHE_XDM.ZIP",
    )
    return msg


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.TELESANTE_MSSANTE_CA_FILE or None)
    if settings.TELESANTE_MSSANTE_CERT_FILE:
        context.load_cert_chain(
            settings.TELESANTE_MSSANTE_CERT_FILE, settings.TELESANTE_MSSANTE_KEY_FILE or None
        )
    return context


class SMTPBackend:
    """SMTP to the operator, always encrypted: STARTTLS (refused if the server does not offer
    it) or TLS from the first byte; the server's certificate is checked."""

    def send(self, line, package: Package) -> None:
        host, port = settings.TELESANTE_MSSANTE_HOST, settings.TELESANTE_MSSANTE_PORT
        try:
            if settings.TELESANTE_MSSANTE_IMPLICIT_TLS:
                smtp = smtplib.SMTP_SSL(host, port, timeout=30, context=tls_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=30)
                smtp.starttls(context=tls_context())
            with smtp:
                if settings.TELESANTE_MSSANTE_USER:
                    smtp.login(settings.TELESANTE_MSSANTE_USER, settings.TELESANTE_MSSANTE_PASSWORD)
                smtp.send_message(message(line, package))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"Adresse refusée par l'opérateur MSSanté : {exc.recipients}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                "Le serveur MSSanté n'offre pas de chiffrement (STARTTLS)."
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"Serveur MSSanté {host}:{port} : {exc}") from exc


class FileBackend:
    """Development and demo: each message as an .eml file under TELESANTE_OUTBOX_DIR/mssante."""

    def send(self, line, package: Package) -> None:
        folder = settings.TELESANTE_OUTBOX_DIR / "mssante"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"envoi-{line.pk}.eml").write_bytes(bytes(message(line, package)))
