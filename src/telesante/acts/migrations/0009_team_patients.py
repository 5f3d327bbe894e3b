"""The patients of each care team's acts (acts.TeamPatient), kept by triggers on the acts.

PostgreSQL counts a statement's inserted and deleted acts at once (transition tables: a COPY of
a million acts is one aggregate, not a million upserts), and a moved act (its team or patient
changed) row by row. SQLite has row triggers only. Both fill the table from the acts there."""

import django.db.models.deletion
from django.db import migrations, models

# The (team, patient) pairs of a set of acts, each act counted once per team it names.
PAIRS = """
SELECT team, patient_id, COUNT(*) AS n FROM (
    SELECT requesting_team_id AS team, patient_id FROM {acts} WHERE requesting_team_id IS NOT NULL
    UNION ALL
    SELECT performing_team_id, patient_id FROM {acts} WHERE performing_team_id IS NOT NULL
) AS pairs GROUP BY team, patient_id
"""
FILL = f"INSERT INTO acts_teampatient (team_id, patient_id, acts) {PAIRS.format(acts='acts_act')}"
MOVED = """OLD.requesting_team_id IS DISTINCT FROM NEW.requesting_team_id
    OR OLD.performing_team_id IS DISTINCT FROM NEW.performing_team_id
    OR OLD.patient_id IS DISTINCT FROM NEW.patient_id"""

POSTGRESQL = [
    f"""CREATE FUNCTION acts_team_patient_added() RETURNS trigger AS $$
BEGIN
    INSERT INTO acts_teampatient (team_id, patient_id, acts)
    {PAIRS.format(acts="added")} ORDER BY team, patient_id
    ON CONFLICT (team_id, patient_id) DO UPDATE SET acts = acts_teampatient.acts + EXCLUDED.acts;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f"""CREATE FUNCTION acts_team_patient_removed() RETURNS trigger AS $$
BEGIN
    UPDATE acts_teampatient t SET acts = t.acts - gone.n FROM ({PAIRS.format(acts="removed")}) gone
    WHERE t.team_id = gone.team AND t.patient_id = gone.patient_id;
    DELETE FROM acts_teampatient t USING ({PAIRS.format(acts="removed")}) gone
    WHERE t.team_id = gone.team AND t.patient_id = gone.patient_id AND t.acts = 0;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE FUNCTION acts_team_patient_moved() RETURNS trigger AS $$
BEGIN
    UPDATE acts_teampatient SET acts = acts - 1 WHERE patient_id = OLD.patient_id
        AND team_id IN (OLD.requesting_team_id, OLD.performing_team_id);
    -- the same team on both sides counts twice
    UPDATE acts_teampatient SET acts = acts - 1 WHERE patient_id = OLD.patient_id
        AND team_id = OLD.requesting_team_id AND OLD.requesting_team_id = OLD.performing_team_id;
    DELETE FROM acts_teampatient WHERE patient_id = OLD.patient_id
        AND team_id IN (OLD.requesting_team_id, OLD.performing_team_id) AND acts = 0;
    INSERT INTO acts_teampatient (team_id, patient_id, acts)
    SELECT team, NEW.patient_id, COUNT(*) FROM (
        VALUES (NEW.requesting_team_id), (NEW.performing_team_id)
    ) AS named (team) WHERE team IS NOT NULL GROUP BY team ORDER BY team
    ON CONFLICT (team_id, patient_id) DO UPDATE SET acts = acts_teampatient.acts + EXCLUDED.acts;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER acts_team_patient_added AFTER INSERT ON acts_act
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION acts_team_patient_added()""",
    """CREATE TRIGGER acts_team_patient_removed AFTER DELETE ON acts_act
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION acts_team_patient_removed()""",
    f"""CREATE TRIGGER acts_team_patient_moved
    AFTER UPDATE OF requesting_team_id, performing_team_id, patient_id ON acts_act
    FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION acts_team_patient_moved()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS acts_team_patient_added ON acts_act",
    "DROP TRIGGER IF EXISTS acts_team_patient_removed ON acts_act",
    "DROP TRIGGER IF EXISTS acts_team_patient_moved ON acts_act",
    "DROP FUNCTION IF EXISTS acts_team_patient_added()",
    "DROP FUNCTION IF EXISTS acts_team_patient_removed()",
    "DROP FUNCTION IF EXISTS acts_team_patient_moved()",
]


SIDES = ("requesting_team_id", "performing_team_id")


def _added(row: str) -> list[str]:
    """SQLite: `row`'s (NEW) pairs counted once more each."""
    return [
        f"""INSERT INTO acts_teampatient (team_id, patient_id, acts)
        SELECT {row}.{side}, {row}.patient_id, 1 WHERE {row}.{side} IS NOT NULL
        ON CONFLICT (team_id, patient_id) DO UPDATE SET acts = acts + 1;"""
        for side in SIDES
    ]


def _removed(row: str) -> list[str]:
    """SQLite: `row`'s (OLD) pairs counted once less each, a pair at zero deleted."""
    return [
        *(
            f"""UPDATE acts_teampatient SET acts = acts - 1
            WHERE team_id = {row}.{side} AND patient_id = {row}.patient_id;"""
            for side in SIDES
        ),
        f"""DELETE FROM acts_teampatient WHERE patient_id = {row}.patient_id
        AND team_id IN ({row}.requesting_team_id, {row}.performing_team_id) AND acts = 0;""",
    ]


SQLITE = [
    "CREATE TRIGGER acts_team_patient_added AFTER INSERT ON acts_act BEGIN "
    + " ".join(_added("NEW"))
    + " END",
    "CREATE TRIGGER acts_team_patient_removed AFTER DELETE ON acts_act BEGIN "
    + " ".join(_removed("OLD"))
    + " END",
    "CREATE TRIGGER acts_team_patient_moved "
    "AFTER UPDATE OF requesting_team_id, performing_team_id, patient_id ON acts_act "
    f"WHEN {MOVED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN "
    + " ".join([*_removed("OLD"), *_added("NEW")])
    + " END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS acts_team_patient_added",
    "DROP TRIGGER IF EXISTS acts_team_patient_removed",
    "DROP TRIGGER IF EXISTS acts_team_patient_moved",
]


def create(apps, schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in [*(POSTGRESQL if postgresql else SQLITE), FILL]:
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor) -> None:
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_DROP if postgresql else SQLITE_DROP:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('acts', '0008_requester_open_index'),
        ('patients', '0005_search_key_trigram'),
        ('structures', '0005_merge_psc_and_sas'),
    ]

    operations = [
        migrations.CreateModel(
            name='TeamPatient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('acts', models.PositiveIntegerField()),
                ('patient', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='patients.patient')),
                ('team', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='structures.team')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('team', 'patient'), name='one_team_patient')],
            },
        ),
        migrations.RunPython(create, drop),
    ]
