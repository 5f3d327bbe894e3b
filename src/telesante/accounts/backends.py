"""The authentication backend: allauth's, its user read with the session (accounts.sessions)
or, for a session read otherwise, by a statement prepared once."""

from allauth.account.auth_backends import AuthenticationBackend

from telesante.accounts.models import User
from telesante.accounts.sessions import user_read_with_session
from telesante.core import prepared


class Backend(AuthenticationBackend):
    def get_user(self, user_id: int) -> User | None:
        """The session's user, as Django's ModelBackend answers (None when gone or inactive);
        Django's get() built and compiled its statement on every page a person reads."""
        user = user_read_with_session(int(user_id))
        if user is None:
            found = prepared.rows(
                ("session user",),
                lambda v: User._default_manager.filter(pk=v.pk),
                pk=int(user_id),
            )
            user = found[0] if found else None
        if user is None or not self.user_can_authenticate(user):
            return None
        return user
