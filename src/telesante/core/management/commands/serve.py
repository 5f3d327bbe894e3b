import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sert la plateforme (pages, API, WebSockets, fichiers statiques) avec uvicorn."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, host: str, port: int, workers: int, **options) -> None:
        if not (settings.DEBUG or settings.DEMO):
            # Production serves collected, compressed static files (whitenoise).
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
        if not settings.REDIS_URL and workers == 1:
            # One process owns every room: presences left by its last stop are stale.
            from telesante.rooms.services import forget_presences

            forget_presences()
        self.stdout.write(f"Télésanté sur http://{host}:{port}/")
        uvicorn.run(
            "telesante.asgi:application",
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            # The client's address is settled by Django (core.audit.client_ip, from
            # TELESANTE_TRUSTED_PROXIES): uvicorn would believe any local client's header.
            proxy_headers=False,
            # Startup warms the process up before it takes requests (core/warmup.py).
            lifespan="on",
        )
