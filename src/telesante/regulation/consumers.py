"""The caller's connection to the video room: the rooms' own, with the caller's acceptance."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async as db

from telesante.regulation import services
from telesante.rooms import tokens
from telesante.rooms.consumers import RoomConsumer


class CallerConsumer(RoomConsumer):
    """The caller's phone joins with its acceptance (`?consent=<language>`): recorded before the
    join, it admits the caller at once. No consent request races the join (the phone would
    wait, then be admitted: one more hop before the first frame). Without `consent`, or for
    any other party, it is the room's socket as it stands."""

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        language = query.get("consent", [""])[0]
        slug = self.scope["url_route"]["kwargs"]["slug"]
        claim = tokens.read(query.get("token", [""])[0], slug) if language else None
        if claim is not None and claim.party.startswith("g:"):
            await db(services.consent_on_join)(int(claim.party[2:]), language)
        await super().connect()
