from django.core.management.base import BaseCommand, CommandError

from telesante.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Crée un jeton d'API et l'affiche (une seule fois) : personnel (EMAIL), d'un dispositif "
        "de télésurveillance (--device NUMÉRO_DE_SÉRIE) ou d'une passerelle (--gateway EXPLOITANT)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", nargs="?", default="")
        parser.add_argument("--name", default="")
        parser.add_argument("--device", default="", help="numéro de série du dispositif")
        parser.add_argument(
            "--gateway",
            default="",
            help="exploitant dont la passerelle envoie pour ses dispositifs",
        )

    def handle(self, *args, email: str, name: str, device: str, gateway: str, **options) -> None:
        if sum(bool(x) for x in (email, device, gateway)) != 1:
            raise CommandError("Indiquez soit un e-mail, soit --device, soit --gateway.")
        if device or gateway:
            from telesante.telesurveillance.devices import issue_token

            self.stdout.write(issue_token(device, gateway))
            return
        user = User.objects.filter(email=email.lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"Aucun compte actif pour {email}.")
        _token, raw = ApiToken.issue(user, name=name)
        self.stdout.write(raw)
