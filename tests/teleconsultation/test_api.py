"""The booking API: availabilities, free slots, booking a slot, cancel and move, guest links;
French errors naming the fields (422 malformed, 400 refused by a rule, 404 outside the wall),
and list costs that do not grow with the rows."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.acts.models import ActStatus
from telesante.rooms import services as rooms
from telesante.rooms.models import GuestLink
from telesante.teleconsultation import booking, services
from telesante.teleconsultation.models import Availability
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import TC
from tests.rooms.conftest import booking as new_booking

API = "/api/v1/teleconsultations"


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def queries(client, url: str) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response.json()


def ch_of(tc_world: TC):
    return tc_world.cardiologist.memberships.get().structure


def open_tomorrow(tc_world: TC, start: int = 9, end: int = 12, **more) -> Availability:
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).weekday()
    return booking.add_availability(
        None,
        tc_world.cardiologist,
        ch_of(tc_world).pk,
        tomorrow,
        datetime.time(start),
        datetime.time(end),
        **more,
    )


def test_availabilities_are_published_listed_and_removed(tc_world: TC):
    client = api_client(tc_world.cardiologist)
    url = f"{API}/availabilities"
    body = {"structure_id": ch_of(tc_world).pk, "weekday": 2, "start": "14:00", "end": "16:00"}
    malformed = post(client, url, {**body, "weekday": "mercredi", "start": "25:00"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"] == {
        "weekday": ["Nombre entier attendu."],
        "start": ["Heure invalide (format HH:MM)."],
    }
    refused = post(client, url, {**body, "end": "13:00", "slot_minutes": 300, "filiere": "x"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "end": ["L'heure de fin doit suivre l'heure de début."],
        "slot_minutes": ["Créneau entre 5 et 120 minutes."],
        "filiere": ["Filière inconnue."],
    }
    made = post(client, url, {**body, "slot_minutes": 30, "buffer_minutes": 0})
    assert made.status_code == 201
    assert made.json() == {
        "id": made.json()["id"],
        "structure_id": ch_of(tc_world).pk,
        "structure_name": "CH de Laval",
        "filiere": None,
        "weekday": 2,
        "start": "14:00:00",
        "end": "16:00:00",
        "slot_minutes": 30,
        "buffer_minutes": 0,
    }
    assert [a["id"] for a in client.get(url).json()] == [made.json()["id"]]
    # Another professional neither sees nor removes it.
    other = api_client(tc_world.w.doctor_a)
    assert other.get(url).json() == []
    assert other.delete(f"{url}/{made.json()['id']}").status_code == 404
    assert client.delete(f"{url}/{made.json()['id']}").status_code == 204
    assert client.delete(f"{url}/{made.json()['id']}").status_code == 404
    assert not Availability.objects.exists()


def test_a_published_slot_is_booked_once_for_its_length(tc_world: TC, capsys):
    w, doctor = tc_world.w, tc_world.cardiologist
    open_tomorrow(tc_world, slot_minutes=30, buffer_minutes=10)
    nurse = api_client(w.nurse_a)
    slots_url = f"{API}/slots?performer_id={doctor.pk}"
    assert nurse.get(f"{API}/slots?performer_id=999999").status_code == 404
    too_far = nurse.get(f"{slots_url}&days=90")
    assert too_far.status_code == 422 and too_far.json()["errors"] == {"days": ["Au plus 28."]}
    slots = nurse.get(slots_url).json()
    first = slots[0]
    assert first["duration_minutes"] == 30 and first["structure_name"] == "CH de Laval"
    start = datetime.datetime.fromisoformat(first["start"])
    assert start == timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time(9)
        )
    )
    assert datetime.datetime.fromisoformat(slots[1]["start"]) - start == datetime.timedelta(
        minutes=40
    )
    body = {
        "patient_id": w.patient_a.pk,
        "structure_id": w.ehpad_a.pk,
        "kind": "teleconsultation",
        "performer_id": doctor.pk,
        "scheduled_at": first["start"],
        "reason": "Suivi d'insuffisance cardiaque",
        "information_given": True,
        "decision": "consent",
        "patient_phone": "06 11 22 33 44",
    }
    naive = post(nurse, f"{API}/bookings", {**body, "scheduled_at": "2099-01-05T10:00:00"})
    assert naive.status_code == 422
    assert naive.json()["errors"] == {
        "scheduled_at": ["Indiquez le fuseau horaire (par exemple 2026-03-02T14:30:00+01:00)."]
    }
    off_slot = (start + datetime.timedelta(minutes=5)).isoformat()
    refused = post(nurse, f"{API}/bookings", {**body, "scheduled_at": off_slot})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "scheduled_at": ["Ce créneau n'est pas proposé par ce professionnel ou est pris."]
    }
    wrong_phone = post(nurse, f"{API}/bookings", {**body, "patient_phone": "012"})
    assert wrong_phone.status_code == 400 and "patient_phone" in wrong_phone.json()["errors"]
    made = post(nurse, f"{API}/bookings", body)
    assert made.status_code == 201
    booked = made.json()
    assert booked["duration_minutes"] == 30 and booked["patient_phone"] == "+33611223344"
    assert booked["status"] == ActStatus.SCHEDULED and booked["room_slug"]
    assert first["start"] not in [s["start"] for s in nurse.get(slots_url).json()]
    again = post(nurse, f"{API}/bookings", body)
    assert again.status_code == 400
    # Another structure's nurse cannot book for a patient she does not see.
    assert post(api_client(w.nurse_b), f"{API}/bookings", body).status_code == 404


def test_cancel_and_move_through_the_api(tc_world: TC):
    nurse = api_client(tc_world.w.nurse_a)
    url = f"{API}/{tc_world.consultation.pk}"
    past = post(nurse, f"{url}/move", {"scheduled_at": "2020-01-06T10:00:00+01:00"})
    assert past.status_code == 400
    assert past.json()["errors"] == {"scheduled_at": ["Choisissez une date à venir."]}
    moved = post(nurse, f"{url}/move", {"scheduled_at": "2099-03-02T15:00:00+01:00"})
    assert moved.status_code == 200
    assert datetime.datetime.fromisoformat(moved.json()["scheduled_at"]) == datetime.datetime(
        2099, 3, 2, 14, tzinfo=datetime.UTC
    )
    blank = post(nurse, f"{url}/cancel", {"reason": " "})
    assert blank.status_code == 400
    assert blank.json()["errors"] == {"reason": ["Indiquez le motif de l'annulation."]}
    cancelled = post(nurse, f"{url}/cancel", {"reason": "Patiente hospitalisée"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == ActStatus.CANCELLED
    again = post(nurse, f"{url}/cancel", {"reason": "Encore"})
    assert again.status_code == 400
    assert again.json()["errors"] == {"__all__": ["Seul un acte programmé se déplace ou s'annule."]}


def test_guest_links_are_made_listed_and_revoked(
    tc_world: TC, capsys, django_capture_on_commit_callbacks
):
    doctor = api_client(tc_world.cardiologist)
    url = f"{API}/{tc_world.consultation.pk}/guests"
    body = {"label": "M. Valmorin (fils)", "relation": "famille", "hours": 2}
    malformed = post(doctor, url, {**body, "relation": "voisin", "hours": "deux"})
    assert malformed.status_code == 422
    assert set(malformed.json()["errors"]) == {"relation", "hours"}
    assert malformed.json()["errors"]["hours"] == ["Nombre entier attendu."]
    refused = post(doctor, url, {**body, "contact": "pas un numéro", "hours": 500})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "contact": [
            "Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
        ],
        "hours": ["Durée de validité entre 1 heure et 7 jours."],
    }
    with django_capture_on_commit_callbacks(execute=True):
        made = post(doctor, url, {**body, "contact": "07 55 66 77 88"})
    assert made.status_code == 201
    guest = made.json()
    assert guest["code_required"] is True and guest["revoked_at"] is None
    assert "[SMS] à +33755667788 : Code de votre téléconsultation : " in capsys.readouterr().out
    link = guest["url"].removeprefix("http://testserver")
    assert logged_in(None).get(link).status_code == 200  # the code page
    listed = api_client(tc_world.w.nurse_a).get(url).json()
    assert [g["id"] for g in listed] == [guest["id"]] and "url" not in listed[0]
    revoked = post(doctor, f"{url}/{guest['id']}/revoke", {})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    twice = post(doctor, f"{url}/{guest['id']}/revoke", {})
    assert twice.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert logged_in(None).get(link).status_code == 403
    # A guest link of another act is not found through this one.
    other = services.create(
        None, tc_world.w.nurse_a, new_booking(tc_world.w, tc_world.cardiologist)
    )
    foreign = rooms.create_guest_link(None, tc_world.cardiologist, other.act.room, "Autre")
    assert post(doctor, f"{url}/{foreign.pk}/revoke", {}).status_code == 404
    assert GuestLink.objects.get(pk=foreign.pk).revoked_at is None


def test_booking_lists_cost_constant_queries(tc_world: TC):
    doctor, nurse = api_client(tc_world.cardiologist), api_client(tc_world.w.nurse_a)
    availabilities = f"{API}/availabilities"
    slots = f"{API}/slots?performer_id={tc_world.cardiologist.pk}"
    guests = f"{API}/{tc_world.consultation.pk}/guests"
    open_tomorrow(tc_world, 9, 10)
    room = tc_world.room
    rooms.create_guest_link(None, tc_world.cardiologist, room, "Fille", "famille")
    for client, url in ((doctor, availabilities), (nurse, guests)):
        client.get(url)  # the token records its use once
    lists = ((doctor, availabilities), (nurse, slots), (nurse, guests))
    small = {url: queries(client, url) for client, url in lists}
    for hour in (13, 15, 17):
        open_tomorrow(tc_world, hour, hour + 1, filiere_code="geriatrie")
    for label in ("Fils", "Interprète"):
        rooms.create_guest_link(None, tc_world.cardiologist, room, label, "interprete")
    large = {url: queries(client, url) for client, url in lists}
    for url in small:
        assert large[url][0] == small[url][0], url
        assert len(large[url][1]) > len(small[url][1]), url
