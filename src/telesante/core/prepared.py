"""Statements built and compiled once per process and shape, then run with each request's values.

Django spends more Python building a list's queryset (filters, joins, select_related columns)
and compiling it to SQL than PostgreSQL takes to run it, on every request. Here a statement is
built by a function of its values, once per shape (what changes its SQL text, not its values),
for two sets of stand-in values that all differ; both compilations must come out the same but
for the stand-ins' places, which then take each request's values as bound parameters. A
statement that put a value of its own where a stand-in went (a clock, a default, a value
transformed on the way such as a LIKE pattern) is refused when it is prepared.

The rows come back as the queryset would give them (model instances with their select_related
joins, or the values of a values_list), read through Django's own iterables with the compiler of
the first compilation; its prefetch_related lookups run as usual.

A page of several short lists (the work list) reads them `together`: one statement prepared the
same way, each list's rows as a JSON array, read back to the types their queryset gives."""

import copy
import datetime
import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Lookup, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler
from psycopg.sql import Literal

Value = int | str | datetime.date | Sequence[int] | RawSQL


@dataclass(frozen=True)
class _Place:
    """Where a parameter of the statement comes from: a value's name, the index within a list or
    a RawSQL's parameters (None for a single value), and how the backend adapts it."""

    name: str
    index: int | None
    adapt: Callable[[Any], Any] | None = None


@dataclass
class _Prepared:
    sql: str
    params: list  # the constants, and a _Place where a value goes
    compiler: SQLCompiler  # its select, klass_info and converters read the rows
    queryset: QuerySet  # the first build: model, iterable class, prefetch lookups
    _converters: dict | None = None

    def converters(self, expressions: list) -> dict:
        """The compiler's `get_converters` for its columns, asked once: Django asks each
        field of each column on every run (70 µs for an API token and its account's 29)."""
        if self._converters is None:
            self._converters = self.compiler.get_converters(expressions)
        return self._converters


_CACHE: dict[tuple, _Prepared] = {}
# The shapes a process keeps. Shapes are few for a list, but a search of many words has one
# per pattern of words and dates: past this many, the cache starts again rather than grow.
MAX_SHAPES = 2000


def remember(cache: dict, key: tuple, value: Any) -> Any:
    """`value` kept in `cache` under `key`, the cache emptied first when full."""
    if len(cache) >= MAX_SHAPES:
        cache.clear()
    cache[key] = value
    return value


def _stand_in(value: Any, k: int, i: int, n: int, numbers: Iterator[int]) -> Any:
    """The n-th stand-in (0 or 1) for element i of the k-th value, unlike any other."""
    if isinstance(value, bool):
        raise TypeError("a yes/no value changes the statement: put it in the shape")
    if isinstance(value, int):
        return next(numbers)
    if isinstance(value, str):
        return f"stand-in {k}.{i}.{n}"
    if isinstance(value, datetime.datetime):
        start = datetime.datetime(1000 + k, 1, 1, tzinfo=datetime.UTC)
        return start + datetime.timedelta(minutes=2 * i + n)
    if isinstance(value, datetime.date):
        return datetime.date(1000 + k, 1, 1) + datetime.timedelta(days=2 * i + n)
    raise TypeError(f"no stand-in for {type(value).__name__}")


def _stand_ins(values: dict[str, Value], n: int) -> dict[str, Any]:
    # Numbers within every integer column's range (a small integer's too: Django answers a
    # value out of a column's range with no statement at all), one apart between the two sets.
    numbers = itertools.count(1001 + n, 2)
    out: dict[str, Any] = {}
    for k, (name, value) in enumerate(values.items()):
        if isinstance(value, RawSQL):  # its parameters are passed through as they are
            out[name] = RawSQL(  # noqa: S611  (its own text: a stand-in for its parameters)
                value.sql, [next(numbers) for _ in value.params]
            )
        elif isinstance(value, list | tuple):
            out[name] = [_stand_in(v, k, i, n, numbers) for i, v in enumerate(value)]
        else:
            out[name] = _stand_in(value, k, 0, n, numbers)
    return out


