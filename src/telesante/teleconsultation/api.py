import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from telesante.core import audit, policy
from telesante.core.models import AuditAction
from telesante.documents import pdf
from telesante.teleconsultation import services
from telesante.teleconsultation.models import Assistance

router = Router(tags=["téléconsultation"])


class ConsultationIn(Schema):
    patient_id: int
    structure_id: int
    kind: str = Field(description="teleconsultation ou telesoin")
    performer_id: int
    scheduled_at: datetime.datetime
    reason: str = Field(min_length=1)
    information_given: bool
    decision: str = Field(description="consent ou refusal")
    assistance: Assistance = Assistance.NONE
    duration_minutes: int = 20
    video_suitable: bool = Field(
        False,
        description="télésoin : réalisable en vidéo, sans contact physique ni matériel manquant",
    )
    initial_assessment: bool = False
    seen_in_person_this_year: bool = False
    adult_present: bool = False


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

    @staticmethod
    def resolve_room_slug(obj) -> str | None:
        return services.room_of(obj).slug


class ReportIn(Schema):
    report_text: str
    prescriptions: str = ""
    finish: bool = False


class IncidentIn(Schema):
    description: str


class IncidentOut(Schema):
    id: int
    description: str
    automatic: bool
    occurred_at: datetime.datetime


@router.post("", response={201: ConsultationOut}, summary="Programmer un acte")
def create(request: HttpRequest, payload: ConsultationIn):
    tc = services.create(request, request.user, services.NewConsultation(**payload.dict()))
    return Status(201, tc)


@router.get("", response=list[ConsultationOut], summary="Actes programmés et réalisés")
def listing(request: HttpRequest):
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Accès refusé pour ce rôle.")
    items = list(services.listing(request.user)[:200])
    audit.record(request, request.user, AuditAction.SEARCH, [tc.act for tc in items])
    return items


@router.get("/{act_id}", response=ConsultationOut, summary="Lire un acte")
def read(request: HttpRequest, act_id: int):
    return services.get(request, request.user, act_id)


@router.post("/{act_id}/report", response=ConsultationOut, summary="Compte rendu (et clôture)")
def report_save(request: HttpRequest, act_id: int, payload: ReportIn):
    tc = services.get(request, request.user, act_id)
    return services.save_report(
        request, request.user, tc, payload.report_text, payload.prescriptions, payload.finish
    )


@router.post("/{act_id}/incidents", response={201: IncidentOut}, summary="Signaler un incident")
def incident(request: HttpRequest, act_id: int, payload: IncidentIn):
    tc = services.get(request, request.user, act_id)
    return Status(201, services.add_incident(request, request.user, tc, payload.description))


@router.get("/{act_id}/report.pdf", summary="Compte rendu PDF")
def report(request: HttpRequest, act_id: int):
    tc = services.get(request, request.user, act_id, AuditAction.EXPORT)
    return pdf.report_response(tc.act, f"acte-{act_id}.pdf")
