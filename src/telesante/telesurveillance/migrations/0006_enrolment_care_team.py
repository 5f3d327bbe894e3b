"""The opérateur team of an enrolment is a care team (it was a structure): each enrolment goes to
its structure's one team. Reversible (back to the team's structure)."""

import django.db.models.deletion
from django.db import migrations, models

from telesante.core.migrating import check_constraints_now, default_teams


def forwards(apps, schema_editor):
    Enrolment = apps.get_model("telesurveillance", "Enrolment")
    teams = default_teams(apps, Enrolment.objects.values_list("team_id", flat=True).distinct())
    for structure_id, team_id in teams.items():
        Enrolment.objects.filter(team_id=structure_id).update(care_team_id=team_id)
    check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    Enrolment = apps.get_model("telesurveillance", "Enrolment")
    Team = apps.get_model("structures", "Team")
    for team_id, structure_id in Team.objects.filter(
        pk__in=Enrolment.objects.values("care_team_id")
    ).values_list("pk", "structure_id"):
        Enrolment.objects.filter(care_team_id=team_id).update(team_id=structure_id)
    check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("structures", "0003_teams"),
        ("telesurveillance", "0005_enrolment_operator"),
    ]

    operations = [
        migrations.AlterField(
            model_name="enrolment",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monitorings",
                to="structures.structure",
                verbose_name="équipe opérateur",
            ),
        ),
        migrations.AddField(
            model_name="enrolment",
            name="care_team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="structures.team",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="enrolment", name="team"),
        migrations.RenameField(model_name="enrolment", old_name="care_team", new_name="team"),
        migrations.AlterField(
            model_name="enrolment",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monitorings",
                to="structures.team",
                verbose_name="équipe opérateur",
            ),
        ),
    ]