def _places(values: dict[str, Value], stand_ins: dict[str, Any], connection) -> dict:
    """Each stand-in, as the compiled statement holds it, mapped to its place."""
    found: dict[Any, _Place] = {}
    for name, value in stand_ins.items():
        if isinstance(value, RawSQL):
            items = [(i, v) for i, v in enumerate(value.params)]
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            items = [(None, value)]
        for i, v in items:
            found[_key(v)] = _Place(name, i)
            for adapt in _adapters(v, connection):
                found[_key(adapt(v))] = _Place(name, i, adapt)
    return found


def _adapters(value: Any, connection) -> list[Callable[[Any], Any]]:
    """The forms a value may take in a statement besides itself: dates as SQLite's text, a
    text in a `contains` lookup."""
    if isinstance(value, datetime.datetime):
        return [connection.ops.adapt_datetimefield_value]
    if isinstance(value, datetime.date):
        return [connection.ops.adapt_datefield_value]
    if isinstance(value, str):
        return [lambda text: f"%{connection.ops.prep_for_like_query(text)}%"]
    return []


def _prepare(
    build: Callable[[SimpleNamespace], QuerySet], values: dict, aliased: bool = False
) -> _Prepared:
    builds = []
    for n in (0, 1):
        stand_ins = _stand_ins(values, n)
        queryset = build(SimpleNamespace(**stand_ins))
        compiler = queryset.query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql(with_col_aliases=aliased)
        except EmptyResultSet:  # none(), or a value Django answers without a statement
            return _Prepared("", [], compiler, queryset)
        builds.append((queryset, compiler, sql, params, stand_ins))
    (queryset, compiler, sql, first, stand_ins), (_q, _c, other_sql, second, others) = builds
    if sql != other_sql:
        raise ValueError("the statement's text depends on its values: put them in the shape")
    connection = compiler.connection
    mine, theirs = _places(values, stand_ins, connection), _places(values, others, connection)
    params: list = []
    for a, b in zip(first, second, strict=True):
        if a == b and _key(a) not in mine:
            params.append(a)
            continue
        place, other = mine.get(_key(a)), theirs.get(_key(b))
        if place is None or other is None or (other.name, other.index) != (place.name, place.index):
            raise ValueError(f"the statement holds a value of its own where a value goes: {a!r}")
        # With values bound by the server, Django wraps an integer in the type of its column
        # (psycopg's Int2…): each request's value is wrapped the same way.
        wrap = type(a)
        params.append(place if wrap is _key(a)[0] else _wrapped(place, wrap))
    if connection.vendor == "postgresql":
        sql, params = inlined(
            sql, params, [not isinstance(p, _Place) and constant(p) for p in params]
        )
    return _Prepared(sql, params, compiler, queryset)


_PLACEHOLDER = re.compile(r"%%|%s")


def constant(value: Any) -> bool:
    """Whether a constant of the code is written into its statement (`inlined`)."""
    return isinstance(value, str | int)


def inlined(sql: str, params: list, written: Sequence[bool]) -> tuple[str, list]:
    """The statement with the parameters marked `written` (the code's constants: a
    state, a kind, never a request's value) written as SQL literals, the others left as
    parameters. PostgreSQL keeps one plan for a prepared statement (a generic plan) only when
    it costs about what a plan made for each run's values costs. With the constants bound as
    parameters too, it could not tell 'pooled' from any other state: its generic plans read
    whole indexes, and it planned every run again (3 ms for an inbox's keys)."""
    out, kept, given = [], [], iter(zip(params, written, strict=True))
    position = 0
    for mark in _PLACEHOLDER.finditer(sql):
        out.append(sql[position : mark.start()])
        position = mark.end()
        if mark.group() == "%%":
            out.append("%%")
            continue
        param, write = next(given)
        if write:
            out.append(Literal(param).as_string(None).replace("%", "%%"))
        else:
            out.append("%s")
            kept.append(param)
    out.append(sql[position:])
    return "".join(out), kept


