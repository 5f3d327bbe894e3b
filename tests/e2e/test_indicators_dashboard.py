"""The indicators dashboard and its exports in Chromium, as a regional observer sees them."""

import importlib
import io

import pytest
from django.apps import apps as django_apps
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.indicators.conftest import Dataset, dataset  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def filieres(transactional_db):
    """A flush between transactional tests empties what the data migration loaded."""
    load = importlib.import_module("telesante.acts.migrations.0002_filieres").load
    load(django_apps, None)


URL = "/indicateurs/?territory=53&period=2022-S1"


def test_dashboard_reads_at_a_glance_and_exports(dataset: Dataset, new_page) -> None:  # noqa: F811
    page = new_page(user=dataset.w.observer)
    page.goto("/indicateurs/")
    page.locator("#f-territory").fill("53")
    page.locator("#f-period").fill("2022-S1")
    page.get_by_role("button", name="Afficher").click()
    kpis = page.get_by_role("list", name="Chiffres clés")
    expect(kpis).to_contain_text("6 actes")
    expect(kpis).to_contain_text("66,7 %")
    expect(kpis).to_contain_text("15,0 h")
    expect(page.locator("figure.ind-chart svg")).to_have_count(2)
    expect(
        page.get_by_role("heading", name="Sites par type et état de déploiement")
    ).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter (XLSX)").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    values = {r[0]: r[1] for r in book["summary"].iter_rows(min_row=4, values_only=True)}
    assert values["Actes"] == 6
    assert download.value.suggested_filename == "indicateurs-53-2022-S1.xlsx"


def test_dashboard_fits_a_phone(dataset: Dataset, new_page) -> None:  # noqa: F811
    page = new_page(PHONE, user=dataset.w.observer)
    page.goto(URL)
    expect(page.get_by_role("list", name="Chiffres clés")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_nurse_is_refused(dataset: Dataset, new_page) -> None:  # noqa: F811
    page = new_page(user=dataset.w.nurse_a)
    response = page.goto(URL)
    assert response.status == 403
