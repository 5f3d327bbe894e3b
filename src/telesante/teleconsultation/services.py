"""Téléconsultation, télésoin, téléassistance: book, assist, report, incidents, billing.

Views and API handlers call these; each goes through the wall (`core.policy`) and the audit
trail (`core.audit`), one transaction per step.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership, Profession, User
from telesante.acts.models import Act, ActStatus, Incident
from telesante.core import audit, bounds, policy
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.notifications import delivery
from telesante.notifications.services import notify
from telesante.patients import services as patients
from telesante.patients.models import ActKind, ConsentDecision
from telesante.rooms import services as rooms
from telesante.structures.models import StructureKind
from telesante.teleconsultation import billing, reports, telesoin
from telesante.teleconsultation.models import Assistance, TeleConsultation

KINDS = [ActKind.TELECONSULTATION, ActKind.TELESOIN, ActKind.TELEASSISTANCE]
BOOKABLE_KINDS = [ActKind.TELECONSULTATION, ActKind.TELESOIN]
ASSISTANT_PROFESSIONS = {
    Assistance.NURSE_VISIT: telesoin.NURSES,
    Assistance.NURSE_SITE: telesoin.NURSES,
    Assistance.NURSE_HOME: telesoin.NURSES,
    Assistance.PHARMACY: {Profession.PHARMACIST},
}


@dataclass
class NewConsultation:
    patient_id: int
    structure_id: int
    kind: str
    performer_id: int
    scheduled_at: datetime.datetime | None
    reason: str
    information_given: bool
    decision: str
    assistance: str = ""
    duration_minutes: int = 20
    # Télésoin, every profession: declared feasible by video (no contact, no equipment missing).
    video_suitable: bool = False
    # Physiotherapy télésoin (telesoin.physio_rules).
    initial_assessment: bool = False
    seen_in_person_this_year: bool = False
    adult_present: bool = False
    # Where the patient gets the reminders (optional).
    patient_email: str = ""
    patient_phone: str = ""


def performers() -> QuerySet[User]:
    """Who may perform a booked act: doctors, and the télésoin professions, with a structure."""
    return User.objects.filter(
        is_active=True,
        profession__in=[Profession.DOCTOR, *telesoin.PROFESSIONS],
        memberships__isnull=False,
    ).distinct()


def may_book(user: User) -> bool:
    return policy.may_handle_patients(user) and policy.member_structures(user).exists()


# Who usually assists the patient, by the booking professional's place of work.
HOME_KINDS = (StructureKind.EHPAD, StructureKind.FAM_MAS)


def default_assistance(user: User) -> str:
    """The common case of the user's structure, for the booking form: a nurse of a nursing home
    is at the resident's side during a planned visit (TLS), a pharmacist in the pharmacy (TLM);
    anyone else books without accompaniment until they say otherwise."""
    kinds = set(policy.member_structures(user).values_list("kind", flat=True))
    if user.profession in telesoin.NURSES and kinds & set(HOME_KINDS):
        return Assistance.NURSE_VISIT
    if user.profession == Profession.PHARMACIST and StructureKind.PHARMACY in kinds:
        return Assistance.PHARMACY
    return Assistance.NONE


def _check(user: User, new: NewConsultation) -> tuple[dict, User | None]:
    errors: dict[str, list[str]] = {}
    if new.kind not in BOOKABLE_KINDS:
        errors["kind"] = [_("Type d'acte inconnu : téléconsultation ou télésoin.")]
    performer = User.objects.filter(pk=new.performer_id, is_active=True).first()
    if performer is None:
        errors["performer"] = [_("Choisissez le professionnel qui consulte à distance.")]
    elif new.kind == ActKind.TELECONSULTATION and performer.profession != Profession.DOCTOR:
        errors["performer"] = [_("Une téléconsultation est réalisée par un médecin.")]
    elif new.kind == ActKind.TELESOIN:
        errors.update(telesoin.rules(performer.profession, new.video_suitable))
    if new.scheduled_at is None:
        errors["scheduled_at"] = [_("Indiquez la date et l'heure.")]
    elif new.scheduled_at < timezone.now() - datetime.timedelta(hours=1):
        errors["scheduled_at"] = [_("La date est passée.")]
    elif beyond := bounds.moment_error(new.scheduled_at):
        errors["scheduled_at"] = [beyond]
    if not new.reason.strip():
        errors["reason"] = [_("Indiquez le motif.")]
    if not 5 <= new.duration_minutes <= 120:
        errors["duration_minutes"] = [_("Durée entre 5 et 120 minutes.")]
    if new.assistance:
        allowed = ASSISTANT_PROFESSIONS.get(new.assistance)
        if allowed is None:
            errors["assistance"] = [_("Accompagnement inconnu.")]
        elif new.kind != ActKind.TELECONSULTATION:
            errors["assistance"] = [_("L'accompagnement concerne la téléconsultation.")]
        elif user.profession not in allowed:
            errors["assistance"] = [_("Votre profession ne correspond pas à cet accompagnement.")]
    if not new.information_given:
        errors["information_given"] = [_("Le patient doit être informé avant la réservation.")]
    if new.decision == ConsentDecision.REFUSAL:
        errors["decision"] = [
            _("Le patient refuse : l'acte ne peut pas être programmé. Son refus est enregistré.")
        ]
    elif new.decision != ConsentDecision.CONSENT:
        errors["decision"] = [_("Indiquez si le patient consent.")]
    return errors, performer


def _patient_contacts(new: NewConsultation) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The patient's e-mail and phone, normalised, and the errors of those given wrong."""
    found, errors = {}, {}
    for field, clean in (
        ("patient_email", delivery.clean_email),
        ("patient_phone", delivery.clean_phone),
    ):
        raw = getattr(new, field).strip()
        try:
            found[field] = clean(raw) if raw else ""
        except ValidationError as exc:
            errors[field] = exc.messages
    return found, errors


