"""The socket routes through the platform's own ASGI application: the rooms' (and the caller's)
by their token alone, whatever cookies come with them; the notifications' by the session."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from telesante.asgi import application
from telesante.regulation import services
from telesante.regulation.models import EventKind
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from tests.conftest import logged_in
from tests.regulation.conftest import RG

pytestmark = pytest.mark.django_db(transaction=True)  # the consumers read from another thread


def socket(path: str, query: str = "", cookie: str = "") -> ApplicationCommunicator:
    headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "websocket", "path": path, "query_string": query.encode(), "headers": headers}
    return ApplicationCommunicator(application, scope)


async def first_messages(sock: ApplicationCommunicator, count: int) -> list[dict]:
    await sock.send_input({"type": "websocket.connect"})
    assert (await sock.receive_output(timeout=5))["type"] == "websocket.accept"
    return [json.loads((await sock.receive_output(timeout=5))["text"]) for _ in range(count)]


def test_the_callers_socket_needs_its_token_only(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _reason = services.open_link(value)
    token = tokens.issue(rooms.guest_claim(link.guest))
    regulator_session = logged_in(regul.regulator).cookies["sessionid"].value

    async def scenario():
        # A session cookie of someone else changes nothing: the token says who joins.
        caller = socket(
            f"/ws/appel/{link.room.slug}/",
            f"token={token}&consent=fr",
            f"sessionid={regulator_session}; regulation_lang=fr",
        )
        welcome, admitted = await first_messages(caller, 2)
        assert welcome["me"]["label"] == "Appelant" and admitted["type"] == "admitted"
        await caller.send_input({"type": "websocket.disconnect", "code": 1000})
        await caller.wait(timeout=5)

    async_to_sync(scenario)()
    assert regul.record.events.filter(kind=EventKind.CONSENT).count() == 1


def test_the_notifications_socket_knows_its_user_by_the_session(regul: RG):
    session = logged_in(regul.regulator).cookies["sessionid"].value

    async def scenario():
        known = socket("/ws/notifications/", cookie=f"sessionid={session}")
        assert await first_messages(known, 1) == [{"unread": 0}]
        await known.send_input({"type": "websocket.disconnect", "code": 1000})
        await known.wait(timeout=5)
        anonymous = socket("/ws/notifications/")
        await anonymous.send_input({"type": "websocket.connect"})
        assert (await anonymous.receive_output(timeout=5))["code"] == 4401

    async_to_sync(scenario)()
