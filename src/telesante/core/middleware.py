"""Request checks shared by every page and API operation."""

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_has_nul(request: HttpRequest) -> bool:
    # Bodies above the general limit are read by their own operation (device batches check
    # their items one by one); a body without "\u0000" cannot hold a NUL once decoded.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if not 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return False
    body = request.body
    if b"\\u0000" not in body:
        return False
    try:
        return _has_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the operation answers that


class RefuseNulMiddleware:
    """A NUL byte in a text or an id is refused (400): PostgreSQL cannot store it, and no
    French name, address or identifier holds one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            message = _("Caractère nul interdit dans une requête.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request: HttpRequest) -> bool:
        if NUL in request.path or any(NUL in k or _has_nul(vs) for k, vs in request.GET.lists()):
            return True
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in {
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        }:
            return any(NUL in k or _has_nul(vs) for k, vs in request.POST.lists())
        if content_type == "application/json":
            return _json_has_nul(request)
        return False
