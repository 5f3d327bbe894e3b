"""Rooms: who may enter (through the wall), tokens, guest links, presence, admission, chat.

The consumer calls the presence functions; pages and API call the others. Presence lives in
the database so several server processes (sharing Redis for the channel layer) see one room.
"""

import datetime
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession, User
from telesante.acts.models import Act, ActStatus, Incident
from telesante.core import audit, policy
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.notifications import delivery
from telesante.patients import services as patients
from telesante.patients.models import Patient
from telesante.rooms import tokens
from telesante.rooms.models import (
    MAX_PEERS,
    Admission,
    CallSpan,
    ChatMessage,
    GuestLink,
    GuestRelation,
    Presence,
    Room,
)
from telesante.rooms.tokens import Claim

CHAT_HISTORY = 50
CLOSED_STATUSES = {ActStatus.DONE, ActStatus.NOT_DONE, ActStatus.CANCELLED}


def user_claim(user: User, room: Room, seat: str = "") -> Claim | None:
    """The user's claim on a room, or None when they are not a party to it."""
    if not user.is_authenticated or room.closed_at is not None:
        return None
    if room.is_test:
        if room.owner_id != user.pk:
            return None
        role = "host"
    else:
        role = policy.act_role(user, room.act)
    if role is None:
        return None
    party = f"u:{user.pk}" + (f":{seat}" if seat else "")
    label = user.display_name + (f" ({seat})" if seat else "")
    return Claim(
        slug=room.slug, party=party, label=label, host=role == "host", role=user.profession
    )


GUEST_ROLE = "invite:"


def role_labels() -> dict[str, str]:
    """What each party's role code reads as, in the page's language: the videos are labelled
    « name, role » (the codes travel with the peers, the words stay on the page)."""
    labels = {code: str(label) for code, label in Profession.choices}
    labels.update({GUEST_ROLE + code: str(label) for code, label in GuestRelation.choices})
    return labels


