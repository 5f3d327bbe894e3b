"""`telesante local-receivers`, the demo's MSSanté operator and DMP, run as its own process: a
report closed as the demo's users close it goes there over STARTTLS and ITI-65, is filed under
its folder, and the act page shows its lines sent."""

import base64
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from lxml import etree

from telesante.outbox import receivers
from telesante.outbox.models import Channel, State
from tests.conftest import logged_in
from tests.e2e.server import TELESANTE, free_port
from tests.outbox.test_outbox import CDA, MATRICULE, t  # noqa: F401
from tests.teleexpertise.conftest import (  # noqa: F401
    TE,
    answered,
    immediate_tasks,
    load_filieres,
    te_world,
)

pytestmark = pytest.mark.django_db
START_SECONDS = 20


@dataclass(frozen=True)
class Running:
    folder: Path
    log: Path


@pytest.fixture
def local_receivers(tmp_path, settings):
    """The command in its own process; settings point the real backends at it, as `make demo`
    does; stopped with SIGTERM as `make demo` stops it."""
    folder = tmp_path / "local-receivers"
    smtp_port, mhd_port = free_port(), free_port()
    log = tmp_path / "receivers.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(TELESANTE),
                "local-receivers",
                "--folder",
                str(folder),
                "--smtp-port",
                str(smtp_port),
                "--mhd-port",
                str(mhd_port),
            ],
            env={**os.environ, "TELESANTE_DEBUG": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_SECONDS
    while not (folder / "ready").exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    settings.TELESANTE_MSSANTE_BACKEND = "telesante.outbox.mssante.SMTPBackend"
    settings.TELESANTE_MSSANTE_HOST = "127.0.0.1"
    settings.TELESANTE_MSSANTE_PORT = smtp_port
    settings.TELESANTE_MSSANTE_IMPLICIT_TLS = False
    settings.TELESANTE_MSSANTE_CA_FILE = str(folder / "ca.pem")
    settings.TELESANTE_DMP_BACKEND = "telesante.outbox.dmp.MHDBackend"
    settings.TELESANTE_DMP_MHD_URL = f"http://127.0.0.1:{mhd_port}/fhir"
    settings.TELESANTE_DMP_MHD_TOKEN = ""
    try:
        yield Running(folder, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0 and not (folder / "ready").exists()


def test_a_closed_act_reaches_the_local_smtp_server_and_mhd_receiver(
    t,  # noqa: F811
    local_receivers,
    django_capture_on_commit_callbacks,
):
    # Answered as the expert does: the report's lines are sent once the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        te = answered(t)
    act = te.act
    assert {(d.channel, d.state) for d in act.deliveries.all()} == {
        (Channel.MSSANTE, State.SENT),
        (Channel.DMP, State.SENT),
    }
    assert act.deliveries.count() == 3

    folder = local_receivers.folder
    mails = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted((folder / "mail").glob("*.eml"))
    ]
    assert sorted(m["To"] for m in mails) == [
        f"{MATRICULE}@patient.mssante.fr",
        "alix.medecin@ght53.mssante.fr",
    ]
    act.report.open("rb")
    pdf = act.report.read()
    for mail in mails:
        parts = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
        assert set(parts) == {
            f"compte-rendu-{act.pk}.pdf",
            f"compte-rendu-{act.pk}.xml",
            "IHE_XDM.ZIP",
        }
        assert parts[f"compte-rendu-{act.pk}.pdf"] == pdf
        assert parts["IHE_XDM.ZIP"].startswith(b"PK")

    (bundle_file,) = (folder / "mhd").glob("*.json")
    bundle = json.loads(bundle_file.read_text())
    assert receivers.check_bundle(bundle) == []
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    cda = etree.fromstring(base64.b64decode(resources["Binary"]["data"]))
    assert cda.find("h:recordTarget//h:id", CDA).get("extension") == MATRICULE
    assert base64.b64decode(cda.find(".//h:nonXMLBody/h:text", CDA).text) == pdf

    page = logged_in(t.w.nurse_a).get(f"/teleexpertise/{te.pk}/").content.decode()
    assert "Envois du compte rendu" in page
    assert page.count("Envoyé") >= 3
    assert "alix.medecin@ght53.mssante.fr" in page and "Échec" not in page

    # One log line per item received, naming the attachments.
    log = local_receivers.log.read_text()
    assert log.count("Courriel reçu (TLS)") == 2
    assert log.count(f"pièces jointes : compte-rendu-{act.pk}.pdf, compte-rendu-{act.pk}.xml") == 2
    assert log.count("Bundle ITI-65 reçu") == 1


def test_the_mhd_receiver_refuses_a_bad_bundle_and_says_why(local_receivers, settings):
    request = urllib.request.Request(
        settings.TELESANTE_DMP_MHD_URL,
        data=json.dumps({"resourceType": "Bundle", "type": "batch", "entry": []}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 422
    outcome = json.loads(refused.value.read())
    assert outcome["resourceType"] == "OperationOutcome"
    assert "pas un Bundle de type transaction" in outcome["issue"][0]["diagnostics"]
    garbled = urllib.request.Request(
        settings.TELESANTE_DMP_MHD_URL, data=b"<Bundle/>", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as unreadable:
        urllib.request.urlopen(garbled, timeout=5)
    assert unreadable.value.code == 400
    assert not list((local_receivers.folder / "mhd").iterdir())
    log = local_receivers.log.read_text()
    assert "Bundle refusé : ce n'est pas un Bundle de type transaction" in log
    assert "Bundle refusé : Corps de requête illisible" in log
