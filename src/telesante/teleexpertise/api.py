import datetime
from typing import Annotated

import pydantic
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import ValidationError as SchemaValidationError
from ninja.files import UploadedFile

from telesante.core import api_rows, paging
from telesante.core.bounds import Id
from telesante.documents import pdf
from telesante.documents import services as documents
from telesante.teleexpertise import services
from telesante.teleexpertise.models import ConsultationNeed, State, TeleExpertise, Urgency

router = Router(tags=["télé-expertise"])


class TeleExpertiseIn(Schema):
    patient_id: int
    structure_id: int
    filiere: str
    question: str = Field(min_length=1)
    urgency: Urgency = Urgency.NORMAL
    information_given: bool
    decision: str = Field(description="consent ou refusal")
    form: dict = Field(default_factory=dict)
    named_expert_id: int | None = None


class TeleExpertiseWithFilesIn(TeleExpertiseIn):
    taken_on: dict[str, datetime.date] = Field(
        default_factory=dict,
        description="par champ de fichiers, date de prise de vue des photos (AAAA-MM-JJ)",
    )


MULTIPART_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {
                        "type": "string",
                        "description": "la demande en JSON, comme pour POST /teleexpertise, "
                        "avec taken_on facultatif",
                    }
                },
                # One part per file, named after the filière form's photos or file field.
                "additionalProperties": {"type": "string", "format": "binary"},
            }
        }
    },
}


class AttachmentOut(Schema):
    id: int
    field: str
    original_name: str
    content_type: str
    size: int


class MessageOut(Schema):
    id: int
    author_id: int
    body: str
    created_at: datetime.datetime


class TeleExpertiseOut(Schema):
    id: int = Field(alias="act_id")
    patient_id: int = Field(alias="act.patient_id")
    filiere: str = Field(alias="act.filiere_id")
    question: str
    urgency: str
    state: str
    form_data: dict
    requester_id: int = Field(alias="act.requester_id")
    named_expert_id: int | None
    claimed_by_id: int | None
    due_at: datetime.datetime | None = Field(alias="act.due_at")
    opinion: str
    recommendations: str
    consultation_need: str
    answered_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    cancel_reason: str


class DeclineOut(Schema):
    expert_id: int
    reason: str
    created_at: datetime.datetime


class BillingCodeOut(Schema):
    code: str
    professional_id: int
    billable: bool
    warnings: list[str]


class TeleExpertiseDetail(TeleExpertiseOut):
    messages: list[MessageOut]
    attachments: list[AttachmentOut] = Field(alias="act.attachments")
    billing_codes: list[BillingCodeOut] = Field(alias="act.billing_codes")
    declines: list[DeclineOut]


class MessageIn(Schema):
    body: str
    ask_info: bool = False


class AnswerIn(Schema):
    opinion: str
    recommendations: str = ""
    consultation_need: ConsultationNeed


class DeclineIn(Schema):
    reason: str


class CorrectionIn(Schema):
    question: str = Field(min_length=1)
    urgency: Urgency = Urgency.NORMAL
    form: dict = Field(default_factory=dict)


class WithdrawIn(Schema):
    reason: str


def _new_request(payload: TeleExpertiseIn, files: dict | None = None) -> services.NewRequest:
    return services.NewRequest(
        patient_id=payload.patient_id,
        structure_id=payload.structure_id,
        filiere_code=payload.filiere,
        question=payload.question,
        urgency=payload.urgency,
        information_given=payload.information_given,
        decision=payload.decision,
        form_data=payload.form,
        named_expert_id=payload.named_expert_id,
        files=files or {},
    )


@router.post("", response={201: TeleExpertiseOut}, summary="Créer une demande")
def create(request: HttpRequest, payload: TeleExpertiseIn):
    """Filières whose form asks for files (photos, ECG…): `POST /teleexpertise/multipart`."""
    return Status(201, services.create(request, request.user, _new_request(payload)))