def booking_side(user: User, new: NewConsultation) -> tuple:
    """The requesting structure and the patient of a booking, through the wall (a structure or
    a patient out of the user's reach is a 404)."""
    if not may_book(user):
        raise PermissionDenied(_("Ce compte ne peut pas programmer d'acte."))
    structure = policy.member_structures(user).filter(pk=new.structure_id).first()
    patient = policy.visible_patients(user).filter(pk=new.patient_id).first()
    if structure is None or patient is None:
        raise Http404
    return structure, patient


def create(request: HttpRequest | None, user: User, new: NewConsultation) -> TeleConsultation:
    """Book an act for a patient of one's structure, with a remote professional; its room too."""
    structure, patient = booking_side(user, new)
    errors, performer = _check(user, new)
    if new.kind == ActKind.TELESOIN and performer and performer.profession == Profession.PHYSIO:
        errors.update(
            telesoin.physio_rules(
                patient.birth_date,
                new.initial_assessment,
                new.seen_in_person_this_year,
                new.adult_present,
            )
        )
    contacts, contact_errors = _patient_contacts(new)
    errors.update(contact_errors)
    if new.decision == ConsentDecision.REFUSAL and new.information_given:
        # Kept whatever else the form lacked; no act is created.
        kind = new.kind if new.kind in BOOKABLE_KINDS else ActKind.TELECONSULTATION
        patients.refusal_of_act(request, user, patient, kind, structure, new.reason)
    if errors:
        raise ValidationError(errors)
    from telesante.teleconsultation.booking import check_free

    check_free(performer, new.scheduled_at, new.duration_minutes)
    # The performer's team (their first) is the performing team: its members see the act.
    performing = (
        Membership.objects.filter(user=performer).order_by("pk").values_list("team", flat=True)
    )
    with transaction.atomic():
        consent = patients.consent_to_act(request, user, patient, new.kind, structure)
        act = Act.objects.create(
            kind=new.kind,
            patient=patient,
            requester=user,
            requesting_structure=structure,
            performing_team_id=performing.first(),
            status=ActStatus.SCHEDULED,
            consent=consent,
            requested_at=timezone.now(),
            due_at=new.scheduled_at,
        )
        act.performers.add(performer)
        tc = TeleConsultation.objects.create(
            act=act,
            reason=new.reason.strip()[:300],
            scheduled_at=new.scheduled_at,
            duration_minutes=new.duration_minutes,
            assistance=new.assistance,
            prescriber=performer if new.assistance else None,
            **contacts,
            video_suitable=new.kind == ActKind.TELESOIN and new.video_suitable,
        )
        rooms.room_for_act(act)
        audit.record(request, user, AuditAction.CREATE, [act], detail=new.kind)
    return tc


