"""Acts name their requesting and performing care teams: existing acts get their structures'
one team. Reversible (the columns go)."""

import django.db.models.deletion
from django.db import migrations, models

from telesante.core.migrating import check_constraints_now, set_default_teams


def forwards(apps, schema_editor):
    set_default_teams(apps, "acts.Act", "requesting_structure_id", "requesting_team_id")
    set_default_teams(apps, "acts.Act", "performing_structure_id", "performing_team_id")
    check_constraints_now(schema_editor)


def team_field(related_name: str, label: str) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="structures.team",
        verbose_name=label,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("acts", "0004_indicators_indexes"),
        ("structures", "0003_teams"),
    ]

    operations = [
        migrations.AddField(
            model_name="act",
            name="requesting_team",
            field=team_field("requested_acts", "équipe demandeuse"),
        ),
        migrations.AddField(
            model_name="act",
            name="performing_team",
            field=team_field("performed_acts", "équipe requise"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="act",
            index=models.Index(fields=["requesting_team", "status"], name="act_team_status"),
        ),
        migrations.AddIndex(
            model_name="act",
            index=models.Index(fields=["requesting_team", "id"], name="act_team_history"),
        ),
        migrations.AddIndex(
            model_name="act",
            index=models.Index(fields=["performing_team", "id"], name="act_performing_team"),
        ),
    ]