def _key(value: Any) -> tuple:
    """A parameter as a key: an integer or a text whatever class the backend wraps it in."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (int, int(value))
    if isinstance(value, str):
        return (str, str(value))
    return (type(value), value)


def _wrapped(place: _Place, wrap: type) -> _Place:
    adapt = place.adapt
    return _Place(place.name, place.index, (lambda v: wrap(adapt(v))) if adapt else wrap)


def _params(prepared: _Prepared, values: dict) -> list:
    return [_value(values, p) if isinstance(p, _Place) else p for p in prepared.params]


def _value(values: dict, place: _Place) -> Any:
    value = values[place.name]
    if isinstance(value, RawSQL):
        value = value.params[place.index]
    elif place.index is not None:
        value = value[place.index]
    return place.adapt(value) if place.adapt else value


def padded(keys: list) -> list:
    """Keys padded to a power of two by repeating the last one: a list of keys (IN) changes
    the statement's text with its length, a few lengths make a few statements."""
    return keys + keys[-1:] * ((1 << max(len(keys) - 1, 0).bit_length()) - len(keys))


def among(keys: list[int]) -> tuple[list[int] | RawSQL, int]:
    """Integer keys for `is_among` in a prepared statement, and the width its shape takes. On
    PostgreSQL, one array parameter: one statement whatever their number, and a text psycopg
    keeps converted (it converts a statement of more than 50 parameters again each time:
    0.15 ms for 64 keys). The array goes as its text, which PostgreSQL reads: psycopg's list
    dumper is Python, element by element (40 µs for 50 keys). Elsewhere, the keys `padded`."""
    if connections["default"].vendor == "postgresql":
        return RawSQL("%s::bigint[]", ["{" + ",".join(str(int(key)) for key in keys) + "}"]), 0
    keys = padded(keys)
    return keys, len(keys)


