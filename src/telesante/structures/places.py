"""Birthplaces by name: communes (current and former, INSEE COG) and countries (99xxx).

The search folds accents and case (« chateau gontier » finds Château-Gontier) and matches the
start of the name or of one of its words, or the start of the code; a page holds a few rows
and the next pages follow. The names are folded once per process into a sorted list (about
40,000 rows), rebuilt when the referential's row counts change (`load-territories`): no
database folds accents the same way on SQLite and PostgreSQL.
"""

import bisect
import threading
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from telesante.core.text import fold
from telesante.structures.models import Commune, Country

PAGE_SIZE = 15


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    detail: str  # département, « ancienne commune », « pays »
    current: bool
    population: int

    @property
    def is_country(self) -> bool:
        return self.code.startswith("99")


@dataclass
class _Index:
    key: tuple
    # (folded name, place) sorted by folded name; words: (folded word, place) for inner words.
    names: list[tuple[str, Place]]
    words: list[tuple[str, Place]]
    by_code: dict[str, Place]


_lock = threading.Lock()
_index: _Index | None = None


def _key() -> tuple:
    counts = Commune.objects.aggregate(n=Count("pk"), current=Count("pk", filter=Q(current=True)))
    return counts["n"], counts["current"], Country.objects.count()


def _build(key: tuple) -> _Index:
    places = [
        Place(code, name, f"{dep or ''}", current, population or 0)
        for code, name, dep, current, population in Commune.objects.values_list(
            "code", "name", "departement__name", "current", "population"
        )
    ]
    places += [
        Place(code, name, "", True, 0) for code, name in Country.objects.values_list("code", "name")
    ]
    names, words = [], []
    for place in places:
        folded = fold(place.name)
        names.append((folded, place))
        for word in folded.split()[1:]:
            words.append((word, place))
    names.sort(key=lambda item: item[0])
    words.sort(key=lambda item: item[0])
    return _Index(key, names, words, {p.code: p for p in places})


def _current_index() -> _Index:
    global _index
    key = _key()
    with _lock:
        if _index is None or _index.key != key:
            _index = _build(key)
        return _index


def _prefixed(rows: list[tuple[str, Place]], prefix: str) -> list[Place]:
    start = bisect.bisect_left(rows, prefix, key=lambda item: item[0])
    found = []
    for folded, place in rows[start:]:
        if not folded.startswith(prefix):
            break
        found.append(place)
    return found


def search(query: str, countries: bool = False, page: int = 1) -> tuple[list[Place], bool]:
    """Communes (or countries) whose name starts with `query`, then those with a word that
    does, or whose code starts with it; the larger current communes first. (page, more?)"""
    wanted = fold(query)
    if not wanted:
        return [], False
    index = _current_index()
    if wanted.isdigit():
        found = [p for code, p in index.by_code.items() if code.startswith(wanted)]
    else:
        found = _prefixed(index.names, wanted)
        seen = {p.code for p in found}
        found += [p for p in _prefixed(index.words, wanted) if p.code not in seen]
    found = [p for p in found if p.is_country == countries]
    exact = {p.code for p in found if fold(p.name) == wanted}
    found.sort(key=lambda p: (p.code not in exact, not p.current, -p.population, p.name))
    start = (max(page, 1) - 1) * PAGE_SIZE
    return found[start : start + PAGE_SIZE], len(found) > start + PAGE_SIZE


def describe(place: Place) -> str:
    """What the list shows beside a place's name."""
    if place.is_country:
        return _("pays, né·e à l'étranger")
    if not place.current:
        return _("%(dep)s, ancienne commune") % {"dep": place.detail or "—"}
    return place.detail


def label(code: str) -> str:
    """« Laval (53130) », « Maroc (99350) », or the code alone when it is not in the
    referential; for pages and PDFs, the code being what the record keeps."""
    if not code:
        return ""
    if code.startswith("99"):
        name = Country.objects.filter(code=code).values_list("name", flat=True).first()
    else:
        name = Commune.objects.filter(code=code).values_list("name", flat=True).first()
    return f"{name} ({code})" if name else code
