"""/fhir/r4/: a FHIR R4 facade over the services. The same wall (`core/policy.py`), the same
audit and the same bearer tokens as /api/v1/; a device gateway posts Observations with its
device token. Every refusal is an OperationOutcome in French."""

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.renderers import JSONRenderer

from telesante.api import TokenAuth
from telesante.core.actions import Conflict
from telesante.core.bounds import Id
from telesante.fhir import capability, gateway, reads, writes
from telesante.fhir.search import BadSearch
from telesante.telesurveillance.api import DeviceAuth

FHIR_JSON = "application/fhir+json"


class FhirRenderer(JSONRenderer):
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
    close_old_connections()  # this pool thread's connection may have outlived its age
    return _transaction(request)


@fhir_api.get("/Patient", summary="Rechercher des patients")
def patient_search(request: HttpRequest):
    return reads.patient_search(request)


@fhir_api.get("/Patient/{pk}", summary="Lire un patient")
def patient_read(request: HttpRequest, pk: Id):
    return reads.patient_read(request, pk)


@fhir_api.get("/Practitioner", summary="Rechercher des professionnels")
def practitioner_search(request: HttpRequest):
    return reads.practitioner_search(request)


@fhir_api.get("/Practitioner/{pk}", summary="Lire un professionnel")
def practitioner_read(request: HttpRequest, pk: Id):
    return reads.practitioner_read(request, pk)


@fhir_api.get("/PractitionerRole", summary="Rechercher des situations d'exercice")
def practitioner_role_search(request: HttpRequest):
    return reads.practitioner_role_search(request)


@fhir_api.get("/PractitionerRole/{pk}", summary="Lire une situation d'exercice")
def practitioner_role_read(request: HttpRequest, pk: Id):
    return reads.practitioner_role_read(request, pk)


@fhir_api.get("/Organization", summary="Rechercher des structures")
def organization_search(request: HttpRequest):
    return reads.organization_search(request)


@fhir_api.get("/Organization/{pk}", summary="Lire une structure")
def organization_read(request: HttpRequest, pk: Id):
    return reads.organization_read(request, pk)


@fhir_api.get("/Observation", summary="Mesures de télésurveillance d'un patient")
def observation_search(request: HttpRequest):
    return reads.observation_search(request)


@fhir_api.get("/Observation/{pk}", summary="Lire une mesure")
def observation_read(request: HttpRequest, pk: Id):
    return reads.observation_read(request, pk)


@fhir_api.get("/ServiceRequest", summary="Rechercher des demandes de télé-expertise")
def service_request_search(request: HttpRequest):
    return reads.service_request_search(request)


@fhir_api.get("/ServiceRequest/{pk}", summary="Lire une demande de télé-expertise")
def service_request_read(request: HttpRequest, pk: Id):
    return reads.service_request_read(request, pk)


@fhir_api.post(
    "/ServiceRequest",
    response={201: dict},
    summary="Demander une télé-expertise (pièces jointes en Binary contenus)",
    openapi_extra=_body_doc("ServiceRequest"),
)
def service_request_create(request: HttpRequest):
    return Status(201, writes.request_expertise(request, _posted(request, "ServiceRequest")))


@fhir_api.get("/Task", summary="Rechercher l'état des demandes de télé-expertise")
def task_search(request: HttpRequest):
    return reads.task_search(request)


@fhir_api.get("/Task/{pk}", summary="État d'une demande de télé-expertise")
def task_read(request: HttpRequest, pk: Id):
    return reads.task_read(request, pk)


@fhir_api.get("/Appointment", summary="Rechercher des téléconsultations programmées")
def appointment_search(request: HttpRequest):
    return reads.appointment_search(request)


@fhir_api.get("/Appointment/{pk}", summary="Lire une téléconsultation programmée")
def appointment_read(request: HttpRequest, pk: Id):
    return reads.appointment_read(request, pk)


@fhir_api.post(
    "/Appointment",
    response={201: dict},
    summary="Réserver un créneau de téléconsultation",
    openapi_extra=_body_doc("Appointment"),
)
def appointment_create(request: HttpRequest):
    return Status(201, writes.book(request, _posted(request, "Appointment", 1_000_000)))


@fhir_api.get("/DocumentReference", summary="Rechercher des comptes rendus")
def document_reference_search(request: HttpRequest):
    return reads.document_reference_search(request)


@fhir_api.get("/DocumentReference/{pk}", summary="Lire la fiche d'un compte rendu")
def document_reference_read(request: HttpRequest, pk: Id):
    return reads.document_reference_read(request, pk)


@fhir_api.get("/Binary/{pk}", summary="Le PDF d'un compte rendu")
def binary_read(request: HttpRequest, pk: Id):
    return reads.binary_read(request, pk)


@fhir_api.get("/Consent", summary="Consentements d'un patient")
def consent_search(request: HttpRequest):
    return reads.consent_search(request)


@fhir_api.get("/Consent/{pk}", summary="Lire un consentement")
def consent_read(request: HttpRequest, pk: Id):
    return reads.consent_read(request, pk)
