"""What the navigation and the home page offer, from what the user can do: no link to a page that
would be an empty dead end for them (a monitoring board without a team, a patient form without a
structure to attach the patient to)."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from telesante.core import policy
from telesante.deployment import services as deployment
from telesante.structures.models import StructureKind
from telesante.teleexpertise import services as teleexpertise
from telesante.telesurveillance.models import Enrolment

# Opérateur teams of télésurveillance work in hospitals; a team that monitors anyone counts too.
MONITORING_KINDS = {StructureKind.CH, StructureKind.CHU}


@dataclass(frozen=True)
class Menu:
    patients: bool = False  # a member of a structure: search and register its patients
    teleexpertise: bool = False  # may ask for one, or an expert who receives them
    request_expertise: bool = False
    teleconsultation: bool = False
    telesurveillance: bool = False
    regional: bool = False  # indicators
    deployment: bool = False
    regulation: bool = False  # a regulator of a SAMU or SAS


def for_user(user) -> Menu:
    """One query for the user's structures (their kind, whether they monitor patients), one for
    the sites they follow when they hold no regional role."""
    if not user.is_authenticated:
        return Menu()
    structures = []
    if policy.may_handle_patients(user):
        # One of the user's care teams of that structure is an opérateur team.
        monitors = Exists(
            Enrolment.objects.filter(team__structure=OuterRef("pk"), team__memberships__user=user)
        )
        structures = list(
            policy.member_structures(user)
            .annotate(monitors=monitors)
            .values_list("kind", "monitors")
        )
    clinical = bool(structures)
    requester = clinical and teleexpertise.may_request(user)
    return Menu(
        patients=clinical,
        teleexpertise=clinical and (requester or bool(user.specialty)),
        request_expertise=requester,
        teleconsultation=clinical,
        telesurveillance=any(kind in MONITORING_KINDS or busy for kind, busy in structures),
        regional=bool(user.regional_role),
        deployment=deployment.may_view(user),
        regulation=user.regulation_access
        and any(kind in policy.REGULATION_KINDS for kind, _busy in structures),
    )
