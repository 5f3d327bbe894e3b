from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by the region (admin, import), never by self sign-up.
        return False


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
