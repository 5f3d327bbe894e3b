"""The authentication backend: allauth's, its user read by a statement prepared once."""

from allauth.account.auth_backends import AuthenticationBackend

from telesante.accounts.models import User
from telesante.core import prepared


class Backend(AuthenticationBackend):
    def get_user(self, user_id: int) -> User | None:
        """The session's user, as Django's ModelBackend answers (None when gone or inactive);
        Django's get() built and compiled its statement on every page a person reads."""
        found = prepared.rows(
            ("session user",), lambda v: User._default_manager.filter(pk=v.pk), pk=int(user_id)
        )
        if not found or not self.user_can_authenticate(found[0]):
            return None
        return found[0]
