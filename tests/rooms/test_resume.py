"""A connection that loses its socket without the server noticing (Redis restarted, its server
process killed) comes back as the same peer with its resume token: the others keep their calls
with it. The token is bound to the room, the party and the peer id: a forged or another party's
token gives a new peer id and takes nobody's place."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async as db
from django.core import signing

from telesante.acts.models import Incident
from telesante.rooms import services, tokens
from telesante.rooms.consumers import RoomConsumer
from telesante.rooms.models import CallSpan, Presence
from tests.rooms.conftest import TC, Socket, call_of_two, token_for
from tests.rooms.test_presence import age

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads from another thread


async def until_pong(socket: Socket, t: float) -> list[str]:
    """The types of the messages received before the answer to a ping."""
    await socket.send_json({"type": "ping", "t": t})
    seen = []
    while (message := await socket.receive_json())["type"] != "pong":
        seen.append(message["type"])
    return seen


def test_a_peer_whose_socket_was_lost_resumes_as_itself_and_the_call_goes_on(tc_world: TC):
    room, nurse_user, doctor = tc_world.room, tc_world.w.nurse_a, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(nurse_user, room)
    fresh_token, nurse_claim = token_for(nurse_user, room), services.user_claim(nurse_user, room)

    async def scenario():
        host, nurse, ids = await call_of_two(room.slug, host_token, nurse_token)
        await host.expect("peer-joined")
        # Her socket is lost and the server has not noticed: her page comes back with a fresh
        # room token and the resume token of the lost connection.
        again = Socket(room.slug, fresh_token, ids["resume"])
        assert (await again.connect())[0]
        welcome = await again.expect("welcome")
        assert welcome["me"]["id"] == ids["other"]
        assert tokens.resumed_peer(welcome["resume"], nurse_claim) == ids["other"]
        admitted = await again.expect("admitted")
        assert [p["id"] for p in admitted["peers"]] == [ids["host"]]
        # The lost connection steps aside.
        while (await nurse.receive_output(timeout=5))["type"] != "websocket.close":
            pass
        await nurse.drop(1000)
        # The host hears of the same peer, on its new channel, and never of its leaving: a
        # signal to it reaches the new socket.
        joined = await host.expect("peer-joined")
        assert joined["peer"]["id"] == ids["other"]
        assert "peer-left" not in await until_pong(host, 1)
        offer = {"description": {"type": "offer", "sdp": "v=0"}}
        await host.send_json({"type": "signal", "to": ids["other"], "data": offer})
        assert (await again.expect("signal"))["from"] == ids["host"]
        # A disconnect handler of the lost connection running late forgets nothing.
        assert await db(services.leave)(room.pk, ids["other"], True, channel="canal-perdu") is None
        assert await db(Presence.objects.count)() == 2
        await again.send_json({"type": "leave"})
        await again.drop(1000)
        assert (await host.expect("peer-left"))["id"] == ids["other"]
        await host.drop(1000)

    async_to_sync(scenario)()
    # One span for her whole call (resuming does not end it), and no incident: no drop.
    assert CallSpan.objects.filter(party=f"u:{nurse_user.pk}").count() == 1
    assert not Incident.objects.exists()
    assert not Presence.objects.exists()


def test_forged_or_foreign_resume_tokens_take_nobodys_place(tc_world: TC):
    room, nurse_user, doctor = tc_world.room, tc_world.w.nurse_a, tc_world.cardiologist
    nurse_claim = services.user_claim(nurse_user, room)
    host_claim = services.user_claim(doctor, room)
    other_room = services.create_test_room(nurse_user)
    elsewhere = services.user_claim(nurse_user, other_room)
    assert tokens.resumed_peer(tokens.resume_token(nurse_claim, "a1b2"), nurse_claim) == "a1b2"
    unsigned = {"r": room.slug, "p": nurse_claim.party, "i": "a1b2"}
    for forged in (
        "",
        "n'importe quoi",
        signing.dumps(unsigned),  # signed without the resume salt
        signing.dumps(unsigned, salt=tokens.TOKEN_SALT),
        tokens.resume_token(host_claim, "a1b2"),  # another party's
        tokens.resume_token(elsewhere, "a1b2"),  # another room's
        signing.dumps(["a1b2"], salt=tokens.RESUME_SALT),
    ):
        assert tokens.resumed_peer(forged, nurse_claim) == ""

    host_token, nurse_token = token_for(doctor, room), token_for(nurse_user, room)

    async def scenario():
        host = Socket(room.slug, host_token)
        assert (await host.connect())[0]
        welcome = await host.expect("welcome")
        host_id = welcome["me"]["id"]
        # The nurse presents the doctor's resume token: it is not hers, she gets a peer id of
        # her own and the doctor stays connected as himself.
        nurse = Socket(room.slug, nurse_token, welcome["resume"])
        assert (await nurse.connect())[0]
        assert (await nurse.expect("welcome"))["me"]["id"] != host_id
        assert "peer-left" not in await until_pong(host, 1)
        await nurse.drop(1000)
        await host.drop(1000)

    async_to_sync(scenario)()
    # Even a well-signed token of hers naming another party's peer id (which only the server's
    # key could make) takes nothing over.
    host, _replaced, _back = services.join(room, host_claim, "canal-hote")
    nurse, _replaced, _back = services.join(room, nurse_claim, "canal-inf", resume=host.peer_id)
    assert nurse.peer_id != host.peer_id
    assert Presence.objects.get(peer_id=host.peer_id).channel == "canal-hote"


def test_a_peer_resumed_within_the_delay_stays_and_one_that_never_comes_back_goes(
    tc_world: TC, settings
):
    settings.TELESANTE_PRESENCE_SECONDS = 30
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host, _replaced, _back = services.join(room, services.user_claim(doctor, room), "canal-hote")
    services.admit_party(room, f"u:{w.nurse_a.pk}")
    nurse_claim = services.user_claim(w.nurse_a, room)
    nurse, _replaced, _back = services.join(room, nurse_claim, "canal-1")
    # Both processes stopped refreshing: hers came back on another process in time.
    age(host.peer_id, 20)
    age(nurse.peer_id, 20)
    again, replaced, back = services.join(room, nurse_claim, "canal-2", resume=nurse.peer_id)
    assert (again.peer_id, again.rank, back) == (nurse.peer_id, nurse.rank, False)
    assert [p.channel for p in replaced] == ["canal-1"]
    age(host.peer_id, 31)
    assert services.heartbeat([again.peer_id]) == [(room.slug, host.peer_id)]
    assert [p.peer_id for p in services.admitted_peers(room.pk)] == [nurse.peer_id]
    assert list(Incident.objects.values_list("description", flat=True)) == [
        f"Coupure de la connexion de {doctor.display_name}."
    ]


def test_the_late_news_of_an_earlier_connection_does_not_take_back_a_resumed_peer():
    """The layer may bring a peer's first join after the news, handed over directly, of the
    connection that resumed it: the peer's signals keep going to its newer channel."""
    host = RoomConsumer()
    host.me = services.Peer("hote", "Dr Test", "canal-hote", 1.0, True)
    host.admitted, host.peers, host.since = True, {}, {}
    sent = []

    async def send_json(message: dict) -> None:
        sent.append(message["type"])

    host.send_json = send_json
    peer = {"id": "infirmiere", "label": "Infirmière"}
    for channel, at in (("premier", 10.0), ("second", 20.0), ("premier", 10.0), ("second", 20.0)):
        event = {"type": "room.peer_joined", "peer": peer, "channel": channel, "at": at}
        async_to_sync(host.room_peer_joined)(event)
    assert host.peers == {"infirmiere": "second"}
    assert sent == ["peer-joined", "peer-joined"]


