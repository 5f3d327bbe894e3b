"""One declaration of a professional's yearly activity: the billing export's rows move to the
declaration the cap of téléconsultation already read (a declared year kept in both keeps the
larger total)."""

from django.db import migrations


def move(apps, schema_editor):
    old = apps.get_model("indicators", "DeclaredActivity")
    new = apps.get_model("teleconsultation", "ActivityDeclaration")
    for row in old.objects.all():
        kept = new.objects.filter(professional_id=row.professional_id, year=row.year).first()
        if kept is None:
            new.objects.create(
                professional_id=row.professional_id, year=row.year, total_acts=row.total_acts
            )
        elif kept.total_acts < row.total_acts:
            kept.total_acts = row.total_acts
            kept.save(update_fields=["total_acts"])


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0001_initial"),
        ("teleconsultation", "0004_video_seconds_not_done_reason"),
    ]

    operations = [
        migrations.RunPython(move, migrations.RunPython.noop),
        migrations.DeleteModel(name="DeclaredActivity"),
    ]
