import asyncio
import json
import urllib.error

from django.core.management.base import BaseCommand, CommandError

from telesante.rooms import probe


class Command(BaseCommand):
    help = (
        "Vérifie un déploiement : crée une salle de test par l'API, y fait entrer deux pairs "
        "WebRTC (aiortc) qui s'envoient de la vidéo, affiche une ligne JSON (setup_ms, "
        "frames_a, frames_b, rtt_ms) ; code de sortie non nul si la vidéo ne passe pas."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", required=True, help="ex. https://telesante.example")
        parser.add_argument("--token", required=True, help="jeton d'API d'un professionnel")
        parser.add_argument("--via", help="second processus serveur pour le second pair")
        parser.add_argument("--json", action="store_true", help="sortie JSON seule")

    def handle(self, *args, base_url: str, token: str, via: str | None, **options) -> None:
        try:
            result = asyncio.run(probe.probe(base_url, token, via=via))
        except urllib.error.HTTPError as exc:
            raise CommandError(f"L'API a refusé la salle de test (HTTP {exc.code}).") from exc
        except (OSError, TimeoutError) as exc:
            raise CommandError(f"Serveur injoignable : {exc}") from exc
        line = json.dumps(result.as_dict())
        if not options["json"]:
            verdict = "vidéo reçue dans les deux sens" if result.ok else "la vidéo ne passe pas"
            self.stderr.write(f"probe-call : {verdict}")
        self.stdout.write(line)
        if not result.ok:
            raise SystemExit(1)
