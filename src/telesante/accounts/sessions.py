"""Sessions in the database whose expiry on inactivity is pushed back at most once a minute,
read with their user by a statement prepared once (core.prepared)."""

from contextvars import ContextVar
from datetime import datetime, timedelta

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

from telesante.accounts.models import Session, User
from telesante.core import prepared

# A session whose expiry is this close to a full age is not written again: its age counts from
# a request at most this long ago (expiry on inactivity, up to a minute early).
REFRESH = timedelta(minutes=1)

# The user read with the request's session, for the authentication backend, which Django asks
# for a user by key alone (`get_user`). A session read sets it, whatever it found. An ASGI
# server runs each request in a context of its own; a WSGI thread's forgets it at the end of
# each request (accounts.apps).
_read_with_session: ContextVar[User | None] = ContextVar("read_with_session", default=None)


def forget_user_read(**_signal: object) -> None:
    _read_with_session.set(None)


def user_read_with_session(pk: int) -> User | None:
    """The user `pk` as the request's session read it, once; None if it read another."""
    user = _read_with_session.get()
    _read_with_session.set(None)
    return user if user is not None and user.pk == pk else None


class SessionStore(db.SessionStore):
    """SESSION_SAVE_EVERY_REQUEST saves the session after every request to push its expiry
    back: an UPDATE and a commit for each page a person reads. Here a session left unchanged
    is written only when its stored expiry lags a minute or more behind a full age."""

    stored_expiry: datetime | None = None  # as read from the database, None when not read

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict) -> Session:
        session = super().create_model_instance(data)
        session.user_id = int(data[SESSION_KEY]) if data.get(SESSION_KEY) else None
        return session

    def _get_session_from_db(self) -> Session | None:
        """The unexpired session of the key with its user, None (and no key) else: Django's
        get() built and compiled its statement on every page a person reads."""
        found = prepared.rows(
            ("session",),
            lambda v: Session.objects.filter(
                session_key=v.key, expire_date__gt=v.now
            ).select_related("user"),
            key=self.session_key,
            now=timezone.now(),
        )
        _read_with_session.set(found[0].user if found else None)
        if not found:
            self._session_key = None
            return None
        return found[0]

    def load(self) -> dict:
        found = self._get_session_from_db()
        self.stored_expiry = found.expire_date if found else None
        return self.decode(found.session_data) if found else {}

    def save(self, must_create: bool = False) -> None:
        if not must_create and not self.modified:
            full_age = self.get_expiry_date()  # reads the session if the request did not
            if self.stored_expiry is not None and self.stored_expiry > full_age - REFRESH:
                return
        super().save(must_create)
