"""The seven indications of the common-law télésurveillance, with their default thresholds."""

from django.db import migrations

from telesante.telesurveillance.programmes import load


def forwards(apps, schema_editor):
    load(apps.get_model("telesurveillance", "Programme"))


class Migration(migrations.Migration):
    dependencies = [("telesurveillance", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
