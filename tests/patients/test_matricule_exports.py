"""The matricule INS leaves the platform only for a QUAL identity (RNIV): one test per way out
(page, API, every PDF, every CSV/XLSX export), each given an identity whose matricule is in the
database while the status is not QUAL, so that reading the stored field anywhere would show."""

import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from telesante.api import api
from telesante.core import audit
from telesante.core.models import AuditAction
from telesante.indicators import billing
from telesante.patients.models import IdentityStatus, Patient
from telesante.teleconsultation import reports as tc_reports
from telesante.teleexpertise import reports as te_reports
from telesante.teleexpertise import services as te_services
from telesante.telesurveillance import reports as tsv_reports
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import tc_world  # noqa: F401
from tests.teleexpertise.conftest import te_world, wound_request  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401

# patient_a of the shared world: a woman born in March 1940 at Laval.
NIR = "240035313000128"
NOT_QUALIFIED = [
    IdentityStatus.PROVISIONAL,
    IdentityStatus.RETRIEVED,
    IdentityStatus.VALIDATED,
]


def stored(patient: Patient, status: str) -> Patient:
    """The identity with `status` and a matricule in its row whatever the status: exports must
    go through `shareable_matricule`, never the stored field."""
    Patient.objects.filter(pk=patient.pk).update(
        identity_status=status, matricule=NIR, matricule_kind="TEST"
    )
    patient.refresh_from_db()
    return patient


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("status", NOT_QUALIFIED)
def test_the_patient_page_hides_the_matricule_unless_qualified(world, status):
    patient = stored(world.patient_a, status)
    page = logged_in(world.nurse_a).get(reverse("patient_detail", args=[patient.pk]))
    assert NIR not in page.text
    assert "non affiché : identité non qualifiée" in page.text


def test_the_patient_page_shows_a_qualified_matricule_with_its_oid(world):
    patient = stored(world.patient_a, IdentityStatus.QUALIFIED)
    page = logged_in(world.nurse_a).get(reverse("patient_detail", args=[patient.pk]))
    assert NIR in page.text and "urn:oid:1.2.250.1.213.1.4.10" in page.text


@pytest.mark.parametrize("status", [*NOT_QUALIFIED, IdentityStatus.QUALIFIED])
def test_the_patient_api_sends_the_matricule_only_when_qualified(world, status):
    patient = stored(world.patient_a, status)
    client = api_client(world.nurse_a)
    one = client.get(f"/api/v1/patients/{patient.pk}").json()
    listed = client.get("/api/v1/patients", {"q": "dorvane"}).json()
    changed = client.patch(
        f"/api/v1/patients/{patient.pk}", {"used_name": "Martin"}, content_type="application/json"
    ).json()
    qualified = status == IdentityStatus.QUALIFIED
    for body in (one, listed[0], changed):
        assert body["ins_matricule"] == (NIR if qualified else "")
        assert body["ins_system"] == ("urn:oid:1.2.250.1.213.1.4.10" if qualified else "")


def test_only_the_patient_schema_names_a_matricule_and_it_reads_the_shareable_one():
    """Every API schema: a property about the INS exists only on the patient, and it is the
    QUAL-only `shareable_matricule` (a new schema sending the stored field fails here)."""
    schemas = api.get_openapi_schema()["components"]["schemas"]
    named = sorted(
        f"{schema}.{prop}"
        for schema, body in schemas.items()
        if schema.endswith("Out")  # what the API answers; InsiIn takes a carte Vitale's
        for prop in body.get("properties", {})
        if re.search(r"matricule|\bins_|nir", prop, re.IGNORECASE)
    )
    assert named == ["PatientOut.ins_matricule", "PatientOut.ins_system"]
    from telesante.patients.api import PatientOut

    aliases = {name: f.alias for name, f in PatientOut.model_fields.items()}
    assert aliases["ins_matricule"] == "shareable_matricule"
    assert aliases["ins_system"] == "matricule_oid"


