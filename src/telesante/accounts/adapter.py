from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.stages import AuthenticateStage
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import decrypt
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from telesante.accounts import lockout
from telesante.core import audit
from telesante.psc import session as psc


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Trop d'échecs de connexion pour ce compte. Réessayez dans quelques minutes."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by the region (admin, import), never by self sign-up.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # The login limits count per address: the same address as the audit trail, never one
        # a client wrote in X-Forwarded-For without passing through our proxies.
        ip = audit.client_ip(request)
        if not ip:
            raise PermissionDenied("Adresse du client inconnue.")
        return ip

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # A delayed or locked account is refused with its time left, before allauth counts the
        # try and before its password is checked.
        key = self._get_login_attempts_cache_key(request, **credentials)
        refused = lockout.refusal(request, key)
        if refused is not None:
            raise refused
        super().pre_authenticate(request, **credentials)

    def get_login_stages(self) -> list[str]:
        # The code step is skipped after Pro Santé Connect, itself a strong authentication.
        return [
            "telesante.accounts.adapter.CodeStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        # Called before the session ends: a PSC login also ends PSC's session.
        return psc.end_session_url(request) or super().get_logout_redirect_url(request)


class CodeStage(AuthenticateStage):
    """allauth's TOTP step, except after a Pro Santé Connect login."""

    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        return not psc.logged_in_with_psc(sociallogin) and super()._should_handle(request)


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _("Code incorrect."),
        "cannot_delete_authenticator": _(
            "La double authentification est obligatoire pour les professionnels."
        ),
    }

    def can_delete_authenticator(self, authenticator) -> bool:
        return False


class CodeForm(AuthenticateForm):
    """The code step (MFA_FORMS["authenticate"]): phones offer their digit pad and the code
    from the authenticator app; the same delays and lock as the password step; a code used a
    moment ago says so rather than « Code incorrect »."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            inputmode="numeric", autocomplete="one-time-code", pattern="[0-9 ]*", maxlength="7"
        )

    def clean_code(self) -> str:
        # allauth's key for this step's failures (mfa.base.internal.flows.check_rate_limit).
        refused = lockout.refusal(context.request, f"mfa-auth-user-{self.user.pk}")
        if refused is not None:
            raise refused
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            if error.code == "incorrect_code" and self._already_used():
                raise forms.ValidationError(
                    _(
                        "Ce code vient d'être utilisé : un code ne sert qu'une fois. Attendez le "
                        "suivant dans votre application (30 secondes au plus)."
                    ),
                    code="code_reused",
                ) from None
            raise

    def _already_used(self) -> bool:
        """allauth refuses a right code it has seen in this window: right now, but used."""
        code = self.cleaned_data.get("code", "")
        totp = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.TOTP).first()
        return totp is not None and validate_totp_code(decrypt(totp.data["secret"]), code)
