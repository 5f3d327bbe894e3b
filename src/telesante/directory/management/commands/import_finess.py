from django.core.management.base import BaseCommand

from telesante.directory.importers import import_finess


class Command(BaseCommand):
    help = "Importe l'extraction FINESS (etalab) : structures et sites, sans doublon."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="fichier etalab-cs1100507-stock-*.csv")
        parser.add_argument("--sans-progression", action="store_true", dest="quiet")

    def handle(self, *args, file: str, quiet: bool, **options) -> None:
        summary = import_finess(file, progress=not quiet)
        for line in summary.lines("Structures"):
            self.stdout.write(line)
