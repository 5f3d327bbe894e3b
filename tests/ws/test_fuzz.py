"""Fuzzing every WebSocket consumer: malformed, oversized, deep and non-Unicode frames and
floods each get an error frame, and the connection stays open (each of these used to close it
with a server error). An unknown path is refused at the handshake."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from telesante.core import ws
from telesante.rooms.consumers import RoomConsumer
from telesante.rooms.models import ChatMessage
from tests.rooms.conftest import TC, Socket, token_for
from tests.teleexpertise.test_notifications import Socket as NotificationSocket
from tests.telesurveillance.conftest import TSV
from tests.telesurveillance.test_alerts import BoardSocket

pytestmark = pytest.mark.django_db(transaction=True)  # the consumers read from another thread

BAD_FRAMES = {
    "not JSON": ("{type: chat", ws.UNREADABLE),
    "a list": ("[1, 2]", ws.UNREADABLE),
    "a string": ('"ping"', ws.UNREADABLE),
    "empty": ("", ws.UNREADABLE),
    "100,000 [": ("[" * 100_000, ws.TOO_BIG),
    "oversized chat": (json.dumps({"type": "chat", "body": "x" * 70_000}), ws.TOO_BIG),
    "10,000-deep object": ('{"a":' * 10_000 + "1" + "}" * 10_000, ws.TOO_DEEP),
    "5,000-deep list": ("[" * 5_000 + "]" * 5_000, ws.TOO_DEEP),
    "20-deep signal": (
        json.dumps(
            {"type": "signal", "to": "x", "data": json.loads('{"a":' * 20 + "1" + "}" * 20)}
        ),
        ws.TOO_DEEP,
    ),
    "lone surrogate": ('{"type": "chat", "body": "bonjour \\ud800"}', ws.NOT_UNICODE),
    "lone surrogate key": ('{"type": "ping", "\\udfff": 1}', ws.NOT_UNICODE),
}


async def next_frame(socket: ApplicationCommunicator, kinds: set[str]) -> dict:
    """The next frame of one of `kinds`, skipping the others (waiting lists, chat echoes)."""
    while True:
        event = await socket.receive_output(timeout=5)
        assert event["type"] == "websocket.send", event  # a close would be a lost connection
        frame = json.loads(event["text"])
        if frame.get("type") in kinds or ("unread" in frame and "unread" in kinds):
            return frame


async def drain(socket: ApplicationCommunicator) -> list[dict]:
    """Every frame sent back until the connection has been quiet for half a second."""
    frames = []
    while not await socket.receive_nothing(timeout=0.5):
        event = await socket.receive_output(timeout=5)
        assert event["type"] == "websocket.send", event
        frames.append(json.loads(event["text"]))
    return frames


async def still_open(socket: ApplicationCommunicator, answer: str) -> None:
    await socket.send_input({"type": "websocket.receive", "text": '{"type": "ping"}'})
    await next_frame(socket, {answer})


async def fuzz(socket: ApplicationCommunicator, answer: str) -> None:
    """Every bad frame, then a flood; `answer` is the frame type a ping gets back."""
    for name, (text, detail) in BAD_FRAMES.items():
        await socket.send_input({"type": "websocket.receive", "text": text})
        frame = await next_frame(socket, {"error"})
        assert frame == {"type": "error", "detail": detail}, name
        await still_open(socket, answer)
    await socket.send_input({"type": "websocket.receive", "bytes": b"\x00\xff"})
    assert (await next_frame(socket, {"error"}))["detail"] == ws.UNREADABLE
    # A flood: the budget runs out, the connection does not.
    flood = 2 * ws.GuardedJsonConsumer.FRAME_BURST
    for _ in range(flood):
        await socket.send_input({"type": "websocket.receive", "text": '{"type": "ping"}'})
    details = []
    for _ in range(flood):
        frame = await next_frame(socket, {"error", answer})
        details.append(frame.get("detail"))
    assert ws.TOO_MANY in details
    # Most of the burst went through (the bad frames above spent a little of it).
    assert details.count(ws.TOO_MANY) <= flood - ws.GuardedJsonConsumer.FRAME_BURST // 2
    await asyncio.sleep(0.1)  # the budget refills
    await still_open(socket, answer)


def test_room_consumer(tc_world: TC):
    room = tc_world.room
    token = token_for(tc_world.cardiologist, room)

    async def scenario():
        host = Socket(room.slug, token)
        assert (await host.connect())[0]
        await host.expect("admitted")
        await fuzz(host, "pong")
        await host.drop()

    async_to_sync(scenario)()
    assert not ChatMessage.objects.exists()  # nothing of the bad frames was kept


def test_room_chat_and_signals_have_a_budget_a_call_never_reaches(tc_world: TC):
    room = tc_world.room
    token = token_for(tc_world.cardiologist, room)

    async def scenario():
        host = Socket(room.slug, token)
        await host.connect()
        await host.expect("admitted")
        for i in range(30):
            await host.send_json({"type": "chat", "body": f"message {i}"})
        answers = [await next_frame(host, {"chat", "error"}) for _ in range(30)]
        refused = [a for a in answers if a["type"] == "error"]
        assert {a["detail"] for a in refused} == {ws.TOO_MANY}
        assert len(refused) >= 15
        # Signals: a burst far above a call's first seconds, then a refusal per extra one.
        for _ in range(400):
            await host.send_json({"type": "signal", "to": "personne", "data": {"ice": "x"}})
        refused = await drain(host)
        assert {frame["detail"] for frame in refused} == {ws.TOO_MANY}
        assert 0 < len(refused) <= 400 - RoomConsumer.SIGNAL_BURST
        await still_open(host, "pong")
        await host.drop()

    async_to_sync(scenario)()
    assert 10 <= ChatMessage.objects.count() < 15


def test_notification_consumer(tc_world: TC):
    async def scenario():
        socket = NotificationSocket(tc_world.w.nurse_a)
        assert (await socket.connect())[0]
        await next_frame(socket, {"unread"})
        await fuzz(socket, "error")
        await socket.disconnect()

    async_to_sync(scenario)()


def test_board_consumer(tsv: TSV):
    async def scenario():
        socket = BoardSocket(tsv.operator, tsv.care_team.pk)
        assert (await socket.connect())[0]
        await fuzz(socket, "error")
        await socket.disconnect()

    async_to_sync(scenario)()


def test_an_unknown_path_is_refused_at_the_handshake(db):
    from telesante.asgi import application

    async def scenario():
        socket = ApplicationCommunicator(
            application,
            {
                "type": "websocket",
                "path": "/ws/inconnu/",
                "query_string": b"",
                "headers": [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
            },
        )
        await socket.send_input({"type": "websocket.connect"})
        event = await socket.receive_output(timeout=5)
        assert (event["type"], event["code"]) == ("websocket.close", 4404)

    async_to_sync(scenario)()
