"""The one audit path: every read or change of patient data writes entries here, and every
read the wall refused."""

import ipaddress
from collections.abc import Iterable
from typing import Any

import orjson
from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.http import HttpRequest
from django.utils import timezone

from telesante.core.i18n import product_language
from telesante.core.models import AuditAction, AuditEntry


def _address(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the direct peer, unless that peer is one of our proxies
    (`TELESANTE_TRUSTED_PROXIES`); then the nearest address before our proxies in
    X-Forwarded-For. Anyone else's X-Forwarded-For is ignored: it is typed by the client.
    Audit entries and the login limits (accounts.adapter) both use it."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TELESANTE_TRUSTED_PROXIES
    if peer is None or peer not in proxies:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            return peer  # a garbled chain: keep what we know
        if address not in proxies:
            return address
    return peer


def _client(request: HttpRequest | None) -> dict:
    if request is None:
        return {"ip": None, "user_agent": "", "via": "cli"}
    via = "api" if request.path.startswith(("/api/", "/fhir/")) else "web"
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        "via": via,
    }


# Per object, only these columns vary; the others are the same for every entry of a call.
_PER_OBJECT = ("object_type", "object_id", "patient_id")
_SHARED = [
    f
    for f in AuditEntry._meta.concrete_fields
    if not f.primary_key and f.attname not in _PER_OBJECT
]


def record(
    request: HttpRequest | None,
    actor,
    action: AuditAction,
    objects: Iterable,
    *,
    detail: str = "",
    structure_id: int | None = None,
) -> None:
    """Write one entry per object (a patient, an object carrying `patient_id`, or another
    record of the platform, such as a professional's declaration)."""
    rows = [
        (
            obj._meta.model_name,
            obj.pk,
            obj.pk if obj._meta.model_name == "patient" else getattr(obj, "patient_id", None),
        )
        for obj in objects
    ]
    record_keys(request, actor, action, rows, detail=detail, structure_id=structure_id)


def record_keys(
    request: HttpRequest | None,
    actor,
    action: AuditAction,
    objects: Iterable[tuple[str, Any, int | None]],
    *,
    detail: str = "",
    structure_id: int | None = None,
) -> None:
    """`record` for objects named by their model's name, key and patient's key (rows read as
    columns, not instances)."""
    values = {
        "at": timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_label": str(actor)[:250] if actor is not None else "anonyme",
        "structure_id": structure_id,
        "action": action,
        "detail": detail[:500],
        **_client(request),
    }
    rows = [(name, str(pk), patient_id) for name, pk, patient_id in objects]
    if not rows:
        return
    connection = connections[router.db_for_write(AuditEntry)]
    if connection.vendor != "postgresql":
        entries = [AuditEntry(**values, **dict(zip(_PER_OBJECT, row, strict=True))) for row in rows]
        AuditEntry.objects.bulk_create(entries)
        return
    # PostgreSQL: the shared values once and the varying ones as one JSON document of the
    # entries, written by orjson. A page of 50 rows: bulk_create, 2-3 ms of Python; one array
    # per column, which psycopg dumps element by element in Python, 255 µs of CPU; this, 200.
    per_object = [AuditEntry._meta.get_field(name) for name in _PER_OBJECT]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [*_SHARED, *per_object])
    given = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in per_object)
    entries = orjson.dumps([dict(zip(_PER_OBJECT, row, strict=True)) for row in rows])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT {', '.join(['%s'] * len(_SHARED))}, given.* "
            f"FROM jsonb_to_recordset(%s::jsonb) AS given ({given})",
            [
                *(f.get_db_prep_save(values[f.attname], connection) for f in _SHARED),
                entries.decode(),
            ],
        )


def record_refusal(
    request: HttpRequest | None, user, action: AuditAction, model_label: str, pk
) -> None:
    """A read or change the wall refused (answered 404): who tried what on which object, with
    the patient concerned when the object exists, so that the patient's structure sees it."""
    model = apps.get_model(model_label)
    found = model.objects.filter(pk=pk)
    if model._meta.model_name == "patient":
        patient_id = pk if found.exists() else None
    else:
        patient_id = found.values_list("patient_id", flat=True).first()
    with product_language():
        detail = str(AuditAction(action).label)
    AuditEntry.objects.create(
        actor_id=getattr(user, "pk", None),
        actor_label=str(user)[:250] if user is not None else "anonyme",
        action=AuditAction.DENIED,
        object_type=model._meta.model_name,
        object_id=str(pk)[:50],
        patient_id=patient_id,
        detail=detail,
        **_client(request),
    )
