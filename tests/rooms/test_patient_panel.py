"""The room shows the patient to the professionals (identity, age, reason, the act's documents)
and nothing medical to guests; the patient's reading is audited once per page load."""

import datetime

from django.urls import reverse
from django.utils import timezone

from telesante.core.models import AuditAction, AuditEntry
from telesante.documents import services as documents
from telesante.patients.services import age
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from tests.conftest import logged_in
from tests.rooms.conftest import TC, tc_world  # noqa: F401
from tests.teleexpertise.conftest import jpeg

REASON = "Dyspnée d'effort, œdèmes des membres inférieurs"


def patient_reads(tc_world: TC, user) -> int:  # noqa: F811
    return AuditEntry.objects.filter(
        actor_id=user.pk,
        object_type="patient",
        object_id=str(tc_world.w.patient_a.pk),
        action=AuditAction.READ,
    ).count()


def test_age_counts_whole_years_from_the_birth_date():
    born = datetime.date(1940, 3, 2)
    assert age(born, datetime.date(2026, 3, 1)) == 85
    assert age(born, datetime.date(2026, 3, 2)) == 86
    leap = datetime.date(2008, 2, 29)
    assert (age(leap, datetime.date(2026, 2, 28)), age(leap, datetime.date(2026, 3, 1))) == (17, 18)


def test_the_doctor_sees_the_patient_reason_and_documents_beside_the_report(
    tc_world: TC,  # noqa: F811
):
    act = tc_world.consultation.act
    ecg = documents.store(act, tc_world.w.nurse_a, documents.clean_upload(jpeg("ecg.jpg")))
    doctor = tc_world.cardiologist
    before = patient_reads(tc_world, doctor)
    page = logged_in(doctor).get(reverse("room", args=[tc_world.room.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="patient-panel"' in html and "DORVANE Alix" in html
    years = age(datetime.date(1940, 3, 2), timezone.localdate())
    assert f"{years} ans" in html and "02/03/1940" in html
    assert "Dyspnée d&#x27;effort, œdèmes des membres inférieurs" in html
    # The act's documents, served only through the documents wall, open beside the call.
    assert f'href="{reverse("attachment", args=[ecg.pk])}" target="_blank"' in html
    assert 'id="report-text"' in html and "with-report" in html
    # One audited reading of the patient per page load.
    assert patient_reads(tc_world, doctor) == before + 1
    logged_in(doctor).get(reverse("room", args=[tc_world.room.slug]))
    assert patient_reads(tc_world, doctor) == before + 2
    # The token the page fetches on each (re)connection reads no patient.
    logged_in(doctor).get(reverse("room_token", args=[tc_world.room.slug]))
    assert patient_reads(tc_world, doctor) == before + 2


def test_the_requesting_nurse_sees_the_patient_but_writes_no_report(tc_world: TC):  # noqa: F811
    page = logged_in(tc_world.w.nurse_a).get(reverse("room", args=[tc_world.room.slug]))
    html = page.content.decode()
    assert 'id="patient-panel"' in html and "DORVANE Alix" in html
    assert 'id="report-text"' not in html and "with-report" not in html
    assert "Aucun document pour l'instant." in html


def test_a_guest_sees_nothing_medical_and_reads_no_patient(tc_world: TC):  # noqa: F811
    act = tc_world.consultation.act
    documents.store(act, tc_world.w.nurse_a, documents.clean_upload(jpeg("ecg.jpg")))
    guest = rooms.create_guest_link(None, tc_world.cardiologist, tc_world.room, "Mme Dorvane")
    reads = AuditEntry.objects.filter(object_type="patient", action=AuditAction.READ).count()
    page = logged_in(None).get(tokens.guest_path(guest.pk))
    html = page.content.decode()
    assert page.status_code == 200
    for medical in ("patient-panel", "DORVANE", "02/03/1940", "Dyspnée", "ecg.jpg", "report-text"):
        assert medical not in html, medical
    assert AuditEntry.objects.filter(object_type="patient", action=AuditAction.READ).count() == (
        reads
    )


def test_an_assisting_expert_sees_the_patient_of_the_assisted_act(tc_world: TC):  # noqa: F811
    from telesante.teleconsultation import services

    services.assist(None, tc_world.cardiologist, tc_world.consultation, tc_world.w.doctor_a.pk)
    page = logged_in(tc_world.w.doctor_a).get(reverse("room", args=[tc_world.room.slug]))
    html = page.content.decode()
    assert page.status_code == 200 and "DORVANE Alix" in html and "Dyspnée" in html
    assert patient_reads(tc_world, tc_world.w.doctor_a) == 1
