"""Availabilities and slots, a slot booked once, cancel and move, reminders, the agenda feed."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from telesante.acts.models import ActStatus
from telesante.notifications.models import Notification
from telesante.teleconsultation import booking, services
from telesante.teleconsultation.models import Availability
from tests.conftest import logged_in
from tests.rooms.conftest import TC
from tests.rooms.conftest import booking as new_booking


def next_weekday(weekday: int) -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def test_availability_cuts_slots_and_a_booked_slot_is_gone(tc_world: TC):
    doctor, w = tc_world.cardiologist, tc_world.w
    structure = doctor.memberships.get().structure
    with pytest.raises(ValidationError) as exc:
        booking.add_availability(
            None, doctor, w.ehpad_b.pk, 9, datetime.time(15), datetime.time(14), 1, 90, "inconnue"
        )
    assert set(exc.value.message_dict) == {
        "structure",
        "weekday",
        "end",
        "slot_minutes",
        "buffer_minutes",
        "filiere",
    }
    booking.add_availability(
        None, doctor, structure.pk, 0, datetime.time(14), datetime.time(15), 20, 5
    )
    monday = next_weekday(0)
    slots = [s.start for s in booking.free_slots(doctor) if s.start.date() == monday]
    assert slots == [at(monday, 14), at(monday, 14, 25)]  # 14:50 + 20 min passes 15:00
    services.create(None, w.nurse_a, new_booking(w, doctor, scheduled_at=at(monday, 14, 25)))
    assert [s.start for s in booking.free_slots(doctor) if s.start.date() == monday] == [
        at(monday, 14)
    ]
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, new_booking(w, doctor, scheduled_at=at(monday, 14, 30)))
    assert exc.value.message_dict == {"scheduled_at": ["Ce créneau est déjà pris."]}


def test_cancel_and_move_tell_the_other_party(tc_world: TC):
    tc, doctor, w = tc_world.consultation, tc_world.cardiologist, tc_world.w
    with pytest.raises(PermissionDenied):
        booking.cancel(None, w.doctor_a, tc, "Absent")
    later = timezone.now() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError) as exc:
        booking.move(None, w.nurse_a, tc, timezone.now() - datetime.timedelta(hours=2))
    assert exc.value.message_dict == {"scheduled_at": ["Choisissez une date à venir."]}
    other = services.create(None, w.nurse_a, new_booking(w, doctor, scheduled_at=later))
    with pytest.raises(ValidationError):
        booking.move(None, w.nurse_a, tc, later + datetime.timedelta(minutes=5))
    moved = booking.move(None, w.nurse_a, tc, later + datetime.timedelta(hours=1))
    assert moved.act.due_at == later + datetime.timedelta(hours=1)
    assert Notification.objects.get(user=doctor).text.startswith("Acte déplacé au ")
    with pytest.raises(ValidationError):
        booking.cancel(None, doctor, other, "  ")
    booking.cancel(None, doctor, other, "Patiente hospitalisée")
    other.act.refresh_from_db()
    assert other.act.status == ActStatus.CANCELLED and other.act.room.closed_at is not None
    assert Notification.objects.filter(
        user=w.nurse_a, text__endswith="annulé : Patiente hospitalisée"
    ).exists()
    with pytest.raises(ValidationError) as exc:
        booking.move(None, doctor, other, later)
    assert exc.value.message_dict == {"__all__": ["Seul un acte programmé se déplace ou s'annule."]}


def test_agenda_feed_lists_open_acts_without_patient_identity(tc_world: TC):
    token = booking.feed_token(tc_world.cardiologist)
    response = logged_in(None).get(reverse("teleconsultation_feed", args=[token]))
    body = response.content.decode()
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.count("BEGIN:VEVENT") == 1
    assert f"SUMMARY:Téléconsultation n° {tc_world.consultation.pk}" in body
    assert "DORVANE" not in body and "Alix" not in body
    assert logged_in(None).get(reverse("teleconsultation_feed", args=["faux"])).status_code == 404


def test_availability_page_publishes_lists_and_removes(tc_world: TC):
    doctor = tc_world.cardiologist
    client = logged_in(doctor)
    url = reverse("teleconsultation_availability")
    structure = doctor.memberships.get().structure
    bad = client.post(
        url, {"weekday": "2", "start": "16:00", "end": "15:00", "structure": structure.pk}
    )
    assert (
        bad.status_code == 400
        and "L&#x27;heure de fin doit suivre l&#x27;heure de début." in bad.content.decode()
    )
    client.post(
        url,
        {
            "weekday": "2",
            "start": "14:00",
            "end": "16:00",
            "structure": structure.pk,
            "slot_minutes": "30",
            "buffer_minutes": "0",
        },
    )
    opening = Availability.objects.get()
    page = client.get(url).content.decode()
    assert "Mercredi 14:00–16:00" in page and booking.feed_token(doctor) in page
    # The booking page offers the published slots once the professional is chosen.
    form = logged_in(tc_world.w.nurse_a).get(
        reverse("teleconsultation_create"), {"performer": doctor.pk}
    )
    wednesday = next_weekday(2)
    assert f'value="{wednesday:%Y-%m-%d}T14:30"' in form.content.decode()
    client.post(url, {"remove": opening.pk})
    assert not Availability.objects.exists()


def test_availability_page_shows_every_free_slot_of_the_week(tc_world: TC):
    doctor = tc_world.cardiologist
    day = timezone.localdate() + datetime.timedelta(days=3)  # nothing of the world booked then
    opening = Availability.objects.create(
        professional=doctor,
        structure=doctor.memberships.get().structure,
        weekday=day.weekday(),
        start=datetime.time(8),
        end=datetime.time(14),
        slot_minutes=5,
        buffer_minutes=0,
    )
    page = logged_in(doctor).get(reverse("teleconsultation_availability")).content.decode()
    listed = page[page.index(f"{day:%d/%m}</strong>") :]
    listed = listed[: listed.index("</li>")]
    assert f"{opening.structure.name} :" in listed
    assert listed.count(":") == 1 + 72  # the place, then 72 slots: none left out
    assert "08:00, 08:05" in listed and "13:50, 13:55" in listed
