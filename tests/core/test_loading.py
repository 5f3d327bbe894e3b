"""JSON columns (`loading.JSONField`) read by orjson give what Django's decoding gave."""

import pytest
from django.db import connection
from django.db.models import JSONField as DjangoJSONField

from telesante.acts.models import Filiere
from telesante.core import loading

pytestmark = pytest.mark.django_db

FORM = [{"name": "surface_cm2", "label": "Surface (cm²)", "type": "decimal", "min": 0.5}]


def test_a_json_column_reads_back_what_was_written():
    Filiere.objects.filter(pk=Filiere.objects.first().pk).update(form=FORM)
    read = Filiere.objects.filter(form__0__name="surface_cm2").values_list("form", flat=True)
    assert list(read) == [FORM]
    assert (
        Filiere.objects.values_list("form__0__label", flat=True)
        .filter(form__0__name="surface_cm2")
        .get()
        == "Surface (cm²)"
    )


def test_what_orjson_refuses_is_read_by_django():
    field = Filiere._meta.get_field("form")
    assert isinstance(field, loading.JSONField)
    assert field.from_db_value('{"n": 1e400}', None, connection) == {"n": float("inf")}
    big = 2**70
    assert field.from_db_value(f"[{big}]", None, connection) == [big]
    assert field.from_db_value("pas du JSON", None, connection) == "pas du JSON"
    assert field.from_db_value(None, None, connection) is None


def test_migrations_name_djangos_field():
    _name, path, _args, kwargs = Filiere._meta.get_field("form").deconstruct()
    assert path == "django.db.models.JSONField"
    assert isinstance(Filiere._meta.get_field("form"), DjangoJSONField)
    assert kwargs["default"] is list
