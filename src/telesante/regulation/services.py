"""Regulation records and the caller's video: the logic behind the pages and the API.

The regulator's side reads records through `core.policy.get_regulation` (audited); the caller
has no account: the single-use link's opening gives the caller's browser a signed cookie that
names the `VideoLink` (no session is written for them), and the caller's operations take the
link from there."""

import datetime
import hashlib
import math
import secrets

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import User
from telesante.acts.models import Act, ActStatus
from telesante.core import audit, numbers, policy
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.notifications import delivery
from telesante.patients.models import ActKind
from telesante.regulation.models import (
    Decision,
    EventKind,
    MediaKind,
    RegulationEvent,
    RegulationMedia,
    RegulationRecord,
    VideoLink,
    VideoQuality,
)
from telesante.rooms import services as rooms
from telesante.rooms.models import GuestLink, GuestRelation, Presence, Room
from telesante.structures.models import Commune, Structure

LINK_SALT = "telesante.regulation.link"
# The caller's page: French first, then the languages of most callers (Arabic right to left).
CALLER_LANGUAGES = [
    ("fr", "Français"),
    ("en", "English"),
    ("es", "Español"),
    ("ar", "العربية"),
    ("pt", "Português"),
]
TIME_FORMATS = ("%d/%m/%Y %H:%M", "%H:%M")


def event(record: RegulationRecord, kind: str, actor: User | None = None, detail: str = "") -> None:
    RegulationEvent.objects.create(record=record, kind=kind, actor=actor, detail=detail[:500])


# The record ----------------------------------------------------------------------------------


def _called_at(raw: str) -> datetime.datetime:
    """The call time as typed: « 14:05 » (today) or « 05/12/2026 14:05 »; now when empty."""
    text = raw.strip()
    if not text:
        return timezone.now()
    for fmt in TIME_FORMATS:
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%H:%M":
            parsed = datetime.datetime.combine(timezone.localdate(), parsed.time())
        return timezone.make_aware(parsed)
    raise ValidationError(
        {"called_at": [_("Heure de l'appel attendue comme 14:05 ou 05/12/2026 14:05.")]}
    )


def _checked(data: dict, creating: bool) -> dict:
    """The record's fields as typed, checked together: every error at once, French messages."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if creating:
        try:
            clean["called_at"] = _called_at(str(data.get("called_at") or ""))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            clean["caller_number"] = delivery.clean_phone(str(data.get("caller_number") or ""))
        except ValidationError as exc:
            errors["caller_number"] = exc.messages
    if creating or "reason" in data:
        reason = str(data.get("reason") or "").strip()
        if not reason:
            errors["reason"] = [_("Indiquez le motif de l'appel.")]
        clean["reason"] = reason[:300]
    if "decision" in data:
        decision = str(data.get("decision") or "")
        if decision not in Decision.values:
            errors["decision"] = [_("Décision inconnue.")]
        clean["decision"] = decision
    if "notes" in data:
        clean["notes"] = str(data.get("notes") or "").strip()[:5000]
    if errors:
        raise ValidationError(errors)
    return clean


def create_record(
    request: HttpRequest | None, user: User, data: dict, structure: Structure | None = None
) -> RegulationRecord:
    """Open a record in the user's regulation centre (the first one unless `structure`)."""
    centres = policy.regulation_structures(user)
    structure = centres.filter(pk=structure.pk).first() if structure else centres.first()
    if structure is None:
        raise PermissionDenied(_("Réservé aux régulateurs d'un SAMU ou d'un SAS."))
    clean = _checked(data, creating=True)
    with transaction.atomic():
        record = RegulationRecord.objects.create(structure=structure, created_by=user, **clean)
        event(record, EventKind.CREATED, user)
        audit.record(request, user, AuditAction.CREATE, [record], structure_id=structure.pk)
    return record


def update_record(
    request: HttpRequest | None, user: User, record: RegulationRecord, data: dict
) -> RegulationRecord:
    clean = _checked(data, creating=False)
    changed = [name for name, value in clean.items() if getattr(record, name) != value]
    if not changed:
        return record
    with transaction.atomic(), product_language():
        for name in changed:
            setattr(record, name, clean[name])
        record.save(update_fields=changed)
        labels = ", ".join(str(RegulationRecord._meta.get_field(n).verbose_name) for n in changed)
        if "decision" in changed:
            labels += f" : {record.get_decision_display()}"
        event(record, EventKind.UPDATED, user, labels)
        audit.record(request, user, AuditAction.UPDATE, [record], structure_id=record.structure_id)
    return record


