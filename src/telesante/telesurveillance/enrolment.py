"""Enrolment in a télésurveillance programme: the act, its médecin opérateur, both consents, the
devices."""

import datetime
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession, User
from telesante.acts.models import Act, ActStatus
from telesante.core import audit, bounds, paging, policy
from telesante.core.actions import Conflict
from telesante.core.i18n import product_language
from telesante.core.json_rows import JSONRows
from telesante.core.models import AuditAction
from telesante.notifications import delivery
from telesante.notifications.services import notify
from telesante.patients import services as patients
from telesante.patients.models import ActKind, Consent, ConsentDecision, Patient
from telesante.structures.models import Team
from telesante.telesurveillance import reports
from telesante.telesurveillance.models import Device, Enrolment, EnrolmentState, Programme

SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
MAX_MONTHS = 12


@dataclass
class NewEnrolment:
    patient_id: int
    team_id: int
    programme: str
    prescriber_id: int
    operator_id: int
    prescribed_on: datetime.date | None
    act_consent: bool
    data_consent: bool
    information_given: bool
    exploitant: str
    devices: list[str]
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    reading_start: datetime.time = datetime.time(8)
    reading_end: datetime.time = datetime.time(18)
    reading_weekdays: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    device_label: str = ""


def prescribers() -> QuerySet[User]:
    return User.objects.filter(profession=Profession.DOCTOR, is_active=True)


def operators(teams: QuerySet[Team]) -> QuerySet[User]:
    """The doctors who may answer for a monitoring of one of `teams`: their members."""
    return prescribers().filter(memberships__team__in=teams).distinct()


def _operator_error(operator_id: int, team_id: int) -> str | None:
    if not prescribers().filter(pk=operator_id).exists():
        return _("Le médecin opérateur doit être un médecin inscrit.")
    if not operators(Team.objects.filter(pk=team_id)).filter(pk=operator_id).exists():
        return _("Le médecin opérateur doit être membre de l'équipe opérateur choisie.")
    return None


def _check(new: NewEnrolment) -> tuple[dict[str, list[str]], Programme | None]:
    errors: dict[str, list[str]] = {}
    programme = Programme.objects.filter(pk=new.programme, active=True).first()
    if programme is None:
        errors["programme"] = [_("Programme inconnu.")]
    if not prescribers().filter(pk=new.prescriber_id).exists():
        errors["prescriber"] = [_("Le prescripteur doit être un médecin inscrit.")]
    operator_error = _operator_error(new.operator_id, new.team_id)
    if operator_error:
        errors["operator"] = [operator_error]
    if new.prescribed_on is None:
        errors["prescribed_on"] = [_("Indiquez la date de la prescription.")]
    if not new.information_given:
        errors["information_given"] = [_("Le patient doit être informé avant l'inscription.")]
    if not new.act_consent:
        errors["act_consent"] = [_("Le consentement du patient à la télésurveillance manque.")]
    if not new.data_consent:
        errors["data_consent"] = [
            _("Le consentement du patient au traitement de ses données manque.")
        ]
    if not new.exploitant.strip():
        errors["exploitant"] = [_("Indiquez l'exploitant du dispositif.")]
    serials = [s.strip() for s in new.devices if s.strip()]
    if not serials:
        errors["devices"] = [_("Indiquez au moins un dispositif (numéro de série).")]
    bad = [s for s in serials if not SERIAL.match(s)]
    if bad:
        errors["devices"] = [_("Numéro de série invalide : %(s)s.") % {"s": ", ".join(bad)}]
    elif len(set(serials)) != len(serials):
        errors["devices"] = [_("Un numéro de série est répété.")]
    elif taken := _taken(serials):
        errors["devices"] = taken
    for name in ("prescribed_on", "starts_on", "ends_on"):
        day = getattr(new, name)
        if day is not None and (problem := bounds.day_error(day)):
            errors[name] = [problem]
    if new.starts_on is None:
        errors["starts_on"] = [_("Indiquez la date de début.")]
    if new.ends_on is None:
        errors["ends_on"] = [_("Indiquez la date de fin.")]
    elif new.starts_on is not None:
        if new.ends_on <= new.starts_on:
            errors["ends_on"] = [_("La fin doit suivre le début.")]
        elif (new.ends_on - new.starts_on).days > MAX_MONTHS * 31:
            errors["ends_on"] = [_("Une prescription couvre au plus 12 mois.")]
    if new.reading_end <= new.reading_start:
        errors["reading_end"] = [_("La fin des heures de lecture doit suivre leur début.")]
    if not new.reading_weekdays or any(d not in range(1, 8) for d in new.reading_weekdays):
        errors["reading_weekdays"] = [_("Jours de lecture : de 1 (lundi) à 7 (dimanche).")]
    return errors, programme


