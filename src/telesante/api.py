"""/api/v1/: django-ninja, bearer personal tokens, French errors naming the fields."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from telesante.accounts.models import ApiToken, hash_token
from telesante.core import policy, prepared
from telesante.core.actions import Conflict
from telesante.core.rendering import FastJSONRenderer


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        # The digest is unique; the statement is prepared once (core.prepared): every API
        # request asks it. The user's care teams come with it (a box sent from a team).
        tokens = prepared.rows(
            ("api_token",),
            lambda v: (
                ApiToken.objects.active()
                .select_related("user")
                .filter(digest=v.digest)
                .annotate(teams=policy.TEAMS_OF_USER)
            ),
            digest=hash_token(token),
        )
        if not tokens:
            return None
        found = tokens[0]
        now = timezone.now()
        # Record use at most once a minute: no write on every request.
        if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        policy.know_teams(found.user, found.teams)
        request.user = found.user
        return found.user


class ErrorOut(Schema):
    """The one shape of every refusal: a French sentence, and per field its messages
    (422 malformed field, 400 rule not met)."""

    detail: str
    errors: dict[str, list[str]] | None = None


ERROR_DESCRIPTIONS = {
    400: "Règle non respectée (champs nommés dans errors) ou corps illisible",
    401: "Jeton d'API absent, invalide ou révoqué",
    403: "Rôle sans droit sur cette opération",
    404: "Objet hors de portée (autre structure, acte dont on n'est pas partie) ou inconnu",
    409: "Conflit avec l'état de l'objet (déjà pris en charge, créneau pris…)",
    413: "Requête trop volumineuse",
    422: "Champ mal formé (type, format, valeur hors liste)",
}


def error_codes(method: str, operation: dict) -> list[int]:
    """The refusals an operation may answer, from what it takes: the handlers below turn every
    refusal of the services into one of these, in the ErrorOut shape."""
    codes = [400]
    if operation.get("security"):
        codes += [401, 403, 404]
    if operation.get("parameters") or "requestBody" in operation:
        codes.append(422)
    if method != "get":
        codes += [409, 413]
    return codes


class TelesanteAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict | None = None
    ) -> OpenAPISchema:
        """Declare every status code an operation answers, so a client (and the schema-based
        tests) know the refusals as well as the successes."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        ref = {"$ref": "#/components/schemas/ErrorOut"}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in error_codes(method, operation):
                    responses.setdefault(
                        code,
                        {
                            "description": ERROR_DESCRIPTIONS[code],
                            "content": {"application/json": {"schema": ref}},
                        },
                    )
        return schema


api = TelesanteAPI(
    title="Télésanté API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    renderer=FastJSONRenderer(),
    description="API de la plateforme régionale de télésanté. Authentification : "
    "`Authorization: Bearer <jeton>` (jeton personnel, `telesante create-token EMAIL`).",
)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Jeton d'API absent, invalide ou révoqué."}, status=401
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "Accès refusé pour ce rôle."}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "Ressource introuvable."}, status=404)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(
        request, {"detail": "Données invalides.", "errors": errors}, status=400
    )


# French wording of the pydantic errors a client most often meets (others keep pydantic's text).
SCHEMA_MESSAGES = {
    "missing": "Champ obligatoire.",
    "string_too_short": "Au moins {min_length} caractère(s).",
    "string_too_long": "Au plus {max_length} caractères.",
    "string_type": "Texte attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_type": "Nombre entier attendu.",
    "bool_parsing": "Booléen attendu (true ou false).",
    "bool_type": "Booléen attendu (true ou false).",
    "date_parsing": "Date invalide (format AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Date invalide (format AAAA-MM-JJ).",
    "date_from_datetime_inexact": "Date invalide (format AAAA-MM-JJ).",
    "date_type": "Date invalide (format AAAA-MM-JJ).",
    "enum": "Valeur non autorisée ; attendu : {expected}.",
    "literal_error": "Valeur non autorisée ; attendu : {expected}.",
    "time_parsing": "Heure invalide (format HH:MM).",
    "time_type": "Heure invalide (format HH:MM).",
    "datetime_parsing": "Date et heure invalides (format AAAA-MM-JJTHH:MM:SS+01:00).",
    "datetime_from_date_parsing": "Date et heure invalides (format AAAA-MM-JJTHH:MM:SS+01:00).",
    "datetime_type": "Date et heure invalides (format AAAA-MM-JJTHH:MM:SS+01:00).",
    "timezone_aware": "Indiquez le fuseau horaire (par exemple 2026-03-02T14:30:00+01:00).",
    "greater_than_equal": "Au moins {ge}.",
    "less_than_equal": "Au plus {le}.",
    "model_attributes_type": "Objet JSON attendu.",
    "dict_type": "Objet JSON attendu.",
    "list_type": "Liste attendue.",
    "float_parsing": "Nombre attendu.",
    "float_type": "Nombre attendu.",
}


def _schema_message(err: dict) -> str:
    template = SCHEMA_MESSAGES.get(err.get("type", ""))
    if template is None:
        return err.get("msg", "Valeur invalide.")
    try:
        return template.format(**err.get("ctx", {}))
    except (KeyError, IndexError):
        return err.get("msg", "Valeur invalide.")


# An id in the path out of the database's range (core.bounds.Id) names nothing: a 404 like
# any id of no object.
ID_RANGE_ERRORS = {"greater_than_equal", "less_than_equal"}


@api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    if any(
        e.get("loc", ("",))[0] == "path" and e.get("type") in ID_RANGE_ERRORS for e in exc.errors
    ):
        return _not_found(request, exc)
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        # ("body", "payload", "birth_date") names the field "birth_date", like the 400 errors.
        parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
        field = ".".join(parts) or "__all__"
        errors.setdefault(field, []).append(_schema_message(err))
    return api.create_response(
        request, {"detail": "Données invalides.", "errors": errors}, status=422
    )


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own 400 for a body that is not JSON says "Cannot parse request body".
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        detail = "Corps de requête illisible : JSON attendu."
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "Requête trop volumineuse."}, status=413)


api.add_router("", "telesante.accounts.api.router")
api.add_router("/filieres", "telesante.acts.api.router")
api.add_router("/patients", "telesante.patients.api.router")
api.add_router("/teleexpertise", "telesante.teleexpertise.api.router")
api.add_router("/indicators", "telesante.indicators.api.router")
api.add_router("/directory", "telesante.directory.api.router")
api.add_router("/telesurveillance", "telesante.telesurveillance.api.router")
api.add_router("/telesurveillance/enrolments", "telesante.telesurveillance.api_enrolments.router")
api.add_router("/rooms", "telesante.rooms.api.router")
api.add_router("/regulation", "telesante.regulation.api.router")
api.add_router("/teleconsultations", "telesante.teleconsultation.api.router")
api.add_router("/activity", "telesante.teleconsultation.activity_api.router")
api.add_router("/structures", "telesante.accounts.staff_api.router")
