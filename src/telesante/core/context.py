from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from telesante.core import accessibility, menu


def platform(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "DEMO_MODE": settings.DEMO,
        # The footer's link to the statement says the conformity level it publishes.
        "ACCESSIBILITY": SimpleLazyObject(accessibility.assessment),
        # Computed only when a page draws the navigation (JSON answers never ask).
        "menu": SimpleLazyObject(lambda: menu.for_user(user) if user else menu.Menu()),
    }
