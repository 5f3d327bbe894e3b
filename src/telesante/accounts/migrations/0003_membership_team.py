"""Memberships are per care team: each existing membership joins its structure's one team.
Reversible (going back keeps one membership per structure)."""

import django.db.models.deletion
from django.db import migrations, models

from telesante.core.migrating import check_constraints_now, keep_one_per_structure, set_default_teams


def forwards(apps, schema_editor):
    set_default_teams(apps, "accounts.Membership", "structure_id", "team_id")
    check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    keep_one_per_structure(apps, "accounts.Membership", "user_id")
    check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_telesoin_professions"),
        ("structures", "0003_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="structures.team",
                verbose_name="équipe",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="structures.team",
                verbose_name="équipe",
            ),
        ),
        migrations.RemoveConstraint(model_name="membership", name="one_membership"),
        migrations.RunPython(migrations.RunPython.noop, backwards),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("user", "team"), name="one_team_membership"
            ),
        ),
    ]
