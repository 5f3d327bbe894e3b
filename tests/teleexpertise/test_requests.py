"""Sending a télé-expertise request: who may, consent, the filière form, deadlines, files."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from telesante.accounts.models import Profession
from telesante.acts.models import Act, ActStatus, Filiere
from telesante.core.models import AuditAction, AuditEntry
from telesante.documents.models import Attachment
from telesante.notifications.models import Notification
from telesante.patients.models import Consent
from telesante.teleexpertise import services
from telesante.teleexpertise.models import State, Urgency
from tests.conftest import make_user
from tests.teleexpertise.conftest import jpeg, pdf, png, wound_request

GPS_IFD, DATETIME_TAG = 0x8825, 0x0132


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_nothing_saved(refusals: int = 0) -> None:
    assert Act.objects.count() == 0
    assert Consent.objects.exclude(decision="refusal").count() == 0
    assert Consent.objects.filter(decision="refusal").count() == refusals
    assert Attachment.objects.count() == 0
    assert Notification.objects.count() == 0
    assert stored_files() == []


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# Who may request


@pytest.mark.parametrize(
    "profession",
    [
        Profession.DOCTOR,
        Profession.NURSE,
        Profession.IPA,
        Profession.PHYSIO,
        Profession.MIDWIFE,
        Profession.PODIATRIST,
        Profession.SPEECH,
    ],
)
def test_care_professions_may_request(te_world, profession):
    t = te_world
    user = make_user(f"{profession}@example.test", structure=t.w.ehpad_a, profession=profession)
    te = services.create(None, user, wound_request(t))
    assert te.act.requester == user
    assert te.act.status == ActStatus.REQUESTED
    assert te.state == State.POOLED


@pytest.mark.parametrize("profession", [Profession.PHARMACIST, Profession.SECRETARY])
def test_other_professions_may_not_request(te_world, profession):
    t = te_world
    user = make_user(f"{profession}@example.test", structure=t.w.ehpad_a, profession=profession)
    with pytest.raises(PermissionDenied):
        services.create(None, user, wound_request(t))
    assert_nothing_saved()


def test_observer_may_not_request(te_world):
    with pytest.raises(PermissionDenied):
        services.create(None, te_world.w.observer, wound_request(te_world))
    assert_nothing_saved()


def test_request_for_a_patient_of_another_structure_is_not_found(te_world):
    t = te_world
    from django.http import Http404

    with pytest.raises(Http404):
        services.create(None, t.w.nurse_b, wound_request(t, structure_id=t.w.ehpad_b.pk))
    assert_nothing_saved()


# Consent


def test_patient_not_informed_is_refused_and_nothing_saved(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, information_given=False))
    assert "information_given" in errors_of(exc)
    assert "informé" in errors_of(exc)["information_given"][0]
    assert_nothing_saved()


def test_patient_refusal_is_recorded_on_the_patient_and_no_request_is_sent(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, decision="refusal"))
    assert errors_of(exc)["decision"] == [
        "Le patient refuse la télé-expertise : la demande ne peut pas être envoyée. "
        "Son refus est enregistré."
    ]
    assert_nothing_saved(refusals=1)
    refusal = Consent.objects.get()
    assert (refusal.patient, refusal.act_kind, refusal.collected_by) == (
        te_world.w.patient_a,
        "teleexpertise",
        te_world.w.nurse_a,
    )
    assert refusal.information_given and refusal.structure == te_world.w.ehpad_a
    assert AuditEntry.objects.filter(
        action=AuditAction.CONSENT, patient_id=te_world.w.patient_a.pk, detail__endswith="refusal"
    ).exists()


def test_missing_decision_is_an_error(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, decision=""))
    assert "decision" in errors_of(exc)
    assert_nothing_saved()


def test_consent_is_recorded_with_the_act(te_world):
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world))
    consent = te.act.consent
    assert consent.decision == "consent"
    assert consent.information_given
    assert consent.collected_by == te_world.w.nurse_a
    assert consent.patient == te_world.w.patient_a
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, object_type="act", patient_id=te_world.w.patient_a.pk
    ).exists()


def test_empty_question_is_refused(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, question="   "))
    assert "question" in errors_of(exc)
    assert_nothing_saved()


# The filière form, from data


def test_required_fields_of_the_filiere_form(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, form_data={}))
    errors = errors_of(exc)
    for name in ("wound_type", "location", "length_cm", "width_cm", "stage"):
        assert "champ obligatoire" in errors[name][0]
    assert_nothing_saved()


def test_number_accepts_a_comma_decimal(te_world):
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world))
    assert te.form_data["width_cm"] == 3.5
    assert te.form_data["length_cm"] == 4.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("100,5", "Valeur attendue entre 0 et 100 cm."),
        ("-1", "Valeur attendue entre 0 et 100 cm."),
        ("quatre", "Saisissez un nombre (par exemple 3,5)."),
        ("3,5,2", "Saisissez un nombre (par exemple 3,5)."),
        ("1e3", "Saisissez un nombre (par exemple 3,5)."),
    ],
)
def test_number_bounds_and_format(te_world, raw, message):
    request = wound_request(te_world)
    request.form_data["length_cm"] = raw
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, request)
    assert errors_of(exc)["length_cm"] == [f"Longueur : {message}"]
    assert_nothing_saved()


def test_choice_must_be_one_of_the_listed_values(te_world):
    request = wound_request(te_world)
    request.form_data["wound_type"] = "Morsure"
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, request)
    assert errors_of(exc)["wound_type"] == ["Type de plaie : Choix invalide."]


def dermato_request(t, **overrides) -> services.NewRequest:
    return wound_request(
        t,
        filiere_code="dermatologie",
        form_data={
            "lesion_site": "Dos",
            "duration": "1 à 6 mois",
            "evolution": "Extension",
            "symptoms": ["Prurit", "Saignement"],
        },
        **overrides,
    )


def test_multichoice_values_are_checked(te_world):
    te = services.create(None, te_world.w.nurse_a, dermato_request(te_world))
    assert te.form_data["symptoms"] == ["Prurit", "Saignement"]
    request = dermato_request(te_world)
    request.form_data["symptoms"] = ["Prurit", "Toux"]
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, request)
    assert errors_of(exc)["symptoms"] == ["Symptômes : Choix invalide."]


@pytest.mark.parametrize("make", [dermato_request, wound_request])
def test_photos_are_required_for_dermatology_and_wounds(te_world, make):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, make(te_world, files={}))
    assert "au moins 1 fichier requis" in errors_of(exc)["photos"][0]
    assert_nothing_saved()


def cardio_request(t, files) -> services.NewRequest:
    return wound_request(
        t,
        filiere_code="cardiologie",
        form_data={"treatment": "Bisoprolol", "heart_rate": "112", "symptoms": ["Palpitations"]},
        files=files,
    )


def test_cardiology_requires_an_ecg(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, cardio_request(te_world, {}))
    assert "ECG" in errors_of(exc)["ecg"][0]
    assert_nothing_saved()
    te = services.create(
        None, te_world.w.nurse_a, cardio_request(te_world, {"ecg": [(pdf(), None)]})
    )
    (ecg,) = te.act.attachments.all()
    assert (ecg.field, ecg.content_type) == ("ecg", "application/pdf")
    assert te.form_data["heart_rate"] == 112


def test_a_new_filiere_is_data_only(te_world):
    Filiere.objects.create(
        code="nephrologie",
        name="Néphrologie",
        specialty="nephrologie",
        answer_days=3,
        form=[
            {"name": "dfg", "label": "DFG", "type": "number", "unit": "mL/min",
             "min": 0, "max": 150, "required": True},
            {"name": "bilan", "label": "Date du bilan", "type": "date", "required": True},
            {"name": "dialyse", "label": "Dialyse", "type": "choice", "choices": ["Oui", "Non"]},
        ],
    )  # fmt: skip
    nephrologist = make_user(
        "nephro@example.test",
        structure=te_world.wound_expert.memberships.get().structure,
        profession=Profession.DOCTOR,
        specialty="nephrologie",
    )
    make = lambda form: wound_request(  # noqa: E731
        te_world, filiere_code="nephrologie", form_data=form, files={}
    )
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, make({"dfg": "200", "bilan": "31/02/2026"}))
    assert errors_of(exc) == {
        "dfg": ["DFG : Valeur attendue entre 0 et 150 mL/min."],
        "bilan": ["Date du bilan : Date invalide (JJ/MM/AAAA)."],
    }
    te = services.create(None, te_world.w.nurse_a, make({"dfg": "32,5", "bilan": "2026-01-15"}))
    assert te.form_data == {"dfg": 32.5, "bilan": "2026-01-15"}
    assert te.act.due_at - te.act.requested_at == datetime.timedelta(days=3)
    assert services.inbox(nephrologist).get() == te
    assert not services.inbox(te_world.wound_expert).exists()


def test_unknown_or_inactive_filiere_is_refused(te_world):
    Filiere.objects.filter(pk="plaies_cicatrisation").update(active=False)
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world))
    assert "filiere" in errors_of(exc)
    assert_nothing_saved()


def test_unknown_urgency_is_refused(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(None, te_world.w.nurse_a, wound_request(te_world, urgency="immediate"))
    assert "urgency" in errors_of(exc)
    assert_nothing_saved()


# Named expert


def test_named_expert_must_belong_to_the_filiere(te_world):
    t = te_world
    with pytest.raises(ValidationError) as exc:
        services.create(None, t.w.nurse_a, wound_request(t, named_expert_id=t.derm_expert.pk))
    assert errors_of(exc)["named_expert"] == ["Cet expert ne fait pas partie de la filière."]
    assert_nothing_saved()
    te = services.create(None, t.w.nurse_a, wound_request(t, named_expert_id=t.chu_expert.pk))
    assert te.named_expert == t.chu_expert


# Deadline


def test_due_in_seven_days_by_default(te_world):
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world))
    assert te.act.due_at - te.act.requested_at == datetime.timedelta(days=7)


def test_due_date_follows_the_filiere_answer_days(te_world):
    Filiere.objects.filter(pk="plaies_cicatrisation").update(answer_days=5)
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world))
    assert te.act.due_at - te.act.requested_at == datetime.timedelta(days=5)


def test_urgent_request_is_due_in_two_days(te_world):
    Filiere.objects.filter(pk="plaies_cicatrisation").update(answer_days=5)
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world, urgency=Urgency.URGENT))
    assert te.urgency == Urgency.URGENT
    assert te.act.due_at - te.act.requested_at == datetime.timedelta(days=2)


# Attachments


def test_jpeg_png_and_pdf_are_recognised_by_content(te_world):
    disguised_jpeg = jpeg(name="scan.pdf")
    te = services.create(
        None,
        te_world.w.nurse_a,
        cardio_request(
            te_world, {"ecg": [(disguised_jpeg, None), (png(), None), (pdf("trace"), None)]}
        ),
    )
    found = [(a.original_name, a.content_type) for a in te.act.attachments.all()]
    assert found == [
        ("scan.jpg", "image/jpeg"),
        ("plaie.png", "image/png"),
        ("trace.pdf", "application/pdf"),
    ]
    for attachment in te.act.attachments.all():
        assert Path(attachment.file.path).is_file()
        assert attachment.size == attachment.file.size
        assert len(attachment.sha256) == 64


def test_photos_field_takes_only_images(te_world):
    with pytest.raises(ValidationError) as exc:
        services.create(
            None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(pdf(), None)]})
        )
    assert "photo" in errors_of(exc)["photos"][0].lower()
    assert_nothing_saved()


@pytest.mark.parametrize(
    "content", [b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), b"\x7fELF\x02\x01\x01" + bytes(200)]
)
def test_an_executable_renamed_jpg_is_refused(te_world, content):
    upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.create(
            None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(upload, None)]})
        )
    assert errors_of(exc)["photos"] == [
        "« photo.jpg » n'est pas une image JPEG ou PNG ni un PDF (contenu vérifié)."
    ]
    assert_nothing_saved()


def test_one_bad_file_among_good_ones_saves_nothing(te_world):
    bad = SimpleUploadedFile("b.jpg", b"MZ" + bytes(100), content_type="image/jpeg")
    with pytest.raises(ValidationError):
        services.create(
            None,
            te_world.w.nurse_a,
            wound_request(te_world, files={"photos": [(jpeg(), None), (bad, None)]}),
        )
    assert_nothing_saved()


def test_a_30_mb_photo_is_refused(te_world):
    # The real limit (settings.MAX_UPLOAD_BYTES, 15 Mo by default), with a real 30 Mo upload.
    assert settings.MAX_UPLOAD_BYTES < 30 * 1024 * 1024
    big = SimpleUploadedFile(
        "grosse.jpg", b"\xff\xd8\xff\xe0" + bytes(30 * 1024 * 1024), content_type="image/jpeg"
    )
    with pytest.raises(ValidationError) as exc:
        services.create(
            None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(big, None)]})
        )
    message = errors_of(exc)["photos"][0]
    assert "« grosse.jpg » dépasse la taille maximale de" in message
    assert f"{settings.MAX_UPLOAD_BYTES // (1024 * 1024)} Mo" in message
    assert_nothing_saved()


def gps_jpeg(size=(1200, 900)) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (180, 90, 90))
    exif = Image.Exif()
    exif[DATETIME_TAG] = "2026:01:15 10:30:00"
    exif[0x010F] = "Fabricant"
    exif[GPS_IFD] = {1: "N", 2: (47.0, 4.0, 12.5), 3: "W", 4: (0.0, 46.0, 30.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    # The test photo does carry a location before upload.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return SimpleUploadedFile("gps.jpg", data, content_type="image/jpeg")


def test_exif_location_removed_and_date_kept(te_world):
    te = services.create(
        None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(gps_jpeg(), None)]})
    )
    attachment = te.act.attachments.get()
    with attachment.file.open("rb") as f:
        stored = Image.open(io.BytesIO(f.read()))
    exif = stored.getexif()
    assert GPS_IFD not in exif
    assert exif.get_ifd(GPS_IFD) == {}
    assert exif[DATETIME_TAG] == "2026:01:15 10:30:00"
    assert stored.size == (1200, 900)


def test_png_location_removed(te_world):
    image = Image.new("RGB", (50, 50))
    exif = Image.Exif()
    exif[DATETIME_TAG] = "2026:01:15 10:30:00"
    exif[GPS_IFD] = {1: "N", 2: (47.0, 4.0, 12.5)}
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    upload = SimpleUploadedFile("gps.png", out.getvalue(), content_type="image/png")
    te = services.create(
        None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(upload, None)]})
    )
    with te.act.attachments.get().file.open("rb") as f:
        exif = Image.open(io.BytesIO(f.read())).getexif()
    assert exif.get_ifd(GPS_IFD) == {}
    assert exif[DATETIME_TAG] == "2026:01:15 10:30:00"


def test_thumbnail_is_created_at_most_320_px(te_world):
    taken = datetime.date(2026, 1, 14)
    te = services.create(
        None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(gps_jpeg(), taken)]})
    )
    attachment = te.act.attachments.get()
    assert attachment.taken_on == taken
    assert attachment.field == "photos"
    with attachment.thumbnail.open("rb") as f:
        thumb = Image.open(io.BytesIO(f.read()))
    assert thumb.format == "JPEG"
    assert max(thumb.size) <= 320
    assert thumb.size == (320, 240)


def test_pdf_has_no_thumbnail(te_world):
    te = services.create(
        None, te_world.w.nurse_a, cardio_request(te_world, {"ecg": [(pdf(), None)]})
    )
    assert not te.act.attachments.get().thumbnail


def test_corrupted_image_is_refused(te_world):
    broken = SimpleUploadedFile("cassee.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    with pytest.raises(ValidationError) as exc:
        services.create(
            None, te_world.w.nurse_a, wound_request(te_world, files={"photos": [(broken, None)]})
        )
    assert "illisible" in errors_of(exc)["photos"][0]
    assert_nothing_saved()
