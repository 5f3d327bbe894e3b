"""Patients are followed by care teams: each attachment goes to its structure's one team.
Reversible (going back keeps one attachment per structure)."""

import django.db.models.deletion
from django.db import migrations, models

from telesante.core.migrating import check_constraints_now, keep_one_per_structure, set_default_teams


def forwards(apps, schema_editor):
    set_default_teams(apps, "patients.PatientAttachment", "structure_id", "team_id")
    check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    keep_one_per_structure(apps, "patients.PatientAttachment", "patient_id")
    check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
        ("structures", "0003_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="patientattachment",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="patient_attachments",
                to="structures.team",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="patientattachment",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="patient_attachments",
                to="structures.team",
            ),
        ),
        migrations.RemoveConstraint(model_name="patientattachment", name="one_attachment"),
        migrations.RunPython(migrations.RunPython.noop, backwards),
        migrations.AddConstraint(
            model_name="patientattachment",
            constraint=models.UniqueConstraint(
                fields=("patient", "team"), name="one_team_attachment"
            ),
        ),
    ]
