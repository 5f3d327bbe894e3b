"""The one audit path: every read or change of patient data writes entries here, and every
read the wall refused."""

import ipaddress
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest

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
    client = _client(request)
    entries = [
        AuditEntry(
            actor_id=getattr(actor, "pk", None),
            actor_label=str(actor)[:250] if actor is not None else "anonyme",
            structure_id=structure_id,
            action=action,
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            patient_id=obj.pk
            if obj._meta.model_name == "patient"
            else getattr(obj, "patient_id", None),
            detail=detail[:500],
            **client,
        )
        for obj in objects
    ]
    AuditEntry.objects.bulk_create(entries)


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
