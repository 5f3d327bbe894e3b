"""Bad input to booking answers a French 4xx, never a 500: times with a zone, dates in year
9999, guest links of 0 hours, ids beyond 64 bits."""

import datetime

from django.urls import reverse
from django.utils import timezone

from telesante.rooms.models import GuestLink
from telesante.teleconsultation.models import Availability
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import TC
from tests.teleconsultation.test_api import API, ch_of, post

FAR = "9999-12-31T23:59:59+00:00"
OUT = ["Date hors de la période plausible (2000 à 2099)."]


def test_availability_times_with_a_zone_are_refused(tc_world: TC):
    client = api_client(tc_world.cardiologist)
    body = {"structure_id": ch_of(tc_world).pk, "weekday": 2, "start": "14:00Z", "end": "16:00Z"}
    response = post(client, f"{API}/availabilities", body)
    assert response.status_code == 422, response.content
    zone = ["Heure locale attendue, sans fuseau (format HH:MM)."]
    assert response.json()["errors"] == {"start": zone, "end": zone}
    assert not Availability.objects.exists()


def test_year_9999_is_refused_on_create_and_move(tc_world: TC):
    w = tc_world.w
    nurse = api_client(w.nurse_a)
    body = {
        "patient_id": w.patient_a.pk,
        "structure_id": w.ehpad_a.pk,
        "kind": "teleconsultation",
        "performer_id": tc_world.cardiologist.pk,
        "scheduled_at": FAR,
        "reason": "Suivi",
        "information_given": True,
        "decision": "consent",
    }
    created = post(nurse, API, body)
    assert created.status_code == 422, created.content
    assert created.json()["errors"] == {"scheduled_at": OUT}
    moved = post(nurse, f"{API}/{tc_world.consultation.pk}/move", {"scheduled_at": FAR})
    assert moved.status_code == 422, moved.content
    assert moved.json()["errors"] == {"scheduled_at": OUT}


def test_year_9999_is_refused_on_the_booking_page(tc_world: TC):
    w = tc_world.w
    form = {
        "patient": w.patient_a.pk,
        "structure": w.ehpad_a.pk,
        "kind": "teleconsultation",
        "performer": tc_world.cardiologist.pk,
        "scheduled_at": "9999-12-31T23:59",
        "duration_minutes": "20",
        "reason": "Suivi",
        "information_given": "on",
        "decision": "consent",
    }
    page = logged_in(w.nurse_a).post(reverse("teleconsultation_create"), form)
    assert page.status_code == 400
    assert "Date hors de la période plausible (2000 à 2099)." in page.content.decode()


def test_guest_links_of_0_hours_are_refused(tc_world: TC):
    url = f"{API}/{tc_world.consultation.pk}/guests"
    doctor = api_client(tc_world.cardiologist)
    for hours in (0, 169):
        response = post(doctor, url, {"label": "M. Valmorin", "hours": hours})
        assert response.status_code == 400, response.content
        assert response.json()["errors"] == {
            "hours": ["Durée de validité entre 1 heure et 7 jours."]
        }
    page = logged_in(tc_world.cardiologist).post(
        reverse("teleconsultation_invite", args=[tc_world.consultation.pk]),
        {"label": "M. Valmorin", "hours": "0"},
    )
    assert page.status_code == 302
    assert not GuestLink.objects.exists()
    made = post(doctor, url, {"label": "M. Valmorin"})  # no duration: the default one
    expires = datetime.datetime.fromisoformat(made.json()["expires_at"])
    assert abs(expires - timezone.now() - datetime.timedelta(hours=24)) < datetime.timedelta(
        minutes=1
    )


def test_ids_beyond_64_bits_are_refused(tc_world: TC):
    client = api_client(tc_world.w.nurse_a)
    big = 2**63
    read = client.get(f"{API}/{big}")
    assert read.status_code == 404
    assert read.json() == {"detail": "Ressource introuvable."}
    revoke = post(client, f"{API}/{tc_world.consultation.pk}/guests/{big}/revoke", {})
    assert revoke.status_code == 404
