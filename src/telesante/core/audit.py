"""The one audit path: every read or change of patient data writes entries here."""

from collections.abc import Iterable

from django.http import HttpRequest

from telesante.core.models import AuditAction, AuditEntry


def _client(request: HttpRequest | None) -> dict:
    if request is None:
        return {"ip": None, "user_agent": "", "via": "cli"}
    via = "api" if request.path.startswith("/api/") else "web"
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
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
