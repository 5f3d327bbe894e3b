"""The API's refusals that no operation handler writes, in the API's one shape."""

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"
# Answered by Django or django-ninja before any handler runs: an unknown address, a method
# the address does not take, and a crash.
DETAILS = {
    404: "Ressource introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    500: "Erreur interne du serveur.",
}


def api_error_shape(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code in DETAILS
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            response.content = json.dumps(
                {"detail": DETAILS[response.status_code]}, ensure_ascii=False
            )
            response["Content-Type"] = "application/json; charset=utf-8"
        return response

    return middleware
