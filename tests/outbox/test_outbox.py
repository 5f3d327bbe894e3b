"""The report's outbox: lines planned per recipient and channel, MSSanté over STARTTLS to a local
SMTP server, the DMP through a local MHD receiver, back-off, never twice, objections."""

import base64
import datetime
import hashlib
import io
import time
import zipfile

import pytest
from django.db import connection
from django.utils import timezone
from lxml import etree

from telesante.core.models import AuditEntry
from telesante.outbox import services
from telesante.outbox.models import Channel, Delivery, State
from telesante.patients.models import IdentityStatus
from tests.conftest import at_once
from tests.teleexpertise.conftest import (  # noqa: F401
    TE,
    answered,
    immediate_tasks,
    load_filieres,
    te_world,
)
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401

pytestmark = pytest.mark.django_db
RIM = {"rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"}
CDA = {"h": "urn:hl7-org:v3"}
MATRICULE = "240035313000123"


def qualify(patient) -> None:
    patient.identity_status = IdentityStatus.QUALIFIED
    patient.matricule, patient.matricule_kind = MATRICULE, "NIR"
    patient.save()


@pytest.fixture
def t(te_world: TE) -> TE:  # noqa: F811
    """Patient A qualified, doctor_a their médecin traitant with an MSSanté box; the expert
    has an RPPS."""
    w = te_world.w
    w.doctor_a.mssante_address = "Alix.Medecin@ght53.mssante.fr"
    w.doctor_a.save()
    w.patient_a.gp = w.doctor_a
    w.patient_a.save()
    qualify(w.patient_a)
    te_world.wound_expert.rpps = "10001234567"
    te_world.wound_expert.save()
    return te_world


def lines(act) -> set[tuple[str, str, str]]:
    return {(d.channel, d.recipient, d.role) for d in act.deliveries.all()}


def test_a_report_is_planned_to_the_gp_the_patient_box_and_the_dmp(t):
    te = answered(t)
    assert lines(te.act) == {
        (Channel.MSSANTE, "alix.medecin@ght53.mssante.fr", "gp"),
        (Channel.MSSANTE, f"{MATRICULE}@patient.mssante.fr", "patient"),
        (Channel.DMP, "dmp", "dmp"),
    }
    assert set(te.act.deliveries.values_list("state", flat=True)) == {State.PENDING}
    # Planned again (the report stored anew): nothing is added.
    assert services.queue(te.act) == 3
    assert te.act.deliveries.count() == 3


def test_objections_and_an_unqualified_identity_create_no_line_and_say_why(t):
    patient = t.w.patient_a
    patient.dmp_objection = patient.mssante_objection = True
    patient.save()
    te = answered(t)
    assert te.act.deliveries.count() == 0
    withheld = services.for_act(te.act)["withheld"]
    assert any("opposé à l'alimentation de son DMP" in r for r in withheld)
    assert any("opposé aux envois par messagerie" in r for r in withheld)

    patient = te.act.patient
    patient.dmp_objection = patient.mssante_objection = False
    patient.identity_status, patient.matricule = IdentityStatus.VALIDATED, ""
    patient.save()
    patient.gp.mssante_address = ""
    planned, withheld = services.plan(te.act)
    assert planned == []
    assert len(withheld) == 3  # no GP box, no patient box, no DMP without the INS


