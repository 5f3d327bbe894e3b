import datetime

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from telesante.core import api_rows, audit, paging, policy
from telesante.core.bounds import Id, Moment
from telesante.core.models import AuditAction
from telesante.telesurveillance import alerts, catalog, ingest
from telesante.telesurveillance.models import AlertState, DeviceToken, Measurement

router = Router(tags=["télésurveillance"])


class DeviceAuth(HttpBearer):
    """A device's token, or a gateway's (every device of its exploitant)."""

    def authenticate(self, request: HttpRequest, token: str):
        found = DeviceToken.find(token)
        if found is None:
            return None
        # Not `request.scope`: an ASGI request keeps its connection's scope there (is_secure()).
        request.device_scope = ingest.Scope(
            serial=found.device.serial if found.device else "", exploitant=found.exploitant
        )
        return found


class MeasurementIn(Schema):
    id: str
    device: str
    type: str = Field(description=", ".join(catalog.TYPES))
    value: float
    unit: str = Field(description="UCUM")
    at: datetime.datetime


# Documented in OpenAPI only: the body is read by hand so that bad items are named one by one.
BATCH_SCHEMA = {
    "type": "object",
    "required": ["measurements"],
    "properties": {
        "measurements": {
            "type": "array",
            "maxItems": ingest.MAX_ITEMS,
            "items": MeasurementIn.model_json_schema(),
        }
    },
}


class Rejected(Schema):
    index: int | None
    errors: dict[str, list[str]]


class BatchOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[Rejected]
    alerts: int
    notice: str


def _body(request: HttpRequest) -> dict:
    # The batch limit is its own (10,000 items), above the general request size limit.
    limit = settings.TELESANTE_MEASUREMENTS_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise HttpError(413, "Requête trop volumineuse.")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise HttpError(413, "Requête trop volumineuse.")
    try:
        body = orjson.loads(raw)  # a 10,000-item batch: a third of the standard library's time
    except orjson.JSONDecodeError:
        raise HttpError(400, "Corps de requête illisible : JSON attendu.") from None
    if not isinstance(body, dict) or not isinstance(body.get("measurements"), list):
        raise ValidationError({"measurements": ["Liste « measurements » attendue."]})
    if len(body["measurements"]) > ingest.MAX_ITEMS:
        raise ValidationError(
            {"measurements": [f"Au plus {ingest.MAX_ITEMS} mesures par requête."]}
        )
    return body


@router.post(
    "/measurements",
    auth=DeviceAuth(),
    response=BatchOut,
    summary="Envoyer des mesures (dispositif ou passerelle)",
    description="Jusqu'à 10 000 mesures par requête. Les mesures valides sont gardées, les "
    "autres nommées dans `rejected` par leur rang ; un `id` déjà reçu pour ce dispositif compte "
    "dans `duplicates`. Jeton : `telesante create-token --device NUMÉRO`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BATCH_SCHEMA}},
        }
    },
)
async def post_measurements(request: HttpRequest):
    # Parsed and stored in a thread of its own (its own database connection): a batch of
    # 10,000 holds up neither the worker's event loop nor its other requests, and several
    # batches overlap their database waits.
    if not settings.TELESANTE_INGEST_THREADS:
        result = await sync_to_async(_ingest)(request)
    else:
        result = await sync_to_async(_pooled, thread_sensitive=False)(request)
    return result.as_dict()


def _ingest(request: HttpRequest) -> ingest.Result:
    return ingest.ingest(_body(request)["measurements"], request.device_scope)


def _pooled(request: HttpRequest) -> ingest.Result:
    try:
        return _ingest(request)
    finally:
        close_old_connections()  # not a request's thread: its connection goes back to the pool


class AlertOut(Schema):
    id: int
    enrolment_id: int
    patient_id: int
    rule: str
    severity: int
    severity_label: str = Field(alias="get_severity_display")
    message: str
    value: float | None
    measured_at: datetime.datetime | None
    opened_at: datetime.datetime
    delivered_at: datetime.datetime | None
    state: str
    acknowledged_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    resolution_note: str


@router.get("/alerts", response=list[AlertOut], summary="Alertes de mes équipes")
def list_alerts(
    request: HttpRequest,
    response: HttpResponse,
    state: AlertState | None = None,
    limit: int = 200,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Worst first, `limit` (at most 1000) from `offset`; the total in X-Total-Count."""
    if not policy.may_handle_patients(request.user):
        raise HttpError(403, "Accès refusé pour ce rôle.")
    listed = alerts.listed(request.user, state or "")
    found = paging.api_page(request, response, listed, offset, max(1, min(limit, 1000)), cursor)
    audit.record(request, request.user, AuditAction.READ, found)
    return api_rows.respond(request, response, AlertOut, found)


class NoteIn(Schema):
    note: str


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut, summary="Prendre en compte")
def acknowledge(request: HttpRequest, alert_id: Id):
    alert = alerts.get(request, request.user, alert_id)
    return alerts.acknowledge(request, request.user, alert)


@router.post("/alerts/{alert_id}/resolve", response=AlertOut, summary="Résoudre avec une note")
def resolve(request: HttpRequest, alert_id: Id, payload: NoteIn):
    alert = alerts.get(request, request.user, alert_id)
    return alerts.resolve(request, request.user, alert, payload.note)


class MeasurementOut(Schema):
    id: int
    enrolment_id: int
    device: str = Field(alias="device.serial")
    type: str
    value: float
    unit: str
    at: datetime.datetime
    received_at: datetime.datetime
    message_id: str


@router.get(
    "/patients/{patient_id}/measurements",
    response=list[MeasurementOut],
    summary="Mesures d'un patient (par type)",
)
def patient_measurements(
    request: HttpRequest,
    response: HttpResponse,
    patient_id: Id,
    type: str = "",
    since: Moment | None = None,
    limit: int = 5000,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Newest first, `limit` (at most 10,000) from `offset`; the total in X-Total-Count."""
    if not policy.may_handle_patients(request.user):
        raise HttpError(403, "Accès refusé pour ce rôle.")
    if type and type not in catalog.TYPES:
        raise ValidationError({"type": [f"Type inconnu ; attendu : {', '.join(catalog.TYPES)}."]})
    patient = policy.get_patient(request, request.user, patient_id, AuditAction.READ)
    items = Measurement.objects.filter(enrolment__act__patient=patient).select_related("device")
    if type:
        items = items.filter(type=type)
    if since:
        items = items.filter(at__gte=since)
    newest = items.order_by("-at", "-pk")
    return paging.api_page(request, response, newest, offset, max(1, min(limit, 10_000)), cursor)
