"""What PSC's userinfo says about a professional (INTEROP.md: SubjectNameID, SubjectRefPro...)."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from telesante.accounts.models import Profession, Specialty
from telesante.core.identifiers import validate_rpps
from telesante.directory.importers import RPPS_PROFESSIONS

# Savoir-faire codes (TRE_R38, specialités ordinales) the platform distinguishes; any other code
# leaves the account's specialty as it was set here.
SAVOIR_FAIRE = {
    "SM26": Specialty.GENERAL,  # qualifié en médecine générale
    "SM53": Specialty.GENERAL,  # spécialiste en médecine générale
    "SM54": Specialty.GENERAL,  # médecine générale
    "SM04": Specialty.CARDIOLOGY,  # cardiologie et maladies vasculaires
}


# Both spellings of the legal entity's key have been seen in PSC's documentation.
FINESS_KEYS = (
    "numeroFinessSite",
    "numeroFinessetablissementJuridique",
    "numeroFinessEtablissementJuridique",
)


class ClaimsError(ValueError):
    """The provider sent no usable national identifier."""


@dataclass(frozen=True)
class ProClaims:
    rpps: str
    first_name: str
    last_name: str
    email: str
    profession: str | None
    specialty: str | None
    regulation_access: bool
    # FINESS numbers (site and legal entity) of the places where the professional works.
    finess: frozenset[str]

    @classmethod
    def from_userinfo(cls, data: dict[str, Any]) -> "ProClaims":
        idnat = str(data.get("SubjectNameID") or data.get("preferred_username") or "")
        # idNat_PS: "8" + RPPS; "0" + ADELI has no RPPS, so no account here.
        rpps = idnat[1:] if idnat.startswith("8") else ""
        try:
            validate_rpps(rpps)
        except ValidationError as error:
            raise ClaimsError(f"identifiant national sans RPPS valide : {idnat!r}") from error
        exercices = (data.get("SubjectRefPro") or {}).get("exercices") or []
        first = exercices[0] if exercices else {}
        finess = {
            str(activity.get(key) or "")
            for exercice in exercices
            for activity in exercice.get("activities") or []
            for key in FINESS_KEYS
        }
        profession = first.get("codeProfession")
        return cls(
            rpps=rpps,
            first_name=str(data.get("given_name") or first.get("prenomDexercice") or "")[:150],
            last_name=str(data.get("family_name") or first.get("nomDexercice") or "")[:150],
            email=str(data.get("email") or "").strip().lower(),
            profession=RPPS_PROFESSIONS.get(str(profession), Profession.OTHER)
            if profession
            else None,
            specialty=SAVOIR_FAIRE.get(str(first.get("codeSavoirFaire") or "")),
            regulation_access=str(data.get("Acces_Regulation_Medicale", "")).upper() == "VRAI",
            finess=frozenset(finess - {""}),
        )
