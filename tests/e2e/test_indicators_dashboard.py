"""The indicators dashboard and its exports in Chromium, as a regional observer sees them."""

import datetime
import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from telesante.indicators import rollup
from telesante.indicators.models import ActMonth
from tests.e2e.conftest import DESKTOP, PHONE
from tests.indicators.conftest import Dataset, add_act, dataset  # noqa: F401

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
    values = {r[0]: r[1] for r in book["Chiffres clés"].iter_rows(min_row=4, values_only=True)}
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


OUTSIDE = """svg => {
    const box = svg.viewBox.baseVal;
    return [...svg.querySelectorAll("text")].filter(t => {
        const b = t.getBBox();
        return b.x < box.x || b.y < box.y || b.x + b.width > box.x + box.width
            || b.y + b.height > box.y + box.height;
    }).map(t => t.textContent);
}"""


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_chart_labels_are_never_cut_and_the_month_under_way_is_partial(
    dataset: Dataset,  # noqa: F811
    new_page,
    device,
) -> None:
    rollup.refresh_dirty()
    # Large counts (as after years of use) need wide value labels; an act this month.
    ActMonth.objects.filter(month=datetime.date(2022, 3, 1)).update(n=123456)
    add_act(dataset, dataset.e1, "teleexpertise", timezone.now())
    page = new_page(PHONE if device == "phone" else DESKTOP, user=dataset.w.observer)
    page.goto("/indicateurs/?territory=53")
    charts = page.locator("figure.ind-chart svg")
    expect(charts).to_have_count(2)
    for i in range(2):
        assert charts.nth(i).evaluate(OUTSIDE) == []
    month = timezone.localdate().strftime("%Y-%m")
    expect(charts.first).to_contain_text(f"{month} (partiel)")
    expect(charts.first).to_contain_text("123\xa0456")  # a tick: thousands grouped
    page.locator("div.grid:has(figure.ind-chart)").screenshot(
        path=f"screenshots/indicators-charts-{device}.png"
    )
