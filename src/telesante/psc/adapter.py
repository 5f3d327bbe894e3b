import logging
from typing import Any

import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from telesante.psc import services
from telesante.psc.claims import ClaimsError, ProClaims

log = logging.getLogger(__name__)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Accounts are found or created by pre_social_login, never by allauth's sign-up form.
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """The account of this RPPS (or a self-enrolled one), its profession, specialty and
        regulation right refreshed; otherwise the page that says whom to ask."""
        try:
            claims = ProClaims.from_userinfo(sociallogin.account.extra_data["userinfo"])
            user = services.account_for(claims)
        except ClaimsError:
            raise ImmediateHttpResponse(
                render(request, "psc/no_account.html", {"no_rpps": True}, status=403)
            ) from None
        except services.NotEnrolled as refusal:
            context = {"structures": refusal.structures, "admins": refusal.admins}
            raise ImmediateHttpResponse(
                render(request, "psc/no_account.html", context, status=403)
            ) from None
        if sociallogin.is_existing and sociallogin.user.pk != user.pk:
            # The RPPS moved to another account: the link follows it.
            sociallogin.account.user = user
            sociallogin.account.save(update_fields=["user"])
            sociallogin.user = user
        elif not sociallogin.is_existing:
            sociallogin.connect(request, user)
        services.refresh(user, claims)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict | None = None,
    ) -> None:
        # The page says only that it failed; the log says why (nonce, acr, expired token...).
        cause = exception.__cause__ if exception is not None else None
        log.warning(
            "Pro Santé Connect : connexion refusée (%s) : %s %s",
            error or "erreur",
            exception or "",
            cause or "",
        )

    def get_requests_session(self) -> requests.Session:
        session: Any = super().get_requests_session()
        if settings.PSC_CLIENT_CERT:
            session.cert = (
                (settings.PSC_CLIENT_CERT, settings.PSC_CLIENT_KEY)
                if settings.PSC_CLIENT_KEY
                else settings.PSC_CLIENT_CERT
            )
        return session
