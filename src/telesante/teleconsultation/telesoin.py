"""Télésoin (CSP R.6316-1 and following; REGULATORY.md): who performs it, and what is asked at
booking.

Every profession: video only, and never for care that needs physical contact or equipment the
patient does not have; the booking professional declares it, the act keeps the declaration.
Nurses bill TMI and count in the 20 % remote-activity cap (billing.py). Physiotherapists: no
initial assessment remotely, a face-to-face act in the last 12 months, an adult beside a minor.
"""

from django.utils.translation import gettext as _

from telesante.accounts.models import Profession
from telesante.patients import services as patients

# Pharmacists and the auxiliaires médicaux of REGULATORY.md § Télésoin.
PROFESSIONS = {
    Profession.PHARMACIST,
    Profession.NURSE,
    Profession.IPA,
    Profession.PHYSIO,
    Profession.PODIATRIST,
    Profession.OCCUPATIONAL,
    Profession.PSYCHOMOTOR,
    Profession.SPEECH,
    Profession.ORTHOPTIST,
    Profession.RADIOGRAPHER,
    Profession.LAB_TECH,
    Profession.HEARING,
    Profession.OPTICIAN,
    Profession.ORTHOTIST,
    Profession.DIETICIAN,
}
NURSES = {Profession.NURSE, Profession.IPA}


def rules(profession: str, video_suitable: bool) -> dict[str, list[str]]:
    """The errors of a télésoin booking with a professional of this profession."""
    if profession not in PROFESSIONS:
        return {
            "performer": [_("Le télésoin est réservé aux pharmaciens et aux auxiliaires médicaux.")]
        }
    if video_suitable:
        return {}
    label = Profession(profession).label
    return {
        "video_suitable": [
            _(
                "Télésoin (%(profession)s) : confirmez qu'il se fait en vidéo et qu'il ne demande "
                "ni contact physique ni matériel dont le patient ne dispose pas."
            )
            % {"profession": label}
        ]
    }


def physio_rules(
    birth_date, initial_assessment: bool, seen_in_person_this_year: bool, adult_present: bool
) -> dict[str, list[str]]:
    """Physiotherapy: never the initial assessment, a face-to-face act in the last 12 months,
    and an adult beside a minor."""
    errors = {}
    if initial_assessment:
        errors["initial_assessment"] = [
            _("Le bilan initial de kinésithérapie se fait en présence.")
        ]
    if not seen_in_person_this_year:
        errors["seen_in_person_this_year"] = [
            _("Un acte en présence dans les 12 derniers mois est requis avant le télésoin.")
        ]
    if patients.age(birth_date) < 18 and not adult_present:
        errors["adult_present"] = [_("Un patient mineur est accompagné d'un adulte.")]
    return errors