def link_patient(
    request: HttpRequest | None, user: User, record: RegulationRecord, patient_pk: int
) -> RegulationRecord:
    """Link an anonymous record to a patient the regulator may see (through the patient wall):
    the record gets its act, which counts as a télérégulation."""
    if record.patient_id is not None:
        raise ValidationError({"patient": [_("Ce dossier est déjà rattaché à un patient.")]})
    patient = policy.get_patient(request, user, patient_pk, AuditAction.UPDATE)
    with transaction.atomic():
        act = Act.objects.create(
            kind=ActKind.TELEREGULATION,
            patient=patient,
            requester=user,
            requesting_structure=record.structure,
            performing_structure=record.structure,
            status=ActStatus.DONE,
            requested_at=record.called_at,
            done_at=record.called_at,
        )
        act.performers.add(user)
        record.patient, record.act = patient, act
        record.save(update_fields=["patient", "act"])
        event(record, EventKind.PATIENT, user, str(patient))
        audit.record(request, user, AuditAction.UPDATE, [record], structure_id=record.structure_id)
    return record


def timeline(record: RegulationRecord) -> list[RegulationEvent]:
    return list(record.events.select_related("actor"))


# The video link ------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def link_path(value: str) -> str:
    return reverse("regulation_caller_open", args=[value])


def send_video_link(
    request: HttpRequest | None, user: User, record: RegulationRecord
) -> tuple[VideoLink, str]:
    """One click: a fresh room and a single-use link, sent by SMS to the caller's number (a
    link still unopened is withdrawn: one link out at a time). Returns the link and its value."""
    nonce = secrets.token_urlsafe(24)
    minutes = settings.TELESANTE_REGULATION_LINK_MINUTES
    with transaction.atomic(), product_language():
        for old in record.links.filter(opened_at=None, revoked_at=None):
            _revoke(old, user)
        room = Room.objects.create(owner=user)
        link = VideoLink.objects.create(
            record=record,
            room=room,
            token_hash="",
            sent_to=record.caller_number,
            created_by=user,
            expires_at=timezone.now() + datetime.timedelta(minutes=minutes),
        )
        value = signing.dumps({"l": link.pk, "n": nonce}, salt=LINK_SALT)
        link.token_hash = _digest(value)
        link.save(update_fields=["token_hash"])
        path = link_path(value)
        url = request.build_absolute_uri(path) if request else settings.TELESANTE_BASE_URL + path
        text = _(
            "%(centre)s : le médecin régulateur vous propose de lui montrer la situation en "
            "vidéo. Ouvrez ce lien (valable %(minutes)s min, une seule fois) : %(url)s"
        ) % {"centre": caller_centre(record.structure), "minutes": minutes, "url": url}
        delivery.send(record.caller_number, _("Vidéo avec le SAMU"), text)
        event(record, EventKind.LINK_SENT, user, record.caller_number)
        audit.record(
            request,
            user,
            AuditAction.UPDATE,
            [record],
            detail=f"lien vidéo {link.pk} envoyé par SMS",
            structure_id=record.structure_id,
        )
    return link, value


def _revoke(link: VideoLink, user: User) -> None:
    now = timezone.now()
    link.revoked_at = now
    link.save(update_fields=["revoked_at"])
    event(link.record, EventKind.LINK_REVOKED, user)
    if link.guest_id is None:
        return
    GuestLink.objects.filter(pk=link.guest_id).update(revoked_at=now)
    channels = list(
        Presence.objects.filter(room=link.room_id, party=f"g:{link.guest_id}").values_list(
            "channel", flat=True
        )
    )
    transaction.on_commit(lambda: _send_out(channels))


def _send_out(channels: list[str]) -> None:
    layer = get_channel_layer()
    for channel in channels:
        async_to_sync(layer.send)(channel, {"type": "room.revoked"})


def revoke_link(
    request: HttpRequest | None, user: User, record: RegulationRecord, link_pk: int
) -> VideoLink:
    """Withdraw a link: unopened, it will not open; opened, the caller is sent out."""
    link = record.links.filter(pk=link_pk).first()
    if link is None:
        raise Http404(_("Lien introuvable."))
    if link.revoked_at is None:
        with transaction.atomic(), product_language():
            _revoke(link, user)
            audit.record(
                request,
                user,
                AuditAction.UPDATE,
                [record],
                detail=f"lien vidéo {link.pk} retiré",
                structure_id=record.structure_id,
            )
    return link