def _taken(serials: list[str]) -> list[str]:
    """The error naming the serials already given to a device, if any."""
    taken = sorted(Device.objects.filter(serial__in=serials).values_list("serial", flat=True))
    return [_("Dispositif déjà attribué : %(s)s.") % {"s": ", ".join(taken)}] if taken else []


def enrol(request: HttpRequest | None, user: User, new: NewEnrolment) -> Enrolment:
    """A member of the opérateur team enrols a patient it may see, on a doctor's prescription,
    under a doctor of the team (the médecin opérateur)."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied
    team = policy.member_teams(user).filter(pk=new.team_id).first()
    patient = policy.visible_patients(user).filter(pk=new.patient_id).first()
    if team is None or patient is None:
        raise Http404
    try:
        with transaction.atomic():
            # The patient is on the act, not the enrolment, so no unique constraint can refuse a
            # second active enrolment: two posts serialise on the patient's row instead (PostgreSQL;
            # SQLite's IMMEDIATE transactions already serialise), and the loser, checking after the
            # winner committed, sees its enrolment. NO KEY: acts of this patient created meanwhile
            # elsewhere need not wait.
            patient = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
            errors, programme = _check(new)
            if (
                programme is not None
                and programme.enrolments.filter(
                    act__patient=patient, state=EnrolmentState.ACTIVE
                ).exists()
            ):
                errors["programme"] = [_("Ce patient est déjà suivi dans ce programme.")]
            if errors:
                raise ValidationError(errors)
            enrolment = store(
                request,
                user,
                patient,
                team,
                prescribers().get(pk=new.prescriber_id),
                User.objects.get(pk=new.operator_id),
                programme,
                {
                    "prescribed_on": new.prescribed_on,
                    "exploitant": new.exploitant.strip(),
                    "starts_on": new.starts_on,
                    "ends_on": new.ends_on,
                    "reading_start": new.reading_start,
                    "reading_end": new.reading_end,
                    "reading_weekdays": ",".join(str(d) for d in sorted(set(new.reading_weekdays))),
                },
                {s.strip(): new.device_label for s in new.devices if s.strip()},
            )
            audit.record(
                request, user, AuditAction.CREATE, [enrolment.act], structure_id=team.structure_id
            )
    except IntegrityError:
        # Two enrolments of different patients posted at once with the same device: the lock
        # above does not order them, the unique serial refuses the second.
        taken = _taken([s.strip() for s in new.devices if s.strip()])
        if not taken:
            raise
        raise ValidationError({"devices": taken}) from None
    return enrolment


@product_language()
def store(
    request: HttpRequest | None,
    user: User,
    patient: Patient,
    team: Team,
    prescriber: User,
    operator: User,
    programme: Programme,
    details: dict,
    devices: dict[str, str],
) -> Enrolment:
    """Both consents (collected by `user`), the act (performed by the team and its médecin
    opérateur), its details and the devices (serial → model), with the programme's thresholds.
    No checks: `enrol` (and the demo) check first."""

    def consent(note: str) -> Consent:
        return patients.record_consent(
            request,
            user,
            Consent(
                patient=patient,
                act_kind=ActKind.TELESURVEILLANCE,
                information_given=True,
                decision=ConsentDecision.CONSENT,
                note=note,
                structure_id=team.structure_id,
            ),
        )

    act = Act.objects.create(
        kind=ActKind.TELESURVEILLANCE,
        patient=patient,
        requester=prescriber,
        requesting_team=team,
        performing_team=team,
        status=ActStatus.IN_PROGRESS,
        consent=consent(_("Télésurveillance")),
        requested_at=timezone.now(),
    )
    act.performers.add(operator)
    enrolment = Enrolment.objects.create(
        act=act,
        programme=programme,
        prescriber=prescriber,
        operator=operator,
        data_consent=consent(_("Traitement des données de télésurveillance")),
        team=team,
        thresholds=programme.thresholds,
        **details,
    )
    Device.objects.bulk_create(
        Device(serial=serial, enrolment=enrolment, label=label) for serial, label in devices.items()
    )
    return enrolment


def visible(user: User) -> QuerySet[Enrolment]:
    """Enrolments of the user's teams and those the user prescribed."""
    if not policy.may_handle_patients(user):
        return Enrolment.objects.none()
    # The monitoring's act carries the rule: its opérateur team and its prescriber see it.
    return Enrolment.objects.filter(
        act_id__in=policy.visible_acts(user, [ActKind.TELESURVEILLANCE]).values("pk")
    )


