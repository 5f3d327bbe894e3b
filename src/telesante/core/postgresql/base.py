"""Django's PostgreSQL backend, its pool checking a connection before lending it without a round
trip (settings: ENGINE `telesante.core.postgresql`).

Django's check (CONN_HEALTH_CHECKS, psycopg_pool's `check_connection`) sends an empty statement
and waits for its answer: a round trip to PostgreSQL for every request that reads the database,
before its first statement. An idle connection has nothing to read; one that the server ended
(a restart, a failover, an administrator) has its termination notice or the end of the stream
waiting on its socket. So the socket is polled first, without waiting, and the round trip made
only when something is there: it then tells a closed connection (dropped: the pool opens
another) from a notice."""

import select

from django.db.backends.postgresql import base
from psycopg import Connection, OperationalError
from psycopg_pool import ConnectionPool


def lendable(conn: Connection) -> None:
    """Return quietly if `conn` may be lent, else raise (the pool drops it)."""
    if conn.closed or conn.broken:
        raise OperationalError("connexion fermée")
    waiting = select.poll()
    waiting.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if waiting.poll(0):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        pool = super().pool
        if pool is not None:
            # Django passes its check when it makes the pool (CONN_HEALTH_CHECKS) and takes no
            # other; psycopg_pool reads this attribute each time it lends a connection.
            pool._check = lendable
        return pool