def open_link(value: str) -> tuple[VideoLink | None, str]:
    """The caller opens the SMS link: valid, unopened, unexpired and not withdrawn, it is spent
    now (a second opening is refused) and becomes the caller's guest seat in the room."""
    try:
        signing.loads(value, salt=LINK_SALT)
    except signing.BadSignature:
        return None, _("Ce lien n'est pas valide.")
    link = (
        VideoLink.objects.select_related("record__structure", "room")
        .filter(token_hash=_digest(value))
        .first()
    )
    if link is None:
        return None, _("Ce lien n'est pas valide.")
    now = timezone.now()
    why = ""
    if link.revoked_at is not None:
        why = "revoked"
    elif link.opened_at is not None:
        why = "used"
    elif link.expires_at <= now:
        why = "expired"
    with transaction.atomic():
        # The caller's guest seat, then the link spent with it in one statement; a link opened
        # by another request at the same instant spends nothing, and the seat goes.
        guest = None if why else _caller_seat(link, now)
        spent = guest is not None and VideoLink.objects.filter(pk=link.pk, opened_at=None).update(
            opened_at=now, guest=guest
        )
        if not spent:
            if guest is not None:
                guest.delete()
            why = why or "used"
            with product_language():
                event(link.record, EventKind.LINK_REFUSED, None, _refusal(why))
            return None, _refusal(why)
        link.opened_at, link.guest = now, guest
        event(link.record, EventKind.LINK_OPENED)
    return link, ""


def _caller_seat(link: VideoLink, now: datetime.datetime) -> GuestLink:
    with product_language():
        label = _("Appelant")
    return GuestLink.objects.create(
        room=link.room,
        label=label,
        relation=GuestRelation.PATIENT,
        expires_at=now + datetime.timedelta(minutes=settings.TELESANTE_REGULATION_SESSION_MINUTES),
        created_by_id=link.created_by_id,
    )


def _refusal(why: str) -> str:
    """Why a link does not open, in the language of the page (the caller's) or of the record."""
    return {
        "revoked": _("Ce lien a été retiré par le SAMU."),
        "used": _("Ce lien a déjà été utilisé : il ne sert qu'une fois."),
        "expired": _("Ce lien a expiré."),
    }[why]


def _holding(**match) -> VideoLink | None:
    """The link matched while it holds (opened, not withdrawn, not ended, in time)."""
    link = (
        VideoLink.objects.select_related("record__structure", "room", "guest__room")
        .filter(revoked_at=None, ended_at=None, **match)
        .first()
    )
    if link is None or link.guest is None or link.guest.expires_at <= timezone.now():
        return None
    return link


def caller_link(link_pk: int | None) -> VideoLink | None:
    """The caller's link (named by their cookie) while it holds."""
    return None if link_pk is None else _holding(pk=link_pk)


def caller_centre(structure: Structure) -> str:
    """Who asks, as the caller reads it: « SAMU 53 » (the centre of the département)."""
    kind = "SAS" if structure.kind == "sas" else "SAMU"
    return f"{kind} {structure.departement_id}"


def answer_consent(link: VideoLink, accepted: bool, language: str) -> VideoLink:
    """The caller agrees to show video and share position, or refuses (kept either way)."""
    now = timezone.now()
    with transaction.atomic(), product_language():
        link.language = language[:8]
        if accepted:
            link.consent_at, link.refused_at = now, None
            # Consent is what lets the caller in (the regulator's screen admits nobody): their
            # phone may already be connected, waiting for this answer.
            rooms.admit_party(link.room, f"g:{link.guest_id}")
            event(
                link.record,
                EventKind.CONSENT,
                None,
                _("vidéo et position (%(lang)s)") % {"lang": link.language},
            )
        else:
            link.refused_at = now
            event(link.record, EventKind.REFUSAL, None, link.language)
        link.save(update_fields=["language", "consent_at", "refused_at"])
    return link


def consent_on_join(room: Room, guest_id: int, language: str) -> None:
    """The caller's phone joins the room with its acceptance (the caller's socket): recorded
    before the join, it lets the caller in at once. Once: a reconnection carries it again.
    The guest's seat and its room were just checked by the join: the link is read alone."""
    link = (
        VideoLink.objects.select_related("record")
        .filter(guest_id=guest_id, room=room, revoked_at=None, ended_at=None)
        .first()
    )
    if link is not None and link.consent_at is None:
        link.room = room
        codes = {code for code, _name in CALLER_LANGUAGES}
        answer_consent(link, True, language if language in codes else "fr")


def set_position(link: VideoLink, data: dict) -> RegulationRecord:
    """The caller's position from their phone (WGS 84, accuracy in metres), into the record."""
    if link.consent_at is None:
        raise PermissionDenied(_("Consentement requis."))
    try:
        lat = numbers.parse(data.get("latitude"), low=-90, high=90)
        lon = numbers.parse(data.get("longitude"), low=-180, high=180)
        accuracy = numbers.parse(data.get("accuracy"), low=0, high=100_000)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if lat is None or lon is None:
        raise ValidationError(_("Position incomplète."))
    record = link.record
    moved = (record.latitude, record.longitude, record.accuracy_m) != (lat, lon, accuracy)
    with transaction.atomic(), product_language():
        record.latitude, record.longitude, record.accuracy_m = lat, lon, accuracy
        record.located_at = timezone.now()
        record.save(update_fields=["latitude", "longitude", "accuracy_m", "located_at"])
        if moved:  # the same position sent again (a reconnection) is no new event
            place = nearest_commune(lat, lon)
            detail = f"{lat:.5f} ; {lon:.5f} ± {accuracy or 0:.0f} m".replace(".", ",")
            event(record, EventKind.POSITION, None, f"{detail} ({place.name})" if place else detail)
    return record


