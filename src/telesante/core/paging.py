"""Pages of every list: no list is cut at some count, each is read one page at a time.

Pages take `?page=` and link to their neighbours keeping the filters (`partials/pager.html`);
the API takes `offset` and `limit` and answers the total in the `X-Total-Count` header, so that
operations which answered a bare JSON list keep that shape."""

from collections.abc import Sequence
from typing import Annotated, Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from pydantic import Field

PAGE_SIZE = 50
TOTAL_HEADER = "X-Total-Count"
# The API's `offset` query parameter: rows skipped before the first one answered.
Offset = Annotated[
    int, Field(ge=0, le=10_000_000, description="lignes sautées (le total : en-tête X-Total-Count)")
]


def page(
    request: HttpRequest, items: QuerySet | Sequence, param: str = "page", per_page: int = 0
) -> Page:
    """The page of `items` asked by `?<param>=` (the first for a missing or wrong number, the
    last past the end): one COUNT and one slice. It carries the links to its neighbours,
    `previous_url` and `next_url`, which keep the rest of the query (the filters)."""
    current = Paginator(items, per_page or PAGE_SIZE).get_page(request.GET.get(param))
    current.previous_url = (
        _link(request, param, current.previous_page_number()) if current.has_previous() else ""
    )
    current.next_url = (
        _link(request, param, current.next_page_number()) if current.has_next() else ""
    )
    return current


def _link(request: HttpRequest, param: str, number: int) -> str:
    query = request.GET.copy()
    query.pop("fragment", None)  # a live refresh asks for rows only; its links open whole pages
    query[param] = str(number)
    return "?" + query.urlencode()


def api_slice(response: HttpResponse, items: QuerySet | Sequence, offset: int, limit: int) -> list:
    """`limit` rows from `offset`; the total of `items` goes in the X-Total-Count header."""
    response[TOTAL_HEADER] = str(items.count())
    return list(items[offset : offset + limit])


class Chain:
    """Two ordered querysets read as one list (the first's rows, then the second's), sliced
    and counted without fetching what a page does not show."""

    def __init__(self, first: QuerySet, second: QuerySet) -> None:
        self.first, self.second = first, second
        self._first_count: int | None = None

    def _head(self) -> int:
        if self._first_count is None:
            self._first_count = self.first.count()
        return self._first_count

    def count(self) -> int:
        return self._head() + self.second.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, part: slice) -> list[Any]:
        if not isinstance(part, slice) or part.step is not None:
            raise TypeError("Chain is read by slices")
        start, stop = part.start or 0, part.stop
        head = self._head()
        rows = list(self.first[start:stop]) if start < head else []
        rest_start = max(0, start - head)
        if stop is None:
            rows += list(self.second[rest_start:])
        elif stop > head:
            rows += list(self.second[rest_start : stop - head])
        return rows
