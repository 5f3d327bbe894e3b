"""The caller's phone may connect to the room while its consent is on its way: it waits (nothing
passes), the recorded consent lets it in at once, a refusal leaves it outside."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from telesante.regulation import services
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
