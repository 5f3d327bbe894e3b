"""NUL bytes in a text or an id are refused with a French 400 before any view runs (PostgreSQL
cannot store them: each of these answered 500 there)."""

import json

from django.urls import reverse

from telesante.patients.models import Patient
from tests.conftest import api_client, logged_in
from tests.patients.test_api import URL, body

MESSAGE = "Caractère nul interdit dans une requête."


def test_nul_in_an_api_body_is_refused(world):
    client = api_client(world.nurse_a)
    response = client.post(
        URL, json.dumps(body(world, birth_name="Que\x00norel")), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": MESSAGE}
    assert not Patient.objects.filter(birth_name__startswith="QUE").exists()
    # A backslash followed by "u0000" is text, not a NUL.
    fine = client.post(
        URL, json.dumps(body(world, used_name="\\u0000")), content_type="application/json"
    )
    assert fine.status_code != 400 or fine.json() != {"detail": MESSAGE}


def test_nul_in_a_query_or_a_form_is_refused(world):
    client = logged_in(world.nurse_a)
    search = client.get(reverse("patient_list"), {"q": "DOR\x00VANE"})
    assert search.status_code == 400
    assert search.content.decode() == MESSAGE
    assert api_client(world.nurse_a).get(URL, {"q": "\x00"}).json() == {"detail": MESSAGE}
    form = client.post(reverse("patient_create"), {"birth_name": "A\x00", "first_names": "B"})
    assert form.status_code == 400
    assert client.get(reverse("patient_list"), {"q": "DORVANE"}).status_code == 200


def test_the_refusal_follows_the_page_language(world):
    client = logged_in(world.nurse_a)
    response = client.get(reverse("patient_list"), {"q": "\x00"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.content.decode() == "NUL character not allowed in a request."