class _AnyOf(Lookup):
    """`column = ANY(array)`: a condition on the column, as an IN list is (`IN (SELECT
    unnest(…))` would be a subquery, which the planner joins after the statement's joins)."""

    lookup_name = "any_of"

    def as_sql(self, compiler: SQLCompiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        if not rhs.startswith("("):  # a RawSQL has its own parentheses, an ARRAY(…) not
            rhs = f"({rhs})"
        return f"{lhs} = ANY{rhs}", [*lhs_params, *rhs_params]


class _ArrayOf(Subquery):
    """ARRAY(subquery): the values of the subquery's one column, as an array."""

    template = "ARRAY(%(subquery)s)"


def is_among(field: str, keys: list[int] | RawSQL) -> Q | Lookup:
    """The condition that `field` is one of the keys given by `among` (or an array on
    PostgreSQL, a subquery elsewhere: `policy.read_first`)."""
    if isinstance(keys, RawSQL) and connections["default"].vendor == "postgresql":
        return _AnyOf(F(field), keys)
    return Q(**{f"{field}__in": keys})


def any_of(field: str, rows: QuerySet) -> Q | Lookup:
    """The condition that `field` is one of the values of `rows` (a one-column queryset). On
    PostgreSQL `field = ANY(ARRAY(rows))`: the planner reads the rows once, before the
    statement, and looks the values up in an index on `field`, where `field IN (rows)` is a
    join that a prepared statement's generic plan tends to run row by row."""
    if connections["default"].vendor == "postgresql":
        return _AnyOf(F(field), _ArrayOf(rows))
    return Q(**{f"{field}__in": rows})


def rows(shape: tuple, build: Callable[[SimpleNamespace], QuerySet], **values: Value) -> list:
    """The rows of `build(values)`, its statement prepared once per process for `shape` (every
    value that changes the statement's text: a filter present or not, a list's length, a
    slice). `values`: ints, texts, dates, aware datetimes, lists of those, or RawSQL (its text
    is part of the shape, its parameters values)."""
    db = "default"
    key = (
        connections[db].vendor,
        *shape,
        *(v.sql for v in values.values() if isinstance(v, RawSQL)),
    )
    prepared = _CACHE.get(key)
    if prepared is None:
        prepared = remember(_CACHE, key, _prepare(build, values))
    if not prepared.sql:  # not prepared: the queryset itself, with the request's values
        return list(build(SimpleNamespace(**values)))
    params = _params(prepared, values)
    compiler = copy.copy(prepared.compiler)
    compiler.connection = connections[db]  # this thread's connection, not the preparer's
    statement = prepared.sql
    compiler.as_sql = lambda *args, **kwargs: (statement, params)
    compiler.get_converters = prepared.converters  # the same columns on every run
    queryset = prepared.queryset._chain()
    # This copy is read once, here, and dropped: nothing filters or counts it afterwards.
    queryset.query.get_compiler = lambda *args, **kwargs: compiler
    return list(queryset)


@dataclass(frozen=True)
class Read:
    """A `values()` queryset built by `build` from `values`, for `together`."""

    build: Callable[[SimpleNamespace], QuerySet]
    values: dict[str, Value]


@dataclass
class _Part:
    prepared: _Prepared
    names: list[str]  # of the values(), in the columns' order
    readers: list  # for each column: how its value in the JSON text is read back, or None


@dataclass
class _Together:
    sql: str
    parts: dict[str, _Part]  # those of the statement, in its order
    alone: tuple[str, ...]  # the reads Django answers without a statement (`rows`' fallback)


# A column as a JSON array gives it back: as it is, or as its text, read here (PostgreSQL;
# SQLite's own converters read its text as they read its columns).
_AS_JSON = {
    "AutoField": None,
    "BigAutoField": None,
    "BigIntegerField": None,
    "BooleanField": None,
    "CharField": None,
    "EmailField": None,
    "ForeignKey": None,
    "IntegerField": None,
    "OneToOneField": None,
    "PositiveIntegerField": None,
    "PositiveSmallIntegerField": None,
    "SlugField": None,
    "SmallIntegerField": None,
    "TextField": None,
    "DateField": datetime.date.fromisoformat,
    "DateTimeField": datetime.datetime.fromisoformat,
}


# The rows of a statement as a JSON array of arrays, in their order (ARRAY() keeps it).
_JSON_ARRAY = {
    "postgresql": (
        "to_json(ARRAY(SELECT json_build_array(%(columns)s) FROM (%(rows)s) listed))::text"
    ),
    "sqlite": "(SELECT json_group_array(json_array(%(columns)s)) FROM (%(rows)s) listed)",
}


def _reader(decode: Callable | None, converters: tuple | None) -> Callable | None:
    """A column's value as the JSON text holds it, read back as the queryset gives it: from
    its text (`_AS_JSON`), then through the backend's converters (SQLite's dates)."""
    if decode is None and converters is None:
        return None
    convert, expression = converters or ((), None)

    def read(value: Any, connection) -> Any:
        if value is None:
            return None
        value = decode(value) if decode else value
        for step in convert:
            value = step(value, expression, connection)
        return value

    return read


def _part(prepared: _Prepared, vendor: str) -> tuple[str, _Part]:
    """The part's rows as one JSON text (an array of arrays, in the rows' order), and how
    its columns are read back."""
    selected = prepared.queryset.query.selected
    if not selected or len(selected) != len(prepared.compiler.select):
        raise TypeError("together() reads values() querysets")
    quote = prepared.compiler.connection.ops.quote_name
    expressions = [expression for expression, _sql, _alias in prepared.compiler.select]
    converters = prepared.converters(expressions)
    aliases, readers = [], []
    for i, (expression, _sql, alias) in enumerate(prepared.compiler.select):
        kind = expression.output_field.get_internal_type()
        if kind not in _AS_JSON:
            raise TypeError(f"a {kind} column read as JSON: read it with rows()")
        aliases.append(f"listed.{quote(alias)}")
        decode = _AS_JSON[kind] if vendor == "postgresql" else None
        readers.append(_reader(decode, converters.get(i)))
    template = _JSON_ARRAY["postgresql" if vendor == "postgresql" else "sqlite"]
    sql = template % {"columns": ", ".join(aliases), "rows": prepared.sql}
    return sql, _Part(prepared, list(selected), readers)


def _together(reads: dict[str, Read], vendor: str) -> _Together:
    parts, alone, columns = {}, [], []
    for name, read in reads.items():
        prepared = _prepare(read.build, read.values, aliased=True)
        if not prepared.sql:
            alone.append(name)
            continue
        sql, parts[name] = _part(prepared, vendor)
        columns.append(sql)
    sql = f"SELECT {', '.join(columns)}" if columns else ""
    return _Together(_numbered(sql) if vendor == "postgresql" else sql, parts, tuple(alone))


def _numbered(sql: str) -> str:
    """The statement for a raw cursor (`raw_cursor` of core.postgresql): its %s as $1, $2…,
    its %% as %."""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda mark: "%" if mark[0] == "%%" else f"${next(numbers)}", sql)


