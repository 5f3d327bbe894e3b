"""The pages with charts, read by axe-core and with the keyboard: the télésurveillance patient
page (six measures, one reading under its threshold) and the indicators dashboard, at phone and
desktop widths. Each chart is an image named after what it draws, and the table of its values
opens from the keyboard right after it.

Screenshots on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-a11y.sqlite3 \\
        .venv/bin/pytest tests/e2e/test_chart_pages_a11y.py

PNGs go to screenshots/a11y-<page>-<phone|desktop>.png (gitignored).
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from playwright.sync_api import expect

from telesante.telesurveillance import alerts
from tests.e2e.axe_check import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE, shoot
from tests.e2e.keyboard import tab_to
from tests.indicators.conftest import Dataset, dataset  # noqa: F401
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401
from tests.telesurveillance.test_pages import recent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEVICES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture
def quiet(monkeypatch):
    """Seeding beside Playwright's event loop: no live push from the test process itself."""
    monkeypatch.setattr(alerts, "_deliver", lambda ids, now=None: 0)


def open_values(page, summary: str) -> None:
    """Reach the chart's « Tableau des valeurs » with Tab and open it with Enter."""
    details = page.locator("details.chart-values", has=page.get_by_text(summary, exact=True))
    tab_to(page, details.locator("summary"))
    page.keyboard.press("Enter")
    expect(details.get_by_role("table")).to_be_visible()


@pytest.mark.parametrize("device", DEVICES)
def test_telesurveillance_charts_are_named_and_their_values_open_by_keyboard(
    tsv: TSV,  # noqa: F811
    new_page,
    quiet,
    device: str,
):
    recent(tsv)
    page = new_page(DEVICES[device], user=tsv.operator)
    page.goto(reverse("telesurveillance_patient", args=[tsv.enrolment.pk]))
    spo2 = page.get_by_role(
        "img",
        name="Saturation en oxygène (SpO2) (%), 6 mesures sur la période ; seuil min 90",
    )
    expect(spo2).to_be_visible()
    assert_accessible(page, f"suivi du patient, graphiques fermés ({device})")
    open_values(page, "Tableau des valeurs : Saturation en oxygène (SpO2)")
    table = page.locator("figure", has=spo2).get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(7)
    expect(table.get_by_role("row").last).to_contain_text("87seuil min 90")
    assert_accessible(page, f"suivi du patient, valeurs ouvertes ({device})")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, f"a11y-tsv-charts-{device}")


@pytest.fixture
def filieres(transactional_db):
    """A flush between transactional tests empties what the data migration loaded."""
    load = importlib.import_module("telesante.acts.migrations.0002_filieres").load
    load(django_apps, None)


@pytest.mark.parametrize("device", DEVICES)
def test_indicator_charts_are_named_and_their_values_open_by_keyboard(
    filieres,  # before the dataset, whose acts name them
    dataset: Dataset,  # noqa: F811
    new_page,
    device: str,
):
    page = new_page(DEVICES[device], user=dataset.w.observer)
    page.goto("/indicateurs/?territory=53&period=2022-S1")
    expect(page.get_by_role("img", name="Actes par mois et par type")).to_be_visible()
    expect(page.get_by_role("img", name="Actes par filière")).to_be_visible()
    assert_accessible(page, f"indicateurs ({device})")
    open_values(page, "Tableau des valeurs : Actes par mois et par type")
    months = page.locator("figure.ind-chart details").first.get_by_role("table")
    # A row a month drawn, as many as the page's own table of acts by month.
    by_month = page.locator("section[aria-labelledby=t-acts_by_month] tbody tr")
    expect(months.get_by_role("row")).to_have_count(1 + by_month.count())
    assert by_month.count() > 1
    open_values(page, "Tableau des valeurs : Actes par filière")
    assert_accessible(page, f"indicateurs, valeurs ouvertes ({device})")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, f"a11y-indicators-{device}")
