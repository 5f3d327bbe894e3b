"""Pages of every list: no list is cut at some count, each is read one page at a time.

Pages take `?page=` and link to their neighbours keeping the filters (`partials/pager.html`);
the API takes `offset` and `limit` and answers the total in the `X-Total-Count` header, so that
operations which answered a bare JSON list keep that shape.

The API also reads lists by cursor (`?cursor=`, empty for the first page): each page starts
after the last row of the one before (keyset: an index range, however deep the page), counts
nothing, and names the next one in `X-Next-Cursor` and a `Link: rel="next"` header. The
cursor is signed: a client cannot forge a position, and the wall applies to every page anyway."""

import datetime
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Annotated, Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Prefetch,
    Q,
    QuerySet,
    Window,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from pydantic import Field

from telesante.core import prepared

PAGE_SIZE = 50
# The highest page number a page link is read as: its offset stays within SQL's integers.
MAX_PAGE = 1_000_000
TOTAL_HEADER = "X-Total-Count"
CURSOR_HEADER = "X-Next-Cursor"
CURSOR_SALT = "telesante.paging.cursor"
# The API's `offset` query parameter: rows skipped before the first one answered.
Offset = Annotated[
    int, Field(ge=0, le=10_000_000, description="lignes sautées (le total : en-tête X-Total-Count)")
]
# The API's `cursor` query parameter: where the page starts ("" for the first one).
Cursor = Annotated[
    str | None,
    Field(
        max_length=500,
        description="page suivante : valeur de l'en-tête X-Next-Cursor (vide : début)",
    ),
]
BAD_CURSOR = "Curseur de pagination invalide : reprenez la liste au début (cursor vide)."


def page(
    request: HttpRequest,
    items: "QuerySet | Sequence | Listing",
    param: str = "page",
    per_page: int = 0,
) -> Page:
    """The page of `items` asked by `?<param>=` (the first for a missing or wrong number, the
    last past the end): one COUNT and one slice, or for a Listing its page and total in one
    statement (`counted_window`). It carries the links to its neighbours, `previous_url` and
    `next_url`, which keep the rest of the query (the filters)."""
    size = per_page or PAGE_SIZE
    if isinstance(items, Listing):
        current = _counted_page(items, request.GET.get(param), size)
    else:
        current = Paginator(items, size).get_page(request.GET.get(param))
    current.previous_url = (
        _link(request, param, current.previous_page_number()) if current.has_previous() else ""
    )
    current.next_url = (
        _link(request, param, current.next_page_number()) if current.has_next() else ""
    )
    return current


