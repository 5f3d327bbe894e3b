"""The per-filière request form: a list of field definitions stored on `Filiere.form`.

A definition is {"name", "label", "type", "required", ...} with type one of text, textarea,
number (min, max, unit), choice / multichoice (choices), date, photos or file (min_files,
dated). Validation returns cleaned values and French errors keyed by field name.
"""

import datetime
from typing import Any

from django.utils.translation import gettext as _

from telesante.core import numbers

FILE_TYPES = {"photos", "file"}
VALUE_TYPES = {"text", "textarea", "number", "choice", "multichoice", "date"}


def file_fields(definition: list[dict]) -> list[dict]:
    return [f for f in definition if f.get("type") in FILE_TYPES]


def _clean_value(field: dict, raw: Any) -> Any:
    kind = field["type"]
    if kind == "number":
        # The French decimal comma and the form's bounds (core.numbers, as every number field).
        return numbers.parse(
            raw, low=field.get("min"), high=field.get("max"), unit=field.get("unit", "")
        )
    if kind == "choice":
        if raw not in field["choices"]:
            raise ValueError(_("Choix invalide."))
        return raw
    if kind == "multichoice":
        values = raw if isinstance(raw, list) else [raw]
        if any(v not in field["choices"] for v in values):
            raise ValueError(_("Choix invalide."))
        return values
    if kind == "date":
        # The date input posts 2024-03-05; a French user or an API client may write 05/03/2024.
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.datetime.strptime(str(raw).strip(), fmt).date().isoformat()
            except ValueError:
                continue
        raise ValueError(_("Date invalide (JJ/MM/AAAA)."))
    return str(raw).strip()[:5000]


def _is_empty(raw: Any) -> bool:
    return raw is None or raw == "" or raw == []


def validate(definition: list[dict], data: dict, file_counts: dict[str, int]) -> tuple[dict, dict]:
    """Return (cleaned data, errors). `file_counts` gives the files received per file field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in definition:
        name = field["name"]
        if field["type"] in FILE_TYPES:
            needed = field.get("min_files", 1) if field.get("required") else 0
            if file_counts.get(name, 0) < needed:
                errors[name] = [
                    _("%(label)s : au moins %(n)d fichier requis.")
                    % {"label": field["label"], "n": needed}
                ]
            continue
        raw = data.get(name)
        if _is_empty(raw):
            if field.get("required"):
                errors[name] = [_("%(label)s : champ obligatoire.") % {"label": field["label"]}]
            continue
        try:
            cleaned[name] = _clean_value(field, raw)
        except ValueError as exc:
            errors[name] = [_("%(label)s : %(value)s") % {"label": field["label"], "value": exc}]
    return cleaned, errors


def display(definition: list[dict], data: dict) -> list[tuple[str, str]]:
    """(label, text) pairs for pages and the report."""
    rows = []
    for field in definition:
        value = data.get(field["name"])
        if _is_empty(value):
            continue
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, float):
            value = numbers.fmt(value)
        unit = f" {field['unit']}" if field.get("unit") else ""
        rows.append((field["label"], f"{value}{unit}"))
    return rows
