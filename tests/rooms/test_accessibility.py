"""The room for a screen reader: its heading says who the call is with (never one's own name),
each party's role travels with them so their video reads « name, role », state changes have a
polite live region and the chat is a log. The browser side is tests/e2e/test_room_keyboard.py."""

import json
import re

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

from telesante.accounts.models import Profession
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import GuestRelation
from telesante.teleconsultation import services as teleconsultation
from tests.conftest import logged_in, make_user
from tests.rooms.conftest import TC, Socket, tc_world, token_for  # noqa: F401


def heading(html: str) -> str:
    """The page's <h1>, its text only, spaces folded."""
    inner = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def test_the_doctor_calls_with_the_patient_and_the_nurse(tc_world: TC):  # noqa: F811
    nurse, doctor = tc_world.w.nurse_a, tc_world.cardiologist
    html = logged_in(doctor).get(reverse("room", args=[tc_world.room.slug])).content.decode()
    assert heading(html) == (
        f"Téléconsultation avec DORVANE Alix (patient·e), {nurse.display_name} (Infirmier·ère)"
    )
    assert doctor.display_name not in heading(html)


def test_the_nurse_calls_with_the_doctor_and_a_guest_sees_only_the_professionals(
    tc_world: TC,  # noqa: F811
):
    nurse, doctor = tc_world.w.nurse_a, tc_world.cardiologist
    html = logged_in(nurse).get(reverse("room", args=[tc_world.room.slug])).content.decode()
    assert heading(html) == f"Téléconsultation avec {doctor.display_name} (Médecin)"
    guest = rooms.create_guest_link(None, doctor, tc_world.room, "Mme Dorvane", "patient", 2)
    html = logged_in(None).get(tokens.guest_path(guest.pk)).content.decode()
    assert heading(html) == (
        f"Téléconsultation avec {doctor.display_name} (Médecin), {nurse.display_name} "
        "(Infirmier·ère)"
    )
    assert "DORVANE" not in html and "Mme Dorvane" not in heading(html)


def test_an_assisting_expert_is_one_of_those_the_call_is_with(tc_world: TC):  # noqa: F811
    w, doctor = tc_world.w, tc_world.cardiologist
    expert = make_user("rythmo@example.test", structure=w.ehpad_b, profession=Profession.DOCTOR)
    teleconsultation.assist(None, doctor, tc_world.consultation, expert.pk)
    names = rooms.call_with(tc_world.room, rooms.user_claim(w.nurse_a, tc_world.room))
    assert names == [f"{doctor.display_name} (Médecin)", f"{expert.display_name} (Médecin)"]
    # The expert calls with the patient (they are a host), the doctor and the nurse.
    claim = rooms.user_claim(expert, tc_world.room)
    names = rooms.call_with(tc_world.room, claim, w.patient_a)
    assert names == [
        "DORVANE Alix (patient·e)",
        f"{doctor.display_name} (Médecin)",
        f"{w.nurse_a.display_name} (Infirmier·ère)",
    ]


def test_a_test_room_has_no_one_to_call_with(tc_world: TC):  # noqa: F811
    doctor = tc_world.cardiologist
    room = rooms.create_test_room(doctor)
    assert rooms.call_with(room, rooms.user_claim(doctor, room)) == []


def test_the_page_has_a_polite_announcer_a_chat_log_and_the_role_words(tc_world: TC):  # noqa: F811
    html = (
        logged_in(tc_world.w.nurse_a)
        .get(reverse("room", args=[tc_world.room.slug]))
        .content.decode()
    )
    assert re.search(r'id="room-announcer" role="status" aria-live="polite"', html)
    assert "{#" not in html and "{% comment" not in html  # no template comment leaks out
    assert re.search(r'<div role="log" aria-labelledby="chat-title"', html)
    # The status line on screen is not a second live region (each change is said once).
    assert re.search(r'<p class="room-status" id="room-status">', html)
    assert 'role="toolbar"' not in html and 'role="group"' in html
    config = json.loads(re.search(r'id="room-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["roles"]["medecin"] == "Médecin"
    assert config["roles"]["invite:interprete"] == "Interprète"


def test_roles_are_the_profession_or_the_guest_relation_and_ride_in_the_token(
    tc_world: TC,  # noqa: F811
):
    doctor = tc_world.cardiologist
    claim = rooms.user_claim(doctor, tc_world.room)
    assert claim.role == Profession.DOCTOR
    assert tokens.read(tokens.issue(claim), tc_world.room.slug) == claim
    guest = rooms.create_guest_link(
        None, doctor, tc_world.room, "M. Interprète", GuestRelation.INTERPRETER, 2
    )
    assert rooms.guest_claim(guest).role == "invite:interprete"


@pytest.mark.django_db(transaction=True)  # the consumer reads from another thread
def test_peers_meet_each_other_with_their_role(tc_world: TC):  # noqa: F811
    slug = tc_world.room.slug
    doctor_token = token_for(tc_world.cardiologist, tc_world.room)
    nurse_token = token_for(tc_world.w.nurse_a, tc_world.room)

    async def scenario():
        doctor = Socket(slug, doctor_token)
        await doctor.connect()
        assert (await doctor.expect("admitted"))["me"]["role"] == "medecin"
        nurse = Socket(slug, nurse_token)
        await nurse.connect()
        waiting = await doctor.expect("waiting-list")
        while not waiting["peers"]:
            waiting = await doctor.expect("waiting-list")
        assert [p["role"] for p in waiting["peers"]] == ["infirmier"]
        await doctor.send_json({"type": "admit", "id": waiting["peers"][0]["id"]})
        admitted = await nurse.expect("admitted")
        assert [(p["label"], p["role"]) for p in admitted["peers"]] == [
            (tc_world.cardiologist.display_name, "medecin")
        ]
        assert (await doctor.expect("peer-joined"))["peer"]["role"] == "infirmier"
        await nurse.drop(1000)
        await doctor.drop(1000)

    async_to_sync(scenario)()
