"""An API list's rows written out without validating each one through its schema.

django-ninja validates every row of a response against the operation's schema, reading each
field of each row through a Python proxy (and a template variable for a dotted alias such as
`act.patient_id`): 3 ms of a 50-row page's Python, for values that come from our own database.
Here each schema is turned once into a plan, one getter per field doing what ninja's reading
does (alias, dotted path, resolver, callable, related manager, nested schema, float), and the
rows are written with the API's own JSON renderer: the same document, field for field
(tests/core/test_api_rows.py compares both on every list schema). A schema holding a type the
plan does not know is refused when the plan is made, not answered differently."""

import datetime
import types
import typing
from collections.abc import Callable, Sequence
from functools import cache
from operator import attrgetter
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Manager, Model
from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic_core import PydanticUndefined

# The field types written as read (JSON renders them as ninja's own encoder does).
PLAIN = (int, str, bool, dict, datetime.datetime, datetime.date, datetime.time)
Getter = Callable[[Any], Any]


def _convert(value: Any) -> Any:
    """What ninja's reading does to a value: a related manager's rows, a method's result."""
    if isinstance(value, Manager):
        return list(value.all())
    if callable(value):
        return value()
    return value


def _reader(schema: type[Schema], name: str, field) -> Getter:
    resolver = schema._ninja_resolvers.get(name)
    if resolver is not None:
        if not resolver._static or resolver._takes_context:
            raise TypeError(f"{schema.__name__}.{name}: only static resolvers are written out")
        resolve = resolver._func
        return lambda row: _convert(resolve(row))
    read = attrgetter(field.alias or name)
    default = field.default
    if default is PydanticUndefined:
        return lambda row: _convert(read(row))

    def read_or_default(row: Any) -> Any:
        try:
            return _convert(read(row))
        except AttributeError:
            return default

    return read_or_default


def _writer(schema: type[Schema], name: str, annotation: Any) -> Callable[[Any], Any] | None:
    """What turns the value read into the value written (None: as read)."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) != 1:
            raise TypeError(f"{schema.__name__}.{name}: {annotation} is not written out")
        inner = _writer(schema, name, kinds[0])
        return None if inner is None else lambda v: None if v is None else inner(v)
    if annotation is float:
        return float
    if annotation in PLAIN:
        return None
    if typing.get_origin(annotation) is list and len(args) == 1:
        (item,) = args
        if isinstance(item, type) and issubclass(item, Schema):
            return lambda values: write(item, values)
        if item in PLAIN:
            return list
    raise TypeError(f"{schema.__name__}.{name}: {annotation} is not written out")


@cache
def plan(schema: type[Schema]) -> list[tuple[str, Getter]]:
    """Each field's name and the getter of its value from a row."""
    out = []
    for name, field in schema.model_fields.items():
        read = _reader(schema, name, field)
        convert = _writer(schema, name, field.annotation)
        out.append((name, read if convert is None else _then(read, convert)))
    return out


def _then(read: Getter, convert: Callable[[Any], Any]) -> Getter:
    return lambda row: convert(read(row))


def _column_path(model: type[Model], path: str) -> bool:
    """Whether `path` ("act.patient_id") reads a column of `model` or of a row it always joins:
    relations that are never empty, then a column that is not a relation (or its key)."""
    *joins, last = path.split(".")
    for name in joins:
        try:
            relation = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if not (relation.many_to_one or relation.one_to_one) or relation.null:
            return False
        if not relation.concrete:  # the reverse side of a one-to-one may be empty
            return False
        model = relation.related_model
    try:
        column = model._meta.get_field(last)
    except FieldDoesNotExist:
        return False
    return column.concrete and (not column.is_relation or column.attname == last)


@cache
def _model_plan(schema: type[Schema], model: type[Model]) -> tuple[list, Getter | None]:
    """The plan for rows of `model`: a field that is a plain column of its rows (no resolver,
    method, related list, default for a missing value, or conversion) is read by `attrgetter`
    alone. When every field is one, a single getter reads them all (one call a row)."""
    fields, paths = [], []
    for (name, get), field in zip(plan(schema), schema.model_fields.values(), strict=True):
        path = field.alias or name
        plain = (
            name not in schema._ninja_resolvers
            and _writer(schema, name, field.annotation) is None
            and _column_path(model, path)
        )
        fields.append((name, attrgetter(path) if plain else get))
        paths.append(path if plain else None)
    everything = None not in paths and len(paths) > 1
    return fields, attrgetter(*paths) if everything else None


@cache
def columns(schema: type[Schema], model: type[Model]) -> tuple[str, ...]:
    """The columns that hold the schema's fields on rows of `model`, as ORM paths
    ("act__patient_id"), for a list read as columns (`paging.Listing.columns`); none when a
    field is more than a plain column (`_model_plan`)."""
    _fields, everything = _model_plan(schema, model)
    if everything is None:
        return ()
    return tuple(_path(name, field) for name, field in schema.model_fields.items())


def _path(name: str, field) -> str:
    return (field.alias or name).replace(".", "__")


def write(schema: type[Schema], rows: Sequence) -> list[dict]:
    """The rows as the operation's JSON holds them: model instances, or rows read as the
    schema's `columns` (dicts)."""
    if rows and isinstance(rows[0], dict):
        pairs = [(name, _path(name, field)) for name, field in schema.model_fields.items()]
        return [{name: row[path] for name, path in pairs} for row in rows]
    if not rows or not isinstance(rows[0], Model):
        fields = plan(schema)
        return [{name: get(row) for name, get in fields} for row in rows]
    fields, columns = _model_plan(schema, type(rows[0]))
    if columns is not None:
        names = [name for name, _get in fields]
        return [dict(zip(names, columns(row), strict=True)) for row in rows]
    return [{name: get(row) for name, get in fields} for row in rows]


def respond(
    request: HttpRequest, response: HttpResponse, schema: type[Schema], rows: Sequence
) -> HttpResponse:
    """The operation's answer: `response` (its status and headers, the cursor's) with the rows
    written by the API's renderer."""
    from telesante.api import api  # the API imports the routers that call this

    response.content = api.renderer.render(request, write(schema, rows), response_status=200)
    return response
