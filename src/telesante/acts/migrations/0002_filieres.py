"""The five priority filières with their request forms (a region edits or adds others)."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "filieres.json"


def load(apps, schema_editor):
    Filiere = apps.get_model("acts", "Filiere")
    for item in json.loads(DATA.read_text(encoding="utf-8")):
        Filiere.objects.update_or_create(code=item.pop("code"), defaults=item)


class Migration(migrations.Migration):
    dependencies = [("acts", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
