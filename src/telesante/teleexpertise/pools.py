"""Who may take a télé-expertise: the named expert, or the pool of its filière.

The pool is the filière's experts working in a structure of the requesting structure's
département; once the request is widened, reference experts (CHU) anywhere join it.
"""

from django.db.models import Exists, Q, QuerySet

from telesante.accounts.models import User
from telesante.acts.models import ActStatus, Filiere
from telesante.core import prepared
from telesante.patients.models import ActKind
from telesante.structures.models import Structure, StructureKind
from telesante.teleexpertise.models import State, TeleExpertise

REFERENCE_KINDS = [StructureKind.CHU]
OPEN_STATES = [State.POOLED]


def at_reference_site(user: User) -> bool:
    """Whether the user works in a reference structure (CHU): widened requests reach them."""
    return Structure.objects.filter(memberships__user=user, kind__in=REFERENCE_KINDS).exists()


def _waiting(user: User, p: str) -> Q:
    """Open, unassigned requests of the user's specialty (p: path to TeleExpertise). A pooled
    request's act is requested (its status mirrors the state, teleexpertise.services): the
    pooled acts are read from their own small index, by filière and requesting structure
    (acts.act_te_pool), instead of each pooled request's act from the million."""
    filieres = Filiere.objects.filter(specialty=user.specialty).order_by().values("code")
    return Q(
        **{
            f"{p}state__in": OPEN_STATES,
            f"{p}named_expert__isnull": True,
            f"{p}act__kind": ActKind.TELEEXPERTISE,
            f"{p}act__status": ActStatus.REQUESTED,
        }
    ) & prepared.any_of(f"{p}act__filiere_id", filieres)


def pool_q(user: User, prefix: str = "", reference: bool | None = None) -> Q:
    """Open, unassigned requests whose pool includes `user` (prefix: path to TeleExpertise).
    `reference`: whether the user works at a reference site, when the caller knows it."""
    if not user.specialty:
        return Q(pk__in=[])
    p = prefix
    departements = Structure.objects.filter(memberships__user=user).values("departement")
    territory = Structure.objects.filter(departement__in=departements).order_by().values("pk")
    if reference is None:
        reference = at_reference_site(user)
    in_territory = prepared.any_of(f"{p}act__requesting_structure_id", territory)
    widened = Q(**{f"{p}widened_at__isnull": False})
    reach = (in_territory | widened) if reference else in_territory
    return _waiting(user, p) & reach


def widened_q(user: User) -> Q:
    """Open, unassigned requests widened beyond their territory, for a user who works at a
    reference site: the site tested in the statement (once, before its rows are read) instead
    of by a query of its own. With `pool_q(user, reference=False)`, the user's whole pool."""
    if not user.specialty:
        return Q(pk__in=[])
    sites = Structure.objects.filter(memberships__user=user, kind__in=REFERENCE_KINDS)
    return _waiting(user, "") & Q(widened_at__isnull=False) & Exists(sites)


def pool_experts(te: TeleExpertise) -> QuerySet[User]:
    """The experts to notify about `te` (its named expert, or its pool)."""
    if te.named_expert_id:
        return User.objects.filter(pk=te.named_expert_id)
    structure = te.act.requesting_structure
    experts = User.objects.filter(is_active=True, specialty=te.act.filiere.specialty)
    reach = Q(memberships__structure__departement=structure.departement_id)
    if te.widened_at:
        reach |= Q(memberships__structure__kind__in=REFERENCE_KINDS)
    return experts.filter(reach).exclude(pk=te.act.requester_id).distinct()
