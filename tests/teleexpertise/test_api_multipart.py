"""POST /api/v1/teleexpertise/multipart: a request and its files in one call."""

import json

import pytest

from telesante.acts.models import Act
from telesante.documents.models import Attachment
from telesante.teleexpertise.models import TeleExpertise
from tests.conftest import api_client
from tests.teleexpertise.conftest import TE, jpeg

URL = "/api/v1/teleexpertise/multipart"


def request_data(t: TE, **fields) -> str:
    return json.dumps(
        {
            "patient_id": t.w.patient_a.pk,
            "structure_id": t.w.ehpad_a.pk,
            "filiere": "dermatologie",
            "question": "Lésion pigmentée du dos, à surveiller ?",
            "information_given": True,
            "decision": "consent",
            "form": {
                "lesion_site": "Dos",
                "duration": "1 à 6 mois",
                "evolution": "Extension",
                "symptoms": ["Prurit"],
            },
            "taken_on": {"photos": "2026-03-01"},
            **fields,
        }
    )


@pytest.fixture
def nurse(te_world):
    return api_client(te_world.w.nurse_a)


def test_dermatology_request_with_two_photos_in_one_call(te_world, nurse):
    response = nurse.post(
        URL, {"data": request_data(te_world), "photos": [jpeg("a.jpg"), jpeg("b.jpg")]}
    )
    assert response.status_code == 201, response.content
    te = TeleExpertise.objects.get(pk=response.json()["id"])
    assert te.form_data["symptoms"] == ["Prurit"]
    photos = list(te.act.attachments.order_by("original_name"))
    assert [(p.field, p.original_name, str(p.taken_on)) for p in photos] == [
        ("photos", "a.jpg", "2026-03-01"),
        ("photos", "b.jpg", "2026-03-01"),
    ]
    # The expert reads the request like any other.
    read = api_client(te_world.derm_expert).get(f"/api/v1/teleexpertise/{te.pk}")
    assert read.status_code == 200
    assert len(read.json()["attachments"]) == 2


def test_missing_photo_refused_in_french_and_nothing_kept(te_world, nurse):
    response = nurse.post(URL, {"data": request_data(te_world)})
    assert response.status_code == 400
    assert response.json()["errors"]["photos"] == [
        "Photos de la lésion : au moins 1 fichier requis."
    ]
    assert not Act.objects.exists() and not Attachment.objects.exists()


def test_a_bad_file_or_an_unknown_part_refuses_the_whole_request(te_world, nurse):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.jpg", b"pas une image", content_type="image/jpeg")
    response = nurse.post(
        URL, {"data": request_data(te_world), "photos": [jpeg(), fake], "ecg": jpeg()}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "photos" in errors and "n'est pas une image JPEG" in errors["photos"][0]
    assert errors["ecg"] == ["Ce formulaire n'a pas de champ de fichiers « ecg »."]
    assert not Act.objects.exists() and not Attachment.objects.exists()


def test_malformed_data_part_answers_422_naming_the_fields(te_world, nurse):
    missing = nurse.post(URL, {"photos": jpeg()})
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": "Données invalides.",
        "errors": {"data": ["Champ obligatoire."]},
    }
    bad = nurse.post(
        URL, {"data": request_data(te_world, patient_id="abc", question=""), "photos": jpeg()}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"]["patient_id"] == ["Nombre entier attendu."]
    assert bad.json()["errors"]["question"] == ["Au moins 1 caractère(s)."]
    not_json = nurse.post(URL, {"data": "{pas du json", "photos": jpeg()})
    assert not_json.status_code == 422
    assert not Act.objects.exists()


def test_other_structure_patient_is_a_404(te_world):
    response = api_client(te_world.w.nurse_b).post(
        URL, {"data": request_data(te_world), "photos": jpeg()}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Ressource introuvable."}
