from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from telesante.directory.importers import import_rpps


class Command(BaseCommand):
    help = (
        "Importe l'extraction PS_LibreAcces (Annuaire Santé) : professionnels et lieux, puis "
        "met à jour les comptes (profession, spécialité, sites) et signale les RPPS absents."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="fichier PS_LibreAcces_Personne_activite_*.txt")
        parser.add_argument("--sans-progression", action="store_true", dest="quiet")

    def handle(self, *args, file: str, quiet: bool, **options) -> None:
        try:
            people, places, accounts = import_rpps(file, progress=not quiet)
        except (ValidationError, OSError) as err:
            raise CommandError(" ".join(getattr(err, "messages", [str(err)]))) from err
        report = people.lines("Professionnels") + places.lines("Lieux d'exercice")
        for line in report + accounts.lines():
            self.stdout.write(line)
