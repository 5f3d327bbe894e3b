"""The monthly forfait becomes an act of its own (forfaits.py): each existing forfait gets its
act, and its TSF code moves there from the enrolment's act. Reversible."""

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

from telesante.core.migrating import check_constraints_now


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def forwards(apps, schema_editor):
    Act = apps.get_model("acts", "Act")
    BillingCode = apps.get_model("acts", "BillingCode")
    DirtyMonth = apps.get_model("indicators", "DirtyMonth")
    Forfait = apps.get_model("telesurveillance", "Forfait")
    months = set()
    for forfait in Forfait.objects.select_related("enrolment__act", "billing_code"):
        enrolment, source = forfait.enrolment, forfait.enrolment.act
        following = (forfait.month + datetime.timedelta(days=32)).replace(day=1)
        start = max(forfait.month, enrolment.starts_on)
        end = min(enrolment.ends_on + datetime.timedelta(days=1), following)
        act = Act.objects.create(
            kind="telesurveillance",
            filiere_id=source.filiere_id,
            patient_id=source.patient_id,
            requester_id=enrolment.prescriber_id,
            requesting_structure_id=source.requesting_structure_id,
            performing_structure_id=enrolment.team_id,
            status="done",
            consent_id=source.consent_id,
            requested_at=_midnight(start),
            done_at=_midnight(max(end, start)),
        )
        BillingCode.objects.filter(pk=forfait.billing_code_id).update(act=act)
        forfait.act = act
        forfait.save(update_fields=["act"])
        months.add(forfait.month)
    # The roll-up counts the new acts once their months are rebuilt (indicators/rollup.py).
    for month in months:
        DirtyMonth.objects.get_or_create(month=month)
    check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    Act = apps.get_model("acts", "Act")
    BillingCode = apps.get_model("acts", "BillingCode")
    Forfait = apps.get_model("telesurveillance", "Forfait")
    acts = []
    for forfait in Forfait.objects.select_related("enrolment"):
        code = BillingCode.objects.filter(act_id=forfait.act_id).first()
        BillingCode.objects.filter(pk=code.pk).update(act_id=forfait.enrolment_id)
        forfait.billing_code_id, forfait.act_id = code.pk, None
        forfait.save(update_fields=["billing_code", "act"])
        acts.append(code.act_id)
    Act.objects.filter(pk__in=acts).delete()
    check_constraints_now(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("acts", "0004_indicators_indexes"),
        ("indicators", "0001_initial"),
        ("telesurveillance", "0002_programmes"),
    ]

    operations = [
        migrations.AddField(
            model_name="forfait",
            name="act",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="forfait",
                to="acts.act",
            ),
        ),
        migrations.AlterField(
            model_name="forfait",
            name="billing_code",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="acts.billingcode",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="forfait", name="billing_code"),
        migrations.AlterField(
            model_name="forfait",
            name="act",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="forfait",
                to="acts.act",
            ),
        ),
        migrations.AlterModelOptions(
            name="forfait",
            options={
                "ordering": ["month"],
                "verbose_name": "forfait mensuel de l'opérateur",
                "verbose_name_plural": "forfaits mensuels de l'opérateur",
            },
        ),
        migrations.AlterField(
            model_name="forfait",
            name="adherence",
            field=models.FloatField(verbose_name="observance du mois"),
        ),
        migrations.AlterField(
            model_name="forfait",
            name="month",
            field=models.DateField(verbose_name="mois"),
        ),
    ]