def call_with(room: Room, claim: Claim, patient: Patient | None = None) -> list[str]:
    """Who the call is with, for the room's heading: the act's professionals other than the one
    looking (name and profession), the patient first for the performers, who see the patient's
    panel. A guest reads the professionals' names only; a test room has nobody."""
    if room.is_test:
        return []
    act = room.act
    me = int(claim.party.split(":")[1]) if claim.party.startswith("u:") else None
    others = (
        User.objects.filter(
            Q(pk=act.requester_id)
            | Q(performed_acts=act)
            | Q(performed_acts__teleconsultation__assists=act)
        )
        .exclude(pk=me)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    names = [f"{u.display_name} ({u.get_profession_display()})" for u in others]
    if patient is not None and claim.host:
        names.insert(0, _("%(name)s (patient·e)") % {"name": patient})
    return names


def get_room(request: HttpRequest | None, user: User, slug: str) -> tuple[Room, Claim]:
    """A room its user is party to (others get a 404); entering an act's room is audited."""
    room = Room.objects.select_related("act").filter(slug=slug).first()
    claim = user_claim(user, room) if room is not None else None
    if claim is None:
        raise Http404(_("Salle introuvable."))
    if room.act is not None:
        audit.record(request, user, AuditAction.READ, [room.act], detail="salle vidéo")
    return room, claim


@dataclass
class PatientPanel:
    """What the professionals see of the patient beside the call."""

    patient: Patient
    age: int
    reason: str
    documents: list


def patient_panel(request: HttpRequest | None, user: User, room: Room, claim: Claim):
    """The patient's identity and age, the act's reason and documents, for a professional party
    to the act; None for a guest (guests see no medical data) and a test room. The patient is
    read through the wall and audited, once per page load."""
    if room.is_test or claim.party.startswith("g:"):
        return None
    act = room.act
    patient = policy.get_patient(request, user, act.patient_id, AuditAction.READ)
    details = getattr(act, "teleconsultation", None)  # the reason of a téléconsultation act
    return PatientPanel(
        patient=patient,
        age=patients.age(patient.birth_date),
        reason=details.reason if details else "",
        documents=list(act.attachments.all()),
    )


def create_test_room(user: User) -> Room:
    """A room of one professional's own (connection check, probe-call): no act, no patient."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied(_("Ce compte ne peut pas ouvrir de salle."))
    return Room.objects.create(owner=user)


def own_test_room(user: User) -> Room:
    """The professional's open test room (the connection check reuses it)."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied(_("Ce compte ne peut pas ouvrir de salle."))
    # A télérégulation's room has no act either; it is not the professional's test room.
    found = (
        Room.objects.filter(owner=user, act=None, closed_at=None, regulation=None)
        .order_by("-pk")
        .first()
    )
    return found or Room.objects.create(owner=user)


def forget_presences() -> int:
    """A single process starting: nobody is connected (rows left by a stop are stale); their
    call spans end when their process last saw them."""
    for peer_id, seen_at in Presence.objects.values_list("peer_id", "seen_at"):
        CallSpan.objects.filter(peer_id=peer_id, ended_at=None).update(ended_at=seen_at)
    return Presence.objects.all().delete()[0]


def room_for_act(act) -> Room:
    room, _created = Room.objects.get_or_create(act=act, defaults={"owner": act.requester})
    return room


# Guest links ---------------------------------------------------------------------------------


def create_guest_link(
    request: HttpRequest | None,
    user: User,
    room: Room,
    label: str,
    relation: str = "patient",
    hours: int | None = None,
    contact: str = "",
) -> GuestLink:
    """A signed link for one guest of one act; with `contact` (e-mail or phone), a code sent
    there through the delivery backend is asked too."""
    if room.is_test:
        raise Http404
    claim = user_claim(user, room)
    if claim is None:
        raise PermissionDenied(_("Seules les parties à l'acte invitent."))
    errors = {}
    if not label.strip():
        errors["label"] = [_("Indiquez le nom de la personne invitée.")]
    if relation not in GuestRelation.values:
        errors["relation"] = [_("Qualité inconnue.")]
    # 0 is a wrong duration, not the default one.
    hours = settings.TELESANTE_GUEST_LINK_HOURS if hours is None else hours
    if not 1 <= hours <= 24 * 7:
        errors["hours"] = [_("Durée de validité entre 1 heure et 7 jours.")]
    if room.guest_links.filter(revoked_at__isnull=True).count() >= MAX_PEERS - 1:
        errors["label"] = [_("Trois invités au plus par salle (quatre participants).")]
    try:
        contact = delivery.clean_contact(contact)
    except ValidationError as exc:
        errors["contact"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        guest = GuestLink.objects.create(
            room=room,
            label=label.strip()[:80],
            relation=relation,
            expires_at=timezone.now() + datetime.timedelta(hours=hours),
            created_by=user,
            contact=contact,
        )
        if contact:
            code = f"{secrets.randbelow(10**6):06d}"
            guest.code_hash = _code_digest(guest.pk, code)
            guest.save(update_fields=["code_hash"])
            with product_language():
                text = _("Code de votre téléconsultation : %(code)s (ne le communiquez pas).") % {
                    "code": code
                }
                delivery.send(contact, _("Votre code de téléconsultation"), text)
        audit.record(
            request, user, AuditAction.CREATE, [room.act], detail=f"lien invité {guest.pk}"
        )
    return guest


def guest_link_url(
    request: HttpRequest | None, user: User, room: Room, guest_pk: int
) -> tuple[GuestLink, str]:
    """A guest link of the room that still holds, and its address, for a party to the act to
    hand out again (signed anew: the same guest, the same expiry)."""
    if room.is_test:
        raise Http404
    if user_claim(user, room) is None:
        raise PermissionDenied(_("Seules les parties à l'acte transmettent un lien invité."))
    guest = room.guest_links.select_related("room").filter(pk=guest_pk).first()
    if guest is None:
        raise Http404
    if not guest_valid(guest):
        raise ValidationError(
            {"__all__": [_("Ce lien invité est retiré ou expiré : créez-en un nouveau.")]}
        )
    path = tokens.guest_path(guest.pk)
    url = request.build_absolute_uri(path) if request else settings.TELESANTE_BASE_URL + path
    return guest, url


def send_guest_link(
    request: HttpRequest | None, user: User, room: Room, guest_pk: int, contact: str
) -> str:
    """Send a guest's link by e-mail or SMS (an address or a number): the link and its expiry,
    never anything medical. Returns where it went, normalised."""
    guest, url = guest_link_url(request, user, room, guest_pk)
    if not contact.strip():
        raise ValidationError(
            {"contact": [_("Indiquez une adresse e-mail ou un numéro de téléphone mobile.")]}
        )
    try:
        to = delivery.clean_contact(contact)
    except ValidationError as exc:
        raise ValidationError({"contact": exc.messages}) from exc
    if guest.code_hash and to == guest.contact:
        # The code asked with the link goes there already: the two must travel apart.
        raise ValidationError(
            {
                "contact": [
                    _(
                        "Le code de ce lien est déjà envoyé à cette adresse : envoyez le lien par "
                        "un autre moyen."
                    )
                ]
            }
        )
    until = timezone.localtime(guest.expires_at)
    channel = "e-mail" if "@" in to else "SMS"
    with transaction.atomic(), product_language():
        text = _(
            "Télésanté : votre lien pour entrer dans la salle de consultation vidéo, valable "
            "jusqu'au %(day)s à %(time)s : %(link)s"
        ) % {"day": f"{until:%d/%m/%Y}", "time": f"{until:%H:%M}", "link": url}
        delivery.send(to, _("Votre lien de consultation vidéo"), text)
        audit.record(
            request,
            user,
            AuditAction.UPDATE,
            [room.act],
            detail=f"lien invité {guest.pk} envoyé par {channel}",
        )
    return to


def revoke_guest_link(
    request: HttpRequest | None, user: User, room: Room, guest_pk: int
) -> GuestLink:
    """Withdraw a guest's link (a party to the act does it); a guest in the room is sent out."""
    if room.is_test:
        raise Http404
    if user_claim(user, room) is None:
        raise PermissionDenied(_("Seules les parties à l'acte retirent un lien invité."))
    guest = room.guest_links.filter(pk=guest_pk).first()
    if guest is None:
        raise Http404
    if guest.revoked_at is not None:
        return guest
    with transaction.atomic():
        guest.revoked_at = timezone.now()
        guest.save(update_fields=["revoked_at"])
        audit.record(
            request, user, AuditAction.UPDATE, [room.act], detail=f"lien invité {guest.pk} retiré"
        )
        channels = list(
            Presence.objects.filter(room=room, party=f"g:{guest.pk}").values_list(
                "channel", flat=True
            )
        )
        transaction.on_commit(lambda: _send_out(channels))
    return guest


def _send_out(channels: list[str]) -> None:
    layer = get_channel_layer()
    for channel in channels:
        async_to_sync(layer.send)(channel, {"type": "room.revoked"})


def patient_link(act, until: datetime.datetime, now: datetime.datetime) -> GuestLink:
    """The patient's own link to the act's room, sent with the reminders: minted by the platform
    once per appointment (no code: it goes to the patient's own address), valid until `until`.
    Moving the act withdraws it (`withdraw_patient_links`)."""
    room = room_for_act(act)
    found = room.guest_links.filter(created_by=None, revoked_at=None, expires_at__gt=now).first()
    if found is not None:
        return found
    guest = GuestLink.objects.create(
        room=room,
        label=str(act.patient)[:80],
        relation=GuestRelation.PATIENT,
        expires_at=until,
        created_by=None,
    )
    audit.record(None, None, AuditAction.CREATE, [act], detail=f"lien invité {guest.pk} (rappel)")
    return guest


def withdraw_patient_links(act) -> None:
    GuestLink.objects.filter(room__act=act, created_by=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )


MAX_CODE_FAILURES = 5


def _code_digest(guest_pk: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"guest:{guest_pk}:{code}".encode(), hashlib.sha256).hexdigest()


def check_code(guest: GuestLink, code: str) -> bool:
    """The guest's code; after five wrong ones the link is withdrawn."""
    if hmac.compare_digest(guest.code_hash, _code_digest(guest.pk, code.strip())):
        return True
    guest.failed_codes += 1
    if guest.failed_codes >= MAX_CODE_FAILURES:
        guest.revoked_at = timezone.now()
    guest.save(update_fields=["failed_codes", "revoked_at"])
    return False


def guest_valid(guest: GuestLink | None) -> bool:
    return (
        guest is not None
        and guest.revoked_at is None
        and guest.expires_at > timezone.now()
        and guest.room.closed_at is None
    )


def guest_from_link(value: str) -> tuple[GuestLink | None, str]:
    """The guest of a signed link, or None with the French reason it is refused."""
    pk = tokens.guest_id(value)
    guest = GuestLink.objects.select_related("room").filter(pk=pk).first() if pk else None
    if guest is None:
        return None, _("Ce lien d'invitation n'est pas valide.")
    if not guest_valid(guest):
        return None, _("Ce lien d'invitation a expiré ou a été retiré.")
    return guest, ""


def guest_claim(guest: GuestLink) -> Claim:
    return Claim(
        slug=guest.room.slug,
        party=f"g:{guest.pk}",
        label=guest.label,
        host=False,
        role=GUEST_ROLE + guest.relation,
    )


def claim_still_valid(claim: Claim) -> Room | None:
    """At connection time: the room is open and the party still belongs to it."""
    kind, _sep, rest = claim.party.partition(":")
    if kind == "g":  # the guest's link, its room and the room's act in one query
        guest = GuestLink.objects.select_related("room__act").filter(pk=int(rest)).first()
        valid = guest_valid(guest) and guest.room.slug == claim.slug
        return guest.room if valid and _act_open(guest.room) else None
    room = Room.objects.select_related("act").filter(slug=claim.slug, closed_at=None).first()
    if room is None or not _act_open(room):
        return None
    user_id, _sep, seat = rest.partition(":")
    user = User.objects.filter(pk=int(user_id), is_active=True).first()
    current = user_claim(user, room, seat) if user is not None else None
    if current is None or current.host != claim.host:
        return None
    return room


def _act_open(room: Room) -> bool:
    return room.act is None or room.act.status not in CLOSED_STATUSES


# Presence, admission, chat (called by the consumer) -------------------------------------------


@dataclass
class Peer:
    peer_id: str
    label: str
    channel: str
    rank: float | None
    host: bool
    role: str = ""

    def public(self) -> dict:
        return {
            "id": self.peer_id,
            "label": self.label,
            "rank": self.rank,
            "host": self.host,
            "role": self.role,
        }


def _peer(p: Presence) -> Peer:
    return Peer(p.peer_id, p.label, p.channel, p.admitted_rank, p.host, p.role)


class RoomFull(Exception):
    pass


def join(room: Room, claim: Claim, channel: str, resume: str = "") -> tuple[Peer, list[Peer], bool]:
    """Record a new connection. Returns it, the connections of the same party it replaces (a
    reconnection before the server noticed the drop), and whether it comes back after a drop.

    `resume`: the peer id of this party's earlier connection (from its resume token). While
    that connection is still present (its drop unnoticed, or noticed less than
    TELESANTE_PRESENCE_SECONDS ago), this one takes it over: the others keep their calls with
    that peer (its media never stopped, only its signalling socket was lost), and its presence,
    admission and call span go on. Otherwise, or for a peer id that is not this party's in this
    room, the connection is a new peer."""
    with transaction.atomic():
        mine = list(Presence.objects.filter(room=room, party=claim.party))
        replaced = [_peer(p) for p in mine]
        kept = next((p for p in mine if p.peer_id == resume), None)
        kept_id = kept.peer_id if kept else ""
        if len(mine) > (kept is not None):  # a first connection has nothing to replace
            Presence.objects.filter(room=room, party=claim.party).exclude(peer_id=kept_id).delete()
        _end_spans([p.peer_id for p in replaced if p is not kept])
        if _live().filter(room=room).exclude(peer_id=kept_id).count() >= MAX_PEERS:
            raise RoomFull
        admission = Admission.objects.filter(room=room, party=claim.party).first()
        if claim.host and admission is None:
            try:
                with transaction.atomic():
                    admission = Admission.objects.create(room=room, party=claim.party)
            except IntegrityError:  # the same host in another process, at the same instant
                admission = Admission.objects.get(room=room, party=claim.party)
        back_after_drop = bool(admission and admission.dropped_at)
        if back_after_drop:
            Admission.objects.filter(pk=admission.pk).update(dropped_at=None)
        presence = kept or Presence(
            peer_id=secrets.token_hex(8),
            room=room,
            party=claim.party,
            label=claim.label,
            role=claim.role,
            host=claim.host,
        )
        presence.channel, presence.seen_at = channel, timezone.now()
        started = presence.admitted_rank is None and admission is not None
        if started:
            presence.admitted_rank = time.time()
        presence.save(force_insert=kept is None)
        if started:
            _start_span(presence)
    if back_after_drop:
        incident(room, _("Reconnexion de %(who)s.") % {"who": claim.label})
    return _peer(presence), replaced, back_after_drop


def _stale_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=settings.TELESANTE_PRESENCE_SECONDS)


def _live():
    """Connections whose process still refreshes them (a crashed process's are ghosts)."""
    return Presence.objects.filter(seen_at__gte=_stale_before())


def admitted_peers(room_id: int, but: str = "") -> list[Peer]:
    found = _live().filter(room_id=room_id, admitted_rank__isnull=False)
    return [_peer(p) for p in found.exclude(peer_id=but)]


def waiting_peers(room_id: int) -> list[Peer]:
    return [_peer(p) for p in _live().filter(room_id=room_id, admitted_rank=None)]


def party_user_ids(room_id: int) -> list[int]:
    """The accounts of the room's act, requester and performers: their work lists show who
    waits in the room."""
    rows = Act.objects.filter(room__pk=room_id).values_list("requester_id", "performers")
    return sorted({uid for row in rows for uid in row if uid is not None})


def presences(room_ids: list[int]) -> dict[int, list[Presence]]:
    """The live connections of several rooms at once, in order of arrival (the work list shows
    who waits in each of the day's rooms: one query whatever their number)."""
    found: dict[int, list[Presence]] = {}
    for presence in _live().filter(room_id__in=room_ids).order_by("joined_at", "peer_id"):
        found.setdefault(presence.room_id, []).append(presence)
    return found


def heartbeat(peer_ids: list[str]) -> list[tuple[str, str]]:
    """One server process's periodic beat: mark its own connections alive, then forget the
    connections no process refreshed in time (their process stopped without closing them: a
    drop, as for a closed socket). Returns (room slug, peer id) of each one forgotten here."""
    now = timezone.now()
    for start in range(0, len(peer_ids), 500):  # bounded IN lists (SQLite's variable limit)
        Presence.objects.filter(peer_id__in=peer_ids[start : start + 500]).update(seen_at=now)
    cutoff = _stale_before()
    gone = []
    for room_id, slug, peer_id in Presence.objects.filter(seen_at__lt=cutoff).values_list(
        "room_id", "room__slug", "peer_id"
    ):
        if leave(room_id, peer_id, dropped=True, stale_before=cutoff) is not None:
            gone.append((slug, peer_id))
    return gone


def admit(room_id: int, peer_id: str) -> Peer | None:
    """Let a waiting connection in (its party stays admitted if it reconnects)."""
    with transaction.atomic():
        presence = Presence.objects.filter(room_id=room_id, peer_id=peer_id).first()
        if presence is None or presence.admitted_rank is not None:
            return None
        Admission.objects.get_or_create(room_id=room_id, party=presence.party)
        presence.admitted_rank = time.time()
        presence.save(update_fields=["admitted_rank"])
        _start_span(presence)
    return _peer(presence)


def admit_party(room: Room, party: str) -> None:
    """Let a party in without a host's click (a guest who consented): its later connections
    join admitted, and the ones already waiting are admitted now and told after commit, so a
    guest may connect while its consent is still on its way."""
    with transaction.atomic(savepoint=False):  # all or nothing with the caller's transaction
        # One statement whether or not the party was admitted before (a reconnection).
        Admission.objects.bulk_create([Admission(room=room, party=party)], ignore_conflicts=True)
        waiting = Presence.objects.filter(room=room, party=party, admitted_rank=None)
        admitted = (admit(room.pk, pid) for pid in waiting.values_list("peer_id", flat=True))
        peers = [peer for peer in admitted if peer is not None]
        if peers:
            transaction.on_commit(lambda: _tell_admitted(room.slug, peers))


def room_group(slug: str) -> str:
    """The channel layer's group of a room's connections, named by the room's address: a
    connection joins it before its first trip to the database, which then reads the peers
    already there (a peer joining meanwhile is told by the group)."""
    return f"room.{slug}"


def _tell_admitted(slug: str, peers: list[Peer]) -> None:
    layer = get_channel_layer()
    for peer in peers:
        async_to_sync(layer.send)(peer.channel, {"type": "room.admitted", "rank": peer.rank})
    async_to_sync(layer.group_send)(room_group(slug), {"type": "room.waiting"})


def _start_span(presence: Presence) -> None:
    CallSpan.objects.create(
        room_id=presence.room_id,
        peer_id=presence.peer_id,
        party=presence.party,
        started_at=timezone.now(),
    )


def _end_spans(peer_ids: list[str]) -> None:
    if peer_ids:
        CallSpan.objects.filter(peer_id__in=peer_ids, ended_at=None).update(ended_at=timezone.now())


def patient_side_parties(act) -> tuple[str, list[str]]:
    """The parties of the patient's side of an act's room: the requester (beside the patient,
    at any seat) as a prefix, and the guest links of the patient or their family."""
    guests = GuestLink.objects.filter(
        room__act=act, relation__in=[GuestRelation.PATIENT, GuestRelation.FAMILY]
    ).values_list("pk", flat=True)
    return f"u:{act.requester_id}", [f"g:{pk}" for pk in guests]


def together_seconds(act, performer: User) -> int:
    """How long the performer and the patient's side were in the call together (spans still
    open count until now, the performer closing the act from the call)."""
    now = timezone.now()
    requester, guests = patient_side_parties(act)
    mine, theirs = [], []
    for party, start, end in CallSpan.objects.filter(room__act=act).values_list(
        "party", "started_at", "ended_at"
    ):
        span = (start, end or now)
        if party == f"u:{performer.pk}":
            mine.append(span)
        elif party in guests or party == requester or party.startswith(requester + ":"):
            theirs.append(span)
    return round(sum(_overlap(a, b) for a in mine for b in _merged(theirs)))


def _merged(spans: list[tuple]) -> list[tuple]:
    """Spans joined where they overlap (two people of the patient's side count once)."""
    out: list[list] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [tuple(s) for s in out]


def _overlap(a: tuple, b: tuple) -> float:
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds())


