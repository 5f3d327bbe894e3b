"""Validation of the national identifiers where they enter: RPPS, FINESS, INS matricule."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

IDNPS_OID = "urn:oid:1.2.250.1.71.4.2.1"
IDNST_OID = "urn:oid:1.2.250.1.71.4.2.2"
INS_NIR_OID = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA_OID = "urn:oid:1.2.250.1.213.1.4.9"
INS_TEST_NIR_OID = "urn:oid:1.2.250.1.213.1.4.10"

# FINESS: 9 characters, 2 for the département (2A/2B in Corsica), then 7 digits.
FINESS = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}")
# INS matricule: sex, year, month (5 digits), département (2 digits, or 2A/2B in Corsica: the
# only letters), commune and order (6 digits), key (2 digits).
MATRICULE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")
# Luhn: a digit doubled and its two digits added (5 → 10 → 1, 9 → 18 → 9), by digit.
LUHN_DOUBLED = "0246813579"


def luhn_ok(digits: str) -> bool:
    """The Luhn check: from the right, every second digit is doubled (its two digits added)."""
    from_right = digits[::-1]
    kept = sum(int(ch) for ch in from_right[::2])
    doubled = sum(int(LUHN_DOUBLED[int(ch)]) for ch in from_right[1::2])
    return (kept + doubled) % 10 == 0


def luhn_complete(prefix: str) -> str:
    """Append the Luhn key digit to `prefix` (used to build synthetic RPPS numbers): exactly
    one of the ten digits fits."""
    return next(prefix + key for key in "0123456789" if luhn_ok(prefix + key))


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
    if not FINESS.fullmatch(value):
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
    if not MATRICULE.fullmatch(value):
        raise ValidationError(
            _("Le matricule INS (NIR ou NIA) compte 15 caractères, clé comprise."),
            code="ins_format",
        )
    body, key = value[:13], value[13:]
    if nir_key(body) != int(key):
        raise ValidationError(_("La clé du matricule INS est incorrecte."), code="ins_key")
    if sex in {"M", "F"} and body[0] in {"1", "2"} and body[0] != {"M": "1", "F": "2"}[sex]:
        raise ValidationError(
            _("Le premier chiffre du matricule ne correspond pas au sexe."), code="ins_sex"
        )
