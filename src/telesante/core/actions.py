"""Page actions: run a service call on an object, show its refusal as messages, go back."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class Conflict(Exception):
    """The object changed under the user (e.g. a request already claimed, an alert resolved)."""


def run_then_back(request: HttpRequest, obj, action: Callable, page: str, *args) -> HttpResponse:
    """`action(obj)`; a refusal (validation errors, a conflict) becomes the page's messages, one
    per field; then back to `page` (URL name and arguments)."""
    try:
        action(obj)
    except ValidationError as exc:
        for errors in exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]:
            messages.error(request, " ".join(errors))
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect(page, *args)
