"""The programmes shipped in data/programmes.json (one per indication of the common law)."""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "programmes.json"


def load(model=None) -> int:
    """Create or update the shipped programmes (idempotent); `model` is the migration's."""
    if model is None:
        from telesante.telesurveillance.models import Programme

        model = Programme
    items = json.loads(DATA.read_text(encoding="utf-8"))
    for item in items:
        model.objects.update_or_create(code=item.pop("code"), defaults=item)
    return len(items)
