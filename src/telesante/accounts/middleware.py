"""Every professional must have a second factor (PGSSI-S): enrol it before anything else, unless
they logged in with Pro Santé Connect."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from telesante.psc.session import STRONG_AUTH

# Paths reachable by a logged-in user who has not yet enrolled a second factor.
OPEN_PREFIXES = ("/compte/", "/static/", "/healthz", "/api/", "/i18n/")


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not request.session.get("has_totp")
            # Pro Santé Connect (e-CPS, CPS card) is a second factor of its own.
            and not request.session.get(STRONG_AUTH)
        ):
            if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                request.session["has_totp"] = True
            else:
                return redirect("mfa_activate_totp")
        return self.get_response(request)
