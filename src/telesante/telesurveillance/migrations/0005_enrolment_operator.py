"""Each enrolment names its médecin opérateur, who performs the monitoring and bills its monthly
forfait (forfaits.py). Existing enrolments get the prescriber when they are a doctor of the
team, else the team's first doctor, else the prescriber; the operator becomes a performer of
the enrolment's act. Reversible. Forfait acts already recorded keep their code and performers:
what was billed stays as it was billed."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F

from telesante.core.migrating import check_constraints_now

DOCTOR = "medecin"  # accounts.Profession.DOCTOR


def forwards(apps, schema_editor):
    Act = apps.get_model("acts", "Act")
    Enrolment = apps.get_model("telesurveillance", "Enrolment")
    Membership = apps.get_model("accounts", "Membership")
    doctors: dict[int, list[int]] = {}
    for team_id, user_id in (
        Membership.objects.filter(
            structure_id__in=Enrolment.objects.values("team_id"),
            user__profession=DOCTOR,
            user__is_active=True,
        )
        .order_by("created_at", "pk")
        .values_list("structure_id", "user_id")
    ):
        doctors.setdefault(team_id, []).append(user_id)
    enrolments = list(Enrolment.objects.only("pk", "team_id", "prescriber_id"))
    for enrolment in enrolments:
        members = doctors.get(enrolment.team_id, [])
        if members and enrolment.prescriber_id not in members:
            enrolment.operator_id = members[0]
        else:
            enrolment.operator_id = enrolment.prescriber_id
    Enrolment.objects.bulk_update(enrolments, ["operator"], batch_size=500)
    Act.performers.through.objects.bulk_create(
        (Act.performers.through(act_id=e.pk, user_id=e.operator_id) for e in enrolments),
        batch_size=500,
        ignore_conflicts=True,
    )
    check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    # Enrolment acts had no performers before: the operator is the one this migration added.
    Act = apps.get_model("acts", "Act")
    Act.performers.through.objects.filter(act__telesurveillance__operator=F("user")).delete()
    check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_telesoin_professions"),
        ("acts", "0004_indicators_indexes"),
        ("telesurveillance", "0004_measurement_lean_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="enrolment",
            name="operator",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="operated_monitorings",
                to=settings.AUTH_USER_MODEL,
                verbose_name="médecin opérateur",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="enrolment",
            name="operator",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="operated_monitorings",
                to=settings.AUTH_USER_MODEL,
                verbose_name="médecin opérateur",
            ),
        ),
    ]
