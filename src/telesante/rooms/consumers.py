"""The room's signaling WebSocket: presence, waiting room and admission, chat, and the relay of
the perfect-negotiation messages (descriptions, ICE candidates) between admitted peers.

Each connection knows the admitted peers' channel names, so relaying a signal costs no database
query. A peer connected to this same process gets it handed over directly; one on another
process through the channel layer (Redis).

Each process beats while it holds connections: it marks them alive in the presence table and
forgets the ones no process refreshed (a process that crashed runs no disconnect handler).

A connection is handed a resume token with its peer id. The page keeps its calls when its socket
is lost (Redis restarted, its server process killed: the media flows peer to peer meanwhile) and
presents the token when it reconnects: it comes back as the same peer, on a new channel, and the
others keep their calls with it.
"""

import asyncio
import logging
import time
import weakref
from urllib.parse import parse_qs

from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.conf import settings
from uvicorn.protocols.utils import ClientDisconnected

from telesante.core.ws import TOO_MANY, UNKNOWN, Budget, GuardedJsonConsumer
from telesante.notifications.services import group_name
from telesante.rooms import services, tokens
from telesante.rooms.ice import ice_servers
from telesante.rooms.models import Room

log = logging.getLogger(__name__)
REFUSED = 4403  # before accept: the handshake is answered with HTTP 403
FULL = 4409
REPLACED = 4000
SERVER_STOPPING = 1012  # uvicorn closes its sockets so when the process stops (restart, deploy)
# Media incidents one connection may have recorded (a cut and its recovery are two).
MEDIA_INCIDENTS = 20

# This process's room connections by channel name: the signaling hot path skips the layer.
LOCAL: dict[str, "RoomConsumer"] = {}
# The heartbeat task of each event loop (one per server process).
BEATS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = (
    weakref.WeakKeyDictionary()
)


def _start_heartbeat() -> None:
    loop = asyncio.get_running_loop()
    task = BEATS.get(loop)
    if task is None or task.done():
        BEATS[loop] = loop.create_task(_heartbeat())


def _stop_heartbeat() -> None:
    task = BEATS.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()


async def _heartbeat() -> None:
    layer = get_channel_layer()
    while True:
        await asyncio.sleep(settings.TELESANTE_PRESENCE_SECONDS / 3)
        mine = [c.me.peer_id for c in list(LOCAL.values()) if c.me is not None]
        try:
            gone = await db(services.heartbeat)(mine)
            for slug, peer_id in gone:
                group = services.room_group(slug)
                await layer.group_send(group, {"type": "room.peer_left", "id": peer_id})
                await layer.group_send(group, {"type": "room.waiting"})
        except Exception:  # the database or Redis away for a moment: beat again later
            log.exception("Battement de présence des salles en échec")


async def _hand_over(peer: "RoomConsumer", event: dict) -> None:
    """An event (a signal, a newcomer) to a connection of this process, handled at once rather
    than queued. Its socket may have closed before its disconnect handler ran: the event is lost
    with it, and the sender's connection lives on (the error is the receiver's)."""
    try:
        await getattr(peer, event["type"].replace(".", "_"))(event)
    except (ClientDisconnected, RuntimeError):  # uvicorn: socket gone, or close already sent
        LOCAL.pop(peer.channel_name, None)