@router.post(
    "/multipart",
    response={201: TeleExpertiseOut},
    summary="Créer une demande avec ses fichiers (multipart)",
    openapi_extra={"requestBody": MULTIPART_BODY},
)
def create_with_files(request: HttpRequest):
    """One call: the part `data` holds the request in JSON (as `POST /teleexpertise`), each
    other part a file of the filière's form field of that name (`GET /filieres`), repeated for
    several photos. Nothing is kept unless everything is valid."""
    # Read by hand: the file parts are named by the filière, so no fixed signature fits them.
    data = request.POST.get("data")
    if data is None:
        raise SchemaValidationError([{"type": "missing", "loc": ("form", "data")}])
    try:
        payload = TeleExpertiseWithFilesIn.model_validate_json(data)
    except pydantic.ValidationError as exc:
        # Named like the fields of a JSON body: "question", "form", not "data.question".
        raise SchemaValidationError(
            [{**e, "loc": ("body", "data", *e["loc"])} for e in exc.errors()]
        ) from exc
    files = {
        name: [(upload, payload.taken_on.get(name)) for upload in request.FILES.getlist(name)]
        for name in request.FILES
    }
    new = _new_request(payload, files)
    return Status(201, services.create(request, request.user, new))


@router.get("", response=list[TeleExpertiseOut], summary="Boîte de réception ou d'envoi")
def listing(
    request: HttpRequest,
    response: HttpResponse,
    box: str = "inbox",
    status: State | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = services.LIST_LIMIT,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Open requests first (nearest deadline on top), then the history, newest first;
    `limit` from `offset`, the total in the X-Total-Count header."""
    if box not in ("inbox", "outbox"):
        raise Http404
    columns = api_rows.columns(TeleExpertiseOut, TeleExpertise)
    rows = services.listing(request.user, box, status or "", columns=columns)
    found = paging.api_page(request, response, rows, offset, limit, cursor)
    services.audit_listed(request, request.user, found)
    return api_rows.respond(request, response, TeleExpertiseOut, found)


@router.get("/{te_id}", response=TeleExpertiseDetail, summary="Lire une demande")
def read(request: HttpRequest, te_id: Id):
    return services.get(request, request.user, te_id)


@router.post("/{te_id}/attachments", response={201: AttachmentOut}, summary="Joindre un fichier")
def attach(request: HttpRequest, te_id: Id, file: File[UploadedFile], field: Form[str] = ""):
    te = services.get(request, request.user, te_id)
    if te.act.requester_id != request.user.pk and te.claimed_by_id != request.user.pk:
        raise PermissionDenied("Seuls le demandeur et l'expert joignent des fichiers.")
    return Status(
        201, documents.store(te.act, request.user, documents.clean_upload(file), field=field)
    )


@router.post("/{te_id}/messages", response={201: MessageOut}, summary="Écrire dans le fil")
def message(request: HttpRequest, te_id: Id, payload: MessageIn):
    te = services.get(request, request.user, te_id)
    return Status(
        201,
        services.post_message(request, request.user, te, payload.body, ask_info=payload.ask_info),
    )


@router.post("/{te_id}/claim", response={200: TeleExpertiseOut}, summary="Prendre en charge")
def claim(request: HttpRequest, te_id: Id):
    te = services.get(request, request.user, te_id)
    return Status(200, services.claim(request, request.user, te))


@router.post("/{te_id}/answer", response={200: TeleExpertiseOut}, summary="Répondre")
def answer(request: HttpRequest, te_id: Id, payload: AnswerIn):
    te = services.get(request, request.user, te_id)
    return Status(
        200,
        services.answer(
            request,
            request.user,
            te,
            payload.opinion,
            payload.recommendations,
            payload.consultation_need,
        ),
    )


@router.post("/{te_id}/decline", response={200: TeleExpertiseOut}, summary="Décliner")
def decline(request: HttpRequest, te_id: Id, payload: DeclineIn):
    te = services.get(request, request.user, te_id)
    return Status(200, services.decline(request, request.user, te, payload.reason))


@router.get("/{te_id}/report.pdf", summary="Compte rendu PDF")
def report(request: HttpRequest, te_id: Id):
    te = services.get(request, request.user, te_id)
    return pdf.report_response(te.act, f"teleexpertise-{te.pk}.pdf")


@router.put("/{te_id}", response={200: TeleExpertiseOut}, summary="Corriger une demande")
def correct(request: HttpRequest, te_id: Id, payload: CorrectionIn):
    """By its requester, until an expert takes it (409 after); the files stay as sent."""
    te = services.get(request, request.user, te_id)
    correction = services.Correction(payload.question, payload.urgency, payload.form)
    return Status(200, services.correct(request, request.user, te, correction))


@router.post("/{te_id}/withdraw", response={200: TeleExpertiseOut}, summary="Retirer une demande")
def withdraw(request: HttpRequest, te_id: Id, payload: WithdrawIn):
    """By its requester, until an expert takes it (409 after): cancelled, experts told."""
    te = services.get(request, request.user, te_id)
    return Status(200, services.withdraw(request, request.user, te, payload.reason))