def test_no_page_or_export_reads_the_stored_matricule():
    """The stored field is read where the status is decided and kept (the patient's model and
    services, the demo's seeding that writes QUAL rows); everything else reads
    `shareable_matricule` or `matricule_oid` (the INSi request, its answer and an API payload
    carry a matricule of their own)."""
    allowed = {"patients/models.py", "patients/services.py", "demo/seeding.py"}
    source = Path(settings.BASE_DIR)
    readers = sorted(
        str(path.relative_to(source))
        for path in [*source.rglob("*.py"), *source.rglob("*.html")]
        if "migrations" not in path.parts
        and str(path.relative_to(source)) not in allowed
        and re.search(
            r"(?<!payload)(?<!request)(?<!identity)\.matricule\b(?!_)",
            path.read_text(encoding="utf-8"),
        )
    )
    assert readers == []


@pytest.mark.parametrize("status", [*NOT_QUALIFIED, IdentityStatus.QUALIFIED])
def test_the_teleexpertise_report_prints_the_matricule_only_when_qualified(
    te_world,  # noqa: F811
    status,
):
    t = te_world
    te = te_services.create(None, t.w.nurse_a, wound_request(t))
    te = te_services.claim(None, t.wound_expert, te)
    te = te_services.answer(None, t.wound_expert, te, "Détersion", "Revoir à J15", "routine")
    stored(te.act.patient, status)
    te.act.patient.refresh_from_db()
    text = pdf_text(te_reports.render(te))
    assert (NIR in text) == (status == IdentityStatus.QUALIFIED)
    if status != IdentityStatus.QUALIFIED:
        assert "non qualifiée" in text


@pytest.mark.parametrize("status", [*NOT_QUALIFIED, IdentityStatus.QUALIFIED])
def test_the_teleconsultation_report_and_prescription_print_it_only_when_qualified(
    tc_world,  # noqa: F811
    status,
):
    tc = tc_world.consultation
    stored(tc.act.patient, status)
    tc.act.patient.refresh_from_db()
    tc.report_text = "Examen rassurant."
    for data in (tc_reports.render(tc), tc_reports.prescription(tc, tc_world.cardiologist)):
        assert (NIR in pdf_text(data)) == (status == IdentityStatus.QUALIFIED)


@pytest.mark.parametrize("status", [*NOT_QUALIFIED, IdentityStatus.QUALIFIED])
def test_the_telesurveillance_reports_never_print_a_matricule(tsv, status):  # noqa: F811
    enrolment = tsv.enrolment
    stored(enrolment.act.patient, status)
    enrolment.act.patient.refresh_from_db()
    month = enrolment.starts_on.replace(day=1)
    assert NIR not in pdf_text(tsv_reports.monthly(enrolment, month))


def test_the_audit_journal_csv_names_patients_by_number_only(world):
    patient = stored(world.patient_a, IdentityStatus.QUALIFIED)
    audit.record(None, world.nurse_a, AuditAction.READ, [patient])
    response = logged_in(world.admin_a).get(
        reverse("structure_audit", args=[world.ehpad_a.pk]), {"format": "csv"}
    )
    text = b"".join(response.streaming_content).decode()
    assert str(patient.pk) in text and NIR not in text


def test_the_billing_csv_carries_no_patient_identity(tc_world):  # noqa: F811
    stored(tc_world.consultation.act.patient, IdentityStatus.QUALIFIED)
    period = billing.period_of(datetime.date.today().strftime("%Y-%m"))
    text = billing.export_csv(tc_world.cardiologist, period)
    assert text.startswith("\ufeff")
    assert NIR not in text and "DORVANE" not in text


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx", "synthese.pdf"])
def test_the_indicator_exports_carry_no_patient_identity(tc_world, name):  # noqa: F811
    stored(tc_world.consultation.act.patient, IdentityStatus.QUALIFIED)
    response = logged_in(tc_world.w.observer).get(f"/indicateurs/{name}")
    assert response.status_code == 200
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        text = " ".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    elif name.endswith(".pdf"):
        text = pdf_text(response.content)
    else:
        text = response.content.decode()
    assert NIR not in text and "DORVANE" not in text
