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
        )
    )
    return Patient.objects.filter(pk__in=ids)


def get_patient(request: HttpRequest, user, pk: int, action: AuditAction) -> Patient:
    """Fetch one patient through the wall and audit the access; others' patients are a 404."""
    patient = visible_patients(user).filter(pk=pk).first()
    if patient is None:
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
        Q(requester=user)
        | Q(performers=user)
        | Q(requesting_structure__in=mine)
        | Q(performing_structure__in=mine)
        | Q(teleexpertise__named_expert=user)
        | pool_q(user, prefix="teleexpertise__")
    ).distinct()


def get_act(request: HttpRequest | None, user, pk: int, action: AuditAction) -> Act:
    """Fetch one act through the wall and audit the access; others' acts are a 404."""
    act = visible_acts(user).filter(pk=pk).first()
    if act is None:
        raise Http404("Acte introuvable.")
    audit.record(request, user, action, [act])
    return act