_OWN_COLUMNS = [f.name for f in Enrolment._meta.concrete_fields]
# A page's devices, read by the statement of its rows: each enrolment's as a list of dicts.
LISTED_DEVICES = "listed_devices"
_DEVICES = JSONRows(
    Device.objects.filter(enrolment=OuterRef("pk")).order_by("pk").values("serial", "label")
)


def devices_of(enrolment: Enrolment) -> list[Device] | list[dict]:
    """The enrolment's devices: those its page read (`listed`: serial and label), else its
    own."""
    listed = enrolment.__dict__.get(LISTED_DEVICES)
    return list(enrolment.devices.all()) if listed is None else listed


def listed(user: User, state: str = "") -> paging.Listing:
    """The enrolments `visible` to a user who may handle patients, of one state when given,
    newest first, with their act and devices."""

    def build(values: SimpleNamespace) -> QuerySet[Enrolment]:
        acts = Act.objects.filter(pk__in=values.acts).values("pk")
        items = Enrolment.objects.filter(act_id__in=acts)
        if state:
            items = items.filter(state=values.state)
        # Of the act, the list shows the patient alone: its other columns are not read.
        rows = items.select_related("act").only(*_OWN_COLUMNS, "act__patient")
        return rows.order_by("-pk")

    values = {"acts": policy.visible_act_ids(user, [ActKind.TELESURVEILLANCE])}
    return paging.Listing(
        ("enrolments", bool(state)),
        build,
        values | ({"state": state} if state else {}),
        annotations=((LISTED_DEVICES, _DEVICES),),
    )


def get(request: HttpRequest | None, user: User, pk: int) -> Enrolment:
    """One enrolment through the wall, audited; others' are a 404."""
    enrolment = (
        visible(user)
        .filter(pk=pk)
        .select_related("act__patient", "programme", "prescriber", "operator", "team")
        .first()
    )
    if enrolment is None:
        # An enrolment's id is its act's.
        audit.record_refusal(request, user, AuditAction.READ, "acts.Act", pk)
        raise Http404(_("Suivi introuvable."))
    audit.record(request, user, AuditAction.READ, [enrolment.act])
    return enrolment


def end(
    request: HttpRequest | None,
    user: User,
    enrolment: Enrolment,
    state: str,
    now: datetime.datetime | None = None,
    patient_contact: str = "",
) -> Enrolment:
    """End (term reached) or stop (adherence, decision) a monitoring; devices stop counting and
    no forfait is billed after that day. The end-of-monitoring report goes to the prescriber
    and the patient (REGULATORY.md § Télésurveillance): the prescriber by the platform's
    notification, the patient told at the e-mail or mobile given here that it is ready, nothing
    medical in the message (the report itself travels by the documents' channels)."""
    if state not in (EnrolmentState.ENDED, EnrolmentState.STOPPED):
        raise ValidationError({"state": [_("État de fin inconnu.")]})
    try:
        contact = delivery.clean_contact(patient_contact)
    except ValidationError as exc:
        raise ValidationError({"patient_contact": exc.messages}) from exc
    if enrolment.team_id not in policy.member_team_ids(user):
        raise PermissionDenied(_("Seule l'équipe opérateur met fin au suivi."))
    if enrolment.state != EnrolmentState.ACTIVE:
        raise Conflict(_("Ce suivi est déjà terminé."))
    with transaction.atomic():
        enrolment.state = state
        enrolment.save(update_fields=["state"])
        enrolment.act.status = ActStatus.DONE
        enrolment.act.done_at = now or timezone.now()
        enrolment.act.save(update_fields=["status", "done_at"])
        audit.record(request, user, AuditAction.UPDATE, [enrolment.act], detail=f"suivi {state}")
        reports.attach_final(enrolment)
        _send_final_report(enrolment, contact)
    return enrolment


@product_language()
def _send_final_report(enrolment: Enrolment, contact: str) -> None:
    act = enrolment.act
    notify(
        [enrolment.prescriber],
        _("Compte rendu de fin de télésurveillance pour %(p)s") % {"p": act.patient},
        act=act,
        url=reverse("telesurveillance_patient", args=[enrolment.pk]),
    )
    if contact:
        delivery.send(
            contact,
            _("Télésanté — fin de votre suivi à distance"),
            _(
                "Télésanté : votre suivi à distance est terminé. Votre compte rendu de fin de "
                "suivi est prêt ; votre médecin vous le remet."
            ),
        )