class RoomConsumer(GuardedJsonConsumer):
    me: services.Peer | None = None

    async def __call__(self, scope, receive, send) -> None:
        # A connection that ends by an error runs no disconnect handler: out of LOCAL all the
        # same, or the heartbeat would keep it alive as a ghost that peers keep signalling.
        try:
            await super().__call__(scope, receive, send)
        finally:
            LOCAL.pop(getattr(self, "channel_name", ""), None)

    # Per connection, far above a real call: the first seconds of a call with three peers
    # exchange a few dozen ICE candidates, and nobody types two messages a second.
    SIGNAL_BURST, SIGNAL_RATE = 300, 60
    CHAT_BURST, CHAT_RATE = 10, 1

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        claim = tokens.read(query.get("token", [""])[0], slug)
        if claim is None:
            await self.close(code=REFUSED)
            return
        resume = tokens.resumed_peer(query.get("resume", [""])[0], claim)
        # In the room's group before the trip that reads who is there: nobody is missed.
        self.group = services.room_group(claim.slug)
        await self.channel_layer.group_add(self.group, self.channel_name)
        room = None
        try:
            room, joined, entered = await db(self.joining)(claim, resume)
        except services.RoomFull:
            code = FULL
        else:
            code = REFUSED
        finally:  # refused, or the database away: out of the group it joined
            if room is None:
                await self.channel_layer.group_discard(self.group, self.channel_name)
        if room is None:
            await self.close(code=code)
            return
        me, replaced, _back = joined
        self.claim, self.me, self.room_id = claim, me, room.pk
        self.peers: dict[str, str] = {}
        # When each peer's connection joined: a resumed peer's news may reach this one before
        # the layer's copy of its earlier connection's, which must not take its channel back.
        self.since: dict[str, float] = {}
        self.joined_at = time.time()
        self.admitted = me.rank is not None
        self.leaving = False
        self.media_lost: set[str] = set()  # peers whose media path is being restored
        self.media_incidents = 0
        self.budgets = {
            "signal": Budget(self.SIGNAL_BURST, self.SIGNAL_RATE),
            "chat": Budget(self.CHAT_BURST, self.CHAT_RATE),
        }
        await self.accept()
        LOCAL[self.channel_name] = self
        _start_heartbeat()
        for old in replaced:
            await self.channel_layer.send(old.channel, {"type": "room.replaced"})
            if old.peer_id != me.peer_id:  # a resumed peer stays in the others' calls
                await self.channel_layer.group_send(
                    self.group, {"type": "room.peer_left", "id": old.peer_id}
                )
        await self.send_json(
            {
                "type": "welcome",
                "me": me.public(),
                "ice_servers": ice_servers(claim.party),
                "resume": tokens.resume_token(claim, me.peer_id),
            }
        )
        if self.admitted:
            await self._enter(entered)
        else:
            await self.send_json({"type": "waiting"})
        # A host reads the waiting room on arrival; an admitted guest changes it only when it
        # replaces a waiting connection of its own (no query then: the call is being set up).
        if self.me.host or not self.admitted or any(old.rank is None for old in replaced):
            await self._waiting_changed()

    def joining(self, claim: tokens.Claim, resume: str = "") -> tuple:
        """In one trip to the database thread: the room if the claim still holds, the join, and
        for an admitted connection what it meets (None, None, None when refused); `resume`, the
        peer id this party's connection comes back as."""
        room = services.claim_still_valid(claim)
        if room is None:
            return None, None, None
        self.before_join(room, claim)
        joined = services.join(room, claim, self.channel_name, resume)
        me = joined[0]
        entered = services.entering(room.pk, me.peer_id) if me.rank is not None else None
        return room, joined, entered

    def before_join(self, room: Room, claim: tokens.Claim) -> None:
        """What a kind of socket records once the claim holds, before the join (in its trip)."""

    async def _enter(self, entered: tuple | None = None) -> None:
        """`entered`: the other admitted peers and the chat, when the join's trip read them."""
        peers, history = entered or await db(services.entering)(self.room_id, self.me.peer_id)
        self.peers = {p.peer_id: p.channel for p in peers}
        await self.send_json(
            {
                "type": "admitted",
                "me": self.me.public(),
                "peers": [p.public() for p in peers],
                "chat": history,
            }
        )
        me, channel = self.me.public(), self.channel_name
        joined = {"type": "room.peer_joined", "peer": me, "channel": channel, "at": self.joined_at}
        # Peers of this process hear of the newcomer now: its first signal, handed over directly,
        # must not overtake this news queued behind their other events. The layer's copy is then
        # ignored by them, and tells the peers of other processes (in order with its signals).
        for peer_channel in self.peers.values():
            local = LOCAL.get(peer_channel)
            if local is not None:
                await _hand_over(local, joined)
        await self.channel_layer.group_send(self.group, joined)

    async def _waiting_changed(self) -> None:
        await self.channel_layer.group_send(self.group, {"type": "room.waiting"})
        # The parties' home pages show who waits in the room: they fetch their list again.
        for uid in await db(services.party_user_ids)(self.room_id):
            await self.channel_layer.group_send(group_name(uid), {"type": "worklist"})

    async def disconnect(self, code: int) -> None:
        LOCAL.pop(self.channel_name, None)
        if not LOCAL:
            _stop_heartbeat()
        if self.me is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if code == SERVER_STOPPING and not self.leaving:
            # The page comes back through another process as the same peer and its calls go
            # on: its row stays for that, forgotten by the heartbeats if it never comes back.
            return
        gone = await db(services.leave)(
            self.room_id, self.me.peer_id, not self.leaving, channel=self.channel_name
        )
        if gone is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "room.peer_left", "id": self.me.peer_id}
            )
            await self._waiting_changed()

    async def receive_json(self, content: dict, **kwargs) -> None:
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong", "t": content.get("t")})
        elif kind == "leave":
            self.leaving = True
            await self.close()
        elif not self.admitted:
            await self.refuse("En salle d'attente.")
        elif kind in self.budgets and not self.budgets[kind].take():
            await self.refuse(TOO_MANY)
        elif kind == "signal":
            channel = self.peers.get(str(content.get("to")))
            event = {"type": "room.signal", "from": self.me.peer_id, "data": content.get("data")}
            local = LOCAL.get(channel or "")
            if local is not None:
                await _hand_over(local, event)
            elif channel is not None:
                await self.channel_layer.send(channel, event)
        elif kind == "chat":
            message = await db(services.post_chat)(
                self.room_id, self.claim, str(content.get("body", ""))
            )
            if message is not None:
                await self.channel_layer.group_send(
                    self.group, {"type": "room.chat", "message": services.chat_payload(message)}
                )
        elif kind == "media":
            await self._media(str(content.get("to")), content.get("state"))
        elif kind == "admit" and self.me.host:
            peer = await db(services.admit)(self.room_id, str(content.get("id")))
            if peer is not None:
                await self.channel_layer.send(
                    peer.channel, {"type": "room.admitted", "rank": peer.rank}
                )
                await self._waiting_changed()
        else:
            await self.refuse(UNKNOWN)

    async def _media(self, peer_id: str, state: object) -> None:
        """The media path to a peer was lost (the browser restarts ICE) or is back: an incident
        of the act. Each cut is recorded once, then its recovery once."""
        if peer_id not in self.peers or self.media_incidents >= MEDIA_INCIDENTS:
            return
        if state == "lost" and peer_id not in self.media_lost:
            self.media_lost.add(peer_id)
        elif state == "restored" and peer_id in self.media_lost:
            self.media_lost.discard(peer_id)
        else:
            return
        self.media_incidents += 1
        await db(services.media_incident)(self.room_id, self.me.label, peer_id, state == "lost")

    # Channel layer events ----------------------------------------------------------------------

    async def room_peer_joined(self, event: dict) -> None:
        peer = event["peer"]
        if not self.admitted or self.me is None or peer["id"] == self.me.peer_id:
            return
        # Known on this channel already (told directly, then by the layer); a known peer on a
        # new channel resumed after losing its socket: its signals now go there.
        at = event.get("at", 0.0)
        if self.peers.get(peer["id"]) == event["channel"] or at < self.since.get(peer["id"], 0.0):
            return
        self.peers[peer["id"]], self.since[peer["id"]] = event["channel"], at
        await self.send_json({"type": "peer-joined", "peer": peer})

    async def room_peer_left(self, event: dict) -> None:
        if self.peers.pop(event["id"], None) is not None:
            await self.send_json({"type": "peer-left", "id": event["id"]})

    async def room_signal(self, event: dict) -> None:
        if self.admitted:
            await self.send_json({"type": "signal", "from": event["from"], "data": event["data"]})

    async def room_chat(self, event: dict) -> None:
        if self.admitted:
            await self.send_json({"type": "chat", "message": event["message"]})

    async def room_waiting(self, event: dict) -> None:
        if self.me is not None and self.me.host:
            waiting = await db(services.waiting_peers)(self.room_id)
            await self.send_json({"type": "waiting-list", "peers": [p.public() for p in waiting]})

    async def room_admitted(self, event: dict) -> None:
        self.admitted = True
        self.me.rank = event["rank"]
        await self._enter()

    async def room_revoked(self, event: dict) -> None:
        # A party withdrew this guest's link: out of the room, and no way back with it.
        self.leaving = True
        await self.close(code=REFUSED)

    async def room_replaced(self, event: dict) -> None:
        # The same party connected again (a reconnection): this older connection steps aside.
        await self.channel_layer.group_discard(self.group, self.channel_name)
        LOCAL.pop(self.channel_name, None)
        self.me = None
        await self.close(code=REPLACED)