def test_mssante_mail_over_starttls_carries_pdf_cda_and_xdm(t, smtp_server, mhd_receiver):
    te = answered(t)
    now = timezone.now()
    assert services.send_due(now) == {State.SENT: 3}
    assert smtp_server.tls_seen == [True, True]
    by_rcpt = {tuple(rcpts): msg for rcpts, msg in smtp_server.messages}
    msg = by_rcpt[("alix.medecin@ght53.mssante.fr",)]
    assert (f"{MATRICULE}@patient.mssante.fr",) in by_rcpt
    assert msg["Subject"] == "XDM/1.0/DDM+Compte rendu de télé-expertise DORVANE Alix 02/03/1940"
    assert msg["From"] == "telesante@ght53.mssante.fr"
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(parts) == {
        f"compte-rendu-{te.act.pk}.pdf",
        f"compte-rendu-{te.act.pk}.xml",
        "IHE_XDM.ZIP",
    }
    pdf = parts[f"compte-rendu-{te.act.pk}.pdf"].get_content()
    te.act.report.open("rb")
    assert pdf == te.act.report.read() and pdf.startswith(b"%PDF")
    cda = parts[f"compte-rendu-{te.act.pk}.xml"].get_content()
    body = etree.fromstring(cda).find(".//h:nonXMLBody/h:text", CDA)
    assert base64.b64decode(body.text) == pdf

    archive = zipfile.ZipFile(io.BytesIO(parts["IHE_XDM.ZIP"].get_content()))
    assert set(archive.namelist()) == {
        "INDEX.HTM",
        "README.TXT",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC0001.XML",
    }
    document = archive.read("IHE_XDM/SUBSET01/DOC0001.XML")
    assert document == cda
    meta = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    entry = meta.find(".//rim:ExtrinsicObject", RIM)

    def slot(name):
        return entry.find(f"rim:Slot[@name='{name}']/rim:ValueList/rim:Value", RIM).text

    assert slot("hash") == hashlib.sha1(document).hexdigest()
    assert slot("size") == str(len(document))
    assert slot("URI") == "DOC0001.XML"
    patient_ids = {e.get("value") for e in meta.iterfind(".//rim:ExternalIdentifier", RIM)}
    assert f"{MATRICULE}^^^&1.2.250.1.213.1.4.8&ISO" in patient_ids
    assert meta.find(".//rim:Association", RIM).get("targetObject") == entry.get("id")

    # Never twice: the worker's next runs find nothing due.
    assert services.send_due(now + datetime.timedelta(days=1)) == {}
    assert len(smtp_server.messages) == 2
    assert {d.state for d in te.act.deliveries.all()} == {State.SENT}


def test_dmp_gets_an_iti65_bundle_with_the_cda(t, smtp_server, mhd_receiver):
    te = answered(t)
    services.send_due(timezone.now())
    assert mhd_receiver.tokens == ["Bearer jeton-de-test"]
    (bundle,) = mhd_receiver.bundles
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    doc = resources["DocumentReference"]
    assert doc["subject"]["identifier"] == {
        "system": "urn:oid:1.2.250.1.213.1.4.8",
        "value": MATRICULE,
    }
    assert doc["type"]["coding"][0]["code"] == "11488-4"
    assert doc["content"][0]["format"]["code"] == "urn:ihe:iti:xds-sd:pdf:2008"
    assert doc["author"][0]["identifier"]["value"] == "810001234567"
    cda = base64.b64decode(resources["Binary"]["data"])
    assert etree.fromstring(cda).find("h:recordTarget//h:id", CDA).get("extension") == MATRICULE
    assert resources["List"]["code"]["coding"][0]["code"] == "submissionset"
    assert te.act.deliveries.get(channel=Channel.DMP).state == State.SENT


def test_a_failure_is_kept_with_its_reason_and_retried_after_a_delay(t, smtp_server, mhd_receiver):
    te = answered(t)
    mhd_receiver.refuse_with = 400
    now = timezone.now()
    services.send_due(now)
    dmp = te.act.deliveries.get(channel=Channel.DMP)
    assert dmp.state == State.FAILED and dmp.attempts == 1
    assert dmp.last_error == "DMP : refus 400 — INS inconnue"
    assert dmp.next_attempt_at == now + datetime.timedelta(minutes=5)
    # Not before its delay; then it goes through.
    assert services.send_due(now + datetime.timedelta(minutes=4)) == {}
    mhd_receiver.refuse_with = None
    assert services.send_due(now + datetime.timedelta(minutes=5)) == {State.SENT: 1}
    dmp.refresh_from_db()
    assert (dmp.state, dmp.attempts, dmp.last_error) == (State.SENT, 2, "")
    assert len(mhd_receiver.bundles) == 1


