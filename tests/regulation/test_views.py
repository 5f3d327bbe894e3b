"""Regulation pages and API: the regulator's, the caller's (no account), lists paged, audited
and in a constant number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.accounts.models import Session
from telesante.core.models import AuditAction, AuditEntry
from telesante.regulation import services
from telesante.regulation.models import EventKind, RegulationMedia, RegulationRecord
from telesante.rooms import tokens
from tests.conftest import api_client, logged_in, make_user
from tests.regulation.conftest import RG, new_record
from tests.regulation.test_services import jpeg_with_gps


def caller_client(regul: RG) -> tuple[Client, object]:
    """The caller's phone: the SMS link opened once (it answers with the page), then the page
    at its plain address."""
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    phone = Client()
    response = phone.get(reverse("regulation_caller_open", args=[value]))
    assert response.status_code == 200 and "J'accepte" in response.content.decode()
    return phone, link


def test_list_is_paged_audited_and_constant_in_queries(regul: RG):
    client = logged_in(regul.regulator)
    url = reverse("regulation_list")
    client.get(url)  # the session and the menu's first reads
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(12):
        new_record(regul.regulator, reason=f"Malaise {n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(many) == len(few)
    assert "Malaise 11" in page.content.decode()
    listed = AuditEntry.objects.filter(action=AuditAction.SEARCH, object_type="regulationrecord")
    assert listed.count() == 2 + 13
    RegulationRecord.objects.bulk_create(
        RegulationRecord(
            structure=regul.samu,
            created_by=regul.regulator,
            called_at=regul.record.called_at,
            caller_number="+33600000000",
            reason="x",
        )
        for _ in range(60)
    )
    second = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 sur 2" in second


def test_api_list_is_paged_and_constant_in_queries(regul: RG, django_assert_max_num_queries):
    client = api_client(regul.regulator)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/regulation")
    for n in range(5):
        new_record(regul.regulator, reason=f"Douleur {n}")
    with django_assert_max_num_queries(len(few)):
        response = client.get("/api/v1/regulation?limit=3&offset=1")
    assert response["X-Total-Count"] == "6" and len(response.json()) == 3


def test_create_page_keeps_what_was_typed_on_error(regul: RG):
    client = logged_in(regul.regulator)
    response = client.post(
        reverse("regulation_create"), {"caller_number": "1234", "reason": "Brûlure"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Numéro de téléphone invalide" in body and 'value="Brûlure"' in body
    response = client.post(
        reverse("regulation_create"), {"caller_number": "07 55 66 77 88", "reason": "Brûlure"}
    )
    record = RegulationRecord.objects.get(reason="Brûlure")
    assert response["Location"] == reverse("regulation_detail", args=[record.pk])
    assert record.caller_number == "+33755667788"
    # Stored in E.164 for the SMS providers, read back as the regulator typed it.
    page = client.get(response["Location"]).content.decode()
    assert "<dd>07 55 66 77 88</dd>" in page and "par SMS au 07 55 66 77 88" in page
    assert "07 55 66 77 88" in client.get(reverse("regulation_list")).content.decode()


def test_detail_update_and_other_structure(regul: RG):
    url = reverse("regulation_detail", args=[regul.record.pk])
    assert logged_in(regul.regulator_b).get(url).status_code == 404
    client = logged_in(regul.regulator)
    client.post(
        reverse("regulation_update", args=[regul.record.pk]),
        {"reason": "Chute", "decision": "ambulance", "notes": "Conscient"},
    )
    page = client.get(url).content.decode()
    assert "Ambulance" in page and "Dossier modifié" in page
    response = client.post(
        reverse("regulation_update", args=[regul.record.pk]), {"decision": "fusée"}
    )
    assert response.status_code == 302
    assert "Décision inconnue." in client.get(url).content.decode()


def test_patient_link_through_the_wall(regul: RG):
    client = logged_in(regul.regulator)
    url = reverse("regulation_patient", args=[regul.record.pk])
    assert client.post(url, {"patient": regul.w.patient_b.pk}).status_code == 404
    assert client.post(url, {"patient": "abc"}).status_code == 404


def test_send_link_then_video_screen(regul: RG):
    client = logged_in(regul.regulator)
    response = client.post(reverse("regulation_send_link", args=[regul.record.pk]))
    assert response["Location"] == reverse("regulation_video", args=[regul.record.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'id="remote-video"' in page and "regulation_regulator.js" in page
    link = regul.record.links.get()
    assert f"/ws/rooms/{link.room.slug}/" in page
    # The room's token: the regulator holds the room as its host.
    token = client.get(reverse("room_token", args=[link.room.slug]))
    assert token.status_code == 200
    # Another regulator of the same centre sees the record, not the session's commands (the
    # room is the sender's).
    colleague = make_user("regulateur.2@example.test", structure=regul.samu, regulation_access=True)
    other = logged_in(colleague).get(response["Location"]).content.decode()
    assert "remote-video" not in other and "Aucune vidéo en cours" in other


def test_caller_page_reveals_nothing_and_speaks_five_languages(regul: RG):
    services.update_record(None, regul.regulator, regul.record, {"notes": "Antécédents cardiaques"})
    phone, link = caller_client(regul)
    page = phone.get(reverse("regulation_caller"))
    body = page.content.decode()
    assert page.status_code == 200 and "SAMU 53" in body
    for secret in ("Chute", "Antécédents", "+33612345678", "Regulateur", "régulation n°"):
        assert secret not in body.replace(f"/ws/rooms/{link.room.slug}/", "")
    assert 'lang="fr"' in body and "J'accepte" in body
    arabic = phone.get(reverse("regulation_caller"), {"lang": "ar"}).content.decode()
    assert 'dir="rtl"' in arabic and 'lang="ar"' in arabic and "أوافق" in arabic
    for lang, words in (("en", "I agree"), ("es", "Acepto"), ("pt", "Aceito")):
        assert words in phone.get(reverse("regulation_caller"), {"lang": lang}).content.decode()
    # The language chosen stays for the next pages.
    assert "Aceito" in phone.get(reverse("regulation_caller")).content.decode()


def test_the_link_answers_with_the_page_and_writes_no_session(regul: RG):
    """One answer: the page, its first room token and the caller's signed cookie (sent to the
    caller's addresses only); the link's value goes in no Referer and no session is written for
    the caller, whatever they do."""
    sessions = Session.objects.count()
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    phone = Client()
    opened = phone.get(reverse("regulation_caller_open", args=[value]))
    assert opened["Referrer-Policy"] == "strict-origin"
    cookie = opened.cookies["regulation_call"]
    assert cookie["path"] == reverse("regulation_caller") and cookie["httponly"]
    assert cookie["samesite"] == "Lax" and int(cookie["max-age"]) == 60 * 60
    config = opened.context["config"]
    link.refresh_from_db()
    assert config["pageUrl"] == reverse("regulation_caller")
    assert config["wsPath"] == f"/ws/appel/{link.room.slug}/"
    assert tokens.read(config["token"], link.room.slug).party == f"g:{link.guest_id}"
    # Reloads and reconnections go on with the cookie alone.
    assert phone.get(reverse("regulation_caller")).status_code == 200
    fresh = phone.get(reverse("regulation_caller_token")).json()["token"]
    assert tokens.read(fresh, link.room.slug).party == f"g:{link.guest_id}"
    phone.post(reverse("regulation_caller_consent"), {"answer": "no"})
    assert Session.objects.count() == sessions
    # A cookie not signed by the platform, or naming another link, opens nothing.
    forged = Client()
    forged.cookies["regulation_call"] = str(link.pk)
    assert forged.get(reverse("regulation_caller")).status_code == 403
    assert forged.get(reverse("regulation_caller_token")).status_code == 403
    # Withdrawn, the link's token is no longer given.
    services.revoke_link(None, regul.regulator, regul.record, link.pk)
    assert phone.get(reverse("regulation_caller_token")).status_code == 403


def test_caller_consent_position_photo(regul: RG):
    phone, _link = caller_client(regul)
    csrf_free = phone  # Django's test client does not enforce CSRF
    before = csrf_free.post(reverse("regulation_caller_position"), {"latitude": "1"})
    assert before.status_code == 403
    assert csrf_free.post(reverse("regulation_caller_consent"), {"answer": "yes"}).json() == {
        "consented": True
    }
    response = csrf_free.post(
        reverse("regulation_caller_position"),
        {"latitude": "48.0706", "longitude": "-0.7734", "accuracy": "20"},
    )
    assert response.status_code == 200
    fragment = logged_in(regul.regulator).get(
        reverse("regulation_position", args=[regul.record.pk])
    )
    assert "Laval" in fragment.content.decode() and "48,07060" in fragment.content.decode()
    assert csrf_free.post(reverse("regulation_caller_photo")).status_code == 400
    sent = csrf_free.post(reverse("regulation_caller_photo"), {"file": jpeg_with_gps()})
    assert sent.status_code == 201
    asked = csrf_free.post(
        reverse("regulation_caller_photo"), {"file": jpeg_with_gps(), "kind": "cliche"}
    )
    assert asked.status_code == 201
    authors = list(RegulationMedia.objects.order_by("pk").values_list("author", flat=True))
    assert authors == [None, regul.regulator.pk]
    # The regulator reads it through the record's wall; the other SAMU does not.
    media_url = reverse("regulation_media", args=[sent.json()["id"]])
    assert logged_in(regul.regulator).get(media_url).status_code == 200
    assert logged_in(regul.regulator_b).get(media_url).status_code == 404


def test_regulator_snapshot_and_end(regul: RG):
    client = logged_in(regul.regulator)
    snap_url = reverse("regulation_snapshot", args=[regul.record.pk])
    assert client.post(snap_url, {"file": jpeg_with_gps()}).status_code == 400  # no video yet
    phone, _link = caller_client(regul)
    assert client.post(snap_url, {"file": jpeg_with_gps()}).status_code == 403  # no consent
    phone.post(reverse("regulation_caller_consent"), {"answer": "yes"})
    assert client.post(snap_url, {"file": jpeg_with_gps()}).status_code == 201
    bad = client.post(snap_url, {"file": jpeg_with_gps().__class__("x.jpg", b"nope")})
    assert bad.status_code == 400
    client.post(
        reverse("regulation_end", args=[regul.record.pk]),
        {"seen": "Enfant qui respire vite", "quality": "degradee"},
    )
    assert regul.record.events.filter(kind=EventKind.ENDED).exists()
    assert phone.get(reverse("regulation_caller")).status_code == 403
    assert phone.post(reverse("regulation_caller_consent"), {"answer": "yes"}).status_code == 403


def test_reused_and_revoked_links_are_refused_pages(regul: RG):
    _link, value = services.send_video_link(None, regul.regulator, regul.record)
    url = reverse("regulation_caller_open", args=[value])
    assert Client().get(url).status_code == 200
    again = Client().get(url)
    assert again.status_code == 403 and "déjà été utilisé" in again.content.decode()
    link2, value2 = services.send_video_link(None, regul.regulator, regul.record)
    logged_in(regul.regulator).post(
        reverse("regulation_revoke_link", args=[regul.record.pk, link2.pk])
    )
    revoked = Client().get(reverse("regulation_caller_open", args=[value2]))
    assert revoked.status_code == 403 and "retiré" in revoked.content.decode()
    assert Client().get(reverse("regulation_caller")).status_code == 403


def test_api_create_read_update_link(regul: RG):
    client = api_client(regul.regulator)
    created = client.post(
        "/api/v1/regulation",
        {"caller_number": "+33 6 98 76 54 32", "reason": "Malaise"},
        content_type="application/json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["events"][0]["kind"] == "created"
    bad = client.post(
        "/api/v1/regulation", {"caller_number": "x", "reason": ""}, content_type="application/json"
    )
    assert bad.status_code == 400
    changed = client.patch(
        f"/api/v1/regulation/{pk}", {"decision": "conseil"}, content_type="application/json"
    )
    assert changed.json()["decision"] == "conseil" and changed.json()["reason"] == "Malaise"
    sent = client.post(f"/api/v1/regulation/{pk}/video-link")
    assert sent.status_code == 201 and sent.json()["sent_to"] == "+33698765432"
    revoked = client.post(f"/api/v1/regulation/{pk}/video-link/{sent.json()['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert api_client(regul.regulator_b).get(f"/api/v1/regulation/{pk}").status_code == 404
    assert api_client(regul.w.nurse_a).get("/api/v1/regulation").status_code == 403


@pytest.mark.parametrize("user", ["assistant", "nurse"])
def test_pages_refuse_non_regulators(regul: RG, user):
    who = regul.assistant if user == "assistant" else regul.w.nurse_a
    assert logged_in(who).get(reverse("regulation_list")).status_code == 403
    assert logged_in(who).get(reverse("regulation_create")).status_code == 403
