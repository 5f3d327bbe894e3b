from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.models import SocialApp
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse
from requests import RequestException

from telesante.psc.provider import PROVIDER_ID, PSCOAuth2Adapter

# Session keys: the ID token (the logout's id_token_hint) and that the login was PSC's, a
# strong authentication by itself (no TOTP asked: accounts.middleware).
ID_TOKEN = "psc_id_token"
STRONG_AUTH = "strong_auth"


def logged_in_with_psc(sociallogin: Any) -> bool:
    return sociallogin is not None and sociallogin.account.provider == PROVIDER_ID


@receiver(user_logged_in)
def remember_psc_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if logged_in_with_psc(sociallogin):
        request.session[STRONG_AUTH] = PROVIDER_ID
        request.session[ID_TOKEN] = getattr(sociallogin, "psc_id_token", "")


def end_session_url(request: HttpRequest) -> str:
    """PSC's end-session URL for this session's PSC login ("" for any other login), coming back
    to the login page (the post-logout redirect URI registered with PSC)."""
    id_token = request.session.get(ID_TOKEN)
    if not id_token:
        return ""
    try:
        adapter = PSCOAuth2Adapter(request)
        return adapter.end_session_url(
            id_token, request.build_absolute_uri(reverse("account_login"))
        )
    except (SocialApp.DoesNotExist, RequestException, KeyError):
        # PSC unreachable or no longer configured: our session still ends.
        return ""
