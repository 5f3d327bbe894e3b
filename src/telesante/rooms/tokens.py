"""Signed, short-lived room tokens (what a WebSocket presents), resume tokens (a connection
coming back as the same peer) and signed guest links."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

TOKEN_SALT = "telesante.rooms.token"
GUEST_SALT = "telesante.rooms.guest"
RESUME_SALT = "telesante.rooms.resume"


@dataclass(frozen=True)
class Claim:
    slug: str
    party: str  # "u:<user id>[:seat]" or "g:<guest link id>"
    label: str
    host: bool
    # What the party is to the others (a profession, a guest's relation): their video is
    # labelled with it (`role_labels`).
    role: str = ""


def issue(claim: Claim) -> str:
    return signing.dumps(
        {"r": claim.slug, "p": claim.party, "n": claim.label, "h": claim.host, "o": claim.role},
        salt=TOKEN_SALT,
    )


def read(token: str, slug: str) -> Claim | None:
    """The claim of a valid, unexpired token for this room; None otherwise."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.TELESANTE_ROOM_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("r") != slug:
        return None
    return Claim(
        slug=slug,
        party=str(data["p"]),
        label=str(data["n"]),
        host=bool(data["h"]),
        role=str(data.get("o", "")),
    )


def resume_token(claim: Claim, peer_id: str) -> str:
    """What a connection is handed to come back as the same peer after losing its socket: its
    peer id, bound to the room and the party. It opens nothing by itself (a valid room token
    of the same party is presented with it), so it does not expire."""
    return signing.dumps({"r": claim.slug, "p": claim.party, "i": peer_id}, salt=RESUME_SALT)


def resumed_peer(token: str, claim: Claim) -> str:
    """The peer id a resume token names, when it was issued to this party in this room; ""
    otherwise (forged, another party's, another room's)."""
    try:
        data = signing.loads(token, salt=RESUME_SALT)
    except signing.BadSignature:
        return ""
    if not isinstance(data, dict) or (data.get("r"), data.get("p")) != (claim.slug, claim.party):
        return ""
    return str(data.get("i", ""))


def guest_value(guest_id: int) -> str:
    return signing.dumps(guest_id, salt=GUEST_SALT)


def guest_path(guest_id: int) -> str:
    """The address of a guest's link (the page makes it absolute; the worker prefixes
    TELESANTE_BASE_URL)."""
    return reverse("room_guest", args=[guest_value(guest_id)])


def guest_id(value: str) -> int | None:
    """The guest link id a signed value names (its expiry is checked against the database)."""
    try:
        found = signing.loads(value, salt=GUEST_SALT)
    except signing.BadSignature:
        return None
    return found if isinstance(found, int) else None
