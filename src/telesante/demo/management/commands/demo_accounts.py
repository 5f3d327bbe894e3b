"""`telesante demo-accounts`: the named demo logins, their password and second factor."""

import json

from django.core.management.base import BaseCommand, CommandError

from telesante.demo import seeding
from telesante.demo.management.commands.seed_demo import require_demo_mode

JSON_KEYS = [
    "email",
    "password",
    "role",
    "profession",
    "specialty",
    "structure",
    "totp_secret",
    # The monitoring operator's entry lists the demo devices (serial, patient, programme, token).
    "devices",
]


class Command(BaseCommand):
    help = "Liste les comptes de démonstration nominatifs (mode démonstration uniquement)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Sortie JSON (une liste)."
        )

    def handle(self, *args, as_json: bool, **options) -> None:
        require_demo_mode()
        accounts = seeding.demo_accounts()
        if not accounts:
            raise CommandError(
                "Aucun compte de démonstration : lancez d'abord telesante seed-demo."
            )
        if as_json:
            self.stdout.write(
                json.dumps(
                    [{k: a[k] for k in JSON_KEYS if k in a} for a in accounts],
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self.stdout.write(table(accounts))
        self.stdout.write(
            "\n"
            f"Mot de passe (tous ces comptes) : {seeding.DEMO_PASSWORD}\n"
            f"Secret TOTP (base32, tous ces comptes) : {seeding.DEMO_TOTP_SECRET}\n"
            "Second facteur : en mode démonstration, après l'e-mail et le mot de passe, la page "
            "« Authentification à deux facteurs » de ces comptes affiche leur code à 6 chiffres "
            "en cours dans un encadré « Mode démonstration » : recopiez-le. Hors mode "
            "démonstration, ce code n'est jamais affiché.\n"
            "Vous pouvez aussi ajouter le secret à une application d'authentification, "
            f"ou lancer : oathtool --totp -b {seeding.DEMO_TOTP_SECRET}"
        )


def where(account: dict) -> str:
    structure, commune = account["structure"], account["commune"]
    if not structure:
        return "—"
    return structure if commune in structure else f"{structure} ({commune})"


def table(accounts: list[dict]) -> str:
    header = ["Rôle", "E-mail", "Structure"]
    rows = [[a["label"], a["email"], where(a)] for a in accounts]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
