import datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from telesante.core import api_rows, audit, paging, policy
from telesante.core.bounds import Id, Moment, WallTime
from telesante.core.models import AuditAction
from telesante.documents import pdf
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import GuestRelation
from telesante.teleconsultation import booking, services
from telesante.teleconsultation.models import Assistance

router = Router(tags=["téléconsultation"])


class SlotBookingIn(Schema):
    patient_id: int
    structure_id: int
    kind: str = Field(description="teleconsultation ou telesoin")
    performer_id: int
    scheduled_at: Moment = Field(description="avec le fuseau, ex. 2026-03-02T14:30:00+01:00")
    reason: str = Field(min_length=1)
    information_given: bool
    decision: str = Field(description="consent ou refusal")
    assistance: Assistance = Assistance.NONE
    video_suitable: bool = Field(
        False,
        description="télésoin : réalisable en vidéo, sans contact physique ni matériel manquant",
    )
    initial_assessment: bool = False
    seen_in_person_this_year: bool = False
    adult_present: bool = False
    patient_email: str = Field("", description="rappels par e-mail (facultatif)")
    patient_phone: str = Field("", description="rappels par SMS (facultatif)")


class ConsultationIn(SlotBookingIn):
    duration_minutes: int = 20


class ConsultationOut(Schema):
    id: int = Field(alias="act_id")
    kind: str = Field(alias="act.kind")
    status: str = Field(alias="act.status")
    patient_id: int = Field(alias="act.patient_id")
    requester_id: int = Field(alias="act.requester_id")
    reason: str
    scheduled_at: datetime.datetime
    duration_minutes: int
    assistance: str
    prescriber_id: int | None
    video_suitable: bool
    room_slug: str | None = None
    report_text: str
    patient_email: str
    patient_phone: str
    video_seconds: int = Field(description="temps passé ensemble en vidéo, à la clôture")
    not_done_reason: str = Field(description="motif, si l'acte est clos « non réalisé »")

    @staticmethod
    def resolve_room_slug(obj) -> str | None:
        return services.room_of(obj).slug


class ReportIn(Schema):
    report_text: str
    prescriptions: str = ""
    finish: bool = False


class NotDoneIn(Schema):
    reason: str


class IncidentIn(Schema):
    description: str


class IncidentOut(Schema):
    id: int
    description: str
    automatic: bool
    occurred_at: datetime.datetime


class AvailabilityIn(Schema):
    structure_id: int
    filiere: str = Field("", description="code de la filière ; vide : toutes")
    weekday: int = Field(description="0 lundi … 6 dimanche")
    start: WallTime
    end: WallTime
    slot_minutes: int = 20
    buffer_minutes: int = 5


class AvailabilityOut(Schema):
    id: int
    structure_id: int
    structure_name: str = Field(alias="structure.name")
    filiere: str | None = Field(alias="filiere_id")
    weekday: int
    start: datetime.time
    end: datetime.time
    slot_minutes: int
    buffer_minutes: int


class SlotOut(Schema):
    start: datetime.datetime
    end: datetime.datetime
    duration_minutes: int = Field(alias="availability.slot_minutes")
    structure_id: int = Field(alias="availability.structure_id")
    structure_name: str = Field(alias="availability.structure.name")
    filiere: str | None = Field(alias="availability.filiere_id")


class CancelIn(Schema):
    reason: str


class MoveIn(Schema):
    scheduled_at: Moment = Field(description="avec le fuseau, ex. 2026-03-02T14:30:00+01:00")


class GuestIn(Schema):
    label: str
    relation: GuestRelation = GuestRelation.PATIENT
    hours: int | None = Field(None, description="validité en heures (1 à 168)")
    contact: str = Field("", description="e-mail ou mobile où envoyer un code (facultatif)")


class GuestOut(Schema):
    id: int
    label: str
    relation: str
    expires_at: datetime.datetime
    revoked_at: datetime.datetime | None
    code_required: bool

    @staticmethod
    def resolve_code_required(obj) -> bool:
        return bool(obj.code_hash)


class NewGuestOut(GuestOut):
    url: str = Field(description="le lien à transmettre (donné une seule fois)")


class GuestSendIn(Schema):
    contact: str = Field(description="e-mail ou mobile (06 12 34 56 78, +33 6 12 34 56 78)")


class GuestSentOut(Schema):
    sent_to: str = Field(description="l'adresse ou le numéro (forme internationale) retenus")
    channel: str = Field(description="email ou sms")


@router.get(
    "/availabilities", response=list[AvailabilityOut], summary="Mes disponibilités publiées"
)
def availabilities(request: HttpRequest):
    return booking.openings(request.user)


@router.post(
    "/availabilities", response={201: AvailabilityOut}, summary="Publier une disponibilité"
)
def availability_add(request: HttpRequest, payload: AvailabilityIn):
    return Status(
        201,
        booking.add_availability(
            request,
            request.user,
            payload.structure_id,
            payload.weekday,
            payload.start,
            payload.end,
            payload.slot_minutes,
            payload.buffer_minutes,
            payload.filiere,
        ),
    )


