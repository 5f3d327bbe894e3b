import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from telesante.telesurveillance.bridge import CLIENT_ID, Bridge


class Command(BaseCommand):
    help = (
        "Pont MQTT de télésurveillance : reçoit les mesures publiées sur "
        "telesante/v1/devices/{série}/measurements (QoS 1), les enregistre et renvoie les "
        "mesures refusées sur telesante/v1/devices/{série}/rejected."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default=settings.TELESANTE_MQTT_URL, help="mqtt://hôte:port")
        parser.add_argument("--client-id", default=CLIENT_ID)
        parser.add_argument("--prefix", default="", help="préfixe des sujets (tests, essais)")
        parser.add_argument(
            "--idle-exit", type=float, default=None, help="s'arrêter après N s sans message"
        )

    def handle(self, *args, url: str, client_id: str, prefix: str, idle_exit, **options) -> None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        bridge = Bridge(url, prefix=prefix, client_id=client_id)
        self.stdout.write(f"Pont MQTT vers {url} (client {client_id}).")
        try:
            stats = bridge.run(stop, idle_seconds=idle_exit)
        except KeyboardInterrupt:
            stats = bridge.stats
        self.stdout.write(
            f"{stats.messages} messages : {stats.accepted} mesures acceptées, "
            f"{stats.duplicates} doublons, {stats.rejected} refusées."
        )
