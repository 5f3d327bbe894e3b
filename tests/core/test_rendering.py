"""The APIs' JSON renderer writes what Django's encoder wrote, faster."""

import datetime
import decimal
import json
import uuid

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy
from ninja.responses import NinjaJSONEncoder

from telesante.core.rendering import FastJSONRenderer


class Colour(TextChoices):
    RED = "rouge"


def test_the_document_is_the_one_django_wrote():
    data = {
        "at": datetime.datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 6),
        "time": datetime.time(9, 30, 15, 123456),
        "amount": decimal.Decimal("12.50"),
        "label": gettext_lazy("Répondue"),
        "colour": Colour.RED,
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "rows": [{"name": "Éléonore", "n": 2, "none": None, "ok": True}],
        3: "clé entière",
    }
    written = FastJSONRenderer().render(None, data, response_status=200)
    assert isinstance(written, bytes)
    assert json.loads(written) == json.loads(json.dumps(data, cls=NinjaJSONEncoder))
    assert json.loads(written)["at"] == "2026-12-06T09:30:15.123Z"
