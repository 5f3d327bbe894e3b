"""Regulation records over the API: list, create, read, change, send and withdraw the caller's
video link. The same services and the same wall as the pages."""

import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from telesante.core import audit, paging, policy
from telesante.core.bounds import Id
from telesante.core.models import AuditAction
from telesante.regulation import services

router = Router(tags=["regulation"])


class EventOut(Schema):
    at: datetime.datetime
    kind: str
    actor_id: int | None
    detail: str


class MediaOut(Schema):
    id: int
    kind: str
    author_id: int | None
    taken_at: datetime.datetime


class RecordOut(Schema):
    id: int
    structure_id: int
    called_at: datetime.datetime
    caller_number: str
    patient_id: int | None
    act_id: int | None
    reason: str
    decision: str
    notes: str
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None


class RecordDetailOut(RecordOut):
    events: list[EventOut]
    media: list[MediaOut]


class RecordIn(Schema):
    caller_number: str = Field(max_length=40)
    called_at: str = Field(
        "", max_length=20, description="14:05 ou 05/12/2026 14:05 ; vide : maintenant"
    )
    reason: str = Field(max_length=300)
    decision: str = Field("", max_length=20)
    notes: str = Field("", max_length=5000)


class RecordUpdateIn(Schema):
    """Only the fields sent change."""

    reason: str = Field(None, max_length=300)
    decision: str = Field(None, max_length=20)
    notes: str = Field(None, max_length=5000)


class LinkOut(Schema):
    id: int
    sent_to: str
    expires_at: datetime.datetime
    opened_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


def _regulator(request: HttpRequest):
    user = request.auth
    if not policy.regulation_structures(user).exists():
        raise PermissionDenied
    return user


def _detail(record) -> dict:
    return {
        **RecordOut.from_orm(record).dict(),
        "events": list(record.events.all()),
        "media": list(record.media.all()),
    }


@router.get("", response=list[RecordOut], summary="Dossiers de régulation")
def list_records(
    request: HttpRequest,
    response: HttpResponse,
    limit: int = 50,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Newest call first, `limit` (at most 200) from `offset`; the total in X-Total-Count."""
    user = _regulator(request)
    records = policy.visible_regulations(user).order_by("-called_at", "-pk")
    found = paging.api_page(request, response, records, offset, max(1, min(limit, 200)), cursor)
    audit.record(request, user, AuditAction.SEARCH, found)
    return found


@router.post("", response={201: RecordDetailOut}, summary="Ouvrir un dossier de régulation")
def create_record(request: HttpRequest, payload: RecordIn):
    record = services.create_record(request, _regulator(request), payload.dict())
    return Status(201, _detail(record))


@router.get("/{record_id}", response=RecordDetailOut, summary="Lire un dossier de régulation")
def get_record(request: HttpRequest, record_id: Id):
    return _detail(policy.get_regulation(request, request.auth, record_id, AuditAction.READ))


@router.patch("/{record_id}", response=RecordDetailOut, summary="Modifier un dossier")
def update_record(request: HttpRequest, record_id: Id, payload: RecordUpdateIn):
    record = policy.get_regulation(request, request.auth, record_id, AuditAction.UPDATE)
    data = payload.dict(exclude_none=True)
    return _detail(services.update_record(request, request.auth, record, data))


@router.post(
    "/{record_id}/video-link", response={201: LinkOut}, summary="Envoyer le lien vidéo par SMS"
)
def send_link(request: HttpRequest, record_id: Id):
    record = policy.get_regulation(request, request.auth, record_id, AuditAction.UPDATE)
    link, _value = services.send_video_link(request, request.auth, record)
    return Status(201, link)


@router.post(
    "/{record_id}/video-link/{link_id}/revoke", response=LinkOut, summary="Retirer un lien vidéo"
)
def revoke_link(request: HttpRequest, record_id: Id, link_id: Id):
    record = policy.get_regulation(request, request.auth, record_id, AuditAction.UPDATE)
    return services.revoke_link(request, request.auth, record, link_id)
