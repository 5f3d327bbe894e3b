"""The permission wall: who may see which patient, act and document. Pages, API and exports ask
here, and only here."""

from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from telesante.accounts.models import Membership, MembershipRole
from telesante.acts.models import Act, ActKind, ActStatus
from telesante.core import audit
from telesante.core.models import AuditAction
from telesante.patients.models import Patient, PatientAttachment
from telesante.structures.models import Structure, StructureKind, Team

# Structures whose members regulate calls (centre 15, service d'accès aux soins).
REGULATION_KINDS = (StructureKind.SAMU, StructureKind.SAS)


def member_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(memberships__user=user).distinct()


def member_teams(user) -> QuerySet[Team]:
    """The care teams the user belongs to."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def administered_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(
        memberships__user=user, memberships__role=MembershipRole.ADMIN
    ).distinct()


def may_handle_patients(user) -> bool:
    """Regional observers never see patient data; others only through a team or an act."""
    return bool(user.is_authenticated and user.is_active and not user.is_observer)


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


def _party_lists(user, column: str, kinds: Sequence[str] = ()) -> list[QuerySet]:
    """Acts the user requested, performs or assists (téléassistance), projected on `column`,
    of the given kinds only when some are given."""
    through = "act_id" if column == "id" else f"act__{column}"
    of_kind = {"kind__in": kinds} if kinds else {}
    return [
        Act.objects.filter(requester=user, **of_kind).values_list(column, flat=True),
        Act.performers.through.objects.filter(user=user, **_on_act(of_kind)).values_list(
            through, flat=True
        ),
        Act.objects.filter(assisted_by__act__performers=user, **of_kind).values_list(
            column, flat=True
        ),
    ]


def _on_act(condition: dict) -> dict:
    return {f"act__{key}": value for key, value in condition.items()}


def party_acts(user, kinds: Sequence[str] = ()) -> QuerySet[Act]:
    """The acts the user is a party to (their agenda), whatever their teams; only of `kinds`
    when some are given."""
    if not may_handle_patients(user):
        return Act.objects.none()
    first, *others = _party_lists(user, "id", kinds)
    return Act.objects.filter(pk__in=first.union(*others))


def _act_lists(user, column: str, kinds: Sequence[str] = ()) -> QuerySet:
    """THE act rule, as a UNION of index-driven lists projected on `column` ("id" for the acts,
    "patient_id" for their patients): acts the user is party to, acts of the user's care teams
    (requesting or performing), télé-expertise requests addressed to the user by name or,
    while open, through their filière's pool, and the done acts (the ones with a report) about
    the patients whose médecin traitant the user is: REGULATORY.md § Téléconsultation and §
    Télé-expertise send the report to the médecin traitant, who reads it here wherever they
    work (through the patient's `gp` index, then the acts' patient index).

    A list of one capability passes its `kinds`: each branch then reads only those acts, in
    the (owner, kind, id) indexes, instead of every act of a team to keep a few."""
    from telesante.teleexpertise.models import TeleExpertise  # the pool rule lives there
    from telesante.teleexpertise.pools import pool_q

    teams = Membership.objects.filter(user=user).values("team")
    te_column = "act_id" if column == "id" else f"act__{column}"
    of_kind = {"kind__in": kinds} if kinds else {}
    first, *others = _party_lists(user, column, kinds)
    lists = [
        *others,
        Act.objects.filter(requesting_team__in=teams, **of_kind).values_list(column, flat=True),
        Act.objects.filter(performing_team__in=teams, **of_kind).values_list(column, flat=True),
        Act.objects.filter(patient__gp=user, status=ActStatus.DONE, **of_kind).values_list(
            column, flat=True
        ),
    ]
    if not kinds or ActKind.TELEEXPERTISE in kinds:
        lists += [
            TeleExpertise.objects.filter(named_expert=user).values_list(te_column, flat=True),
            TeleExpertise.objects.filter(pool_q(user)).values_list(te_column, flat=True),
        ]
    return first.union(*lists)


def visible_acts(user, kinds: Sequence[str] = ()) -> QuerySet[Act]:
    """Acts the user is party to, acts of their care teams, the télé-expertise requests
    addressed to them (by name, or while open through their pool), and the done acts about the
    patients whose médecin traitant they are; only of `kinds` when some are given."""
    if not may_handle_patients(user):
        return Act.objects.none()
    return Act.objects.filter(pk__in=_act_lists(user, "id", kinds))


def visible_patients(user) -> QuerySet[Patient]:
    """Patients followed by one of the user's care teams, and the patients of the acts the user
    sees (visible_acts): the two walls come from the same rule and cannot disagree."""
    if not may_handle_patients(user):
        return Patient.objects.none()
    # One IN over a UNION of index-driven id lists: the database starts from the few
    # patients the user may see instead of testing every patient of the region.
    teams = Membership.objects.filter(user=user).values("team")
    ids = (
        PatientAttachment.objects.filter(team__in=teams)
        .values_list("patient_id", flat=True)
        .union(_act_lists(user, "patient_id"))
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


def get_act(request: HttpRequest | None, user, pk: int, action: AuditAction) -> Act:
    """Fetch one act through the wall and audit the access; others' acts are a 404."""
    act = visible_acts(user).filter(pk=pk).first()
    if act is None:
        audit.record_refusal(request, user, action, "acts.Act", pk)
        raise Http404("Acte introuvable.")
    audit.record(request, user, action, [act])
    return act


def regulation_structures(user) -> QuerySet[Structure]:
    """The SAMU and SAS where the user regulates: a member with the regulation right
    (`User.regulation_access`, from Pro Santé Connect or granted by the structure)."""
    if not may_handle_patients(user) or not user.regulation_access:
        return Structure.objects.none()
    return member_structures(user).filter(kind__in=REGULATION_KINDS)


def visible_regulations(user) -> QuerySet:
    """The regulation records of the centres where the user regulates; nobody else's."""
    from telesante.regulation.models import RegulationRecord

    return RegulationRecord.objects.filter(structure__in=regulation_structures(user).values("pk"))


def get_regulation(request: HttpRequest | None, user, pk: int, action: AuditAction):
    """Fetch one regulation record through the wall and audit the access; others' are a 404."""
    record = visible_regulations(user).filter(pk=pk).first()
    if record is None:
        audit.record_refusal(request, user, action, "regulation.RegulationRecord", pk)
        raise Http404("Dossier introuvable.")
    audit.record(request, user, action, [record], structure_id=record.structure_id)
    return record
