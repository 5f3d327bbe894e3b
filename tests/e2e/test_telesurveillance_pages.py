"""Télésurveillance in Chromium against the real ASGI server: the patient page's charts at
phone and desktop widths, and the team board updated live when a device sends a low SpO2.

Screenshots on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-tsv.sqlite3 \\
        .venv/bin/pytest tests/e2e/test_telesurveillance_pages.py -k screenshots

PNGs go to screenshots/tsv-<page>-<phone|desktop>.png (gitignored).
"""

import datetime
import json
import os
import urllib.request

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from telesante.telesurveillance import alerts, forfaits
from telesante.telesurveillance.models import DeviceToken
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie
from tests.e2e.server import Server
from tests.e2e.test_teleexpertise_loop import SHOTS, open_page, server  # noqa: F401
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401
from tests.telesurveillance.test_pages import recent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_measurements(server: Server, token: str, items: list[dict]) -> dict:  # noqa: F811
    request = urllib.request.Request(
        f"{server.url}/api/v1/telesurveillance/measurements",
        data=json.dumps({"measurements": items}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def quiet(monkeypatch):
    """Seeding beside Playwright's event loop: no live push from the test process itself."""
    monkeypatch.setattr(alerts, "_deliver", lambda ids, now=None: 0)


def test_chart_page_draws_every_measure_with_thresholds_on_phone_and_desktop(
    tsv: TSV,  # noqa: F811
    server: Server,  # noqa: F811
    open_page,  # noqa: F811
    quiet,
):
    recent(tsv)
    url = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    for spec, width in ((PHONE, 390), (DESKTOP, 1366)):
        page = open_page(spec)
        login_cookie(page.context, server.url, tsv.operator)
        page.goto(url)
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(6)
        spo2 = page.locator('svg.chart[data-type="spo2"]')
        expect(spo2.locator("line.chart-threshold")).to_have_count(1)
        expect(spo2.locator("circle.chart-alert")).to_have_count(1)
        box = spo2.bounding_box()
        assert 300 < box["width"] <= width
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        expect(page.locator(".tsv-notice")).to_contain_text("appelez le 15")


def test_board_shows_a_new_alert_live_and_the_team_resolves_it(
    tsv: TSV,  # noqa: F811
    server: Server,  # noqa: F811
    open_page,  # noqa: F811
):
    page = open_page()
    login_cookie(page.context, server.url, tsv.operator)
    page.goto(reverse("telesurveillance_board"))
    expect(page.locator("body[data-tsv-live='1']")).to_have_count(1)
    expect(page.locator(".tsv-board")).to_contain_text("Aucune alerte")
    _t, token = DeviceToken.issue(exploitant=tsv.enrolment.exploitant)
    now = timezone.now() - datetime.timedelta(minutes=1)
    sent = post_measurements(
        server,
        token,
        [
            {
                "id": "live-1",
                "device": "OX-0001",
                "type": "spo2",
                "value": 86,
                "unit": "%",
                "at": now.isoformat(),
            }
        ],
    )
    assert (sent["accepted"], sent["alerts"]) == (1, 1)
    expect(page.locator(".tsv-board tr.sev-4")).to_contain_text("Critique")
    expect(page.locator("#tsv-toast")).to_contain_text("86 %")
    page.get_by_role("link", name=str(tsv.w.patient_a)).click()
    page.get_by_role("button", name="Prendre en compte").click()
    page.fill("input[name=note]", "Patient rappelé, oxygène vérifié")
    page.get_by_role("button", name="Résoudre").click()
    expect(page.locator(".tsv-alerts")).to_contain_text("Patient rappelé, oxygène vérifié")


def test_the_team_changes_a_threshold_on_a_phone_and_the_chart_draws_it(
    tsv: TSV,  # noqa: F811
    server: Server,  # noqa: F811
    open_page,  # noqa: F811
    quiet,
):
    recent(tsv)
    page = open_page(PHONE)
    login_cookie(page.context, server.url, tsv.operator)
    page.goto(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
    page.get_by_role("link", name="Modifier les seuils").click()
    expect(page.locator("h1")).to_contain_text("Seuils d'alerte du patient")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    spo2 = page.locator("fieldset.threshold").filter(has=page.locator("option[value=spo2]:checked"))
    spo2.get_by_label("Seuil ou variation").fill("150")
    page.get_by_role("button", name="Enregistrer les seuils").click()
    expect(spo2.locator(".error")).to_contain_text("Seuil hors des valeurs possibles")
    spo2.get_by_label("Seuil ou variation").fill("88,5")
    page.get_by_role("button", name="Enregistrer les seuils").click()
    expect(page.locator(".messages")).to_contain_text("minimum 88,5 %")
    line = page.locator('svg.chart[data-type="spo2"] line.chart-threshold')
    expect(line).to_have_attribute("data-threshold", "88.5")
    # The record holds the number typed with a comma, not 885 nor 88.
    tsv.enrolment.refresh_from_db()
    spo2_rules = [r for r in tsv.enrolment.thresholds if r.get("type") == "spo2"]
    assert [r["value"] for r in spo2_rules] == [88.5]


@pytest.mark.skipif(not os.environ.get("TELESANTE_SCREENSHOTS"), reason="captures sur demande")
def test_screenshots(tsv: TSV, server: Server, open_page, quiet):  # noqa: F811
    recent(tsv)
    SHOTS.mkdir(exist_ok=True)
    pages = {
        "board": reverse("telesurveillance_board"),
        "patient": reverse("telesurveillance_patient", args=[tsv.enrolment.pk]),
        "enrol": reverse("telesurveillance_enrol"),
        "thresholds": reverse("telesurveillance_thresholds", args=[tsv.enrolment.pk]),
    }
    forfaits.bill(timezone.localdate())
    for device, spec in {"phone": PHONE, "desktop": DESKTOP}.items():
        page = open_page(spec)
        login_cookie(page.context, server.url, tsv.operator)
        for name, url in pages.items():
            page.goto(url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=SHOTS / f"tsv-{name}-{device}.png", full_page=True)
        page.goto(pages["enrol"])
        page.get_by_role("button", name="Inscrire").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SHOTS / f"tsv-enrol-errors-{device}.png", full_page=True)
        page.goto(pages["thresholds"])
        page.locator("input[name$=-value]").first.fill("abc")
        page.get_by_role("button", name="Enregistrer les seuils").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SHOTS / f"tsv-thresholds-errors-{device}.png", full_page=True)
