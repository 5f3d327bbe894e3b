"""Presence expires: a server process that crashed ran no disconnect handler, so the rows of its
connections stay; no process refreshes them any more, and after TELESANTE_PRESENCE_SECONDS they
are ghosts nobody sees, then forgotten (a drop, recorded as for a closed socket).

A process refreshes its own connections and forgets the others' stale ones on each beat; here
the clock is moved by ageing rows (`seen_at`), except in the consumer test, where the beat runs
for real with a short setting.
"""

import datetime

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from telesante.acts.models import Incident
from telesante.rooms import services
from telesante.rooms.models import Admission, Presence
from tests.rooms.conftest import TC, Socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def age(peer_id: str, seconds: float) -> None:
    past = timezone.now() - datetime.timedelta(seconds=seconds)
    Presence.objects.filter(peer_id=peer_id).update(seen_at=past)


def claim(user, room, seat: str = ""):
    return services.user_claim(user, room, seat)


def test_an_unrefreshed_connection_is_seen_by_nobody(tc_world: TC, settings):
    settings.TELESANTE_PRESENCE_SECONDS = 30
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host, _replaced, _back = services.join(room, claim(doctor, room), "chan-host")
    nurse, _replaced, _back = services.join(room, claim(w.nurse_a, room), "chan-nurse")
    assert [p.peer_id for p in services.waiting_peers(room.pk)] == [nurse.peer_id]
    age(nurse.peer_id, 29)
    assert [p.peer_id for p in services.waiting_peers(room.pk)] == [nurse.peer_id]
    age(nurse.peer_id, 31)
    assert services.waiting_peers(room.pk) == []
    age(host.peer_id, 31)
    assert services.admitted_peers(room.pk) == []


def test_ghosts_do_not_fill_a_room(world, settings):
    settings.TELESANTE_PRESENCE_SECONDS = 30
    room = services.create_test_room(world.doctor_a)
    for seat in "abcd":
        ghost, _replaced, _back = services.join(room, claim(world.doctor_a, room, seat), seat)
        age(ghost.peer_id, 60)
    services.join(room, claim(world.doctor_a, room, "e"), "chan-e")  # no RoomFull


def test_a_beat_refreshes_its_own_and_forgets_a_crashed_process_connections(tc_world: TC, settings):
    settings.TELESANTE_PRESENCE_SECONDS = 30
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    host, _replaced, _back = services.join(room, claim(doctor, room), "chan-host")
    nurse, _replaced, _back = services.join(room, claim(w.nurse_a, room), "chan-nurse")
    services.admit(room.pk, nurse.peer_id)
    age(host.peer_id, 25)
    age(nurse.peer_id, 31)  # her process stopped beating

    # A process holding many connections (the others' ids are unknown here: nothing to do).
    mine = [f"autre-{i}" for i in range(1200)] + [host.peer_id]
    assert services.heartbeat(mine) == [(room.slug, nurse.peer_id)]
    assert list(Presence.objects.values_list("peer_id", flat=True)) == [host.peer_id]
    seen = Presence.objects.get(peer_id=host.peer_id).seen_at
    assert timezone.now() - seen < datetime.timedelta(seconds=5)
    # A drop during the call, as for a closed socket; her return is a reconnection.
    assert list(Incident.objects.values_list("description", flat=True)) == [
        f"Coupure de la connexion de {w.nurse_a.display_name}."
    ]
    assert Admission.objects.get(party=f"u:{w.nurse_a.pk}").dropped_at is not None
    # Another process beating at the same time finds nothing left to forget.
    assert services.heartbeat([]) == []
    assert Incident.objects.count() == 1


def test_a_ghost_leaves_the_hosts_waiting_list_by_itself(tc_world: TC, settings):
    """The host's process beats (every third of the setting) and tells the host."""
    settings.TELESANTE_PRESENCE_SECONDS = 2
    room, w, doctor = tc_world.room, tc_world.w, tc_world.cardiologist
    # The nurse waits on a process that then crashes: her row stays, unrefreshed.
    services.join(room, claim(w.nurse_a, room), "chan-of-a-dead-process")
    token = token_for(doctor, room)

    async def scenario():
        host = Socket(room.slug, token)
        await host.connect()
        listed = await host.expect("waiting-list")
        assert [p["label"] for p in listed["peers"]] == [w.nurse_a.display_name]
        while listed["peers"]:
            listed = await host.expect("waiting-list")
        await host.drop(1000)

    async_to_sync(scenario)()
    assert not Presence.objects.exists()
