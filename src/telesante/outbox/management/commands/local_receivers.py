"""`telesante local-receivers`: the MSSanté operator and the DMP, stood in on this machine for
the demo (`make demo` starts it before the platform and points the outbox at it)."""

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from telesante.core.tls import self_signed
from telesante.outbox import receivers

# The certificate is made anew at each start; a month outlasts any demo.
CERT_DAYS = 30


class Command(BaseCommand):
    help = (
        "Serveur SMTP local (STARTTLS obligatoire, certificat auto-signé) et destinataire MHD "
        "local (Bundle ITI-65) : la démonstration y envoie les comptes rendus ; chaque courriel "
        "et chaque Bundle reçus sont enregistrés sous le dossier indiqué (mail/, mhd/)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--smtp-port", type=int, default=2525)
        parser.add_argument("--mhd-port", type=int, default=8089)
        parser.add_argument(
            "--folder",
            type=Path,
            default=settings.VAR_DIR / "local-receivers",
            help="dossier des courriels et Bundles reçus, du certificat (ca.pem) et du "
            "fichier « ready » écrit quand les deux serveurs écoutent",
        )

    def handle(
        self, *args, host: str, smtp_port: int, mhd_port: int, folder: Path, **options
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        ready = folder / "ready"
        # Whoever waits for the servers (make demo, the tests) waits for this file.
        ready.unlink(missing_ok=True)
        cert_file, key_file = self_signed(folder, "ca.pem", "key.pem", days=CERT_DAYS)
        filing = receivers.Filing(folder, self.say)
        smtp = receivers.smtp_server(
            receivers.MailHandler(filing.mail), host, smtp_port, cert_file, key_file
        )
        mhd = receivers.DocumentRecipient((host, mhd_port), filing.bundle, filing.refusal)
        smtp.start()
        if threading.current_thread() is threading.main_thread():
            # `make demo` stops it with SIGTERM: close both servers as on Ctrl-C.
            signal.signal(signal.SIGTERM, self._interrupt)
        try:
            self.say(f"SMTP (STARTTLS obligatoire) sur {host}:{smtp_port}, certificat {cert_file}")
            self.say(f"Destinataire MHD (ITI-65) sur {mhd.url}")
            self.say(f"Courriels reçus dans {filing.mail_folder}, Bundles dans {filing.mhd_folder}")
            ready.write_text(f"{host} {smtp_port} {mhd_port}\n")
            mhd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            ready.unlink(missing_ok=True)
            mhd.server_close()
            smtp.stop()
            self.say("Récepteurs locaux arrêtés.")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    @staticmethod
    def _interrupt(*_) -> None:
        raise KeyboardInterrupt
