"""Validation of the national identifiers where they enter: RPPS, FINESS, INS matricule."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

IDNPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_OID = "urn:oid:1.2.250.1.71.4.2.2"
INS_NIR_OID = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA_OID = "urn:oid:1.2.250.1.213.1.4.9"
INS_TEST_NIR_OID = "urn:oid:1.2.250.1.213.1.4.10"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """Append the Luhn key digit to `prefix` (used to build synthetic RPPS numbers)."""
    for key in "0123456789":
        if luhn_ok(prefix + key):
            return prefix + key
    raise AssertionError("unreachable: one Luhn digit always fits")


def validate_rpps(value: str) -> None:
    if not (len(value) == 11 and value.isdigit()):
        raise ValidationError(_("Le numéro RPPS compte 11 chiffres."), code="rpps_format")
    if not luhn_ok(value):
        raise ValidationError(
            _("Le numéro RPPS %(value)s est invalide (clé de Luhn incorrecte)."),
            code="rpps_key",
            params={"value": value},
        )


def validate_finess(value: str) -> None:
    # 9 characters: 2 for the département (2A/2B in Corsica), then digits.
    if (
        len(value) != 9
        or not value[2:].isdigit()
        or not (value[:2].isdigit() or value[:2] in {"2A", "2B"})
    ):
        raise ValidationError(
            _("Le numéro FINESS compte 9 caractères (département puis chiffres)."),
            code="finess_format",
        )


def nir_key(body: str) -> int:
    """Key of a 13-character NIR or NIA (Corsica 2A/2B counted as 19/18)."""
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return 97 - (number % 97)


def validate_matricule(value: str, sex: str | None = None) -> None:
    value = value.replace(" ", "")
    body, key = value[:13], value[13:]
    # Letters only as the Corsican département (2A/2B), in positions 6-7.
    if (
        len(value) != 15
        or not key.isdigit()
        or not (body[:5] + body[7:]).isdigit()
        or not (body[5:7].isdigit() or body[5:7] in {"2A", "2B"})
    ):
        raise ValidationError(
            _("Le matricule INS (NIR ou NIA) compte 15 caractères, clé comprise."),
            code="ins_format",
        )
    if nir_key(body) != int(key):
        raise ValidationError(_("La clé du matricule INS est incorrecte."), code="ins_key")
    if sex in {"M", "F"} and body[0] in "12" and body[0] != {"M": "1", "F": "2"}[sex]:
        raise ValidationError(
            _("Le premier chiffre du matricule ne correspond pas au sexe."), code="ins_sex"
        )
