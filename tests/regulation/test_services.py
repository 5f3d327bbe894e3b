"""The regulation record, its wall, the single-use video link, consent, position and snapshots."""

import datetime
import io

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.utils import timezone
from PIL import Image

from telesante.acts.models import Act
from telesante.core import policy
from telesante.core.models import AuditAction, AuditEntry
from telesante.patients.models import ActKind
from telesante.regulation import position, services
from telesante.regulation.models import EventKind, MediaKind, RegulationMedia, VideoLink
from telesante.rooms import services as rooms
from telesante.rooms.models import Admission, GuestLink, Room
from tests.conftest import at_once
from tests.regulation.conftest import LAVAL, RG, make_regul, new_record


def jpeg_with_gps() -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), "red")
    exif = image.getexif()
    exif[0x8825] = {1: "N", 2: (48.0, 4.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("scene.jpg", out.getvalue(), content_type="image/jpeg")


def kinds(record) -> list[str]:
    return list(record.events.values_list("kind", flat=True))


def test_record_typed_the_french_way(regul: RG):
    record = new_record(regul.regulator, caller_number="06.12.34.56.78", called_at="14:05")
    assert record.caller_number == "+33612345678"
    assert timezone.localtime(record.called_at).strftime("%H:%M") == "14:05"
    assert record.structure == regul.samu
    assert kinds(record) == [EventKind.CREATED]


def test_record_errors_are_french_and_nothing_saved(regul: RG):
    with pytest.raises(ValidationError) as exc:
        new_record(regul.regulator, caller_number="12", called_at="25h", reason=" ")
    errors = exc.value.message_dict
    assert set(errors) == {"caller_number", "called_at", "reason"}
    assert "Numéro de téléphone invalide" in errors["caller_number"][0]
    assert policy.visible_regulations(regul.regulator).count() == 1


def test_only_regulators_of_the_structure_see_the_record(regul: RG):
    assert list(policy.visible_regulations(regul.regulator)) == [regul.record]
    for other in (regul.regulator_b, regul.assistant, regul.w.nurse_a, regul.w.observer):
        assert not policy.visible_regulations(other).exists()
        with pytest.raises(Http404):
            policy.get_regulation(None, other, regul.record.pk, AuditAction.READ)
    with pytest.raises(PermissionDenied):
        new_record(regul.assistant)
    refused = AuditEntry.objects.filter(action=AuditAction.DENIED, object_type="regulationrecord")
    assert refused.count() == 4


def test_update_and_timeline(regul: RG):
    services.update_record(None, regul.regulator, regul.record, {"decision": "smur", "notes": "x"})
    regul.record.refresh_from_db()
    assert regul.record.decision == "smur"
    last = regul.record.events.last()
    assert last.kind == EventKind.UPDATED and "SMUR" in last.detail
    with pytest.raises(ValidationError):
        services.update_record(None, regul.regulator, regul.record, {"decision": "avion"})
    # Nothing changed: no event.
    services.update_record(None, regul.regulator, regul.record, {"decision": "smur"})
    assert regul.record.events.count() == 2


def test_linking_a_patient_makes_a_teleregulation_act(regul: RG):
    patient = regul.w.patient_a
    # The regulator sees the patient only once a team of theirs follows them.
    with pytest.raises(Http404):
        services.link_patient(None, regul.regulator, regul.record, patient.pk)
    from telesante.patients.models import PatientAttachment

    PatientAttachment.objects.create(patient=patient, structure=regul.samu)
    services.link_patient(None, regul.regulator, regul.record, patient.pk)
    act = Act.objects.get(regulation=regul.record)
    assert act.kind == ActKind.TELEREGULATION and act.patient == patient
    assert act.requesting_structure == regul.samu
    with pytest.raises(ValidationError):
        services.link_patient(None, regul.regulator, regul.record, patient.pk)


def test_link_is_sent_by_sms_opens_once(regul: RG, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link, value = services.send_video_link(None, regul.regulator, regul.record)
    assert link.token_hash and value not in link.token_hash  # only the digest is kept
    text = capsys.readouterr().out
    assert "+33612345678" in text and "SAMU 53" in text and f"/v/{value}/" in text
    assert "Chute" not in text  # nothing of the record in the SMS
    opened, reason = services.open_link(value)
    assert opened.pk == link.pk and reason == ""
    assert opened.guest is not None and opened.guest.room == link.room
    again, reason = services.open_link(value)
    assert again is None and "déjà été utilisé" in reason
    assert kinds(regul.record)[-2:] == [EventKind.LINK_OPENED, EventKind.LINK_REFUSED]


@pytest.mark.django_db(transaction=True)
def test_a_link_opened_by_several_requests_at_once_opens_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite sérialise les écritures : pas de concurrence à éprouver.")
    regul = make_regul(world)
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    answers = at_once(lambda _n: services.open_link(value), 4)
    opened = [found for found, _reason in answers if found is not None]
    assert len(opened) == 1
    # One caller's seat in the room: the seats of the requests that lost are gone with them.
    assert list(GuestLink.objects.filter(room=link.room)) == [opened[0].guest]
    assert VideoLink.objects.get(pk=link.pk).guest_id == opened[0].guest.pk
    assert kinds(regul.record).count(EventKind.LINK_REFUSED) == 3


def test_link_expires_and_bad_links_are_refused(regul: RG, settings):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    VideoLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert services.open_link(value) == (None, "Ce lien a expiré.")
    assert services.open_link("nimportequoi")[0] is None
    forged = signing.dumps({"l": link.pk, "n": "x"}, salt=services.LINK_SALT)
    assert services.open_link(forged)[0] is None


def test_revoked_link_is_refused_and_a_new_link_withdraws_the_old(regul: RG):
    first, first_value = services.send_video_link(None, regul.regulator, regul.record)
    second, second_value = services.send_video_link(None, regul.regulator, regul.record)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert services.open_link(first_value) == (None, "Ce lien a été retiré par le SAMU.")
    opened, _ = services.open_link(second_value)
    services.revoke_link(None, regul.regulator, regul.record, second.pk)
    opened.guest.refresh_from_db()
    assert opened.guest.revoked_at is not None  # the caller's seat in the room goes too
    assert services.caller_link(second.pk) is None
    with pytest.raises(Http404):
        services.revoke_link(None, regul.regulator, regul.record, 0)


def test_consent_position_and_media(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _ = services.open_link(value)
    with pytest.raises(PermissionDenied):  # no position before consent
        services.set_position(link, {"latitude": "48,07", "longitude": "-0,77"})
    services.answer_consent(link, True, "ar")
    assert Admission.objects.filter(room=link.room, party=f"g:{link.guest_id}").exists()
    services.set_position(link, {"latitude": "48,0712", "longitude": "-0,7730", "accuracy": "35"})
    record = link.record
    record.refresh_from_db()
    assert (record.latitude, record.longitude, record.accuracy_m) == (48.0712, -0.773, 35)
    assert record.events.get(kind=EventKind.POSITION).detail == "48,07120 ; -0,77300 ± 35 m (Laval)"
    services.set_position(link, {"latitude": "48,0712", "longitude": "-0,7730", "accuracy": "35"})
    assert record.events.filter(kind=EventKind.POSITION).count() == 1  # the same, sent again
    with pytest.raises(ValidationError):
        services.set_position(link, {"latitude": "91", "longitude": "0"})
    drawn = position.of(record)
    assert drawn.commune.name == "Laval" and drawn.commune_m < 100
    assert 'class="accuracy"' in drawn.svg and "Laval" in drawn.svg
    media = services.file_media(None, link, jpeg_with_gps(), MediaKind.SNAPSHOT, regul.regulator)
    assert media.author == regul.regulator and media.record == record
    assert 0x8825 not in Image.open(media.file.open("rb")).getexif()  # the file keeps no GPS
    caller_photo = services.file_media(None, link, jpeg_with_gps(), MediaKind.UPLOAD, None)
    assert caller_photo.author is None
    assert record.events.get(kind=EventKind.UPLOAD).detail == "par l'appelant"
    pdf = SimpleUploadedFile("x.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.file_media(None, link, pdf, MediaKind.UPLOAD, None)


def test_refusal_is_recorded(regul: RG):
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _ = services.open_link(value)
    services.answer_consent(link, False, "es")
    assert regul.record.events.filter(kind=EventKind.REFUSAL, detail="es").exists()
    assert not Admission.objects.filter(room=link.room).exists()
    with pytest.raises(PermissionDenied):
        services.file_media(None, link, jpeg_with_gps(), MediaKind.UPLOAD, None)


def test_end_session_summary_closes_the_room(regul: RG):
    with pytest.raises(ValidationError):
        services.end_session(None, regul.regulator, regul.record, {"seen": "x", "quality": "bonne"})
    link, value = services.send_video_link(None, regul.regulator, regul.record)
    link, _ = services.open_link(value)
    services.answer_consent(link, True, "fr")
    with pytest.raises(ValidationError) as exc:
        services.end_session(None, regul.regulator, regul.record, {"seen": "", "quality": "?"})
    assert set(exc.value.message_dict) == {"seen", "quality"}
    services.file_media(None, link, jpeg_with_gps(), MediaKind.SNAPSHOT, regul.regulator)
    services.end_session(
        None, regul.regulator, regul.record, {"seen": "Plaie du cuir chevelu", "quality": "bonne"}
    )
    link.refresh_from_db()
    assert link.ended_at and link.seen == "Plaie du cuir chevelu"
    assert Room.objects.get(pk=link.room_id).closed_at is not None
    ended = regul.record.events.get(kind=EventKind.ENDED).detail
    assert "1 image" in ended and "bonne" in ended
    assert services.caller_link(link.pk) is None
    assert RegulationMedia.objects.filter(record=regul.record).count() == 1


def test_the_regulators_test_room_is_not_the_regulation_room(regul: RG):
    link, _value = services.send_video_link(None, regul.regulator, regul.record)
    assert rooms.own_test_room(regul.regulator) != link.room


def test_nearest_commune_and_scale(regul: RG):
    assert services.nearest_commune(*LAVAL).name == "Laval"
    assert services.nearest_commune(10.0, 10.0) is None
    assert round(services.distance_m(48.0, 0.0, 48.001, 0.0)) == 111
    assert position._round_bar(730) == 500 and position._round_bar(0.5) == 1


def test_caller_centre_names_the_departement(regul: RG):
    assert services.caller_centre(regul.samu) == "SAMU 53"
    regul.samu_b.kind = "sas"
    assert services.caller_centre(regul.samu_b) == "SAS 72"


def test_the_sms_goes_after_commit_through_the_queue(
    regul: RG, capsys, django_capture_on_commit_callbacks
):
    services.send_video_link(None, regul.regulator, regul.record)
    assert "[SMS]" not in capsys.readouterr().out
    with django_capture_on_commit_callbacks(execute=True):
        services.send_video_link(None, regul.regulator, regul.record)
    assert "[SMS]" in capsys.readouterr().out
    assert not mail.outbox  # an SMS, not an e-mail
    assert timezone.now() - regul.record.called_at < datetime.timedelta(minutes=1)