def leave(
    room_id: int,
    peer_id: str,
    dropped: bool,
    stale_before: datetime.datetime | None = None,
    channel: str = "",
) -> Peer | None:
    """Forget a connection (only if unrefreshed since `stale_before`, when given; only if still
    on `channel`, when given: a later connection may have resumed the peer); a drop during a
    call is a technical incident of the act. None when another process forgot it."""
    presence = Presence.objects.filter(room_id=room_id, peer_id=peer_id).first()
    if presence is None or (channel and presence.channel != channel):
        return None
    gone = Presence.objects.filter(pk=presence.pk)
    if stale_before is not None:
        gone = gone.filter(seen_at__lt=stale_before)
    if channel:
        gone = gone.filter(channel=channel)
    if not gone.delete()[0]:
        return None
    _end_spans([peer_id])
    others = Presence.objects.filter(room_id=room_id, admitted_rank__isnull=False).exists()
    if dropped and presence.admitted_rank is not None and others:
        Admission.objects.filter(room_id=room_id, party=presence.party).update(
            dropped_at=timezone.now()
        )
        room = Room.objects.get(pk=room_id)
        incident(room, _("Coupure de la connexion de %(who)s.") % {"who": presence.label})
    return _peer(presence)


def media_incident(room_id: int, reporter: str, peer_id: str, lost: bool) -> None:
    """The media path between two parties lost (ICE restarted without leaving the call), or
    back."""
    other = Presence.objects.filter(room_id=room_id, peer_id=peer_id).first()
    names = {"a": reporter, "b": other.label if other else _("un participant")}
    if lost:
        text = _("Coupure du flux audio-vidéo entre %(a)s et %(b)s : redémarrage ICE.") % names
    else:
        text = _("Flux audio-vidéo rétabli entre %(a)s et %(b)s.") % names
    incident(Room.objects.get(pk=room_id), text)


