"""`telesante seed-demo`: the demo region (demo mode only); see `telesante.demo.seeding`."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telesante.demo import seeding
from telesante.structures.referential import load_territories


def require_demo_mode() -> None:
    if not settings.DEMO:
        raise CommandError(
            "Cette commande ne fonctionne qu'en mode démonstration (TELESANTE_DEMO=1) : "
            "elle crée des données et des comptes fictifs."
        )


class Command(BaseCommand):
    help = (
        "Charge la région de démonstration (Mayenne, Sarthe et sites de recours) : "
        "structures, professionnels et patients fictifs. Mode démonstration uniquement."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiplie le nombre de patients (mesures de performance ; 50 ≈ 117 000).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=seeding.DEFAULT_SEED,
            help="Graine du tirage (même graine, même région).",
        )

    def handle(self, *args, scale: int, seed: int, verbosity: int, **options) -> None:
        require_demo_mode()
        if scale < 1:
            raise CommandError("--scale doit être un entier supérieur ou égal à 1.")
        progress = verbosity >= 1
        started = time.monotonic()
        load_territories(progress=progress)
        if seeding.is_seeded():
            self.stdout.write("La région de démonstration est déjà chargée : rien à faire.")
            return
        seeding.seed(seed=seed, scale=scale, progress=progress)
        elapsed = f"{time.monotonic() - started:.1f}".replace(".", ",")
        self.stdout.write(
            self.style.SUCCESS(
                f"Région de démonstration chargée en {elapsed} s (graine {seed}, échelle {scale})."
            )
        )
        self.stdout.write(seeding.summary())
        self.stdout.write("Comptes de démonstration : telesante demo-accounts")
