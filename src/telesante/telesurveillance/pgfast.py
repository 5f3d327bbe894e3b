"""Bulk statements on PostgreSQL with server-side binding and binary results.

Django's psycopg cursors bind on the client (values quoted into the SQL text, arrays element by
element in Python) and read results as text: for 10,000-row batches that costs more than the
database's own work. These statements run on the same connection, so inside the caller's
transaction."""

import psycopg
from django.db import connection


def rows(sql: str, params: list) -> list[tuple]:
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()
