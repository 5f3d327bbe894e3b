from django_tasks import task

from telesante.accounts.sessions import SessionStore


@task()
def clear_expired_sessions() -> None:
    """Sessions past their expiry, deleted (Django's `clearsessions`): nothing else removes
    them, and a region's table would hold every session ever opened."""
    SessionStore.clear_expired()