def incident(room: Room, description: str) -> None:
    if room.act_id is not None:
        Incident.objects.create(act_id=room.act_id, description=description, automatic=True)


def post_chat(room_id: int, claim: Claim, body: str) -> ChatMessage | None:
    body = body.strip()[:2000]
    if not body:
        return None
    return ChatMessage.objects.create(
        room_id=room_id, author=claim.label, party=claim.party, body=body
    )


def entering(room_id: int, peer_id: str) -> tuple[list[Peer], list[dict]]:
    """What an admitted connection meets: the other admitted peers and the chat so far (one
    trip to the database thread)."""
    return admitted_peers(room_id, peer_id), chat_history(room_id)


def chat_history(room_id: int) -> list[dict]:
    latest = ChatMessage.objects.filter(room_id=room_id).order_by("-created_at", "-pk")
    return [chat_payload(m) for m in reversed(latest[:CHAT_HISTORY])]


def chat_payload(m: ChatMessage) -> dict:
    return {"author": m.author, "body": m.body, "at": m.created_at.isoformat()}


def close_room(act) -> None:
    Room.objects.filter(act=act, closed_at=None).update(closed_at=timezone.now())
    CallSpan.objects.filter(room__act=act, ended_at=None).update(ended_at=timezone.now())


@dataclass(frozen=True)
class GuestActor:
    """A guest as the audit trail names them: no account, so no actor id."""

    guest: GuestLink
    pk = None

    def __str__(self) -> str:
        return _("Invité·e « %(label)s » (lien n° %(pk)s)") % {
            "label": self.guest.label,
            "pk": self.guest.pk,
        }


