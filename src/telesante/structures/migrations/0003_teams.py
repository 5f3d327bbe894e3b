"""Care teams: a structure has one or more (services of a hospital, the one team of an EHPAD)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("structures", "0002_deployment_mobile_unit")]

    operations = [
        migrations.CreateModel(
            name="Team",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=150, verbose_name="nom")),
                (
                    "structure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="teams",
                        to="structures.structure",
                        verbose_name="structure",
                    ),
                ),
            ],
            options={
                "verbose_name": "équipe de soins",
                "verbose_name_plural": "équipes de soins",
                "ordering": ["structure_id", "name"],
                "constraints": [
                    models.UniqueConstraint(fields=("structure", "name"), name="one_team_name")
                ],
            },
        ),
    ]
