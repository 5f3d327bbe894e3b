"""Browser protections on every kind of answer: a page, an API answer, a document. A strict
Content-Security-Policy (files of our own only, no inline code, no framing), features limited
to the platform, and nothing carrying patient data kept in a cache."""

import pytest
from django.urls import reverse

from telesante.documents.models import Attachment
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import TC
from tests.teleexpertise.conftest import jpeg


def assert_protected(response) -> None:
    assert response.status_code == 200, response.content[:200]
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    every_source = " ".join(policy.values())
    assert "unsafe-inline" not in every_source and "unsafe-eval" not in every_source
    assert "http" not in every_source  # no third-party origin
    assert "camera=(self)" in response["Permissions-Policy"]
    assert "microphone=(self)" in response["Permissions-Policy"]
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_page_an_api_answer_and_a_document_are_protected(tc_world: TC):
    pk = tc_world.consultation.pk
    doctor = logged_in(tc_world.cardiologist)
    assert_protected(doctor.get(reverse("teleconsultation_detail", args=[pk])))
    assert_protected(api_client(tc_world.cardiologist).get(f"/api/v1/teleconsultations/{pk}"))
    shared = doctor.post(reverse("room_share", args=[tc_world.room.slug]), {"file": jpeg()})
    assert shared.status_code == 201
    document = doctor.get(reverse("attachment", args=[Attachment.objects.get().pk]))
    assert_protected(document)
    assert document["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("path", ["/compte/login/", "/annuaire/", "/api/v1/docs"])
def test_public_pages_are_protected_too(db, path):
    assert_protected(logged_in(None).get(path))


def test_the_script_catalogue_keeps_its_own_cache_policy(db):
    response = logged_in(None).get(reverse("javascript_catalog"))
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Security-Policy"]