def share_file(request: HttpRequest | None, user: User, room: Room, upload) -> tuple:
    """A document or a snapshot of a video, filed into the act's record from the call by a
    party to the act; the room's chat says so. Returns the attachment and the chat message."""
    claim = None if room.is_test else user_claim(user, room)
    if claim is None:
        raise PermissionDenied(_("Seules les parties à l'acte versent des documents."))
    return _file_into_record(request, room, upload, user, claim, user=user)


def guest_share_file(request: HttpRequest | None, guest: GuestLink, upload) -> tuple:
    """The same from a guest once admitted (patient at home, family, interpreter); a guest
    files documents but reads none of the record."""
    room = guest.room
    if room.is_test or not guest_valid(guest):
        raise PermissionDenied(_("Ce lien d'invitation a expiré ou a été retiré."))
    if not Admission.objects.filter(room=room, party=f"g:{guest.pk}").exists():
        raise PermissionDenied(_("Le professionnel doit d'abord vous admettre dans la salle."))
    return _file_into_record(
        request, room, upload, GuestActor(guest), guest_claim(guest), user=None, guest=guest
    )


def _file_into_record(request, room: Room, upload, actor, claim: Claim, **uploader) -> tuple:
    from telesante.documents import services as documents

    clean = documents.clean_upload(upload)
    with transaction.atomic(), product_language():
        attachment = documents.store(room.act, clean=clean, field="salle", **uploader)
        audit.record(request, actor, AuditAction.CREATE, [attachment], detail="depuis la salle")
        message = ChatMessage.objects.create(
            room=room,
            author=claim.label,
            party=claim.party,
            body=_("Document versé au dossier : %(name)s") % {"name": attachment.original_name},
        )
    return attachment, message
