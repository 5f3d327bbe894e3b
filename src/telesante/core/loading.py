"""The base of the project's models: rows read from the database become instances directly.

`Model.__init__` sets each column through `setattr` and sends `pre_init` and `post_init` for
every instance: 40 % of the Python a 50-row page with its joins spends on its rows
(docs/benchmarks.md § 9). `from_db` is Django's hook for customising how rows are loaded; here
it puts the columns read into the instance's `__dict__`, where `Model.__init__` would have put
them, and marks the instance as loaded, as Django does. While anything listens to either
signal, Django's own loading runs (a receiver expects it).

`JSONField` is Django's, its values read by orjson."""

from typing import Any, Self

import orjson
from django.db import models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


class Model(models.Model):
    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: tuple[Any, ...]) -> Self:
        """An instance of the row: `field_names` are the columns read (attnames, in the
        order of `values`); the others stay deferred, loaded when first read."""
        if pre_init.receivers or post_init.receivers:
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        # The descriptors of a column (a foreign key's, a file's) set nothing else on an
        # instance with no cached relation: writing the dict is what their __set__ does.
        new.__dict__.update(zip(field_names, values, strict=True))
        state = new._state = ModelState()
        state.adding = False
        state.db = db
        return new


class JSONField(models.JSONField):
    """Django's JSONField, its text read by orjson: a télé-expertise's form in a fifth of the
    standard library's time (its decoder matches whitespace by regex twice a value), 15 % of the
    Python reading a page of 50 requests. A text orjson refuses (NaN, an integer past 64 bits)
    is read by Django's decoding, as before."""

    def deconstruct(self) -> tuple:
        # The column is Django's: migrations name Django's field (no table rebuilt for it).
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str) and self.decoder is None:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)