def test_a_socket_closed_by_its_server_stopping_leaves_its_peer_for_the_resume(tc_world: TC):
    """A restart or a deploy stops a server process: it closes its sockets with 1012. The page
    reconnects through another process and resumes; meanwhile the others hear nothing."""
    room, nurse_user, doctor = tc_world.room, tc_world.w.nurse_a, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(nurse_user, room)
    fresh_token = token_for(nurse_user, room)

    async def scenario():
        host, nurse, ids = await call_of_two(room.slug, host_token, nurse_token)
        await host.expect("peer-joined")
        await nurse.drop(1012)
        assert "peer-left" not in await until_pong(host, 1)
        assert await db(Presence.objects.filter(peer_id=ids["other"]).exists)()
        again = Socket(room.slug, fresh_token, ids["resume"])
        assert (await again.connect())[0]
        assert (await again.expect("welcome"))["me"]["id"] == ids["other"]
        assert (await host.expect("peer-joined"))["peer"]["id"] == ids["other"]
        await again.drop(1006)  # a drop the server sees, not a stop: the others are told
        assert (await host.expect("peer-left"))["id"] == ids["other"]
        await host.drop(1000)

    async_to_sync(scenario)()
    # The stop and the resume are not a drop of the call; the drop seen at the end is one.
    assert CallSpan.objects.filter(party=f"u:{nurse_user.pk}").count() == 1
    assert Incident.objects.count() == 1
