"""The signaling WebSocket: who gets in, the waiting room, admission, relay, chat, incidents."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from uvicorn.protocols.utils import ClientDisconnected

from telesante.acts.models import ActStatus, Incident
from telesante.rooms import consumers, services, tokens
from telesante.rooms.models import ChatMessage, GuestLink, Presence
from tests.rooms.conftest import TC, Socket, call_of_two, token_for

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads from another thread


def test_outsiders_are_refused_before_the_handshake(tc_world: TC):
    room, w = tc_world.room, tc_world.w
    other_room = services.create_test_room(w.nurse_b)
    forged = signing.dumps({"r": room.slug, "p": f"u:{w.nurse_b.pk}", "n": "x", "h": True})

    async def scenario():
        for token in ("", "garbage", forged, token_for(w.nurse_b, other_room)):
            assert await Socket(room.slug, token).connect() == (False, 4403)

    async_to_sync(scenario)()
    # The other structure's nurse and the regional observer have no claim on the room.
    assert services.user_claim(w.nurse_b, room) is None
    assert services.user_claim(w.observer, room) is None
    assert not Presence.objects.exists()


def test_doctor_admits_the_nurse_then_signals_and_chat_flow(tc_world: TC):
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(w.nurse_a, room)

    async def scenario():
        host = Socket(room.slug, host_token)
        assert (await host.connect())[0]
        welcome = await host.expect("welcome")
        assert welcome["me"]["host"] is True
        assert (await host.expect("admitted"))["peers"] == []

        nurse = Socket(room.slug, nurse_token)
        assert (await nurse.connect())[0]
        me = (await nurse.expect("welcome"))["me"]
        await nurse.expect("waiting")
        waiting = await host.expect("waiting-list")
        while not waiting["peers"]:
            waiting = await host.expect("waiting-list")
        assert [p["id"] for p in waiting["peers"]] == [me["id"]]
        # Nothing passes from the waiting room.
        await nurse.send_json({"type": "chat", "body": "Bonjour ?"})
        assert (await nurse.expect("error"))["detail"] == "En salle d'attente."

        await host.send_json({"type": "admit", "id": me["id"]})
        admitted = await nurse.expect("admitted")
        assert [p["id"] for p in admitted["peers"]] == [welcome["me"]["id"]]
        joined = await host.expect("peer-joined")
        assert joined["peer"]["id"] == me["id"]
        # The newcomer ranks after the host: it is the impolite side that offers.
        assert admitted["me"]["rank"] > admitted["peers"][0]["rank"]

        offer = {"description": {"type": "offer", "sdp": "v=0"}}
        await nurse.send_json({"type": "signal", "to": welcome["me"]["id"], "data": offer})
        relayed = await host.expect("signal")
        assert relayed == {"type": "signal", "from": me["id"], "data": offer}

        await host.send_json({"type": "chat", "body": "Je vous vois bien."})
        for side in (host, nurse):
            assert (await side.expect("chat"))["message"]["body"] == "Je vous vois bien."
        await nurse.send_json({"type": "ping", "t": 12.5})
        assert (await nurse.expect("pong"))["t"] == 12.5
        await nurse.send_input({"type": "websocket.receive", "text": "pas du json"})
        assert (await nurse.expect("error"))["detail"].startswith("Message illisible")
        await nurse.send_json({"type": "admit", "id": "x"})  # only the host admits
        assert (await nurse.expect("error"))["type"] == "error"
        await nurse.send_json({"type": "leave"})
        assert (await nurse.receive_output(timeout=5))["type"] == "websocket.close"
        await nurse.drop(1000)  # the server's side of the closing handshake
        assert (await host.expect("peer-left"))["id"] == me["id"]
        await host.drop(1000)

    async_to_sync(scenario)()
    assert ChatMessage.objects.get().author == tc_world.cardiologist.display_name
    # A deliberate leave is not an incident; the host's own last drop leaves nobody in the call.
    assert not Incident.objects.exists()


def test_a_drop_and_the_reconnection_are_incidents_of_the_act(tc_world: TC):
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(w.nurse_a, room)

    async def scenario():
        host, nurse, ids = await call_of_two(room.slug, host_token, nurse_token)
        await host.expect("peer-joined")
        nurse_id = ids["other"]
        await nurse.drop()
        assert (await host.expect("peer-left"))["id"] == nurse_id
        # Back with a new token: admitted already, no waiting room. Her drop was noticed and
        # the host told she left: her resume token is of no use, she is a new peer.
        again = Socket(room.slug, nurse_token, ids["resume"])
        await again.connect()
        back_as = (await again.expect("welcome"))["me"]["id"]
        assert back_as != nurse_id
        assert len((await again.expect("admitted"))["peers"]) == 1
        assert (await host.expect("peer-joined"))["peer"]["id"] == back_as
        await again.drop(1000)
        await host.drop(1000)

    async_to_sync(scenario)()
    texts = list(
        Incident.objects.filter(act=tc_world.consultation.act).values_list(
            "description", "automatic"
        )
    )
    label = w.nurse_a.display_name
    assert texts[:2] == [
        (f"Coupure de la connexion de {label}.", True),
        (f"Reconnexion de {label}.", True),
    ]


def test_guest_links_expire_and_an_uninvited_guest_cannot_enter(tc_world: TC):
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    guest = services.create_guest_link(None, doctor, room, "Mme Dorvane (fille)", "famille", 2)
    assert services.guest_from_link(tokens.guest_value(guest.pk))[0] == guest
    assert services.guest_from_link("faux-lien")[0] is None
    guest_token = tokens.issue(services.guest_claim(guest))
    # A guest of another room presents a token naming this room: refused.
    other = services.create_test_room(w.nurse_a)
    stranger = GuestLink.objects.create(
        room=other,
        label="Inconnu",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
        created_by=w.nurse_a,
    )
    stranger_token = tokens.issue(tokens.Claim(room.slug, f"g:{stranger.pk}", "Inconnu", False))

    async def scenario():
        visitor = Socket(room.slug, guest_token)
        assert (await visitor.connect())[0]
        await visitor.expect("waiting")
        await visitor.drop(1000)
        assert await Socket(room.slug, stranger_token).connect() == (False, 4403)

    async_to_sync(scenario)()
    GuestLink.objects.filter(pk=guest.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert services.guest_from_link(tokens.guest_value(guest.pk)) == (
        None,
        "Ce lien d'invitation a expiré ou a été retiré.",
    )

    async def expired():
        assert await Socket(room.slug, guest_token).connect() == (False, 4403)

    async_to_sync(expired)()


def test_room_holds_four_and_a_reconnection_replaces_the_old_socket(world):
    room = services.create_test_room(world.doctor_a)
    seats = {seat: token_for(world.doctor_a, room, seat) for seat in "abcde"}

    async def scenario():
        sockets = []
        for seat in "abcd":
            s = Socket(room.slug, seats[seat])
            assert (await s.connect())[0]
            sockets.append(s)
        assert await Socket(room.slug, seats["e"]).connect() == (False, 4409)
        # Seat a again (its old socket not yet noticed gone): the old one is closed.
        again = Socket(room.slug, seats["a"])
        assert (await again.connect())[0]
        while (await sockets[0].receive_output(timeout=5))["type"] != "websocket.close":
            pass
        for s in [*sockets[1:], again]:
            await s.drop(1000)

    async_to_sync(scenario)()
    assert not Presence.objects.exists()


def test_tokens_expire_and_a_closed_act_closes_its_room(tc_world: TC, settings):
    room, doctor = tc_world.room, tc_world.cardiologist
    token = token_for(doctor, room)
    assert tokens.read(token, room.slug).host is True
    assert tokens.read(token, "autre-salle") is None
    settings.TELESANTE_ROOM_TOKEN_SECONDS = -1
    assert tokens.read(token, room.slug) is None
    settings.TELESANTE_ROOM_TOKEN_SECONDS = 120
    tc_world.consultation.act.status = ActStatus.DONE
    tc_world.consultation.act.save()

    async def scenario():
        assert await Socket(room.slug, token).connect() == (False, 4403)

    async_to_sync(scenario)()


def test_connection_check_reuses_its_room_and_a_lone_server_forgets_stale_presences(world):
    first = services.own_test_room(world.nurse_a)
    assert services.own_test_room(world.nurse_a) == first
    Presence.objects.create(peer_id="stale", room=first, party="u:1", label="x", channel="c")
    assert services.forget_presences() == 1
    with pytest.raises(PermissionDenied):
        services.own_test_room(world.observer)


def test_a_revoked_guest_is_sent_out_and_cannot_come_back(tc_world: TC):
    room, doctor = tc_world.room, tc_world.cardiologist
    guest = services.create_guest_link(None, doctor, room, "M. Valmorin (fils)", "famille", 2)
    guest_token, host_token = tokens.issue(services.guest_claim(guest)), token_for(doctor, room)

    async def scenario():
        host = Socket(room.slug, host_token)
        assert (await host.connect())[0]
        await host.expect("admitted")
        visitor = Socket(room.slug, guest_token)
        assert (await visitor.connect())[0]
        me = (await visitor.expect("welcome"))["me"]
        await host.send_json({"type": "admit", "id": me["id"]})
        await visitor.expect("admitted")
        await database_sync_to_async(services.revoke_guest_link)(None, doctor, room, guest.pk)
        event = await visitor.receive_output(timeout=5)
        while event["type"] != "websocket.close":
            event = await visitor.receive_output(timeout=5)
        assert event["code"] == 4403
        await visitor.drop(4403)
        assert (await host.expect("peer-left"))["id"] == me["id"]
        assert await Socket(room.slug, guest_token).connect() == (False, 4403)

    async_to_sync(scenario)()
    # Sent out on purpose: not a drop of the connection.
    assert not Incident.objects.filter(act=tc_world.consultation.act).exists()
    assert list(Presence.objects.values_list("party", flat=True)) == [f"u:{doctor.pk}"]


def test_a_media_cut_and_its_recovery_are_recorded_once_each(tc_world: TC):
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(w.nurse_a, room)

    async def scenario():
        host, nurse, ids = await call_of_two(room.slug, host_token, nurse_token)
        await host.expect("peer-joined")
        host_id = ids["host"]
        for message in (
            {"to": host_id, "state": "restored"},  # nothing was lost
            {"to": host_id, "state": "lost"},
            {"to": host_id, "state": "lost"},  # the same cut, reported again
            {"to": "unknown", "state": "lost"},
            {"to": host_id, "state": "autre"},
            {"to": host_id, "state": "restored"},
        ):
            await nurse.send_json({"type": "media", **message})
        await nurse.send_json({"type": "ping", "t": 1})  # handled after the messages above
        await nurse.expect("pong")
        await nurse.send_json({"type": "leave"})
        await nurse.drop(1000)
        await host.drop(1000)

    async_to_sync(scenario)()
    pair = f"{w.nurse_a.display_name} et {doctor.display_name}"
    assert list(Incident.objects.values_list("description", "automatic")) == [
        (f"Coupure du flux audio-vidéo entre {pair} : redémarrage ICE.", True),
        (f"Flux audio-vidéo rétabli entre {pair}.", True),
    ]


def test_media_incidents_of_one_connection_are_capped(tc_world: TC):
    room, doctor = tc_world.room, tc_world.cardiologist
    host_token, other_token = token_for(doctor, room), token_for(tc_world.w.nurse_a, room)

    async def scenario():
        host, other, ids = await call_of_two(room.slug, host_token, other_token)
        other_id = ids["other"]
        for _ in range(consumers.MEDIA_INCIDENTS):
            for state in ("lost", "restored"):
                await host.send_json({"type": "media", "to": other_id, "state": state})
        await host.send_json({"type": "ping", "t": 1})
        await host.expect("pong")
        await other.send_json({"type": "leave"})
        await other.drop(1000)
        await host.drop(1000)

    async_to_sync(scenario)()
    assert Incident.objects.count() == consumers.MEDIA_INCIDENTS


def test_a_signal_to_a_peer_whose_socket_closed_leaves_the_sender_connected(tc_world: TC):
    """The peer's socket closed before its disconnect handler ran (a loaded server): handing
    it a signal fails as uvicorn fails a send on a closed socket. The sender stays in the call;
    the closed connection leaves this process's table, so the heartbeat stops keeping it."""
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host_token, nurse_token = token_for(doctor, room), token_for(w.nurse_a, room)

    async def closed_socket(message: dict) -> None:
        raise ClientDisconnected

    async def scenario():
        host, nurse, ids = await call_of_two(room.slug, host_token, nurse_token)
        await host.expect("peer-joined")
        [gone] = [c for c in consumers.LOCAL.values() if c.me.peer_id == ids["other"]]
        gone.base_send = closed_socket
        offer = {"description": {"type": "offer", "sdp": "v=0"}}
        await host.send_json({"type": "signal", "to": ids["other"], "data": offer})
        await host.send_json({"type": "ping", "t": 1})
        assert (await host.expect("pong"))["t"] == 1
        assert gone.channel_name not in consumers.LOCAL
        assert [c.me.peer_id for c in consumers.LOCAL.values()] == [ids["host"]]
        # A connection that ends by an error leaves the table too.
        [alive] = consumers.LOCAL.values()
        alive.base_send = closed_socket
        await host.send_json({"type": "ping", "t": 2})
        with pytest.raises(ClientDisconnected):
            await host.wait(5)
        assert consumers.LOCAL == {}
        await nurse.drop(1000)

    async_to_sync(scenario)()
