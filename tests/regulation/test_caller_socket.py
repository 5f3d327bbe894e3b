"""The caller's phone joins through the caller's socket with its consent, which admits it at once
(recorded once, whatever the reconnections). On the room's own socket before any consent it
waits (nothing passes): the recorded consent lets it in at once, a refusal leaves it outside."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from telesante.regulation import services
from telesante.regulation.consumers import CallerConsumer
from telesante.regulation.models import EventKind
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import Admission, Presence
from tests.regulation.conftest import RG
from tests.rooms.conftest import Socket

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads from another thread


def test_a_caller_connected_before_consent_is_admitted_by_it(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _reason = services.open_link(value)
    slug = link.room.slug
    host_token = tokens.issue(rooms.user_claim(regul.regulator, link.room))
    caller_token = tokens.issue(rooms.guest_claim(link.guest))

    async def scenario():
        host = Socket(slug, host_token)
        assert (await host.connect())[0]
        host_id = (await host.expect("welcome"))["me"]["id"]
        await host.expect("admitted")
        caller = Socket(slug, caller_token)
        assert (await caller.connect())[0]
        caller_id = (await caller.expect("welcome"))["me"]["id"]
        await caller.expect("waiting")
        await caller.send_json({"type": "signal", "to": host_id, "data": {}})
        assert (await caller.expect("error"))["detail"] == "En salle d'attente."

        await database_sync_to_async(services.answer_consent)(link, True, "fr")
        admitted = await caller.expect("admitted")
        assert [p["id"] for p in admitted["peers"]] == [host_id]
        assert (await host.expect("peer-joined"))["peer"]["id"] == caller_id
        await caller.send_json({"type": "signal", "to": host_id, "data": {"x": 1}})
        assert (await host.expect("signal"))["data"] == {"x": 1}
        for socket in (caller, host):
            await socket.drop()

    async_to_sync(scenario)()
    assert Admission.objects.filter(room=link.room, party=f"g:{link.guest_id}").exists()


def test_a_refusal_leaves_the_connected_caller_waiting(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _reason = services.open_link(value)
    caller_token = tokens.issue(rooms.guest_claim(link.guest))

    async def scenario():
        caller = Socket(link.room.slug, caller_token)
        assert (await caller.connect())[0]
        await caller.expect("waiting")
        await database_sync_to_async(services.answer_consent)(link, False, "fr")
        assert await caller.receive_nothing(timeout=0.3)
        await caller.drop()

    async_to_sync(scenario)()
    assert not Admission.objects.filter(room=link.room).exists()
    assert not Presence.objects.filter(room=link.room).exists()


def caller_socket(slug: str, token: str, query: str = "") -> Socket:
    return Socket(slug, token, query=query, consumer=CallerConsumer, at="ws/appel")


def test_the_callers_socket_carries_the_consent(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _reason = services.open_link(value)
    slug = link.room.slug
    host_token = tokens.issue(rooms.user_claim(regul.regulator, link.room))
    caller_token = tokens.issue(rooms.guest_claim(link.guest))

    async def scenario():
        host = Socket(slug, host_token)
        assert (await host.connect())[0]
        host_id = (await host.expect("welcome"))["me"]["id"]
        await host.expect("admitted")
        # Without the consent, the caller's socket is the room's: the phone waits.
        waiting = caller_socket(slug, caller_token)
        assert (await waiting.connect())[0]
        assert (await waiting.receive_json())["type"] == "welcome"
        assert (await waiting.receive_json())["type"] == "waiting"
        await waiting.drop()
        for _again in range(2):  # a reconnection carries the consent again
            caller = caller_socket(slug, caller_token, "&consent=ar")
            assert (await caller.connect())[0]
            caller_id = (await caller.receive_json())["me"]["id"]
            admitted = await caller.receive_json()  # at once: no waiting
            assert admitted["type"] == "admitted"
            assert [p["id"] for p in admitted["peers"]] == [host_id]
            assert (await host.expect("peer-joined"))["peer"]["id"] == caller_id
            await caller.drop()
        await host.drop()

    async_to_sync(scenario)()
    link.refresh_from_db()
    assert link.consent_at is not None and link.language == "ar"
    consents = regul.record.events.filter(kind=EventKind.CONSENT)
    assert [e.detail for e in consents] == ["vidéo et position (ar)"]


def test_the_callers_socket_records_no_consent_without_a_valid_guest(regul: RG):
    """A forged token, a withdrawn link: refused, nothing recorded; an unknown language is
    recorded as French."""
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _reason = services.open_link(value)
    slug = link.room.slug
    caller_token = tokens.issue(rooms.guest_claim(link.guest))

    async def refused(token: str) -> None:
        socket = caller_socket(slug, token, "&consent=fr")
        assert await socket.connect() == (False, 4403)

    async_to_sync(refused)("faux")
    link.refresh_from_db()
    assert link.consent_at is None

    async def joins() -> None:
        socket = caller_socket(slug, caller_token, "&consent=klingon")
        assert (await socket.connect())[0]
        await socket.expect("admitted")
        await socket.drop()

    async_to_sync(joins)()
    link.refresh_from_db()
    assert link.language == "fr"

    other, value = services.send_video_link(None, regul.regulator, regul.record)
    other, _reason = services.open_link(value)
    services.revoke_link(None, regul.regulator, regul.record, other.pk)
    async_to_sync(refused)(tokens.issue(rooms.guest_claim(other.guest)))
    other.refresh_from_db()
    assert other.consent_at is None
