"""Télé-expertise: request, claim, information thread, answer, decline, report, billing.

Views and API handlers call these functions; each goes through the wall (`core.policy`) and
the audit trail (`core.audit`), and leaves nothing half-saved (one transaction per step).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession, User
from telesante.acts import filiere_forms
from telesante.acts.models import TE_OPEN_STATUSES, Act, ActStatus, Filiere
from telesante.core import audit, paging, policy
from telesante.core.actions import Conflict
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.documents import services as documents
from telesante.notifications.services import notify
from telesante.patients import services as patients
from telesante.patients.models import ActKind, ConsentDecision
from telesante.teleexpertise import billing, pools, reports
from telesante.teleexpertise.models import (
    OPEN_STATES,
    ConsultationNeed,
    Message,
    State,
    TeleExpertise,
    Urgency,
)

REQUESTER_PROFESSIONS = {
    Profession.DOCTOR,
    Profession.NURSE,
    Profession.IPA,
    Profession.PHYSIO,
    Profession.MIDWIFE,
    Profession.PODIATRIST,
    Profession.SPEECH,
}
URGENT_DAYS = 2


@dataclass
class NewRequest:
    patient_id: int
    structure_id: int
    filiere_code: str
    question: str
    information_given: bool
    decision: str
    urgency: str = Urgency.NORMAL
    form_data: dict = field(default_factory=dict)
    # form field name -> list of (uploaded file, date the photo was taken or None)
    files: dict[str, list[tuple[UploadedFile, datetime.date | None]]] = field(default_factory=dict)
    named_expert_id: int | None = None


def may_request(user: User) -> bool:
    return policy.may_handle_patients(user) and user.profession in REQUESTER_PROFESSIONS


def _url(te: TeleExpertise) -> str:
    return reverse("teleexpertise_detail", args=[te.pk])


def _clean_files(new: NewRequest, definition: list[dict], errors: dict) -> dict[str, list]:
    photo_fields = {f["name"] for f in definition if f.get("type") == "photos"}
    known = {f["name"] for f in filiere_forms.file_fields(definition)}
    cleaned: dict[str, list] = {}
    for name, uploads in new.files.items():
        if name not in known:
            errors.setdefault(name, []).append(
                _("Ce formulaire n'a pas de champ de fichiers « %(name)s ».") % {"name": name}
            )
            continue
        for upload, taken_on in uploads:
            try:
                clean = documents.clean_upload(upload)
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
                continue
            if name in photo_fields and not clean.content_type.startswith("image/"):
                errors.setdefault(name, []).append(
                    _("« %(name)s » n'est pas une photo (JPEG ou PNG attendu).")
                    % {"name": upload.name}
                )
                continue
            cleaned.setdefault(name, []).append((clean, taken_on))
    return cleaned


def create(request: HttpRequest | None, user: User, new: NewRequest) -> TeleExpertise:
    if not may_request(user):
        raise PermissionDenied(_("Votre profession ne permet pas de demander une télé-expertise."))
    structure = policy.member_structures(user).filter(pk=new.structure_id).first()
    patient = policy.visible_patients(user).filter(pk=new.patient_id).first()
    if structure is None or patient is None:
        raise Http404
    errors: dict[str, list[str]] = {}
    filiere = Filiere.objects.filter(pk=new.filiere_code, active=True).first()
    if filiere is None:
        raise ValidationError({"filiere": [_("Filière inconnue.")]})
    if not new.question.strip():
        errors["question"] = [_("Posez votre question à l'expert.")]
    if new.urgency not in Urgency.values:
        errors["urgency"] = [_("Urgence inconnue.")]
    if not new.information_given:
        errors["information_given"] = [_("Le patient doit être informé avant l'envoi.")]
    if new.decision == ConsentDecision.REFUSAL:
        errors["decision"] = [
            _(
                "Le patient refuse la télé-expertise : la demande ne peut pas être envoyée. "
                "Son refus est enregistré."
            )
        ]
    elif new.decision != ConsentDecision.CONSENT:
        errors["decision"] = [_("Indiquez si le patient consent.")]
    named = None
    if new.named_expert_id:
        named = User.objects.filter(
            pk=new.named_expert_id, is_active=True, specialty=filiere.specialty
        ).first()
        if named is None:
            errors["named_expert"] = [_("Cet expert ne fait pas partie de la filière.")]
    cleaned_form, form_errors = filiere_forms.validate(
        filiere.form, new.form_data, {k: len(v) for k, v in new.files.items()}
    )
    errors.update(form_errors)
    files = _clean_files(new, filiere.form, errors)
    if new.decision == ConsentDecision.REFUSAL and new.information_given:
        patients.refusal_of_act(
            request, user, patient, ActKind.TELEEXPERTISE, structure, new.question
        )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    days = URGENT_DAYS if new.urgency == Urgency.URGENT else filiere.answer_days
    with transaction.atomic():
        consent = patients.consent_to_act(request, user, patient, ActKind.TELEEXPERTISE, structure)
        act = Act.objects.create(
            kind=ActKind.TELEEXPERTISE,
            filiere=filiere,
            patient=patient,
            requester=user,
            requesting_structure=structure,
            status=ActStatus.REQUESTED,
            consent=consent,
            requested_at=now,
            due_at=now + datetime.timedelta(days=days),
        )
        te = TeleExpertise.objects.create(
            act=act,
            question=new.question.strip(),
            urgency=new.urgency,
            form_data=cleaned_form,
            named_expert=named,
        )
        for name, items in files.items():
            for clean, taken_on in items:
                documents.store(act, user, clean, field=name, taken_on=taken_on)
        audit.record(request, user, AuditAction.CREATE, [act], structure_id=structure.pk)
        with product_language():
            notify(
                pools.pool_experts(te),
                _("Nouvelle demande de télé-expertise (%(f)s)") % {"f": filiere.name},
                act=act,
                url=_url(te),
            )
    return te


LIST_LIMIT = 50  # the API's default page
# What the pages show of each request (the API reads its columns alone).
LIST_RELATED = (
    "act__patient",
    "act__filiere",
    "act__requester",
    "act__requesting_structure",
    "claimed_by",
    "named_expert",
)


def _inbox_ids(user: User, open_only: bool) -> RawSQL:
    """The ids of the requests addressed to the expert (claimed, named, or open in their pool,
    within their territory or widened to their reference site), as a UNION of index-driven
    arms (an OR across them would test every request), compiled once per shape
    (`policy.compiled`)."""

    def build(who: User) -> QuerySet:
        claimed = TeleExpertise.objects.filter(claimed_by=who)
        if open_only:
            claimed = claimed.filter(state__in=OPEN_STATES)
        return claimed.values_list("pk", flat=True).union(
            *(
                TeleExpertise.objects.filter(arm).values_list("pk", flat=True)
                for arm in (
                    Q(named_expert=who, state=State.POOLED),
                    pools.pool_q(who, reference=False),
                    pools.widened_q(who),
                )
            )
        )

    return policy.compiled(user, ("inbox", open_only, bool(user.specialty)), build)


def open_inbox(user: User) -> QuerySet[TeleExpertise]:
    """The open requests addressed to the expert, their own requests excepted."""
    return open_requests(open_inbox_ids(user), user.pk)


def open_inbox_ids(user: User) -> RawSQL:
    """The ids of the open requests addressed to the expert (their own ones too), as SQL."""
    return _inbox_ids(user, True)


def open_requests(ids: RawSQL, user_id: int) -> QuerySet[TeleExpertise]:
    """The open requests of `ids` (`open_inbox_ids`) but the user's own. The planner reads
    the few ids of the UNION's arms, then each request's act in the index of the open ones
    (acts.act_te_open: its deadline and requester without the act's row). The arms hold open
    requests only: the state is not tested again; the act's status is, for that index."""
    return TeleExpertise.objects.filter(
        pk__in=ids, act__kind=ActKind.TELEEXPERTISE, act__status__in=TE_OPEN_STATUSES
    ).exclude(act__requester=user_id)


def inbox(user: User) -> QuerySet[TeleExpertise]:
    """Requests addressed to the expert, their own requests excepted."""
    return TeleExpertise.objects.filter(pk__in=_inbox_ids(user, False)).exclude(act__requester=user)


def _sent_by(user: User | int, teams: list[int], prefix: str = "") -> Q:
    """Sent by the user or from one of their care teams (prefix: path to the act)."""
    return Q(**{f"{prefix}requester": user}) | Q(**{f"{prefix}requesting_team__in": teams})


def outbox(user: User, teams: list[int] | None = None) -> QuerySet[TeleExpertise]:
    """Requests sent by the user or from one of their care teams (`teams`: their ids, when the
    caller has them)."""
    return TeleExpertise.objects.filter(
        _sent_by(user, policy.member_team_ids(user) if teams is None else teams, "act__")
    )


def listing(
    user: User,
    box: str,
    state: str = "",
    columns: tuple[str, ...] = (),
) -> paging.Chain:
    """Open requests first, the nearest deadline on top; then the history, newest first: read
    by slices (pages) and counted. Each row a request with its joins (`LIST_RELATED`), or with
    `columns` (the API's) a dict of those columns (`paging.Listing`).

    The few open ones are found by id first (an expert's inbox keeps every request they ever
    answered), then fetched and sorted; the history walks the ids backwards (ids follow time).
    A constant number of queries a page, each served by an index; read by cursor, each is
    prepared once per shape (`paging.Listing`)."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied
    inbox_box = box == "inbox"
    values: dict = {"user": user.pk}
    if inbox_box:
        values["ids"] = open_inbox_ids(user)
    else:
        values["teams"] = policy.member_team_ids(user)
    if state:
        values["state"] = state
    related = () if columns else LIST_RELATED

    def sent(v: SimpleNamespace) -> QuerySet[TeleExpertise]:
        return TeleExpertise.objects.filter(_sent_by(v.user, v.teams, "act__"))

    def history(v: SimpleNamespace) -> QuerySet[TeleExpertise]:
        if inbox_box:
            items = TeleExpertise.objects.filter(claimed_by=v.user).exclude(act__requester=v.user)
        else:
            items = sent(v)
        if state:
            items = items.filter(state=v.state)
        return items.exclude(state__in=OPEN_STATES).select_related(*related).order_by("-pk")

    def still_open(v: SimpleNamespace) -> QuerySet[TeleExpertise]:
        if inbox_box:  # open states only already: a second test of the state would have the
            # planner expect one row and walk the state index, not the keys
            items = open_requests(v.ids, v.user)
        else:
            # The act's status mirrors the request's state: the user's and their teams' open
            # acts are two small index ranges (acts.act_requester_open, acts.act_team_status).
            items = sent(v).filter(
                act__kind=ActKind.TELEEXPERTISE,
                act__status__in=TE_OPEN_STATUSES,
                state__in=OPEN_STATES,
            )
        if state:
            items = items.filter(state=v.state)
        return items.select_related(*related).order_by("act__due_at", "pk")

    shape = ("teleexpertise", box, bool(state), columns, len(values.get("teams", ())))
    return paging.Chain(
        paging.Listing((*shape, "open"), still_open, values, columns=columns),
        paging.Listing(
            (*shape, "history"), history, values, same_as_key=("act__id",), columns=columns
        ),
    )


def audit_listed(request: HttpRequest | None, user: User, rows: Iterable) -> None:
    """One search entry per request a box lists, on its act: requests (the pages) or rows read
    as columns (the API's, `listing(columns=…)`)."""
    audit.record_keys(
        request,
        user,
        AuditAction.SEARCH,
        [
            ("act", row["pk"], row["act__patient_id"])
            if isinstance(row, dict)
            else ("act", row.pk, row.act.patient_id)
            for row in rows
        ],
    )


def get(request: HttpRequest | None, user: User, pk: int) -> TeleExpertise:
    act = policy.get_act(request, user, pk, AuditAction.READ)
    te = (
        TeleExpertise.objects.select_related(
            "act__patient",
            "act__filiere",
            "act__requester",
            "act__requesting_structure",
            "act__performing_structure",
            "claimed_by",
            "named_expert",
            "act__patient__gp",
        )
        .filter(act=act)
        .first()
    )
    if te is None:
        raise Http404
    return te


def _locked(te: TeleExpertise) -> TeleExpertise:
    return TeleExpertise.objects.select_for_update().select_related("act").get(pk=te.pk)


def claim(request: HttpRequest | None, user: User, te: TeleExpertise) -> TeleExpertise:
    with transaction.atomic():
        te = _locked(te)
        if te.state != State.POOLED:
            raise Conflict(_("Cette demande a déjà été prise en charge."))
        if not may_claim(user, te):
            raise PermissionDenied(_("Cette demande ne vous est pas adressée."))
        te.state, te.claimed_by, te.claimed_at = State.CLAIMED, user, timezone.now()
        te.save(update_fields=["state", "claimed_by", "claimed_at"])
        act = te.act
        act.status = ActStatus.IN_PROGRESS
        act.performing_team = policy.member_teams(user).order_by("pk").first()
        act.save(update_fields=["status", "performing_structure", "performing_team"])
        act.performers.add(user)
        audit.record(request, user, AuditAction.UPDATE, [act], detail="prise en charge")
        with product_language():
            notify(
                [act.requester],
                _("Votre demande de télé-expertise est prise en charge par %(e)s.") % {"e": user},
                act=act,
                url=_url(te),
            )
    return te


def may_claim(user: User, te: TeleExpertise) -> bool:
    if te.act.requester_id == user.pk:  # nobody gives an opinion on their own request
        return False
    return te.named_expert_id == user.pk or (
        te.named_expert_id is None
        and TeleExpertise.objects.filter(pools.pool_q(user), pk=te.pk).exists()
    )


def named_expert_choices(filiere: Filiere) -> QuerySet[User]:
    return User.objects.filter(is_active=True, specialty=filiere.specialty).order_by(
        "last_name", "first_name"
    )


def is_requester_side(user: User, te: TeleExpertise) -> bool:
    return te.act.requester_id == user.pk or te.act.requesting_team_id in policy.member_team_ids(
        user
    )


def post_message(
    request: HttpRequest | None,
    user: User,
    te: TeleExpertise,
    body: str,
    files: list[UploadedFile] = (),
    ask_info: bool = False,
) -> Message:
    """A message of the thread; the expert may ask for information, the requester answers."""
    body = body.strip()
    errors: dict[str, list[str]] = {}
    if not body:
        errors["body"] = [_("Le message est vide.")]
    cleaned = []
    for upload in files:
        try:
            cleaned.append(documents.clean_upload(upload))
        except ValidationError as exc:
            errors.setdefault("file", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        te = _locked(te)
        expert = te.claimed_by_id == user.pk
        requester = is_requester_side(user, te)
        if not (expert or requester):
            raise PermissionDenied(_("Seuls le demandeur et l'expert échangent sur la demande."))
        if te.state in (State.ANSWERED, State.CANCELLED):
            raise Conflict(_("La demande est close."))
        message = Message.objects.create(teleexpertise=te, author=user, body=body)
        for clean in cleaned:
            documents.store(te.act, user, clean, message_id=message.pk)
        if expert and ask_info:
            te.state = State.WAITING_INFO
            te.act.status = ActStatus.WAITING_INFO
        elif requester and te.state == State.WAITING_INFO:
            te.state = State.CLAIMED
            te.act.status = ActStatus.IN_PROGRESS
        te.save(update_fields=["state"])
        te.act.save(update_fields=["status"])
        audit.record(request, user, AuditAction.UPDATE, [te.act], detail="message")
        other = te.act.requester if expert else te.claimed_by
        with product_language():
            notify(
                [other],
                _("Nouveau message sur la télé-expertise #%(n)d") % {"n": te.pk},
                act=te.act,
                url=_url(te),
            )
    return message


def answer(
    request: HttpRequest | None,
    user: User,
    te: TeleExpertise,
    opinion: str,
    recommendations: str,
    consultation_need: str,
) -> TeleExpertise:
    errors = {}
    if not opinion.strip():
        errors["opinion"] = [_("La conclusion (avis) est obligatoire.")]
    if consultation_need not in ConsultationNeed.values:
        errors["consultation_need"] = [_("Indiquez si une consultation est nécessaire.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        te = _locked(te)
        if te.claimed_by_id != user.pk:
            raise PermissionDenied(_("Seul l'expert qui a pris la demande y répond."))
        if te.state == State.ANSWERED:
            raise Conflict(_("La demande a déjà reçu une réponse."))
        now = timezone.now()
        te.opinion, te.recommendations = opinion.strip(), recommendations.strip()
        te.consultation_need, te.state, te.answered_at = consultation_need, State.ANSWERED, now
        te.save()
        act = te.act
        act.status, act.done_at = ActStatus.DONE, now
        act.save(update_fields=["status", "done_at"])
        billing.record(te)
        reports.attach(te)
        audit.record(request, user, AuditAction.UPDATE, [act], detail="réponse")
        gp = act.patient.gp
        with product_language():
            notify(
                [act.requester, gp],
                _("Réponse et compte rendu de télé-expertise pour %(p)s") % {"p": act.patient},
                act=act,
                url=_url(te),
            )
    return te


def decline(
    request: HttpRequest | None, user: User, te: TeleExpertise, reason: str
) -> TeleExpertise:
    if not reason.strip():
        raise ValidationError({"reason": [_("Indiquez le motif du refus.")]})
    with transaction.atomic():
        te = _locked(te)
        if user.pk not in (te.claimed_by_id, te.named_expert_id):
            raise PermissionDenied(_("Cette demande ne vous est pas adressée."))
        if te.state == State.ANSWERED:
            raise Conflict(_("La demande a déjà reçu une réponse."))
        te.declines.create(expert=user, reason=reason.strip()[:500])
        te.state, te.claimed_by, te.claimed_at, te.named_expert = State.POOLED, None, None, None
        te.save(update_fields=["state", "claimed_by", "claimed_at", "named_expert"])
        act = te.act
        act.status = ActStatus.REQUESTED
        act.performing_structure, act.performing_team = None, None
        act.save(update_fields=["status", "performing_structure", "performing_team"])
        act.performers.remove(user)
        audit.record(request, user, AuditAction.UPDATE, [act], detail=f"refus : {reason}"[:200])
        with product_language():
            notify(
                [act.requester],
                _(
                    "L'expert a décliné la demande #%(n)d (motif : %(r)s) ; "
                    "elle retourne au groupe d'experts."
                )
                % {"n": te.pk, "r": reason.strip()},
                act=act,
                url=_url(te),
            )
            notify(
                pools.pool_experts(te).exclude(pk=user.pk),
                _("Demande de télé-expertise à reprendre (%(f)s)") % {"f": act.filiere.name},
                act=act,
                url=_url(te),
            )
    return te


def may_change(user: User, te: TeleExpertise) -> bool:
    """Its requester corrects or withdraws a request until an expert takes it."""
    return te.act.requester_id == user.pk and te.state == State.POOLED


def _changeable(user: User, te: TeleExpertise) -> TeleExpertise:
    """The request locked, once checked still the user's and still waiting for an expert."""
    if te.act.requester_id != user.pk:
        raise PermissionDenied(_("Seul le demandeur modifie ou retire sa demande."))
    te = _locked(te)
    if te.state == State.CANCELLED:
        raise Conflict(_("Cette demande a été retirée."))
    if te.state != State.POOLED:
        raise Conflict(
            _("Un expert a pris la demande en charge : elle ne peut plus être modifiée ni retirée.")
        )
    return te


@dataclass
class Correction:
    question: str
    urgency: str
    form_data: dict


def correct(
    request: HttpRequest | None, user: User, te: TeleExpertise, new: Correction
) -> TeleExpertise:
    """Question, urgency and the filière form's values changed before anyone took the request
    (the files stay as sent); an urgency change moves the deadline. Checked like a new one."""
    errors: dict[str, list[str]] = {}
    if not new.question.strip():
        errors["question"] = [_("Posez votre question à l'expert.")]
    if new.urgency not in Urgency.values:
        errors["urgency"] = [_("Urgence inconnue.")]
    act = te.act
    files = dict(
        act.attachments.exclude(field="")
        .values("field")
        .annotate(n=Count("pk"))
        .values_list("field", "n")
    )
    cleaned_form, form_errors = filiere_forms.validate(act.filiere.form, new.form_data, files)
    errors.update(form_errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        te = _changeable(user, te)
        act = te.act
        te.question, te.form_data = new.question.strip(), cleaned_form
        if new.urgency != te.urgency:
            days = URGENT_DAYS if new.urgency == Urgency.URGENT else act.filiere.answer_days
            act.due_at = act.requested_at + datetime.timedelta(days=days)
            act.save(update_fields=["due_at"])
        te.urgency = new.urgency
        te.save(update_fields=["question", "urgency", "form_data"])
        audit.record(request, user, AuditAction.UPDATE, [act], detail="demande corrigée")
    return te


def withdraw(
    request: HttpRequest | None, user: User, te: TeleExpertise, reason: str
) -> TeleExpertise:
    """The requester withdraws the request: cancelled, out of every deadline (reminders,
    escalation, late lists) and of the indicators; the experts it was addressed to are told."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Indiquez le motif du retrait.")]})
    with transaction.atomic():
        te = _changeable(user, te)
        experts = list(pools.pool_experts(te))
        te.state, te.cancelled_at, te.cancel_reason = (
            State.CANCELLED,
            timezone.now(),
            reason.strip()[:500],
        )
        te.save(update_fields=["state", "cancelled_at", "cancel_reason"])
        act = te.act
        act.status = ActStatus.CANCELLED
        act.save(update_fields=["status"])
        audit.record(request, user, AuditAction.UPDATE, [act], detail=f"retrait : {reason}"[:200])
        with product_language():
            notify(
                experts,
                _("Demande de télé-expertise #%(n)d retirée par le demandeur (motif : %(r)s).")
                % {"n": te.pk, "r": te.cancel_reason},
                act=act,
                url=_url(te),
            )
    return te
