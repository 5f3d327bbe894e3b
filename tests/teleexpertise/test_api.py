"""/api/v1/teleexpertise: every endpoint, its successes and its French errors."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from telesante.accounts.models import Profession
from telesante.acts.models import Act
from telesante.documents.models import Attachment
from telesante.teleexpertise import services
from telesante.teleexpertise.models import State
from tests.conftest import api_client, make_user
from tests.teleexpertise.conftest import answered, geriatric_request, jpeg, pdf

BASE = "/api/v1/teleexpertise"


def payload(t, **overrides) -> dict:
    return {
        "patient_id": t.w.patient_a.pk,
        "structure_id": t.w.ehpad_a.pk,
        "filiere": "geriatrie",
        "question": "Chutes répétées, avis sur le traitement ?",
        "information_given": True,
        "decision": "consent",
        "form": {"reason": "Chutes", "autonomy": "GIR 4", "treatment": "Donépézil 10 mg"},
        **overrides,
    }


@pytest.fixture
def geriatrician(te_world):
    return make_user(
        "geriatre@example.test",
        structure=te_world.wound_expert.memberships.get().structure,
        profession=Profession.DOCTOR,
        specialty="geriatrie",
    )


@pytest.fixture
def te(te_world, geriatrician):
    return services.create(None, te_world.w.nurse_a, geriatric_request(te_world))


def post_json(user, url: str, data: dict | None = None):
    return api_client(user).post(url, data or {}, content_type="application/json")


# POST /teleexpertise


def test_create(te_world, geriatrician):
    t = te_world
    response = post_json(t.w.nurse_a, BASE, payload(t, urgency="urgent"))
    assert response.status_code == 201, response.content
    body = response.json()
    te = services.TeleExpertise.objects.get(pk=body["id"])
    assert body["patient_id"] == t.w.patient_a.pk
    assert body["filiere"] == "geriatrie"
    assert body["state"] == "pooled"
    assert body["urgency"] == "urgent"
    assert body["requester_id"] == t.w.nurse_a.pk
    assert body["form_data"] == {
        "reason": "Chutes",
        "autonomy": "GIR 4",
        "treatment": "Donépézil 10 mg",
    }
    due = datetime.datetime.fromisoformat(body["due_at"])
    assert abs(due - te.act.due_at) < datetime.timedelta(milliseconds=1)
    assert te.act.due_at - te.act.requested_at == datetime.timedelta(days=2)
    assert services.inbox(geriatrician).get() == te


def test_create_refusal_names_decision(te_world):
    response = post_json(te_world.w.nurse_a, BASE, payload(te_world, decision="refusal"))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Données invalides."
    assert "refuse" in body["errors"]["decision"][0]
    assert not Act.objects.exists()


def test_create_form_errors_name_the_fields(te_world):
    response = post_json(
        te_world.w.nurse_a,
        BASE,
        payload(te_world, form={"reason": "Insomnie"}, information_given=False),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["reason"] == ["Motif : Choix invalide."]
    assert errors["treatment"] == ["Traitement en cours : champ obligatoire."]
    assert "information_given" in errors
    assert not Act.objects.exists()


def test_create_missing_fields_is_422_in_french(te_world):
    data = payload(te_world)
    del data["decision"]
    response = post_json(te_world.w.nurse_a, BASE, data)
    assert response.status_code == 422
    assert response.json()["errors"]["decision"] == ["Champ obligatoire."]


def test_create_file_required_filiere_without_file_is_400(te_world):
    data = payload(te_world, filiere="dermatologie", form={})
    response = post_json(te_world.w.nurse_a, BASE, data)
    assert response.status_code == 400
    assert "photos" in response.json()["errors"]


def test_create_unknown_filiere(te_world):
    response = post_json(te_world.w.nurse_a, BASE, payload(te_world, filiere="astrologie"))
    assert response.status_code == 400
    assert response.json()["errors"]["filiere"] == ["Filière inconnue."]


def test_create_refused_to_pharmacist_and_for_foreign_patient(te_world):
    t = te_world
    pharmacist = make_user(
        "pharma@example.test", structure=t.w.ehpad_a, profession=Profession.PHARMACIST
    )
    assert post_json(pharmacist, BASE, payload(t)).status_code == 403
    foreign = payload(t, patient_id=t.w.patient_b.pk)
    assert post_json(t.w.nurse_a, BASE, foreign).status_code == 404
    assert post_json(None, BASE, payload(t)).status_code == 401
    assert not Act.objects.exists()


# GET /teleexpertise


def test_listing_boxes_and_status(te_world, geriatrician, te):
    t = te_world
    other = services.create(None, t.w.nurse_a, geriatric_request(t))
    services.claim(None, geriatrician, other)

    def ids(user, query: str) -> list[int]:
        response = api_client(user).get(f"{BASE}?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()]

    assert ids(geriatrician, "box=inbox") == [te.pk, other.pk]
    assert ids(geriatrician, "box=inbox&status=pooled") == [te.pk]
    assert ids(geriatrician, "box=inbox&status=claimed") == [other.pk]
    assert ids(geriatrician, "box=outbox") == []
    assert ids(t.w.nurse_a, "box=outbox") == [te.pk, other.pk]
    assert ids(t.w.nurse_a, "box=outbox&status=claimed") == [other.pk]
    assert ids(t.w.nurse_a, "box=inbox") == []
    assert ids(t.w.nurse_b, "box=outbox") == []
    assert ids(geriatrician, "") == [te.pk, other.pk]  # inbox by default
    assert api_client(geriatrician).get(f"{BASE}?box=tout").status_code == 404
    assert api_client(geriatrician).get(f"{BASE}?status=perdu").status_code == 422
    assert ids(geriatrician, "box=inbox&limit=1") == [te.pk]
    for bad in ("0", "201", "beaucoup"):
        assert api_client(geriatrician).get(f"{BASE}?limit={bad}").status_code == 422


# GET /teleexpertise/{id}


def test_read(te_world, geriatrician, te):
    t = te_world
    services.claim(None, geriatrician, te)
    services.post_message(None, geriatrician, te, "Quel bilan ?", ask_info=True)
    body = api_client(t.w.nurse_a).get(f"{BASE}/{te.pk}").json()
    assert body["id"] == te.pk
    assert body["state"] == "waiting_info"
    assert body["claimed_by_id"] == geriatrician.pk
    assert [(m["author_id"], m["body"]) for m in body["messages"]] == [
        (geriatrician.pk, "Quel bilan ?")
    ]
    assert body["attachments"] == []
    assert body["billing_codes"] == []
    assert api_client(t.w.nurse_b).get(f"{BASE}/{te.pk}").status_code == 404
    assert api_client(t.w.nurse_a).get(f"{BASE}/999999").status_code == 404


def test_read_answered_shows_attachments_and_billing(te_world):
    t = te_world
    te = answered(t)
    body = api_client(t.wound_expert).get(f"{BASE}/{te.pk}").json()
    assert body["state"] == "answered"
    assert body["consultation_need"] == "routine"
    assert [(a["field"], a["content_type"]) for a in body["attachments"]] == [
        ("photos", "image/jpeg")
    ]
    assert {(b["code"], b["professional_id"], b["billable"]) for b in body["billing_codes"]} == {
        ("TE2", t.wound_expert.pk, True),
        ("RQD", t.w.nurse_a.pk, True),
    }


# POST /teleexpertise/{id}/attachments


def test_attachments(te_world, te):
    t = te_world
    client = api_client(t.w.nurse_a)
    response = client.post(
        f"{BASE}/{te.pk}/attachments", {"file": pdf("bilan.pdf"), "field": "documents"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["field"], body["original_name"], body["content_type"]) == (
        "documents",
        "bilan.pdf",
        "application/pdf",
    )
    response = client.post(f"{BASE}/{te.pk}/attachments", {"file": jpeg("photo.png")})
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/jpeg"
    assert te.act.attachments.count() == 2


def test_attachment_executable_is_400_with_errors(te_world, te):
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + bytes(500), content_type="image/jpeg")
    response = api_client(te_world.w.nurse_a).post(f"{BASE}/{te.pk}/attachments", {"file": exe})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Données invalides."
    assert body["errors"]["__all__"] == [
        "« photo.jpg » n'est pas une image JPEG ou PNG ni un PDF (contenu vérifié)."
    ]
    assert not Attachment.objects.exists()


def test_attachment_of_30_mb_is_refused_in_json(te_world, te):
    big = SimpleUploadedFile(
        "grosse.jpg", b"\xff\xd8\xff\xe0" + bytes(30 * 1024 * 1024), content_type="image/jpeg"
    )
    response = api_client(te_world.w.nurse_a).post(f"{BASE}/{te.pk}/attachments", {"file": big})
    assert response.status_code in (400, 413)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Mo" in str(response.json()) or response.status_code == 413
    assert not Attachment.objects.exists()


def test_attachment_without_file_is_422(te_world, te):
    response = api_client(te_world.w.nurse_a).post(f"{BASE}/{te.pk}/attachments", {})
    assert response.status_code == 422
    assert response.json()["errors"]


def test_attachment_only_by_requester_or_expert(te_world, geriatrician, te):
    t = te_world
    url = f"{BASE}/{te.pk}/attachments"
    # The pool sees the request but does not add to it before taking it.
    assert api_client(geriatrician).post(url, {"file": jpeg()}).status_code == 403
    assert api_client(t.w.nurse_b).post(url, {"file": jpeg()}).status_code == 404
    services.claim(None, geriatrician, te)
    assert api_client(geriatrician).post(url, {"file": jpeg()}).status_code == 201


# POST /teleexpertise/{id}/messages


def test_messages(te_world, geriatrician, te):
    t = te_world
    services.claim(None, geriatrician, te)
    url = f"{BASE}/{te.pk}/messages"
    response = post_json(geriatrician, url, {"body": "Dernier MMS ?", "ask_info": True})
    assert response.status_code == 201
    assert response.json()["body"] == "Dernier MMS ?"
    te.refresh_from_db()
    assert te.state == State.WAITING_INFO
    response = post_json(t.w.nurse_a, url, {"body": "22/30 en janvier."})
    assert response.status_code == 201
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    empty = post_json(t.w.nurse_a, url, {"body": "  "})
    assert empty.status_code == 400
    assert empty.json()["errors"]["body"] == ["Le message est vide."]
    assert post_json(t.w.nurse_b, url, {"body": "Bonjour"}).status_code == 404
    assert te.messages.count() == 2


# POST /teleexpertise/{id}/claim


def test_claim_and_conflict(te_world, geriatrician, te):
    t = te_world
    colleague = make_user(
        "geriatre2@example.test",
        structure=geriatrician.memberships.get().structure,
        profession=Profession.DOCTOR,
        specialty="geriatrie",
    )
    response = post_json(geriatrician, f"{BASE}/{te.pk}/claim")
    assert response.status_code == 200
    assert response.json()["claimed_by_id"] == geriatrician.pk
    assert response.json()["state"] == "claimed"
    again = post_json(colleague, f"{BASE}/{te.pk}/claim")
    assert again.status_code == 409
    assert again.json()["detail"] == "Cette demande a déjà été prise en charge."
    assert post_json(t.w.nurse_b, f"{BASE}/{te.pk}/claim").status_code == 404


def test_claim_by_the_requester_is_403(te_world, te):
    assert post_json(te_world.w.nurse_a, f"{BASE}/{te.pk}/claim").status_code == 403


# POST /teleexpertise/{id}/answer


def test_answer(te_world, geriatrician, te):
    services.claim(None, geriatrician, te)
    url = f"{BASE}/{te.pk}/answer"
    missing = post_json(geriatrician, url, {"opinion": "", "consultation_need": "none"})
    assert missing.status_code == 400
    assert missing.json()["errors"]["opinion"] == ["La conclusion (avis) est obligatoire."]
    no_need = post_json(geriatrician, url, {"opinion": "Avis"})
    assert no_need.status_code == 422
    assert "consultation_need" in no_need.json()["errors"]
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    response = post_json(
        geriatrician,
        url,
        {
            "opinion": "Réduire les psychotropes",
            "recommendations": "Kiné",
            "consultation_need": "soon",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["opinion"], body["consultation_need"]) == (
        "answered",
        "Réduire les psychotropes",
        "soon",
    )
    assert (
        post_json(geriatrician, url, {"opinion": "Bis", "consultation_need": "none"}).status_code
        == 409
    )


def test_answer_by_another_expert_is_403(te_world, geriatrician, te):
    services.claim(None, geriatrician, te)
    response = post_json(
        te_world.w.nurse_a, f"{BASE}/{te.pk}/answer", {"opinion": "A", "consultation_need": "none"}
    )
    assert response.status_code == 403


# POST /teleexpertise/{id}/decline


def test_decline(te_world, geriatrician, te):
    services.claim(None, geriatrician, te)
    url = f"{BASE}/{te.pk}/decline"
    empty = post_json(geriatrician, url, {"reason": " "})
    assert empty.status_code == 400
    assert empty.json()["errors"]["reason"] == ["Indiquez le motif du refus."]
    response = post_json(geriatrician, url, {"reason": "Hors compétence"})
    assert response.status_code == 200
    assert response.json()["state"] == "pooled"
    assert response.json()["claimed_by_id"] is None
    assert te.declines.get().reason == "Hors compétence"
    assert post_json(te_world.w.nurse_a, url, {"reason": "x"}).status_code == 403


# GET /teleexpertise/{id}/report.pdf


def test_report_pdf_only_after_answer(te_world, geriatrician, te):
    t = te_world
    url = f"{BASE}/{te.pk}/report.pdf"
    assert api_client(t.w.nurse_a).get(url).status_code == 404
    services.claim(None, geriatrician, te)
    services.answer(None, geriatrician, te, "Avis", "", "none")
    response = api_client(t.w.nurse_a).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert api_client(t.w.nurse_b).get(url).status_code == 404
    assert api_client(None).get(url).status_code == 401
