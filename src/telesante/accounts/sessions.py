"""Sessions in the database whose expiry on inactivity is pushed back at most once a minute,
read by a statement prepared once (core.prepared)."""

from datetime import datetime, timedelta

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from telesante.core import prepared

# A session whose expiry is this close to a full age is not written again: its age counts from
# a request at most this long ago (expiry on inactivity, up to a minute early).
REFRESH = timedelta(minutes=1)


class SessionStore(db.SessionStore):
    """SESSION_SAVE_EVERY_REQUEST saves the session after every request to push its expiry
    back: an UPDATE and a commit for each page a person reads. Here a session left unchanged
    is written only when its stored expiry lags a minute or more behind a full age."""

    stored_expiry: datetime | None = None  # as read from the database, None when not read

    def _get_session_from_db(self) -> Session | None:
        """The unexpired session of the key, None (and no key) else: Django's get() built and
        compiled its statement on every page a person reads."""
        found = prepared.rows(
            ("session",),
            lambda v: Session.objects.filter(session_key=v.key, expire_date__gt=v.now),
            key=self.session_key,
            now=timezone.now(),
        )
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