def get(request: HttpRequest | None, user: User, pk: int, action=AuditAction.READ):
    act = policy.get_act(request, user, pk, action)
    tc = (
        TeleConsultation.objects.select_related("act__patient", "act__requester", "prescriber")
        .filter(act=act, act__kind__in=KINDS)
        .first()
    )
    if tc is None:
        raise Http404
    return tc


# What the pages show of each listed act; the API's rows need the act and its room alone.
LIST_RELATED = (
    "act__patient",
    "act__requester",
    "act__requesting_structure",
    "act__room",
    "assists__room",
)
API_RELATED = ("act__room", "assists__room")


def listed_acts(user: User, party_only: bool = False) -> QuerySet[Act]:
    """The acts whose téléconsultations `listing` shows (the wall, of this list's kinds)."""
    if party_only:
        return policy.party_acts(user, KINDS)
    return policy.visible_acts(user, KINDS)


def listing(
    user: User, party_only: bool = False, related: tuple[str, ...] = LIST_RELATED
) -> QuerySet[TeleConsultation]:
    """The téléconsultations the user sees, newest first; `party_only`: only those the user
    is a party to (their agenda), the smaller list of the same wall. `related`: the joins
    loaded with each row (the pages' by default, with the performers)."""
    items = (
        TeleConsultation.objects.filter(act__in=listed_acts(user, party_only).values("pk"))
        .select_related(*related)
        .order_by("-scheduled_at", "-pk")
    )
    return items.prefetch_related("act__performers") if related == LIST_RELATED else items


def _host(user: User, tc: TeleConsultation) -> None:
    # The act's own performer: an expert assisting it writes in their own téléassistance act.
    if policy.act_role(user, tc.act) is None or not tc.act.performers.filter(pk=user.pk).exists():
        raise PermissionDenied(_("Seul le professionnel qui consulte peut faire cela."))


def _open(tc: TeleConsultation) -> None:
    if tc.act.status in rooms.CLOSED_STATUSES:
        raise ValidationError({"__all__": [_("L'acte est clos.")]})


def save_report(
    request: HttpRequest | None,
    user: User,
    tc: TeleConsultation,
    report_text: str,
    prescriptions: str = "",
    finish: bool = False,
) -> TeleConsultation:
    """Write the report beside the call; finishing closes the act: PDF, codes, room closed.

    A téléconsultation is by video (REGULATORY.md § Téléconsultation, « Video is required »;
    CSP R.6316-1): the act is billed only when the room's presence shows the performer and the
    patient's side in the call together, that time kept on the act; otherwise it closes « non
    réalisé » with the reason, and nothing is billed."""
    _host(user, tc)
    _open(tc)
    if finish and not report_text.strip():
        raise ValidationError({"report_text": [_("Rédigez le compte rendu avant de clore.")]})
    now = timezone.now()
    with transaction.atomic():
        tc.report_text = report_text.strip()
        tc.prescriptions = prescriptions.strip()
        tc.started_at = tc.started_at or now
        tc.save(update_fields=["report_text", "prescriptions", "started_at"])
        if finish:
            # A téléassistance expert is in the call of the act they assist (its room).
            seconds = rooms.together_seconds(tc.assists if tc.assists_id else tc.act, user)
            if seconds < max(1, settings.TELESANTE_VIDEO_MIN_SECONDS):
                with product_language():
                    reason = _("aucune séance vidéo commune entre le patient et le professionnel")
                _close_not_done(tc, user, reason)
            else:
                _close_done(tc, user, seconds, now)
        audit.record(request, user, AuditAction.UPDATE, [tc.act], detail="compte rendu")
    return tc