def _counted_page(items: "Listing", asked: str | None, size: int) -> Page:
    """`Paginator.get_page` of a Listing: the page's rows and the total from one statement;
    past the end, the last page (read again)."""
    try:
        number = min(max(int(asked or 1), 1), MAX_PAGE)
    except ValueError:
        number = 1
    rows, total = counted_window(items, (number - 1) * size, number * size)
    if not rows and number > 1:  # past the end: the last page (the first of an empty list)
        number = max(-(-total // size), 1)
        if total:
            rows, total = counted_window(items, (number - 1) * size, number * size)
    paginator = Paginator((), size)
    paginator.count = total  # a cached_property: the total counted with the rows
    return Page(rows, number, paginator)


def _link(request: HttpRequest, param: str, number: int) -> str:
    query = request.GET.copy()
    query.pop("fragment", None)  # a live refresh asks for rows only; its links open whole pages
    query[param] = str(number)
    return "?" + query.urlencode()


def api_slice(response: HttpResponse, items: QuerySet | Sequence, offset: int, limit: int) -> list:
    """`limit` rows from `offset`; the total of `items` goes in the X-Total-Count header."""
    response[TOTAL_HEADER] = str(items.count())
    return list(items[offset : offset + limit])


def api_page(
    request: HttpRequest,
    response: HttpResponse,
    items: "QuerySet | Chain | Listing",
    offset: int,
    limit: int,
    cursor: str | None,
) -> list:
    """A page of `items`: by cursor when the client sent `cursor` (even empty), else by
    offset with the total (`api_slice`)."""
    if cursor is None:
        if isinstance(items, Listing):
            rows, total = counted_window(items, offset, offset + limit)
            response[TOTAL_HEADER] = str(total)
            return rows
        return api_slice(response, items, offset, limit)
    start = _decode(cursor) if cursor else None
    if isinstance(items, Chain):
        rows, after = items.cursor_page(start, limit)
    else:
        rows, after = keyset_page(items, start, limit)
    if after is not None:
        token = signing.dumps(after, salt=CURSOR_SALT, compress=True)
        query = request.GET.copy()
        query["cursor"] = token
        response[CURSOR_HEADER] = token
        response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
    return rows


def _decode(cursor: str) -> list:
    try:
        position = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ValidationError(BAD_CURSOR) from None
    if not isinstance(position, list) or not position:
        raise ValidationError(BAD_CURSOR)
    return position


def _ordering(items: QuerySet) -> list[tuple[str, bool]]:
    """The list's order as (field path, descending). It must end on the primary key, which
    makes each position unique, and use no nullable column (NULLs sort differently on
    PostgreSQL and SQLite)."""
    order = [(str(o).lstrip("-"), str(o).startswith("-")) for o in items.query.order_by]
    if not order or order[-1][0] not in ("pk", "id"):
        raise TypeError("a keyset list is ordered and ends on its primary key")
    order[-1] = ("pk", order[-1][1])
    if any(_field(items.model, path).null for path, _ in order[:-1]):
        raise TypeError("a keyset list is ordered by columns without NULL")
    return order


def _field(model, path: str):
    if path == "pk":
        return model._meta.pk
    *joins, last = path.split("__")
    for name in joins:
        model = model._meta.get_field(name).related_model
    return model._meta.get_field(last)


def _value(row: Any, path: str) -> Any:
    if isinstance(row, dict):  # a row read as columns: the order's are among them
        row = row[path]
    else:
        for name in path.split("__"):
            row = getattr(row, name)
    if isinstance(row, datetime.date | decimal.Decimal):  # datetimes too: JSON has no dates
        return str(row)
    return row


@dataclass(frozen=True)
class Listing:
    """A list built from named values, `build(values)`, for a `shape` (what changes its
    statement: filters present or not); read by cursor, its statements are prepared once per
    shape (`core.prepared`) instead of built and compiled for every page."""

    shape: tuple
    build: Callable[[SimpleNamespace], QuerySet]
    values: dict[str, prepared.Value]
    # Columns of joined tables equal to the key (a télé-expertise's act): a list ordered by its
    # key alone bounds them by the cursor too. PostgreSQL carries no inequality across a join, so
    # it walked the act's key down from the newest act, not from the cursor.
    same_as_key: tuple[str, ...] = ()
    # Read as these columns of its rows (ORM paths: "question", "act__patient_id"), each row a
    # dict of them and of its key ("pk"), not a model instance with its joins: an API page of
    # plain columns costs a third of the Python.
    columns: tuple[str, ...] = ()
    # Read with each row by the statement that reads the rows (an enrolment's devices as
    # `core.json_rows.JSONRows`), not by the one that finds their keys.
    annotations: tuple[tuple[str, Any], ...] = ()
    # Its keys read with one plan for any values (`prepared.together`'s `generic_plan`), where
    # PostgreSQL would plan the statement on every run: for lists whose generic plan is measured.
    generic_plan: bool = False

    def __post_init__(self) -> None:
        # Rows read as columns come from the keys' statement, which reads no annotation.
        if self.columns and self.annotations:
            raise TypeError("A Listing reads its rows as columns or with annotations, not both")
        # Its keys' statement reads them alone, as JSON (`prepared.together`), not columns.
        if self.columns and self.generic_plan:
            raise TypeError("A Listing read as columns is not read with a generic plan")

    def queryset(self) -> QuerySet:
        """The list as a queryset with the request's values (numbered pages, counts)."""
        return self.build(SimpleNamespace(**self.values)).annotate(**dict(self.annotations))


@dataclass(frozen=True)
class _Form:
    """What a list's rows are, the same for every value of its shape: model, order, joins."""

    model: type
    order: list[tuple[str, bool]]
    select_related: dict | bool
    deferred: tuple
    lookups: tuple
    annotations: tuple = ()


_FORMS: dict[tuple, _Form] = {}


def _form(items: QuerySet, keyset: bool = True) -> _Form:
    """The list's form; its order only when it is read by keyset (`_ordering` checks it)."""
    query = items.query
    return _Form(
        items.model,
        _ordering(items) if keyset else [],
        query.select_related,
        query.deferred_loading,
        tuple(items._prefetch_related_lookups),
    )


def rows_of(items: QuerySet, start: int, stop: int) -> list:
    """`items[start:stop]` in two statements: the rows' keys through the list's filter (the
    wall) and order, then the rows with their joins (select_related, prefetch_related) by key.
    PostgreSQL plans one statement holding both the wall's UNION and the joins in tens of
    milliseconds, ten times what it then takes to run; each half plans in one or two. A list
    whose rows carry more than their model (annotations, DISTINCT) is read in one statement."""
    if items.query.annotations or items.query.distinct or items._fields is not None:
        return list(items[start:stop])
    keys = list(items.values_list("pk", flat=True)[start:stop])
    form = _form(items, keyset=False)
    return _by_key(form, keys)


def _by_key(form: _Form, keys: list, columns: tuple[str, ...] = ()) -> list:
    """The rows of these keys, in their order, with the form's joins: a statement prepared
    once per form; on SQLite, once per padded number of keys too (`prepared.among`). With
    `columns`, each row a dict of those and of the key and the order's columns."""
    if not keys:
        return []
    if columns:
        return _columns_by_key(form, keys, columns)

    def build(values: SimpleNamespace) -> QuerySet:
        rows = form.model._base_manager.filter(prepared.is_among("pk", values.keys))
        rows.query.select_related = form.select_related
        rows.query.deferred_loading = form.deferred
        return rows.annotate(**dict(form.annotations))

    among, width = prepared.among(keys)
    names, defer = form.deferred
    shape = (
        "by_key",
        form.model._meta.label,
        _frozen(form.select_related),
        frozenset(names),
        defer,
        tuple(map(_lookup_key, form.lookups)),
        tuple(name for name, _expression in form.annotations),
        width,
    )
    found = {row.pk: row for row in prepared.rows(shape, build, keys=among)}
    rows = [found[key] for key in keys if key in found]  # a row deleted meanwhile: left out
    _prefetch(form.model, rows, form.lookups)
    return rows


def _columns_by_key(form: _Form, keys: list, columns: tuple[str, ...]) -> list[dict]:
    """`_by_key` as dicts of the key ("pk"), the columns and the order's (a cursor's values):
    a statement prepared once per form and columns; no model instance, no join cached."""
    names = _column_names(form, columns)

    def build(values: SimpleNamespace) -> QuerySet:
        rows = form.model._base_manager.filter(prepared.is_among("pk", values.keys))
        return rows.values_list(*names)

    among, width = prepared.among(keys)
    shape = ("by_key_columns", form.model._meta.label, names, width)
    read = prepared.rows(shape, build, keys=among)
    found = {row[0]: dict(zip(names, row, strict=True)) for row in read}
    return [found[key] for key in keys if key in found]


def _column_names(form: _Form, columns: tuple[str, ...]) -> tuple[str, ...]:
    """What a row read as columns holds: its key ("pk"), the columns, the order's."""
    return tuple(dict.fromkeys(("pk", *columns, *(path for path, _ in form.order))))


def _prefetch(model: type, rows: list, lookups: tuple) -> None:
    """`prefetch_related`'s lookups on the page's rows. A reverse foreign key named alone is
    read through the related model's default manager, in its order (else by key), by a
    statement prepared once (`prepared.among`); other lookups by Django."""
    others = []
    for lookup in lookups:
        relation = model._meta.fields_map.get(lookup) if isinstance(lookup, str) else None
        if not (relation and relation.one_to_many and relation.get_accessor_name() == lookup):
            others.append(lookup)
            continue
        foreign_key = relation.field
        column = foreign_key.attname

        def build(values: SimpleNamespace, related=relation.related_model, column=column):
            items = related._default_manager.filter(prepared.is_among(column, values.keys))
            return items.order_by(*related._meta.ordering or ["pk"])

        keys, width = prepared.among([row.pk for row in rows])
        shape = ("prefetch", model._meta.label, lookup, width)
        owned: dict = {row.pk: [] for row in rows}
        for item in prepared.rows(shape, build, keys=keys):
            owned[getattr(item, column)].append(item)
        for row in rows:
            for item in owned[row.pk]:
                foreign_key.set_cached_value(item, row)
            items = getattr(row, lookup).get_queryset()
            items._result_cache, items._prefetch_done = owned[row.pk], True
            row.__dict__.setdefault("_prefetched_objects_cache", {})[lookup] = items
    if others:
        prefetch_related_objects(rows, *others)


def _lookup_key(lookup: str | Prefetch) -> str:
    """A lookup as a statement's shape names it (a Prefetch's text is its address)."""
    return lookup if isinstance(lookup, str) else f"{lookup.prefetch_through}>{lookup.to_attr}"


def _frozen(related: dict | bool) -> tuple | bool:
    """select_related's tree, hashable."""
    if isinstance(related, dict):
        return tuple(sorted((name, _frozen(sub)) for name, sub in related.items()))
    return related


def _position(form: _Form, start: list) -> list:
    """The cursor's values, typed as their columns."""
    if start[0] != "k" or len(start) != len(form.order) + 1:
        raise ValidationError(BAD_CURSOR)
    try:
        return [
            _field(form.model, path).to_python(v)
            for (path, _), v in zip(form.order, start[1:], strict=True)
        ]
    except ValidationError:
        raise ValidationError(BAD_CURSOR) from None


def _after(order: list[tuple[str, bool]], values: Sequence) -> Q:
    """The row comparison (a, b, id) after (va, vb, vid) spelled out, so that each column keeps
    its direction."""
    after, equal = Q(), Q()
    for (path, descending), value in zip(order, values, strict=True):
        after |= equal & Q(**{f"{path}__{'lt' if descending else 'gt'}": value})
        equal &= Q(**{path: value})
    return after


def _listing_form(items: "Listing", keyset: bool = True) -> _Form:
    key = (connection.vendor, keyset, *items.shape)
    form = _FORMS.get(key)
    if form is None:
        built = _form(items.build(SimpleNamespace(**items.values)), keyset)
        form = prepared.remember(_FORMS, key, replace(built, annotations=items.annotations))
    return form


def _listing_keys(
    items: "Listing", start: int, stop: int, after: Sequence = (), names: tuple[str, ...] = ()
) -> list:
    """The keys of `items[start:stop]` after the position `after` (none: from the top), by a
    statement prepared once per shape; with `names`, those columns of the rows instead."""
    order = _listing_form(items).order if after else []
    values = dict(items.values)
    values.update((f"after_{i}", value) for i, value in enumerate(after))

    def listed(v: SimpleNamespace) -> QuerySet:
        found = items.build(v)
        if after:
            position = [getattr(v, f"after_{i}") for i in range(len(after))]
            found = found.filter(_after(order, position))
            if len(order) == 1:
                for path in items.same_as_key:
                    found = _bounded(found, path, "<" if order[0][1] else ">", position[0])
        return found

    shape = ("keys", *items.shape, bool(after), start, stop, names)
    if items.generic_plan:  # the keys alone (no `names`: `Listing.__post_init__`)
        read = prepared.Read(lambda v: listed(v).values("pk")[start:stop], values)
        found = prepared.together(shape, {"keys": read}, generic_plan=True)["keys"]
        return [row["pk"] for row in found]

    def keys(v: SimpleNamespace) -> QuerySet:
        if names:
            return listed(v).values_list(*names)[start:stop]
        return listed(v).values_list("pk", flat=True)[start:stop]

    return prepared.rows(shape, keys, **values)


def _bounded(listed: QuerySet, path: str, operator: str, value: int) -> QuerySet:
    """`listed` with the key of the table joined by `path` ("act__id") compared to `value`.
    Django reads that key from the joining column (`act__id` is the request's own act_id), so
    the comparison names the joined table's alias in the list's statement."""
    relation, column = path.split("__")
    table = listed.model._meta.get_field(relation).related_model._meta.db_table
    query = listed.query
    aliases = [  # a join Django trimmed stays in the map, unused
        a
        for a, join in query.alias_map.items()
        if join.table_name == table and query.alias_refcount[a]
    ]
    if len(aliases) != 1:
        raise TypeError(f"{path}: the list's statement joins {table} {len(aliases)} times")
    name = connection.ops.quote_name
    bound = f"{name(aliases[0])}.{name(column)} {operator} %s"  # names of the model, not input
    return listed.filter(RawSQL(bound, [value], output_field=BooleanField()))  # noqa: S611


# A Listing's pages within its first rows are sliced from one statement of the first TOP keys.
# Each page's slice was a statement of its own (OFFSET is written in the text), and PostgreSQL
# plans a prepared statement for each of its first five runs in a connection before it keeps
# a generic plan: five pages made 25 such plans in every connection of the pool, 2 ms each for
# an expert's inbox. Reading 256 keys costs what sorting the list does.
TOP = 256


def window(items: "QuerySet | Listing", start: int, stop: int) -> list:
    """`items[start:stop]`, by key (`rows_of`)."""
    if isinstance(items, Listing):
        if stop <= TOP:
            keys = _listing_keys(items, 0, TOP)[start:stop]
        else:
            keys = _listing_keys(items, start, stop)
        return _by_key(_listing_form(items, keyset=False), keys, items.columns)
    return rows_of(items, start, stop)


def counted_window(items: "Listing", start: int, stop: int) -> tuple[list, int]:
    """`items[start:stop]` and the number of all its rows. The keys come with `COUNT(*) OVER
    ()`, by a statement prepared once per shape and slice: the rows counted are those the
    order sorts, so the wall and the filters are run once, not once for the count and again
    for the page (patient search: 2.5 ms of PostgreSQL a page). Past the end, a count."""

    def keys(v: SimpleNamespace) -> QuerySet:
        listed = items.build(v).annotate(listed_total=Window(Count("*")))
        return listed.values_list("pk", "listed_total")[start:stop]

    found = prepared.rows(("counted", *items.shape, start, stop), keys, **items.values)
    if not found:  # past the end (or nothing at all: no count needed)
        return [], items.queryset().count() if start else 0
    total = found[0][1]
    rows = _by_key(_listing_form(items, keyset=False), [key for key, _ in found], items.columns)
    return rows, total


def keyset_page(
    items: "QuerySet | Listing", start: list | None, limit: int
) -> tuple[list, list | None]:
    """`limit` rows of the ordered `items` after the position `start` (None: from the top),
    and the position of the last one when more follow."""
    if isinstance(items, Listing):
        form = _listing_form(items)
        after = _position(form, start) if start is not None else []
        if items.columns:
            # The columns read with the keys: the statement that finds the rows reads them
            # already (their filters' columns are those of the tables the columns are of).
            names = _column_names(form, items.columns)
            found = _listing_keys(items, 0, limit + 1, after, names)
            rows = [dict(zip(names, row, strict=True)) for row in found]
        else:
            rows = _by_key(form, _listing_keys(items, 0, limit + 1, after))
    else:
        form = _form(items)
        if start is not None:
            items = items.filter(_after(form.order, _position(form, start)))
        rows = rows_of(items, 0, limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, ["k", *(_value(rows[-1], path) for path, _ in form.order)]


class Chain:
    """Two ordered querysets read as one list (the first's rows, then the second's), sliced
    and counted without fetching what a page does not show."""

    def __init__(self, first: "QuerySet | Listing", second: "QuerySet | Listing") -> None:
        self.first, self.second = first, second
        self._first_count: int | None = None

    @staticmethod
    def _whole(items: "QuerySet | Listing") -> QuerySet:
        return items.queryset() if isinstance(items, Listing) else items

    def _head(self) -> int:
        if self._first_count is None:
            self._first_count = self._whole(self.first).count()
        return self._first_count

    def count(self) -> int:
        return self._head() + self._whole(self.second).count()

    def __len__(self) -> int:
        return self.count()

    def cursor_page(self, start: list | None, limit: int) -> tuple[list, list | None]:
        """A cursor page: the first list (short: open requests) is read by offset, ["o", n];
        the second (the history, as long as time) by keyset."""
        if start is None:
            start = ["o", 0]
        if start[0] == "o" and isinstance(start[1], int) and start[1] >= 0 and len(start) == 2:
            rows = window(self.first, start[1], start[1] + limit + 1)
            if len(rows) > limit:
                return rows[:limit], ["o", start[1] + limit]
            if len(rows) == limit:  # the first list ends with the page: the second may follow
                return rows, ["o", start[1] + limit] if self._follows() else None
            more, after = keyset_page(self.second, None, limit - len(rows))
            return rows + more, after
        return keyset_page(self.second, start, limit)

    def _follows(self) -> bool:
        if isinstance(self.second, Listing):
            return bool(_listing_keys(self.second, 0, 1))
        return self.second.exists()

    def __getitem__(self, part: slice) -> list[Any]:
        if not isinstance(part, slice) or part.step is not None:
            raise TypeError("Chain is read by slices")
        start, stop = part.start or 0, part.stop
        head = self._head()
        rows = _slice(self.first, start, stop) if start < head else []
        rest_start = max(0, start - head)
        if stop is None:
            rows += _slice(self.second, rest_start, None)
        elif stop > head:
            rows += _slice(self.second, rest_start, stop - head)
        return rows


def _slice(items: "QuerySet | Listing", start: int, stop: int | None) -> list:
    """`items[start:stop]`: a list read as columns by `window`, as its other pages are."""
    if isinstance(items, Listing) and items.columns and stop is not None:
        return window(items, start, stop)
    whole = items.queryset() if isinstance(items, Listing) else items
    return list(whole[start:stop])
