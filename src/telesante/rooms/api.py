from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status

from telesante.rooms import services, tokens
from telesante.rooms.ice import ice_servers

router = Router(tags=["salles vidéo"])


class TestRoomOut(Schema):
    slug: str
    ws_path: str
    tokens: list[str]
    ice_servers: list[dict]


class TokenIn(Schema):
    seat: str = ""


class TokenOut(Schema):
    token: str
    ws_path: str
    expires_in: int


def _ws_path(slug: str) -> str:
    return f"/ws/rooms/{slug}/"


@router.post("/test", response={201: TestRoomOut})
def create_test_room(request: HttpRequest):
    """A room of one's own with two seats (a, b): connection check, `telesante probe-call`."""
    room = services.create_test_room(request.user)
    seats = [services.user_claim(request.user, room, seat) for seat in ("a", "b")]
    return Status(
        201,
        {
            "slug": room.slug,
            "ws_path": _ws_path(room.slug),
            "tokens": [tokens.issue(c) for c in seats],
            "ice_servers": ice_servers(f"u:{request.user.pk}"),
        },
    )


@router.post("/{slug}/token", response=TokenOut)
def room_token(request: HttpRequest, slug: str, payload: TokenIn):
    """A fresh short-lived token for a room the caller is party to (to join or rejoin)."""
    room, claim = services.get_room(request, request.user, slug)
    if payload.seat and room.is_test:
        claim = services.user_claim(request.user, room, payload.seat[:8])
    return {
        "token": tokens.issue(claim),
        "ws_path": _ws_path(slug),
        "expires_in": settings.TELESANTE_ROOM_TOKEN_SECONDS,
    }