@router.delete(
    "/availabilities/{availability_id}", response={204: None}, summary="Retirer une disponibilité"
)
def availability_remove(request: HttpRequest, availability_id: Id):
    booking.remove_availability(request.user, availability_id)
    return Status(204, None)


@router.get("/slots", response=list[SlotOut], summary="Créneaux libres d'un professionnel")
def slots(
    request: HttpRequest,
    performer_id: int,
    days: int = Query(booking.HORIZON_DAYS, ge=1, le=28, description="jours à venir"),
):
    return booking.slots_of(request.user, performer_id, days)


@router.post(
    "/bookings", response={201: ConsultationOut}, summary="Réserver un créneau pour un patient"
)
def book(request: HttpRequest, payload: SlotBookingIn):
    new = services.NewConsultation(**payload.dict())
    return Status(201, booking.book_slot(request, request.user, new))


@router.post("", response={201: ConsultationOut}, summary="Programmer un acte")
def create(request: HttpRequest, payload: ConsultationIn):
    tc = services.create(request, request.user, services.NewConsultation(**payload.dict()))
    return Status(201, tc)


@router.get("", response=list[ConsultationOut], summary="Actes programmés et réalisés")
def listing(
    request: HttpRequest,
    response: HttpResponse,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 200,
):
    """The most recent first, `limit` from `offset`; the total in the X-Total-Count header."""
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Accès refusé pour ce rôle.")
    rows = services.listed(request.user, related=services.API_RELATED)
    items = paging.api_page(request, response, rows, offset, limit, cursor)
    audit.record(request, request.user, AuditAction.SEARCH, [tc.act for tc in items])
    return api_rows.respond(request, response, ConsultationOut, items)


@router.get("/{act_id}", response=ConsultationOut, summary="Lire un acte")
def read(request: HttpRequest, act_id: Id):
    return services.get(request, request.user, act_id)


@router.post("/{act_id}/report", response=ConsultationOut, summary="Compte rendu (et clôture)")
def report_save(request: HttpRequest, act_id: Id, payload: ReportIn):
    tc = services.get(request, request.user, act_id)
    return services.save_report(
        request, request.user, tc, payload.report_text, payload.prescriptions, payload.finish
    )


@router.post("/{act_id}/not-done", response=ConsultationOut, summary="Clore l'acte « non réalisé »")
def not_done(request: HttpRequest, act_id: int, payload: NotDoneIn):
    tc = services.get(request, request.user, act_id)
    return services.not_done(request, request.user, tc, payload.reason)


@router.post("/{act_id}/incidents", response={201: IncidentOut}, summary="Signaler un incident")
def incident(request: HttpRequest, act_id: Id, payload: IncidentIn):
    tc = services.get(request, request.user, act_id)
    return Status(201, services.add_incident(request, request.user, tc, payload.description))


@router.get("/{act_id}/report.pdf", summary="Compte rendu PDF")
def report(request: HttpRequest, act_id: Id):
    tc = services.get(request, request.user, act_id, AuditAction.EXPORT)
    return pdf.report_response(tc.act, f"acte-{act_id}.pdf")


@router.post("/{act_id}/cancel", response=ConsultationOut, summary="Annuler un acte programmé")
def cancel(request: HttpRequest, act_id: Id, payload: CancelIn):
    tc = services.get(request, request.user, act_id)
    booking.cancel(request, request.user, tc, payload.reason)
    return tc


@router.post("/{act_id}/move", response=ConsultationOut, summary="Déplacer un acte programmé")
def move(request: HttpRequest, act_id: Id, payload: MoveIn):
    tc = services.get(request, request.user, act_id)
    return booking.move(request, request.user, tc, payload.scheduled_at)


@router.get("/{act_id}/guests", response=list[GuestOut], summary="Liens invités de l'acte")
def guests(request: HttpRequest, act_id: Id):
    tc = services.get(request, request.user, act_id)
    return services.room_of(tc).guest_links.all()


@router.post("/{act_id}/guests", response={201: NewGuestOut}, summary="Créer un lien invité")
def guest_create(request: HttpRequest, act_id: Id, payload: GuestIn):
    tc = services.get(request, request.user, act_id)
    guest = rooms.create_guest_link(
        request,
        request.user,
        services.room_of(tc),
        payload.label,
        payload.relation,
        payload.hours,
        payload.contact,
    )
    guest.url = request.build_absolute_uri(tokens.guest_path(guest.pk))
    return Status(201, guest)


@router.post(
    "/{act_id}/guests/{guest_id}/revoke", response=GuestOut, summary="Retirer un lien invité"
)
def guest_revoke(request: HttpRequest, act_id: Id, guest_id: Id):
    tc = services.get(request, request.user, act_id)
    return rooms.revoke_guest_link(request, request.user, services.room_of(tc), guest_id)


@router.post(
    "/{act_id}/guests/{guest_id}/send",
    response=GuestSentOut,
    summary="Envoyer un lien invité par SMS ou e-mail",
)
def guest_send(request: HttpRequest, act_id: Id, guest_id: Id, payload: GuestSendIn):
    tc = services.get(request, request.user, act_id)
    to = rooms.send_guest_link(
        request, request.user, services.room_of(tc), guest_id, payload.contact
    )
    return {"sent_to": to, "channel": "email" if "@" in to else "sms"}
