"""Bulk statements on PostgreSQL with server-side binding, binary COPY and binary results.

Django's psycopg cursors bind on the client (values quoted into the SQL text, arrays element by
element in Python) and read results as text: for 10,000-row batches that costs more than the
database's own work. These statements run on the same connection, so inside the caller's
transaction."""

import psycopg
from django.db import connection, transaction

from telesante.acts.models import Act
from telesante.telesurveillance.models import Device, Enrolment, Measurement

STAGE = "tsv_ingest_stage"
_COLUMNS = "enrolment_id, device_id, type, value, unit, at, message_id"
_TYPES = ["int8", "int8", "text", "float8", "text", "timestamptz", "text"]


def rows(sql: str, params: list) -> list[tuple]:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


def insert_measurements(rows: list[tuple], received_at) -> set[tuple[int, str]]:
    """Store (enrolment, device, type, value, unit, at, message id) rows, skipping messages
    already stored; returns the (device, message id) keys that were already there.

    The rows go by binary COPY into a temporary table of the connection, duplicates are taken
    out of it by one probe of the unique key, and the rest is inserted plainly, which costs
    the database less than a per-row `ON CONFLICT` check. Two batches carrying the same new
    message at the same instant make that insert fail on the unique key: it is then redone,
    from the same staged rows, with `ON CONFLICT DO NOTHING`."""
    table = Measurement._meta.db_table
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (enrolment_id bigint, "
            "device_id bigint, type text, value float8, unit text, at timestamptz, "
            "message_id text) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {STAGE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"DELETE FROM {STAGE} s USING {table} m "  # noqa: S608 (names are ours)
            "WHERE m.device_id = s.device_id AND m.message_id = s.message_id "
            "RETURNING s.device_id, s.message_id",
            binary=True,
        )
        stored = set(cursor.fetchall())
        insert = (
            f"INSERT INTO {table} ({_COLUMNS}, received_at) "  # noqa: S608
            f"SELECT {_COLUMNS}, %b FROM {STAGE}"
        )
        try:
            with transaction.atomic():  # a savepoint
                cursor.execute(insert, [received_at])
        except psycopg.errors.UniqueViolation:
            cursor.execute(
                insert + " ON CONFLICT (device_id, message_id) DO NOTHING "
                "RETURNING device_id, message_id",
                [received_at],
                binary=True,
            )
            inserted = set(cursor.fetchall())
            stored |= {(r[1], r[6]) for r in rows} - inserted
    return stored


def devices(serials: list[str]) -> list[tuple]:
    """(serial, device id, enrolment id, patient id, exploitant, state, start day, thresholds
    as JSON text) of the devices named: thousands of serials bound as one array."""
    return rows(
        "SELECT d.serial, d.id, d.enrolment_id, a.patient_id, e.exploitant, e.state, "  # noqa: S608
        f"e.starts_on, e.thresholds::text FROM {Device._meta.db_table} d "
        f"JOIN {Enrolment._meta.db_table} e ON e.act_id = d.enrolment_id "
        f"JOIN {Act._meta.db_table} a ON a.id = e.act_id WHERE d.serial = ANY(%s)",
        [serials],
    )
