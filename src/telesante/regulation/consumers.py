"""The caller's connection to the video room: the rooms' own, with the caller's acceptance."""

from urllib.parse import parse_qs

from telesante.regulation import services
from telesante.rooms import tokens
from telesante.rooms.consumers import RoomConsumer
from telesante.rooms.models import Room


class CallerConsumer(RoomConsumer):
    """The caller's phone joins with its acceptance (`?consent=<language>`): recorded before the
    join, in the same trip to the database thread, it admits the caller at once. No consent
    request races the join (the phone would wait, then be admitted: one more hop before the
    first frame). Without `consent`, or for any other party, it is the room's socket as it
    stands."""

    def before_join(self, room: Room, claim: tokens.Claim) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        language = query.get("consent", [""])[0]
        if language and claim.party.startswith("g:"):
            services.consent_on_join(room, int(claim.party[2:]), language)