def _rows(part: _Part, text: str, connection) -> list[dict]:
    rows = json.loads(text)
    read = [(i, reader) for i, reader in enumerate(part.readers) if reader is not None]
    for row in rows:
        for i, reader in read:
            row[i] = reader(row[i], connection)
    return [dict(zip(part.names, row, strict=True)) for row in rows]


def together(
    shape: tuple, reads: dict[str, Read], generic_plan: bool = False
) -> dict[str, list[dict]]:
    """The rows of several `values()` querysets, read by one statement prepared once per
    process for `shape` and the reads' names (as `rows` prepares one): each queryset's rows as
    a JSON array, one column each. A page's few short lists cost one round trip, one
    statement's protocol and one plan, where each list would cost its own.

    `generic_plan`: PostgreSQL runs the statement with one plan made for any values (a generic
    plan) rather than a plan made for each run's values. On its own it keeps planning a
    statement whose plan for the values at hand looks cheaper than its generic plan, though
    both run in a fraction of a millisecond: the work list's statement took 7 ms to plan and
    run for the demo GP, with its generic plan 1.1 ms (docs/benchmarks.md § 9). The plan is
    serial (`_GENERIC_PLAN`). Only for statements whose generic plans are measured."""
    connection = connections["default"]
    key = (
        connection.vendor,
        "together",
        *shape,
        *(
            (name, *(v.sql for v in read.values.values() if isinstance(v, RawSQL)))
            for name, read in reads.items()
        ),
    )
    found = _CACHE.get(key)
    if found is None:
        found = remember(_CACHE, key, _together(reads, connection.vendor))
    out = {
        name: list(reads[name].build(SimpleNamespace(**reads[name].values))) for name in found.alone
    }
    if not found.sql:
        return out
    params = [
        p for name, part in found.parts.items() for p in _params(part.prepared, reads[name].values)
    ]
    texts = _fetch(connection, found.sql, params, generic_plan)
    for (name, part), text in zip(found.parts.items(), texts, strict=True):
        out[name] = _rows(part, text, connection)
    return out


# A generic plan, serial: made for any values, it expects the rows of the largest ones (a user
# who performed 14,000 acts, a named expert of 2,000 requests) and started parallel workers
# (2-4 ms each time) for arms that read none for most users.
_GENERIC_PLAN = (("plan_cache_mode", "force_generic_plan"), ("max_parallel_workers_per_gather", 0))


def _fetch(connection, sql: str, params: list, generic_plan: bool) -> tuple:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    if not generic_plan:
        with connection.raw_cursor() as cursor:  # the statement numbered by `_numbered`
            cursor.execute(sql, params)
            return cursor.fetchone()
    # The settings, the statement and the settings' reset sent together (a pipeline): one round
    # trip, and one implicit transaction up to the pipeline's end, so that a failure of the
    # statement rolls the settings back with it (as a rollback does within a transaction).
    with (
        connection.cursor() as setting,
        connection.raw_cursor() as cursor,
        connection.cursor() as reset,
        connection.wrap_database_errors,
    ):
        with connection.connection.pipeline():
            for name, value in _GENERIC_PLAN:
                setting.execute(f"SET {name} = {value}")
            cursor.execute(sql, params)
            for name, _value in _GENERIC_PLAN:
                reset.execute(f"RESET {name}")
        return cursor.fetchone()