def test_an_unreachable_server_fails_then_gives_up(t, settings):
    settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.SMTPBackend"
    settings.TELESANTE_MSSANTE_HOST, settings.TELESANTE_MSSANTE_PORT = "127.0.0.1", 9
    settings.TELESANTE_DMP_BACKEND = "telesante.outbox.dmp.MHDBackend"
    settings.TELESANTE_DMP_MHD_URL = ""
    te = answered(t)
    moment = timezone.now()
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        services.send_due(moment)
        gp = te.act.deliveries.get(role="gp")
        assert gp.attempts == attempt
        moment = gp.next_attempt_at
    assert gp.state == State.ABANDONED
    assert gp.last_error.startswith("Serveur MSSanté 127.0.0.1:9")
    assert te.act.deliveries.get(channel=Channel.DMP).last_error.startswith("Point d'accès DMP")
    assert [services.delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [5, 10, 20]
    assert services.delay(20) == datetime.timedelta(hours=12)


def test_a_server_without_starttls_gets_nothing(t, settings, tls_files):
    """A plain SMTP server: the backend refuses to send in the clear."""
    from aiosmtpd.controller import Controller

    from tests.e2e.server import free_port
    from tests.outbox.conftest import Mailbox

    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.SMTPBackend"
        settings.TELESANTE_MSSANTE_HOST, settings.TELESANTE_MSSANTE_PORT = "127.0.0.1", box.port
        te = answered(t)
        services.deliver(te.act.deliveries.get(role="gp").pk, timezone.now())
    finally:
        controller.stop()
    assert box.messages == []
    gp = te.act.deliveries.get(role="gp")
    assert gp.state == State.FAILED
    assert "STARTTLS" in gp.last_error


def test_a_line_is_sent_once_whoever_runs(t, settings):
    settings.TELESANTE_OUTBOX_DIR = settings.MEDIA_ROOT / "outbox"
    settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.FileBackend"
    settings.TELESANTE_DMP_BACKEND = "telesante.outbox.dmp.FileBackend"
    te = answered(t)
    gp = te.act.deliveries.get(role="gp")
    now = timezone.now()
    assert services.deliver(gp.pk, now) == State.SENT
    assert services.deliver(gp.pk, now) is None  # already sent: the second worker does nothing
    files = sorted(p.name for p in (settings.TELESANTE_OUTBOX_DIR / "mssante").iterdir())
    assert files == [f"envoi-{gp.pk}.eml"]
    services.send_due(now)
    assert (
        settings.TELESANTE_OUTBOX_DIR
        / "dmp"
        / f"envoi-{te.act.deliveries.get(channel='dmp').pk}.json"
    ).exists()


def test_end_of_monitoring_report_goes_to_the_prescriber_and_the_patient(tsv: TSV):  # noqa: F811
    from telesante.telesurveillance import enrolment as enrolments
    from telesante.telesurveillance.models import Enrolment, EnrolmentState

    w = tsv.w
    qualify(w.patient_a)
    w.doctor_a.mssante_address = "prescripteur@ght53.mssante.fr"
    w.doctor_a.save()  # doctor_a prescribed the monitoring
    enrolment = Enrolment.objects.get(pk=tsv.enrolment.pk)
    enrolments.end(None, tsv.operator, enrolment, EnrolmentState.ENDED)
    assert lines(enrolment.act) == {
        (Channel.MSSANTE, "prescripteur@ght53.mssante.fr", "prescriber"),
        (Channel.MSSANTE, f"{MATRICULE}@patient.mssante.fr", "patient"),
        (Channel.DMP, "dmp", "dmp"),
    }


def test_the_patient_objection_is_recorded_and_audited(t):
    from tests.conftest import api_client, logged_in

    patient = t.w.patient_a
    url = f"/patients/{patient.pk}/opposition/"
    response = logged_in(t.w.nurse_a).post(url, {"dmp_objection": "on"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.dmp_objection, patient.mssante_objection) == (True, False)
    entry = AuditEntry.objects.filter(patient_id=patient.pk, action="update").latest("pk")
    assert entry.detail == "opposition DMP : oui, MSSanté : non"
    assert logged_in(t.w.nurse_b).post(url, {"dmp_objection": "on"}).status_code == 404

    api = api_client(t.w.nurse_a)
    answer = api.put(
        f"/api/v1/patients/{patient.pk}/objections",
        {"dmp_objection": False, "mssante_objection": True},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert answer.json() == {"dmp_objection": False, "mssante_objection": True}
    patient.refresh_from_db()
    assert (patient.dmp_objection, patient.mssante_objection) == (False, True)
    te = answered(t)
    assert not te.act.deliveries.filter(channel=Channel.MSSANTE).exists()
    assert te.act.deliveries.filter(channel=Channel.DMP).exists()


def test_the_act_page_shows_each_line_and_why_not(
    t, smtp_server, mhd_receiver, django_assert_max_num_queries
):
    from tests.conftest import logged_in

    mhd_receiver.refuse_with = 503
    te = answered(t)
    services.send_due(timezone.now())
    client = logged_in(t.w.nurse_a)
    page = client.get(f"/teleexpertise/{te.pk}/").content.decode()
    assert "Envois du compte rendu" in page
    assert "alix.medecin@ght53.mssante.fr" in page and "Envoyé" in page
    assert "Échec, nouvel essai prévu" in page and "DMP : refus 503" in page
    Delivery.objects.filter(act=te.act).update(state=State.SENT)
    # The section costs the same whatever the number of lines.
    with django_assert_max_num_queries(60) as few:
        client.get(f"/teleexpertise/{te.pk}/")
    Delivery.objects.bulk_create(
        [
            Delivery(
                act=te.act,
                channel=Channel.MSSANTE,
                recipient=f"x{n}@a.mssante.fr",
                role="gp",
                next_attempt_at=timezone.now(),
            )
            for n in range(10)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/teleexpertise/{te.pk}/")


def test_a_monthly_report_goes_with_its_forfait(tsv: TSV, settings):  # noqa: F811
    from telesante.telesurveillance import forfaits
    from telesante.telesurveillance.models import Enrolment

    w = tsv.w
    qualify(w.patient_a)
    w.doctor_a.mssante_address = "prescripteur@ght53.mssante.fr"
    w.doctor_a.save()
    enrolment = Enrolment.objects.get(pk=tsv.enrolment.pk)
    (forfait,) = forfaits.bill(enrolment.starts_on + datetime.timedelta(days=40))[:1]
    assert forfait.act.report.name.endswith(f"-{forfait.month:%Y-%m}.pdf")
    assert lines(forfait.act) == {
        (Channel.MSSANTE, "prescripteur@ght53.mssante.fr", "prescriber"),
        (Channel.MSSANTE, f"{MATRICULE}@patient.mssante.fr", "patient"),
        (Channel.DMP, "dmp", "dmp"),
    }
    page = logged_in_page(tsv.operator, f"/telesurveillance/suivis/{enrolment.pk}/")
    assert "prescripteur@ght53.mssante.fr : En attente d&#x27;envoi" in page


def logged_in_page(user, url: str) -> str:
    from tests.conftest import logged_in

    return logged_in(user).get(url).content.decode()


SENDS: list[int] = []


class SlowBackend:
    """Records each send and takes its time, so that two workers overlap."""

    def send(self, line, package) -> None:
        time.sleep(0.2)
        SENDS.append(line.pk)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_line_once(t, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite sérialise les écritures : pas de concurrence à éprouver.")
    settings.TELESANTE_MSSANTE_BACKEND = settings.TELESANTE_DMP_BACKEND = (
        "tests.outbox.test_outbox.SlowBackend"
    )
    # The lines wait for the two workers (no send after the commit that planned them).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    load_filieres()
    te = answered(t)
    SENDS.clear()
    now = timezone.now()
    failures = [
        r for r in at_once(lambda _n: services.send_due(now), 2) if isinstance(r, Exception)
    ]
    assert failures == []
    assert sorted(SENDS) == sorted(te.act.deliveries.values_list("pk", flat=True))
    assert set(te.act.deliveries.values_list("state", "attempts")) == {(State.SENT, 1)}
