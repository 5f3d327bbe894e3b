"""Request checks shared by every page and API operation."""

import json
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"
# Device batches name each bad item themselves and keep the others.
ITEMS_CHECKED = ("/api/v1/telesurveillance/measurements", "/fhir/r4/")
JSON_TYPES = {"application/json", "application/fhir+json"}


def _nul_fields(value, name: str = "") -> Iterator[str]:
    """The names (dotted paths) of the strings holding a NUL in a decoded JSON value."""
    if isinstance(value, str):
        if NUL in value:
            yield name or "__all__"
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{name}.{key}" if name else str(key)
            if NUL in str(key):
                yield path
            else:
                yield from _nul_fields(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_fields(item, f"{name}.{index}" if name else str(index))


def _json_nul_fields(request: HttpRequest) -> list[str]:
    # Bodies above the general limit are read by their own operation (device batches check
    # their items one by one); a body without "\u0000" cannot hold a NUL once decoded.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return []
    if not 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return []
    body = request.body
    if b"\\u0000" not in body:
        return []
    try:
        return list(_nul_fields(json.loads(body)))
    except ValueError:
        return []  # not JSON: the operation answers that


def _query_nul_fields(data) -> list[str]:
    return [key for key, values in data.lists() if NUL in key or any(NUL in v for v in values)]


def nul_fields(request: HttpRequest) -> list[str]:
    """The fields of the request (path, query, form, JSON body) that hold a NUL byte."""
    found = ["__all__"] if NUL in request.path else []
    found += _query_nul_fields(request.GET)
    content_type = request.content_type or ""
    if request.method == "POST" and content_type in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        found += _query_nul_fields(request.POST)
    elif content_type in JSON_TYPES and request.path not in ITEMS_CHECKED:
        found += _json_nul_fields(request)
    return found


class RefuseNulMiddleware:
    """A NUL byte in a text or an id is refused (400, naming the fields): PostgreSQL cannot
    store it, and no name, address or identifier typed by a person holds one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = nul_fields(request)
        if not fields:
            return self.get_response(request)
        message = _("Caractère nul interdit.")
        if request.path.startswith("/fhir/"):
            issues = [
                {"severity": "error", "code": "invalid", "diagnostics": message, "expression": [f]}
                for f in fields
            ]
            return JsonResponse(
                {"resourceType": "OperationOutcome", "issue": issues},
                status=400,
                content_type="application/fhir+json",
            )
        if request.path.startswith("/api/"):
            errors = {field: [message] for field in fields}
            return JsonResponse({"detail": _("Données invalides."), "errors": errors}, status=400)
        text = _("Caractère nul interdit (champ : %(fields)s).") % {"fields": ", ".join(fields)}
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


# Camera, microphone (video rooms) and location for the platform's own pages, no one else.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), geolocation=(self), display-capture=(), "
    "payment=(), usb=(), serial=(), bluetooth=()"
)


class ResponseHeadersMiddleware:
    """Nothing the application answers is kept by a browser or a proxy cache: pages, API
    answers, documents and PDFs may carry patient data, and a shared computer or a proxy
    must not give them to the next person. Static files (served before) are cached as usual;
    a response that sets its own policy (the script catalogue) keeps it. Every answer also
    says which browser features the page may use (Permissions-Policy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response
