"""The live unread counter: the WebSocket consumer and the pushes made after each commit."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from telesante.notifications.consumers import NotificationConsumer
from telesante.notifications.models import Notification
from telesante.notifications.services import mark_read, notify


class Socket(ApplicationCommunicator):
    """A WebSocket client of the consumer (channels.testing needs daphne, not installed)."""

    def __init__(self, user):
        scope = {"type": "websocket", "path": "/ws/notifications/", "headers": [], "user": user}
        super().__init__(NotificationConsumer.as_asgi(), scope)

    async def connect(self) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        event = await self.receive_output(timeout=5)
        return event["type"] == "websocket.accept", event.get("code")

    async def receive_json_from(self, timeout: float = 5) -> dict:
        event = await self.receive_output(timeout=timeout)
        assert event["type"] == "websocket.send", event
        return json.loads(event["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=5)


def communicator(user) -> Socket:
    return Socket(user)


def test_anonymous_socket_is_closed(db):
    async def scenario():
        connected, code = await communicator(AnonymousUser()).connect()
        assert (connected, code) == (False, 4401)

    async_to_sync(scenario)()


# The consumer reads the count from another thread: the data must be committed.
@pytest.mark.django_db(transaction=True)
def test_the_counter_follows_notifications_and_reads(world):
    nurse, other = world.nurse_a, world.nurse_b
    notify([nurse], "Première", email=False)

    async def scenario():
        comm = communicator(nurse)
        connected, _ = await comm.connect()
        assert connected
        assert await comm.receive_json_from(timeout=5) == {"unread": 1}
        await database_sync_to_async(notify)([nurse, other], "Deuxième", email=False)
        assert await comm.receive_json_from(timeout=5) == {"unread": 2}
        await database_sync_to_async(mark_read)(nurse)
        assert await comm.receive_json_from(timeout=5) == {"unread": 0}
        # Another user's notification is not pushed to this socket.
        await database_sync_to_async(notify)([other], "Pour Basile", email=False)
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()

    async_to_sync(scenario)()
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 2


def test_notify_skips_missing_and_inactive_users_and_sends_once(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    world.nurse_b.is_active = False
    world.nurse_b.save()
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify([world.nurse_a, world.nurse_a, None, world.nurse_b], "Bonjour")
    assert sent == 1
    assert list(Notification.objects.values_list("user", flat=True)) == [world.nurse_a.pk]
    assert [m.to for m in mailoutbox] == [[world.nurse_a.email]]
    assert mailoutbox[0].subject == "Télésanté — un nouvel élément vous attend"
    assert "Bonjour" not in mailoutbox[0].body


def test_notify_without_email(world, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.nurse_a], "Discret", email=False)
    assert Notification.objects.get().text == "Discret"
    assert mailoutbox == []


def test_an_email_to_a_professional_carries_no_patient_data_only_a_link(
    te_world, django_capture_on_commit_callbacks, mailoutbox, settings
):
    """Plain e-mail is no secure channel: the name, the question, the answer stay on the
    platform; the e-mail says something waits there, with its link."""
    from telesante.teleexpertise import services
    from tests.teleexpertise.conftest import answered, wound_request

    settings.TELESANTE_BASE_URL = "https://telesante.example"
    t = te_world
    t.w.patient_a.gp = t.w.doctor_a
    t.w.patient_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        te = services.create(None, t.w.nurse_a, wound_request(t))
        answered(t, te, opinion="Escarre stade 3, débridement")
    assert mailoutbox
    for message in mailoutbox:
        text = message.subject + message.body
        for secret in ("DORVANE", "Alix", "Escarre", "débridement", "Plaies"):
            assert secret not in text, (secret, text)
        assert message.subject == "Télésanté — un nouvel élément vous attend"
        assert f"https://telesante.example/teleexpertise/{te.pk}/" in message.body
    notes = Notification.objects.filter(user=t.w.doctor_a).values_list("text", flat=True)
    assert any("DORVANE" in n for n in notes)  # the name stays in the in-app notification