def file_media(
    request: HttpRequest | None, link: VideoLink, upload, kind: str, author: User | None
) -> RegulationMedia:
    """A snapshot (taken by the regulator, or by the caller's phone at the regulator's request)
    or a photo the caller sent: checked like every upload (type from content, GPS removed:
    the position is a field of the record), filed with its time and author."""
    from telesante.documents import services as documents

    if kind not in MediaKind.values:
        raise ValidationError(_("Type de fichier inconnu."))
    if link.consent_at is None or link.ended_at is not None or link.revoked_at is not None:
        raise PermissionDenied(_("La vidéo n'est pas en cours."))
    clean = documents.clean_upload(upload)
    if not clean.content_type.startswith("image/"):
        raise ValidationError(_("Seules les photos JPEG ou PNG sont acceptées."))
    record = link.record
    with transaction.atomic(), product_language():
        media = RegulationMedia(
            record=record,
            link=link,
            kind=kind,
            content_type=clean.content_type,
            size=len(clean.content),
            sha256=hashlib.sha256(clean.content).hexdigest(),
            author=author,
        )
        media.file.save(clean.name, ContentFile(clean.content), save=False)
        media.save()
        kind_event = EventKind.SNAPSHOT if kind == MediaKind.SNAPSHOT else EventKind.UPLOAD
        # The timeline names the regulator as the event's actor; the caller has no account.
        event(record, kind_event, author, "" if author else _("par l'appelant"))
        if request is not None and request.user.is_authenticated:
            audit.record(
                request, author, AuditAction.CREATE, [media], structure_id=record.structure_id
            )
    return media


def regulator_link(user: User, record: RegulationRecord) -> VideoLink | None:
    """The record's current video session, when this regulator sent it (they hold its room)."""
    return record.links.filter(created_by=user, revoked_at=None, ended_at=None).first()


def end_session(
    request: HttpRequest | None, user: User, record: RegulationRecord, data: dict
) -> VideoLink:
    """End the video with its short structured summary: what was seen, how the video was;
    the room closes and the caller's seat with it. Nothing was recorded but the snapshots."""
    link = regulator_link(user, record)
    if link is None:
        raise ValidationError({"seen": [_("Aucune vidéo en cours sur ce dossier.")]})
    seen = str(data.get("seen") or "").strip()
    quality = str(data.get("quality") or "")
    errors = {}
    if not seen:
        errors["seen"] = [_("Résumez en une phrase ce qui a été vu.")]
    if quality not in VideoQuality.values:
        errors["quality"] = [_("Indiquez la qualité de la vidéo.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic(), product_language():
        link.seen, link.quality, link.ended_at = seen[:500], quality, now
        link.save(update_fields=["seen", "quality", "ended_at"])
        Room.objects.filter(pk=link.room_id).update(closed_at=now)
        shots = RegulationMedia.objects.filter(link=link).count()
        summary = _("%(seen)s — vidéo %(quality)s, %(count)s image(s) versée(s)") % {
            "seen": link.seen,
            "quality": link.get_quality_display().lower(),
            "count": shots,
        }
        event(record, EventKind.ENDED, user, summary)
        if link.guest_id:
            GuestLink.objects.filter(pk=link.guest_id).update(revoked_at=now)
        channels = list(
            Presence.objects.filter(room=link.room_id).values_list("channel", flat=True)
        )
        transaction.on_commit(lambda: _send_out(channels))
        audit.record(
            request,
            user,
            AuditAction.UPDATE,
            [record],
            detail=f"vidéo {link.pk} terminée",
            structure_id=record.structure_id,
        )
    return link


# The position --------------------------------------------------------------------------------

EARTH_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def nearest_commune(lat: float, lon: float) -> Commune | None:
    """The commune whose centre is nearest, among those within about 30 km (a box on the
    coordinates' indexes first, then the exact distance)."""
    box = 0.3
    near = Commune.objects.filter(
        current=True,
        latitude__range=(lat - box, lat + box),
        longitude__range=(lon - box * 1.5, lon + box * 1.5),
    ).only("code", "name", "latitude", "longitude")
    return min(near, key=lambda c: distance_m(lat, lon, c.latitude, c.longitude), default=None)
