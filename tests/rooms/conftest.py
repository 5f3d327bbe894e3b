"""Rooms fixtures: a cardiologist of the CH, a téléconsultation booked by the EHPAD's nurse for
its resident (assisted, TLS), its room; a WebSocket client of the room consumer."""

import datetime
import itertools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.routing import URLRouter
from django.urls import path
from django.utils import timezone

from telesante.accounts.models import Profession, User
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.consumers import RoomConsumer
from telesante.rooms.models import CallSpan, Room
from telesante.rooms.services import user_claim
from telesante.structures.models import StructureKind
from telesante.teleconsultation import services
from telesante.teleconsultation.models import TeleConsultation
from tests.conftest import World, make_structure, make_user


@dataclass
class TC:
    w: World
    cardiologist: User
    consultation: TeleConsultation
    room: Room


SLOTS = itertools.count(1)  # each booking its own half hour: a slot is booked once


def booking(w: World, performer: User, **overrides) -> services.NewConsultation:
    fields = {
        "patient_id": w.patient_a.pk,
        "structure_id": w.ehpad_a.pk,
        "kind": "teleconsultation",
        "performer_id": performer.pk,
        "scheduled_at": timezone.now() + datetime.timedelta(hours=2, minutes=30 * next(SLOTS)),
        "reason": "Dyspnée d'effort, œdèmes des membres inférieurs",
        "information_given": True,
        "decision": "consent",
        "assistance": "nurse_visit",
        **overrides,
    }
    return services.NewConsultation(**fields)


def make_tc_world(world: World) -> TC:
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    cardio = make_user(
        "cardio@example.test", structure=ch, profession=Profession.DOCTOR, specialty="cardiologie"
    )
    tc = services.create(None, world.nurse_a, booking(world, cardio))
    return TC(w=world, cardiologist=cardio, consultation=tc, room=tc.act.room)


@pytest.fixture
def tc_world(world) -> TC:
    return make_tc_world(world)


def in_call(tc: TeleConsultation, performer: User, seconds: int = 300) -> None:
    """The performer and the requester (at the patient's side) join the act's room through the
    presence functions, the performer admits the requester, and they talk for `seconds`."""
    room = rooms.room_for_act(tc.act)
    rooms.join(room, user_claim(performer, room), "chan-performer")
    patient_side, _replaced, _back = rooms.join(room, user_claim(tc.act.requester, room), "chan")
    rooms.admit(room.pk, patient_side.peer_id)
    CallSpan.objects.filter(room=room).update(
        started_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def token_for(user: User, room: Room, seat: str = "") -> str:
    return tokens.issue(user_claim(user, room, seat))


class Socket(ApplicationCommunicator):
    """A WebSocket client of the room consumer (channels.testing needs daphne)."""

    def __init__(
        self,
        slug: str,
        token: str = "",
        resume: str = "",
        query: str = "",
        consumer=RoomConsumer,
        at="ws/rooms",
    ):
        app = URLRouter([path(f"{at}/<str:slug>/", consumer.as_asgi())])
        scope = {
            "type": "websocket",
            "path": f"/{at}/{slug}/",
            "query_string": (urlencode({"token": token, "resume": resume}) + query).encode(),
            "headers": [],
        }
        super().__init__(app, scope)

    async def connect(self) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        event = await self.receive_output(timeout=5)
        return event["type"] == "websocket.accept", event.get("code")

    async def send_json(self, message: dict) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive_json(self, timeout: float = 5) -> dict:
        event = await self.receive_output(timeout=timeout)
        assert event["type"] == "websocket.send", event
        return json.loads(event["text"])

    async def expect(self, kind: str, timeout: float = 5) -> dict:
        """The next message of this type (others, e.g. waiting-list refreshes, are skipped)."""
        while True:
            message = await self.receive_json(timeout)
            if message["type"] == kind:
                return message

    async def drop(self, code: int = 1006) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout=5)


async def call_of_two(slug: str, host_token: str, other_token: str) -> tuple[Socket, Socket, dict]:
    """The host enters, the other waits and is admitted. Returns both sockets, their ids
    ("host", "other") and the other's resume token ("resume")."""
    host = Socket(slug, host_token)
    await host.connect()
    host_id = (await host.expect("admitted"))["me"]["id"]
    other = Socket(slug, other_token)
    await other.connect()
    welcome = await other.expect("welcome")
    other_id = welcome["me"]["id"]
    await host.send_json({"type": "admit", "id": other_id})
    await other.expect("admitted")
    return host, other, {"host": host_id, "other": other_id, "resume": welcome["resume"]}
