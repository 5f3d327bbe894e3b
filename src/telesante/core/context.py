from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from telesante.core import menu


def platform(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "DEMO_MODE": settings.DEMO,
        # Computed only when a page draws the navigation (JSON answers never ask).
        "menu": SimpleLazyObject(lambda: menu.for_user(user) if user else menu.Menu()),
    }
