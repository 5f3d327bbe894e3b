from django.core.management.base import BaseCommand, CommandError

from telesante.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Crée un jeton d'API personnel pour un professionnel et l'affiche (une seule fois)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="")

    def handle(self, *args, email: str, name: str, **options) -> None:
        user = User.objects.filter(email=email.lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"Aucun compte actif pour {email}.")
        _token, raw = ApiToken.issue(user, name=name)
        self.stdout.write(raw)
