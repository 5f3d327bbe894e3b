"""FHIR search parameters as a French user's client sends them: `_count`, `_offset`, dates with
their prefixes (eq, ge, le, gt, lt), tokens `system|code`. A wrong one is a 400 naming it."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

DEFAULT_COUNT = 20
MAX_COUNT = 200
MAX_OFFSET = 10_000_000
PREFIXES = ("eq", "ge", "le", "gt", "lt")
# Parameters every search takes; each resource adds its own. The total is always counted
# exactly, so the clients' hints about it (`_total`, fhirpy's `_totalMethod`) change nothing.
COMMON = {"_count", "_offset", "_format", "_total", "_totalMethod"}


class BadSearch(Exception):
    """A search parameter the server cannot apply: answered 400 with this French sentence."""


@dataclass(frozen=True)
class Window:
    """Where results start and how many: `_offset` and `_count`."""

    offset: int
    count: int


def params(request: HttpRequest, allowed: set[str]) -> dict[str, str]:
    """The query's parameters, each once; an unknown one is refused rather than ignored, so
    that a client never reads an unfiltered list as a filtered one."""
    found: dict[str, str] = {}
    for name in request.GET:
        if name not in allowed | COMMON:
            known = ", ".join(sorted(allowed | {"_count"}))
            raise BadSearch(f"Paramètre de recherche inconnu : {name} (acceptés : {known}).")
        values = request.GET.getlist(name)
        if len(values) > 1:
            raise BadSearch(f"Paramètre {name} répété : une seule valeur acceptée.")
        found[name] = values[0]
    return found


def _whole(name: str, raw: str, high: int) -> int:
    if not raw.isdigit() or int(raw) > high:
        raise BadSearch(f"{name} : nombre entier de 0 à {high} attendu.")
    return int(raw)


def window(given: dict[str, str]) -> Window:
    count = _whole("_count", given.get("_count", str(DEFAULT_COUNT)), MAX_COUNT)
    offset = _whole("_offset", given.get("_offset", "0"), MAX_OFFSET)
    return Window(offset, count)


def _moment(name: str, text: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants a FHIR date covers: a year, a month, a day or one instant."""
    zone = timezone.get_current_timezone()
    for fmt, step in (("%Y", "year"), ("%Y-%m", "month"), ("%Y-%m-%d", "day")):
        try:
            start = datetime.datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
        if step == "day":
            return start, start + datetime.timedelta(days=1)
        if step == "month":
            return start, (start + datetime.timedelta(days=32)).replace(day=1)
        return start, start.replace(year=start.year + 1)
    try:
        at = datetime.datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadSearch(
            f"{name} : date attendue (AAAA, AAAA-MM, AAAA-MM-JJ ou AAAA-MM-JJThh:mm:ss+01:00), "
            "précédée au besoin de eq, ge, le, gt ou lt."
        )
    return at, at + datetime.timedelta(microseconds=1)


def date_q(name: str, raw: str, field: str, *, day_field: bool = False) -> Q:
    """The filter of one date parameter on `field` (a DateField when `day_field`)."""
    prefix = raw[:2] if raw[:2] in PREFIXES else "eq"
    start, end = _moment(name, raw[2:] if raw[:2] in PREFIXES else raw)
    if day_field:
        start, end = start.date(), max(end.date(), start.date() + datetime.timedelta(days=1))
    return {
        "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
        "ge": Q(**{f"{field}__gte": start}),
        "gt": Q(**{f"{field}__gte": end}),
        "le": Q(**{f"{field}__lt": end}),
        "lt": Q(**{f"{field}__lt": start}),
    }[prefix]


def token(raw: str) -> tuple[str | None, str]:
    """`system|code`, `|code` (no system) or `code` (any system)."""
    if "|" not in raw:
        return None, raw
    system, code = raw.split("|", 1)
    return system, code


def reference_id(name: str, raw: str, resource_type: str) -> int:
    """The id of `Patient/12`, `12` or a full URL ending in `Patient/12`."""
    tail = raw.rstrip("/").rsplit("/", 2)[-2:]
    if len(tail) == 2 and tail[0] != resource_type:
        raise BadSearch(f"{name} : référence à un(e) {resource_type} attendue.")
    value = tail[-1]
    if not value.isdigit() or len(value) > 18:
        raise BadSearch(f"{name} : identifiant de {resource_type} attendu (ex. 12).")
    return int(value)


def page_rows(items: QuerySet, at: Window) -> tuple[int, list]:
    """The total and the rows of the window: one COUNT and one slice."""
    return items.count(), list(items[at.offset : at.offset + at.count])
