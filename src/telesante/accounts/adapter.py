from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from telesante.core import audit


class AccountAdapter(DefaultAccountAdapter):
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
