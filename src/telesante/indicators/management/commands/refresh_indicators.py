from django.core.management.base import BaseCommand

from telesante.indicators.rollup import refresh_all


class Command(BaseCommand):
    help = "Reconstruit le cumul mensuel des actes (après un chargement en masse hors ORM)."

    def handle(self, *args, **options) -> None:
        rows = refresh_all()
        self.stdout.write(f"Cumul mensuel reconstruit : {rows} ligne(s).")
