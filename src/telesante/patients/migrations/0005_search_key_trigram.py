"""On PostgreSQL, a trigram index serves patient search's `search_key LIKE '%…%'` (pg_trgm, a
trusted extension): the search reads the patients whose names hold the words instead of every
patient before meeting the wall. SQLite has no such index and scans, as before."""

from django.db import migrations

from telesante.core.migrating import on_postgresql

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS patient_search_key_trgm
    ON patients_patient USING gin (search_key gin_trgm_ops);
"""
DROP = "DROP INDEX IF EXISTS patient_search_key_trgm;"


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_merge_insi_and_objections")]
    operations = [on_postgresql(CREATE, DROP)]
