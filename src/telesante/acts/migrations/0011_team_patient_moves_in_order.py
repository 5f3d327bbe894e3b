"""A moved act (its team or patient changed) locks the (team, patient) pairs it changes in one
order, before changing them: two acts of a patient moved at once in opposite directions between
two teams each held one pair and waited for the other (a deadlock, one of them refused). The
pairs a statement's inserted or deleted acts change are already written in that order. PostgreSQL
only: SQLite writes one transaction at a time."""

from importlib import import_module

from django.db import migrations

BEFORE = import_module("telesante.acts.migrations.0009_team_patients").POSTGRESQL[2]
LOCK = """
    PERFORM 1 FROM acts_teampatient WHERE (team_id, patient_id) IN (
        (OLD.requesting_team_id, OLD.patient_id), (OLD.performing_team_id, OLD.patient_id),
        (NEW.requesting_team_id, NEW.patient_id), (NEW.performing_team_id, NEW.patient_id)
    ) ORDER BY team_id, patient_id FOR UPDATE;"""
AFTER = BEFORE.replace("BEGIN\n", "BEGIN" + LOCK + "\n", 1)


def replace(body: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))

    return run


class Migration(migrations.Migration):

    dependencies = [("acts", "0010_te_pool_index")]

    operations = [migrations.RunPython(replace(AFTER), replace(BEFORE))]
