"""Observations from a device gateway, in a transaction or batch Bundle, through the one
ingest service of the batch API and the MQTT bridge (same checks, rules and alerts).

A transaction is all or nothing (FHIR): one bad Observation refuses the Bundle, nothing is
kept and no alert raised. A batch keeps the good entries and names each bad one.

A gateway's Bundle holds thousands of Observations: it is first decoded into the few typed
fields the ingest reads (msgspec skips the rest without building it, several times faster than
a dict tree); a Bundle that does not fit that shape is read again as plain JSON, entry by entry,
so that each fault is named."""

import msgspec
import orjson
from django.core.exceptions import ValidationError
from django.db import transaction
from ninja.errors import HttpError

from telesante.fhir import resources
from telesante.telesurveillance import catalog, ingest

BY_LOINC = {t.loinc: t.code for t in catalog.TYPES.values() if t.loinc[:1].isdigit()}
# The ingest service's fields, as FHIRPath in the Observation.
EXPRESSIONS = {
    "id": "identifier",
    "device": "device.identifier.value",
    "type": "code",
    "value": "valueQuantity.value",
    "unit": "valueQuantity.code",
    "at": "effectiveDateTime",
}


class _Coding(msgspec.Struct):
    system: str | None = None
    code: str | None = None


class _Concept(msgspec.Struct):
    coding: list[_Coding] = []


class _Identifier(msgspec.Struct):
    value: str | None = None


class _DeviceReference(msgspec.Struct):
    identifier: _Identifier | None = None


class _Quantity(msgspec.Struct):
    value: int | float | None = None
    code: str | None = None
    unit: str | None = None


class _Observation(msgspec.Struct, tag_field="resourceType", tag="Observation"):
    identifier: list[_Identifier] = []
    code: _Concept | None = None
    valueQuantity: _Quantity | None = None
    effectiveDateTime: str | None = None
    effectiveInstant: str | None = None
    device: _DeviceReference | None = None


class _Request(msgspec.Struct):
    method: str
    url: str


class _Entry(msgspec.Struct):
    resource: _Observation
    request: _Request


class _Bundle(msgspec.Struct, tag_field="resourceType", tag="Bundle"):
    type: str
    entry: list[_Entry] = []


_DECODER = msgspec.json.Decoder(_Bundle)


def _typed_items(raw: bytes) -> tuple[str, list[dict]] | None:
    """(type, ingest items) of a Bundle of well-formed POST Observations, or None."""
    try:
        bundle = _DECODER.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    items = []
    for entry in bundle.entry:
        if entry.request.method != "POST" or entry.request.url.rstrip("/") != "Observation":
            return None
        o = entry.resource
        quantity = o.valueQuantity or _Quantity()
        device = o.device.identifier if o.device and o.device.identifier else _Identifier()
        kind = None
        for coding in o.code.coding if o.code else []:
            if coding.system == resources.LOINC and coding.code in BY_LOINC:
                kind = BY_LOINC[coding.code]
                break
            if coding.system == resources.MEASURE_SYSTEM:
                kind = coding.code
                break
        items.append(
            {
                "id": o.identifier[0].value if o.identifier else None,
                "device": device.value,
                "type": kind,
                "value": quantity.value,
                "unit": quantity.code if quantity.code is not None else quantity.unit,
                "at": o.effectiveDateTime or o.effectiveInstant,
            }
        )
    return bundle.type, items


