"""allauth's OpenID Connect provider with what Pro Santé Connect needs and it lacks: a nonce
sent and checked, acr eidas1 asked for and checked, PKCE, ID token and userinfo (JSON or signed
JWT) verified with the provider's keys, and its end-session URL for RP-initiated logout."""

import secrets
from typing import Any

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

PROVIDER_ID = "psc"
ACR = "eidas1"


def decode_jwt(token: str, config: dict[str, Any], app: SocialApp) -> dict[str, Any]:
    """A JWT of the provider, its signature always checked: with the client secret (HS256) or
    the provider's published keys; issuer, audience and expiry too."""
    try:
        if jwt.get_unverified_header(token).get("alg", "").startswith("HS"):
            data = jwt.decode(
                token,
                app.secret,
                algorithms=["HS256"],
                issuer=config["issuer"],
                audience=app.client_id,
            )
        else:
            return jwtkit.verify_and_decode(
                credential=token,
                keys_url=config["jwks_uri"],
                issuer=config["issuer"],
                audience=app.client_id,
                lookup_kid=jwtkit.lookup_kid_jwk,
            )
    except jwt.PyJWTError as error:
        raise OAuth2Error(f"Invalid token: {error}") from error
    return data


class PSCOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request, PROVIDER_ID)
        # The authorization request's state (its nonce), given by views.CallbackView.
        self.state: dict[str, Any] = {}

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        return build_absolute_uri(request, reverse("psc_callback"), self.redirect_uri_protocol)

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        raw = kwargs["response"].get("id_token")
        if not raw:
            raise OAuth2Error("No id_token")
        id_token = decode_jwt(raw, self.openid_config, app)
        nonce = self.state.get("nonce") or ""
        if not (nonce and secrets.compare_digest(str(id_token.get("nonce", "")), nonce)):
            raise OAuth2Error("Nonce mismatch")
        if id_token.get("acr") != ACR:
            raise OAuth2Error(f"acr {id_token.get('acr')!r} instead of {ACR}")
        userinfo = self._fetch_user_info(token.token)
        if userinfo.get("sub") != id_token.get("sub"):
            raise OAuth2Error("Userinfo of another subject")
        login = self.get_provider().sociallogin_from_response(
            request, {"userinfo": userinfo, "id_token": id_token}
        )
        # Kept in the session after the login, for the logout's id_token_hint (session.py).
        login.psc_id_token = raw
        return login

    def _fetch_user_info(self, access_token: str) -> dict[str, Any]:
        with get_adapter().get_requests_session() as session:
            response = session.get(
                self.profile_url, headers={"Authorization": f"Bearer {access_token}"}
            )
            response.raise_for_status()
        if response.headers.get("Content-Type", "").startswith("application/jwt"):
            return decode_jwt(response.text.strip(), self.openid_config, self.get_provider().app)
        return response.json()

    def end_session_url(self, id_token: str, redirect_to: str) -> str:
        """Where to send the browser so that PSC closes its session too."""
        params = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": redirect_to,
            "state": secrets.token_urlsafe(16),
        }
        return f"{self.openid_config['end_session_endpoint']}?{urlencode(params)}"


class PSCProvider(OpenIDConnectProvider):
    id = PROVIDER_ID
    name = "Pro Santé Connect"
    pkce_enabled_default = True
    oauth2_adapter_class = PSCOAuth2Adapter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = "Pro Santé Connect"

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("psc_login")
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self) -> str:
        return reverse("psc_callback")

    def get_oauth2_adapter(self, request: HttpRequest) -> PSCOAuth2Adapter:
        return PSCOAuth2Adapter(request)

    def get_default_scope(self) -> list[str]:
        return ["openid", "scope_all"]

    def get_auth_params(self) -> dict[str, str]:
        return {"acr_values": ACR, **super().get_auth_params()}

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["userinfo"]["SubjectNameID"])

    def redirect(
        self, request: HttpRequest, process: str, next_url: str | None = None, data=None, **kwargs
    ):
        # A fresh nonce per authorization request, kept in its state for the callback.
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        auth_params["nonce"] = nonce
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


provider_classes = [PSCProvider]