def _close_done(tc: TeleConsultation, user: User, seconds: int, now: datetime.datetime) -> None:
    act = tc.act
    act.status, act.done_at = ActStatus.DONE, now
    act.save(update_fields=["status", "done_at"])
    tc.video_seconds = seconds
    tc.save(update_fields=["video_seconds"])
    billing.record(tc)
    reports.attach(tc, user)
    rooms.close_room(act)
    # The report goes to the requester and the médecin traitant (REGULATORY.md).
    with product_language():
        notify(
            [act.requester, act.patient.gp],
            _("Compte rendu de %(kind)s pour %(p)s")
            % {"kind": act.get_kind_display().lower(), "p": act.patient},
            act=act,
            url=reverse("teleconsultation_detail", args=[act.pk]),
        )


def _close_not_done(tc: TeleConsultation, user: User, reason: str) -> None:
    """Close the act « non réalisé »: no code, the reason kept on the act, the requester told."""
    act = tc.act
    act.status = ActStatus.NOT_DONE
    act.save(update_fields=["status"])
    tc.not_done_reason = reason[:300]
    tc.save(update_fields=["not_done_reason"])
    rooms.close_room(act)
    with product_language():
        notify(
            [p for p in [act.requester, *act.performers.all()] if p.pk != user.pk],
            _("Acte n° %(pk)s non réalisé : %(reason)s") % {"pk": act.pk, "reason": reason},
            act=act,
            url=reverse("teleconsultation_detail", args=[act.pk]),
        )


def not_done(
    request: HttpRequest | None, user: User, tc: TeleConsultation, reason: str
) -> TeleConsultation:
    """The performer closes the act as not done, with the reason (the patient did not come, a
    technical failure recorded as an incident first): nothing is billed. To keep the
    appointment instead, the act is moved while still programmed (`booking.move`)."""
    _host(user, tc)
    _open(tc)
    if not reason.strip():
        raise ValidationError({"reason": [_("Indiquez pourquoi l'acte n'a pas eu lieu.")]})
    with transaction.atomic():
        _close_not_done(tc, user, reason.strip())
        audit.record(request, user, AuditAction.UPDATE, [tc.act], detail="non réalisé")
    return tc


def add_incident(
    request: HttpRequest | None, user: User, tc: TeleConsultation, description: str
) -> Incident:
    """A technical incident recorded by hand (drops and reconnections are recorded alone)."""
    if policy.act_role(user, tc.act) is None:
        raise PermissionDenied
    if not description.strip():
        raise ValidationError({"description": [_("Décrivez l'incident.")]})
    with transaction.atomic():
        incident = Incident.objects.create(
            act=tc.act, description=description.strip()[:500], recorded_by=user
        )
        audit.record(request, user, AuditAction.UPDATE, [tc.act], detail="incident")
    return incident


def assist(
    request: HttpRequest | None, user: User, tc: TeleConsultation, expert_id: int
) -> TeleConsultation:
    """Téléassistance: the consulting professional calls an expert doctor into the ongoing act;
    the expert's own act shares the room."""
    _host(user, tc)
    _open(tc)
    expert = User.objects.filter(pk=expert_id, is_active=True, profession=Profession.DOCTOR).first()
    if expert is None or expert.pk == user.pk:
        raise ValidationError({"expert": [_("Choisissez un médecin expert.")]})
    act = tc.act
    with transaction.atomic():
        assisting = Act.objects.create(
            kind=ActKind.TELEASSISTANCE,
            patient=act.patient,
            requester=user,
            requesting_team_id=act.performing_team_id or act.requesting_team_id,
            performing_team_id=Membership.objects.filter(user=expert)
            .order_by("pk")
            .values_list("team", flat=True)
            .first(),
            status=ActStatus.IN_PROGRESS,
            consent=act.consent,
            requested_at=timezone.now(),
        )
        assisting.performers.add(expert)
        with product_language():
            detail = TeleConsultation.objects.create(
                act=assisting,
                reason=_("Téléassistance de l'acte n° %(pk)s") % {"pk": act.pk},
                scheduled_at=timezone.now(),
                assists=act,
            )
        audit.record(request, user, AuditAction.CREATE, [assisting], detail="téléassistance")
    return detail


def room_of(tc: TeleConsultation):
    """The room of the act (a téléassistance act joins the room of the act it assists)."""
    act = tc.assists if tc.assists_id else tc.act
    try:
        return act.room  # loaded with the act in lists
    except ObjectDoesNotExist:
        return rooms.room_for_act(act)
