"""PostgreSQL connections come from the process's pool: a request borrows one and gives it back,
and a request that finds every connection lent answers 503 in French once the pool's timeout
has passed instead of waiting for one. (The database restarted under load: tests/deploy.)"""

import datetime
import json
import select
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client
from psycopg_pool import ConnectionPool, PoolTimeout

from telesante.core.postgresql import base as dbcheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool() -> ConnectionPool:
    if connection.vendor != "postgresql":
        pytest.skip("Le pool de connexions est celui de PostgreSQL (passe PostgreSQL).")
    connection.ensure_connection()  # opens the pool, lends the test its connection
    return connection.pool


def in_another_thread(path: str) -> dict:
    """A request served by a thread of its own, as the server serves each one: its own
    connection, from the pool, handed back when the request ends (request_finished, which the
    test client does not send to close_old_connections)."""
    answer: dict = {}

    def ask() -> None:
        try:
            response = Client(raise_request_exception=False).get(
                path, HTTP_AUTHORIZATION="Bearer jeton-inconnu"
            )
        finally:
            close_old_connections()
        answer.update(
            status=response.status_code,
            body=response.content,
            retry=response.get("Retry-After"),
        )

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "la requête attend encore une connexion"
    return answer


def test_settings_size_the_pool_and_keep_no_connection_per_thread(pool):
    options = settings.DATABASES["default"]["OPTIONS"]["pool"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert (pool.min_size, pool.max_size, pool.timeout) == (
        options["min_size"],
        options["max_size"],
        options["timeout"],
    )
    assert pool._check == dbcheck.lendable  # each connection checked when lent


def test_an_idle_connection_is_lent_without_a_round_trip(pool, monkeypatch):
    trips = []
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(trips.append))
    conn = pool.getconn()
    try:
        dbcheck.lendable(conn)
    finally:
        pool.putconn(conn)
    assert trips == []


def own_connection() -> psycopg.Connection:
    """A connection of the test's database outside the pool: one the tests may break without
    the pool replacing it in the background meanwhile."""
    given = connection.settings_dict
    return psycopg.connect(
        dbname=given["NAME"], host=given["HOST"], port=given["PORT"], user=given["USER"]
    )


def test_a_connection_the_server_ended_is_not_lent(pool):
    """pg_terminate_backend, as a restart does to every connection: the one ended has the
    server's notice waiting on its socket and fails its check (the pool then drops it and
    opens another: tests/deploy/test_faults.py restarts PostgreSQL under load)."""
    with own_connection() as conn:
        dbcheck.lendable(conn)  # alive, idle: lent
        ended = conn.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
            assert cursor.fetchone() == (True,)
        deadline = time.monotonic() + 5
        while not select.select([conn.fileno()], [], [], 0.05)[0]:
            assert time.monotonic() < deadline, "la fin de la connexion n'est pas arrivée"
        with pytest.raises(psycopg.OperationalError):
            dbcheck.lendable(conn)


def test_a_closed_connection_is_not_lent(pool):
    conn = own_connection()
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        dbcheck.lendable(conn)


def test_a_request_borrows_a_connection_and_gives_it_back(pool):
    before = pool.get_stats()
    answer = in_another_thread("/api/v1/me")
    after = pool.get_stats()
    assert answer["status"] == 401  # the unknown token was looked up: the database answered
    assert after["requests_num"] > before["requests_num"]
    lent_before = before["pool_size"] - before["pool_available"]
    assert after["pool_size"] - after["pool_available"] == lent_before  # given back


def test_every_connection_lent_answers_503_in_french_instead_of_waiting(pool):
    held = []
    try:
        while True:  # borrow every connection the pool may open
            held.append(pool.getconn(timeout=1))
    except PoolTimeout:
        pass
    try:
        stats = pool.get_stats()
        assert stats["pool_size"] == pool.max_size and stats["pool_available"] == 0
        api = in_another_thread("/api/v1/me")
        page = in_another_thread("/annuaire/")
    finally:
        for conn in held:
            pool.putconn(conn)
    assert api["status"] == 503 and api["retry"] == "2"
    assert json.loads(api["body"]) == {
        "detail": "Plateforme très sollicitée : réessayez dans quelques secondes."
    }
    assert page["status"] == 503 and page["retry"] == "2"
    assert "Plateforme très sollicitée" in page["body"].decode()
    assert in_another_thread("/api/v1/me")["status"] == 401  # the connections back: served


def test_dates_are_read_by_the_c_loader_as_django_reads_them(pool, world):
    """timestamptz comes through psycopg's C loader (`UtcLoader`), aware in UTC as Django's own
    loader gave it, to the microsecond; a server-side cursor (`iterator()`) reads them too."""
    from psycopg.postgres import types
    from psycopg.pq import Format

    from telesante.acts.models import Act

    loader = connection.connection.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    assert loader is dbcheck.UtcLoader
    due = datetime.datetime(1969, 7, 20, 20, 17, 40, 123456, tzinfo=datetime.UTC)
    act = Act.objects.create(
        kind="teleconsultation",
        patient=world.patient_a,
        requester=world.nurse_a,
        requesting_structure=world.ehpad_a,
        due_at=due,
    )
    read = Act.objects.values_list("due_at", flat=True).get(pk=act.pk)
    assert read == due and read.tzinfo is datetime.UTC
    with connection.cursor() as cursor:  # a date in another zone comes back in UTC
        cursor.execute("SELECT '2026-12-06 10:00:00.5+01'::timestamptz")
        assert cursor.fetchone()[0] == datetime.datetime(2026, 12, 6, 9, 0, 0, 500000, datetime.UTC)
    streamed = list(Act.objects.filter(pk=act.pk).values_list("due_at", flat=True).iterator())
    assert streamed == [due]
