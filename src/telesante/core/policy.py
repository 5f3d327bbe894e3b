"""The permission wall: who may see which patient. Pages and API both ask here, and only here."""

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from telesante.accounts.models import Membership, MembershipRole
from telesante.acts.models import Act
from telesante.core import audit
from telesante.core.models import AuditAction
from telesante.patients.models import ActKind, Patient, PatientAttachment
from telesante.structures.models import Structure


def member_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(memberships__user=user)


def administered_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(memberships__user=user, memberships__role=MembershipRole.ADMIN)


def may_handle_patients(user) -> bool:
    """Regional observers never see patient data; others only through a structure or an act."""
    return bool(user.is_authenticated and user.is_active and not user.is_observer)


def act_party_q(user) -> Q:
    """Parties to an act: its requester, its performers, and the experts of a téléassistance
    act that assists it."""
    return Q(requester=user) | Q(performers=user) | Q(assisted_by__act__performers=user)


def act_role(user, act: Act) -> str | None:
    """ "host" (performs the act or assists it as an expert), "party" (requested it) or None."""
    if not may_handle_patients(user):
        return None
    act_qs = Act.objects.filter(pk=act.pk)
    if act_qs.filter(Q(performers=user) | Q(assisted_by__act__performers=user)).exists():
        return "host"
    if act.requester_id == user.pk:
        return "party"
    return None


def visible_patients(user) -> QuerySet[Patient]:
    """Patients attached to one of the user's structures, in an act the user is party to, or
    monitored (télésurveillance) by a team the user belongs to."""
    if not may_handle_patients(user):
        return Patient.objects.none()
    # One IN over a UNION of index-driven id lists: the database starts from the few
    # patients the user may see instead of testing every patient of the region.
    mine = Membership.objects.filter(user=user).values("structure")
    ids = (
        PatientAttachment.objects.filter(structure__in=mine)
        .values_list("patient_id", flat=True)
        .union(
            Act.objects.filter(requester=user).values_list("patient_id", flat=True),
            Act.objects.filter(performers=user).values_list("patient_id", flat=True),
            # Télésurveillance: the members of the opérateur team see the patients it monitors.
            Act.objects.filter(
                kind=ActKind.TELESURVEILLANCE, performing_structure__in=mine
            ).values_list("patient_id", flat=True),
            # An expert assisting a colleague's act (téléassistance) is party to it.
            Act.objects.filter(assisted_by__act__performers=user).values_list(
                "patient_id", flat=True
            ),
        )
    )
    return Patient.objects.filter(pk__in=ids)


def get_patient(request: HttpRequest, user, pk: int, action: AuditAction) -> Patient:
    """Fetch one patient through the wall and audit the access; others' patients are a 404."""
    patient = visible_patients(user).filter(pk=pk).first()
    if patient is None:
        audit.record_refusal(request, user, action, "patients.Patient", pk)
        raise Http404("Patient introuvable.")
    audit.record(request, user, action, [patient])
    return patient


def may_create_in(user, structure: Structure) -> bool:
    return may_handle_patients(user) and member_structures(user).filter(pk=structure.pk).exists()


def visible_acts(user) -> QuerySet[Act]:
    """Acts the user requested or performs, acts of their structures, and the open télé-expertise
    requests addressed to them by name or through their filière's pool."""
    if not may_handle_patients(user):
        return Act.objects.none()
    from telesante.teleexpertise.pools import pool_q  # the pool rule lives with télé-expertise

    mine = Membership.objects.filter(user=user).values("structure")
    return Act.objects.filter(
        act_party_q(user)
        | Q(requesting_structure__in=mine)
        | Q(performing_structure__in=mine)
        | Q(teleexpertise__named_expert=user)
        | pool_q(user, prefix="teleexpertise__")
    ).distinct()


def get_act(request: HttpRequest | None, user, pk: int, action: AuditAction) -> Act:
    """Fetch one act through the wall and audit the access; others' acts are a 404."""
    act = visible_acts(user).filter(pk=pk).first()
    if act is None:
        audit.record_refusal(request, user, action, "acts.Act", pk)
        raise Http404("Acte introuvable.")
    audit.record(request, user, action, [act])
    return act
