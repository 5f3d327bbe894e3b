"""Who sees the indicators: regional observers and administrators, aggregates only."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from telesante.accounts.models import RegionalRole


def may_view(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.regional_role in (RegionalRole.ADMIN, RegionalRole.OBSERVER)
    )


def check(user) -> None:
    if not may_view(user):
        raise PermissionDenied(
            _("Indicateurs réservés à l'observation et l'administration régionales.")
        )
