"""/fhir/r4/: a FHIR R4 facade over the services. The same wall (`core/policy.py`), the same
audit and the same bearer tokens as /api/v1/; a device gateway posts Observations with its
device token. Every refusal is an OperationOutcome in French."""

from collections.abc import Callable

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from telesante.api import TokenAuth
from telesante.core.actions import Conflict
from telesante.core.bounds import Id
from telesante.core.rendering import FastJSONRenderer
from telesante.fhir import capability, gateway, reads, writes
from telesante.fhir.search import BadSearch
from telesante.telesurveillance.api import DeviceAuth

FHIR_JSON = "application/fhir+json"


class FhirRenderer(FastJSONRenderer):
    media_type = FHIR_JSON


fhir_api = NinjaAPI(
    title="Télésanté FHIR R4",
    version="r4",
    urls_namespace="fhir",
    auth=TokenAuth(),
    renderer=FhirRenderer(),
    description="Façade FHIR R4 (profils FR Core) de la plateforme. Authentification : "
    "`Authorization: Bearer <jeton>` comme pour /api/v1/ ; une passerelle de dispositifs "
    "envoie ses Observations avec son jeton de dispositif.",
)


def outcome(code: str, text: str, issues: list[dict] | None = None) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}, *(issues or [])],
    }


def _refuse(request: HttpRequest, status: int, code: str, text: str, issues=None) -> HttpResponse:
    return fhir_api.create_response(request, outcome(code, text, issues), status=status)


@fhir_api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 401, "login", "Jeton d'API absent, invalide ou révoqué.")


@fhir_api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 403, "forbidden", str(exc) or "Accès refusé pour ce rôle.")


@fhir_api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 404, "not-found", "Ressource introuvable.")


@fhir_api.exception_handler(BadSearch)
def _bad_search(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 400, "invalid", str(exc))


@fhir_api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    issues = [
        {"severity": "error", "code": "invalid", "diagnostics": message, "expression": [field]}
        if field and field != "__all__"
        else {"severity": "error", "code": "invalid", "diagnostics": message}
        for field, messages in errors.items()
        for message in messages
    ]
    return _refuse(request, 400, "invalid", "Données invalides.", issues)


@fhir_api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    # Only the path's id is typed here: one out of range names nothing.
    return _not_found(request, exc)


@fhir_api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 409, "conflict", str(exc))


@fhir_api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {413: "too-long", 405: "not-supported"}.get(exc.status_code, "invalid")
    return _refuse(request, exc.status_code, code, str(exc))


@fhir_api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _refuse(request, 413, "too-long", "Requête trop volumineuse.")


def _raw(request: HttpRequest, limit: int) -> bytes:
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise HttpError(413, "Requête trop volumineuse.")
    return raw


def body(request: HttpRequest, limit: int) -> dict:
    """The JSON resource posted, read by hand (FHIR shapes are checked by the writers)."""
    try:
        data = orjson.loads(_raw(request, limit))
    except orjson.JSONDecodeError:
        raise HttpError(400, "Corps illisible : ressource FHIR en JSON attendue.") from None
    if not isinstance(data, dict):
        raise HttpError(400, "Ressource FHIR (objet JSON) attendue.")
    return data


def _posted(request: HttpRequest, resource_type: str, limit: int = 20_000_000) -> dict:
    data = body(request, limit)
    if data.get("resourceType") != resource_type:
        raise HttpError(400, f"Ressource {resource_type} attendue.")
    return data


def _body_doc(resource_type: str) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": {"type": "object", "title": resource_type}}},
        }
    }


@fhir_api.get("/metadata", auth=None, summary="CapabilityStatement du serveur")
def metadata(request: HttpRequest):
    return capability.statement(request)


@fhir_api.post(
    "/",
    auth=DeviceAuth(),
    summary="Transaction ou lot d'Observations (passerelle de dispositifs)",
    openapi_extra=_body_doc("Bundle"),
)
async def transaction(request: HttpRequest):
    # As the batch API: parsed and stored in a thread of its own (its own connection), so that
    # a large Bundle holds up neither the event loop nor the worker's other requests.
    if not settings.TELESANTE_INGEST_THREADS:
        return await sync_to_async(_transaction)(request)
    return await sync_to_async(_pooled_transaction, thread_sensitive=False)(request)


def _transaction(request: HttpRequest) -> dict:
    raw = _raw(request, settings.TELESANTE_MEASUREMENTS_MAX_BYTES)
    return gateway.ingest_raw(raw, request.device_scope)


def _pooled_transaction(request: HttpRequest) -> dict:
    try:
        return _transaction(request)
    finally:
        close_old_connections()  # not a request's thread: its connection goes back to the pool


# resource -> (search, read, what a search finds, what a read gives); reads.py says how.
ROUTES: dict[str, tuple[Callable | None, Callable, str, str]] = {
    "Patient": (reads.patient_search, reads.patient_read, "des patients", "un patient"),
    "Practitioner": (
        reads.practitioner_search,
        reads.practitioner_read,
        "des professionnels",
        "un professionnel",
    ),
    "PractitionerRole": (
        reads.practitioner_role_search,
        reads.practitioner_role_read,
        "des situations d'exercice",
        "une situation d'exercice",
    ),
    "Organization": (
        reads.organization_search,
        reads.organization_read,
        "des structures",
        "une structure",
    ),
    "Observation": (
        reads.observation_search,
        reads.observation_read,
        "des mesures de télésurveillance d'un patient",
        "une mesure",
    ),
    "ServiceRequest": (
        reads.service_request_search,
        reads.service_request_read,
        "des demandes de télé-expertise",
        "une demande de télé-expertise",
    ),
    "Task": (
        reads.task_search,
        reads.task_read,
        "l'état des demandes de télé-expertise",
        "l'état d'une demande de télé-expertise",
    ),
    "Appointment": (
        reads.appointment_search,
        reads.appointment_read,
        "des téléconsultations programmées",
        "une téléconsultation programmée",
    ),
    "DocumentReference": (
        reads.document_reference_search,
        reads.document_reference_read,
        "des comptes rendus",
        "la fiche d'un compte rendu",
    ),
    "Binary": (None, reads.binary_read, "", "le PDF d'un compte rendu"),
    "Consent": (reads.consent_search, reads.consent_read, "des consentements", "un consentement"),
}


def _search_view(search: Callable) -> Callable:
    def view(request: HttpRequest):
        return search(request)

    return view


def _read_view(read: Callable) -> Callable:
    def view(request: HttpRequest, pk: Id):
        return read(request, pk)

    return view


for _kind, (_search, _read, _found, _given) in ROUTES.items():
    if _search is not None:
        fhir_api.get(f"/{_kind}", summary=f"Rechercher {_found}", operation_id=f"search_{_kind}")(
            _search_view(_search)
        )
    fhir_api.get(f"/{_kind}/{{pk}}", summary=f"Lire {_given}", operation_id=f"read_{_kind}")(
        _read_view(_read)
    )


@fhir_api.post(
    "/ServiceRequest",
    response={201: dict},
    summary="Demander une télé-expertise (pièces jointes en Binary contenus)",
    openapi_extra=_body_doc("ServiceRequest"),
)
def service_request_create(request: HttpRequest):
    return Status(201, writes.request_expertise(request, _posted(request, "ServiceRequest")))


@fhir_api.post(
    "/Appointment",
    response={201: dict},
    summary="Réserver un créneau de téléconsultation",
    openapi_extra=_body_doc("Appointment"),
)
def appointment_create(request: HttpRequest):
    return Status(201, writes.book(request, _posted(request, "Appointment", 1_000_000)))
