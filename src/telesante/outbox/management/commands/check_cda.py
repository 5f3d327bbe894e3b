from django.core.management.base import BaseCommand, CommandError

from telesante.outbox import cda


class Command(BaseCommand):
    help = "Vérifie des documents CDA R2 contre le schéma CDA (CDA_extended.xsd de l'ANS)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", help="documents CDA (XML)")

    def handle(self, *args, files: list[str], **options) -> None:
        refused = 0
        for name in files:
            try:
                with open(name, "rb") as handle:
                    problems = cda.errors(handle.read())
            except OSError as exc:
                raise CommandError(f"{name} : lecture impossible ({exc.strerror}).") from exc
            if problems:
                refused += 1
                self.stdout.write(f"{name} : refusé par le schéma CDA")
                for problem in problems:
                    self.stdout.write(f"  {problem}")
            else:
                self.stdout.write(f"{name} : conforme au schéma CDA")
        if refused:
            raise CommandError(f"{refused} document(s) sur {len(files)} refusé(s).")
