import time

from django.core.management.base import BaseCommand

from telesante.structures.referential import load_territories


class Command(BaseCommand):
    help = (
        "Charge (ou met à jour) les régions, départements, communes et pays du référentiel "
        "INSEE livré avec l'application. Sans effet de bord : peut être relancé."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="N'affiche ni barre de progression ni résumé."
        )

    def handle(self, *args, quiet: bool = False, **options) -> None:
        quiet = quiet or options.get("verbosity") == 0
        started = time.monotonic()
        counts = load_territories(progress=not quiet)
        if quiet:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Territoires chargés : {counts['regions']} régions, "
                f"{counts['departements']} départements, {counts['communes']} communes, "
                f"{counts['countries']} pays ({time.monotonic() - started:.1f} s)."
            )
        )
