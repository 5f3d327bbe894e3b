"""Guests (the patient at home, invited third parties) file documents into the act's record from
the room, through the professionals' checks, once admitted; they read none of the record."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from telesante.core.models import AuditEntry
from telesante.documents.models import Attachment
from telesante.documents.services import GPS_IFD
from telesante.rooms import services, tokens
from telesante.rooms.models import ChatMessage
from telesante.teleconsultation import services as tc_services
from tests.conftest import logged_in
from tests.rooms.conftest import TC, booking
from tests.teleexpertise.conftest import jpeg
from tests.teleexpertise.test_requests import gps_jpeg


def enter_as_guest(tc_world: TC, room, label: str = "Mme Dorvane"):
    """A browser that opened a guest link of `room`, and the guest."""
    guest = services.create_guest_link(None, tc_world.cardiologist, room, label, "patient", 2)
    browser = logged_in(None)
    assert browser.get(tokens.guest_path(guest.pk)).status_code == 200
    return browser, guest


def admit(guest) -> None:
    peer, _replaced, _back = services.join(guest.room, services.guest_claim(guest), "canal")
    services.admit(guest.room.pk, peer.peer_id)


def test_an_admitted_guest_files_a_checked_document_and_reads_none(tc_world: TC, settings):
    room = tc_world.room
    browser, guest = enter_as_guest(tc_world, room)
    url = reverse("room_share", args=[room.slug])
    waiting = browser.post(url, {"file": jpeg()})
    assert waiting.status_code == 403
    assert waiting.json() == {
        "detail": "Le professionnel doit d'abord vous admettre dans la salle."
    }
    admit(guest)
    text = SimpleUploadedFile("notes.txt", b"bonjour", content_type="text/plain")
    refused = browser.post(url, {"file": text})
    assert refused.status_code == 400
    assert "n'est pas une image JPEG ou PNG ni un PDF" in refused.json()["detail"]
    settings.MAX_UPLOAD_BYTES = 1024
    too_big = browser.post(url, {"file": gps_jpeg()})
    assert too_big.status_code == 400 and "dépasse la taille maximale" in too_big.json()["detail"]
    settings.MAX_UPLOAD_BYTES = 15 * 1024 * 1024
    made = browser.post(url, {"file": gps_jpeg()})
    assert made.status_code == 201
    filed = Attachment.objects.get()
    # No address back to the record for a guest.
    assert made.json() == {"id": filed.pk, "name": "gps.jpg"}
    assert (filed.act_id, filed.field) == (tc_world.consultation.pk, "salle")
    assert filed.uploaded_by is None and filed.uploaded_by_guest == guest
    assert Image.open(filed.file.open("rb")).getexif().get_ifd(GPS_IFD) == {}
    entry = AuditEntry.objects.get(object_type="attachment")
    assert entry.actor_id is None and entry.patient_id == tc_world.w.patient_a.pk
    assert entry.actor_label == f"Invité·e « Mme Dorvane » (lien n° {guest.pk})"
    chat = ChatMessage.objects.get()
    assert (chat.author, chat.party) == ("Mme Dorvane", f"g:{guest.pk}")
    # The record stays closed to the guest: neither this file nor the professionals' ones.
    nurse_file = logged_in(tc_world.w.nurse_a).post(url, {"file": jpeg("ecg.jpg")}).json()
    for pk in (filed.pk, nurse_file["id"]):
        answer = browser.get(reverse("attachment", args=[pk]))
        assert answer.status_code == 302 and answer["Location"].startswith("/compte/login/")
    # The professionals read it in the act's record.
    detail = logged_in(tc_world.cardiologist).get(
        reverse("teleconsultation_detail", args=[tc_world.consultation.pk])
    )
    assert reverse("attachment", args=[filed.pk]) in detail.content.decode()


def test_a_guest_of_another_act_or_a_withdrawn_link_files_nothing(tc_world: TC):
    other = tc_services.create(None, tc_world.w.nurse_a, booking(tc_world.w, tc_world.cardiologist))
    browser, stranger = enter_as_guest(tc_world, other.act.room, "Interprète")
    admit(stranger)
    # Admitted in the other act's room, not in this one: the link names one act only.
    foreign = browser.post(reverse("room_share", args=[tc_world.room.slug]), {"file": jpeg()})
    assert foreign.status_code == 302 and foreign["Location"].startswith("/compte/login/")
    own_room = reverse("room_share", args=[other.act.room.slug])
    services.revoke_guest_link(None, tc_world.cardiologist, other.act.room, stranger.pk)
    withdrawn = browser.post(own_room, {"file": jpeg()})
    assert withdrawn.status_code == 403
    assert withdrawn.json() == {"detail": "Lien d'invitation expiré ou retiré."}
    assert not Attachment.objects.exists()


def test_the_guest_page_offers_to_file_a_document(tc_world: TC):
    browser, guest = enter_as_guest(tc_world, tc_world.room)
    page = browser.get(tokens.guest_path(guest.pk)).content.decode()
    assert f'"shareUrl": "{reverse("room_share", args=[tc_world.room.slug])}"' in page
    assert '"reportUrl": ""' in page
