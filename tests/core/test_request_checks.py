"""NUL bytes in a text or an id are refused with a French 400 naming the fields, before any
view runs (PostgreSQL cannot store them: each of these answered 500 there)."""

import json

from django.urls import reverse

from telesante.patients.models import Patient
from tests.conftest import api_client, logged_in
from tests.patients.test_api import URL, body
from tests.rooms.conftest import tc_world  # noqa: F401  (a booked téléconsultation)


def test_nul_in_an_api_body_is_refused_naming_the_field(world):
    client = api_client(world.nurse_a)
    sent = body(world, birth_name="Que\x00norel")
    response = client.post(URL, json.dumps(sent), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Données invalides.",
        "errors": {"birth_name": ["Caractère nul interdit."]},
    }
    assert not Patient.objects.filter(birth_name__startswith="QUE").exists()
    # A backslash followed by "u0000" is text, not a NUL: the operation answers.
    sent = body(world, used_name="\\u0000")
    fine = client.post(URL, json.dumps(sent), content_type="application/json")
    assert fine.status_code == 201, fine.content


def test_nul_in_a_query_or_a_form_is_refused(world, tc_world):  # noqa: F811
    page = logged_in(world.nurse_a).get(reverse("patient_list"), {"q": "DOR\x00VANE"})
    assert page.status_code == 400
    assert page.content.decode() == "Caractère nul interdit (champ : q)."
    api = api_client(world.observer).get("/api/v1/indicators", {"territory": "5\x003"})
    assert api.json()["errors"] == {"territory": ["Caractère nul interdit."]}
    # A view reading its form directly (a guest link's name) never gets it.
    invite = logged_in(tc_world.cardiologist).post(
        reverse("teleconsultation_invite", args=[tc_world.consultation.pk]),
        {"label": "M. Val\x00morin", "hours": "2"},
    )
    assert invite.status_code == 400
    assert invite.content.decode() == "Caractère nul interdit (champ : label)."


def test_the_refusal_follows_the_page_language(world):
    client = logged_in(world.nurse_a)
    response = client.get(reverse("patient_list"), {"q": "\x00"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.content.decode() == "Null character not allowed (field: q)."