def ingest_raw(raw: bytes, scope: ingest.Scope) -> dict:
    """A posted Bundle: the typed reading when it fits, else entry by entry."""
    typed = _typed_items(raw)
    if typed is not None and typed[0] in ("transaction", "batch"):
        kind, items = typed
        if len(items) > ingest.MAX_ITEMS:
            raise ValidationError(
                {"Bundle.entry": [f"Liste d'au plus {ingest.MAX_ITEMS} entrées attendue."]}
            )
        return _store(kind, items, {}, len(items), scope)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HttpError(400, "Corps illisible : ressource FHIR en JSON attendue.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise HttpError(400, "Ressource Bundle attendue.")
    return ingest_bundle(data, scope)


def _first(items) -> dict:
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _type(code: dict) -> str | None:
    for coding in code.get("coding") or [] if isinstance(code, dict) else []:
        if not isinstance(coding, dict):
            continue
        if coding.get("system") == resources.LOINC and coding.get("code") in BY_LOINC:
            return BY_LOINC[coding["code"]]
        if coding.get("system") == resources.MEASURE_SYSTEM:
            return coding.get("code")
    return None


def item(observation: dict) -> dict:
    """The ingest item an Observation carries (what is missing stays None and is named by the
    ingest service's checks)."""
    device = observation.get("device")
    device = device if isinstance(device, dict) else {}
    identifier = device.get("identifier")
    quantity = observation.get("valueQuantity")
    quantity = quantity if isinstance(quantity, dict) else {}
    return {
        "id": _first(observation.get("identifier")).get("value"),
        "device": identifier.get("value") if isinstance(identifier, dict) else None,
        "type": _type(observation.get("code") or {}),
        "value": quantity.get("value"),
        "unit": quantity.get("code", quantity.get("unit")),
        "at": observation.get("effectiveDateTime", observation.get("effectiveInstant")),
    }


def _entry_problem(entry) -> str:
    if not isinstance(entry, dict):
        return "Entrée de Bundle (objet JSON) attendue."
    resource, request = entry.get("resource"), entry.get("request")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        return "Seules des Observations sont acceptées d'une passerelle."
    if not isinstance(request, dict) or request.get("method") != "POST":
        return "Requête POST Observation attendue dans chaque entrée."
    if str(request.get("url", "")).split("?")[0].rstrip("/") != "Observation":
        return "Requête POST Observation attendue dans chaque entrée."
    return ""


def _issues(index: int, errors: dict[str, list[str]]) -> list[dict]:
    return [
        {
            "severity": "error",
            "code": "invalid",
            "diagnostics": message,
            "expression": [
                f"Bundle.entry[{index}].resource"
                + (f".{EXPRESSIONS[field]}" if field in EXPRESSIONS else "")
            ],
        }
        for field, messages in errors.items()
        for message in messages
    ]


def _response(status: str, issues: list[dict] | None = None) -> dict:
    answer: dict = {"status": status}
    if issues:
        answer["outcome"] = {"resourceType": "OperationOutcome", "issue": issues}
    return {"response": answer}


def ingest_bundle(bundle: dict, scope: ingest.Scope) -> dict:
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise ValidationError({"Bundle.type": ["Bundle de type transaction ou batch attendu."]})
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or len(entries) > ingest.MAX_ITEMS:
        raise ValidationError(
            {"Bundle.entry": [f"Liste d'au plus {ingest.MAX_ITEMS} entrées attendue."]}
        )
    problems = {i: p for i, e in enumerate(entries) if (p := _entry_problem(e))}
    if kind == "transaction" and problems:
        raise ValidationError({f"Bundle.entry[{i}]": [p] for i, p in problems.items()})
    items = [item(e["resource"]) for i, e in enumerate(entries) if i not in problems]
    return _store(kind, items, problems, len(entries), scope)


def _store(
    kind: str, items: list[dict], problems: dict[int, str], count: int, scope: ingest.Scope
) -> dict:
    """Ingest the items (the entries without `problems`, in order) and answer per entry."""
    positions = [i for i in range(count) if i not in problems]
    with transaction.atomic():
        result = ingest.ingest(items, scope)
        if kind == "transaction" and result.rejected:
            # Nothing kept: the alerts the good items opened go with them, undelivered.
            transaction.set_rollback(True)
    rejected = {positions[r["index"]]: r["errors"] for r in result.rejected}
    if kind == "transaction" and rejected:
        raise ValidationError(
            {
                f"Bundle.entry[{i}].resource.{EXPRESSIONS.get(field, '')}".rstrip("."): messages
                for i, errors in rejected.items()
                for field, messages in errors.items()
            }
        )
    duplicates = {positions[i] for i in result.duplicate_indexes}
    answers = []
    for index in range(count):
        if index in problems:
            answers.append(_response("400 Bad Request", _issues(index, {"": [problems[index]]})))
        elif index in rejected:
            answers.append(_response("400 Bad Request", _issues(index, rejected[index])))
        else:
            answers.append(_response("200 OK" if index in duplicates else "201 Created"))
    return {"resourceType": "Bundle", "type": f"{kind}-response", "entry": answers}
