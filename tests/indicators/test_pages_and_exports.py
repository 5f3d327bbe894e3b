"""Dashboard, exports and API on the known dataset: aggregates only, small counts masked."""

import csv
import datetime
import io
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from telesante.acts.models import Act
from telesante.indicators import rollup
from telesante.indicators.models import ActMonth
from tests.conftest import api_client, logged_in
from tests.indicators.conftest import add_act, at

QUERY = {"territory": "53", "period": "2022-S1"}


def test_api_json_has_sites_and_acts_with_small_counts_masked(dataset, settings):
    settings.TELESANTE_INDICATORS_MIN_COUNT = 5
    body = api_client(dataset.w.observer).get("/api/v1/indicators", QUERY).json()
    assert body["acts"] == 6
    assert body["acts_by_kind"]["teleexpertise"] == 5
    assert body["acts_by_kind"]["teleconsultation"] == "< 5"
    assert body["acts_by_kind"]["telesoin"] == 0
    # Sites are not people: never masked; shares and delays stay.
    assert body["sites"]["by_type"]["ehpad"]["deployed"] == 1
    assert body["sites"]["deployed_pct"] == 66.7
    assert body["teleexpertise_delay"]["median_hours"] == 15.0
    assert body["trips_avoided"]["km"] == 578


def test_api_threshold_is_configurable(dataset, settings):
    settings.TELESANTE_INDICATORS_MIN_COUNT = 1
    body = api_client(dataset.w.regional_admin).get("/api/v1/indicators", QUERY).json()
    assert body["acts_by_kind"]["teleconsultation"] == 1


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode()
    assert text.startswith("\ufeff")  # spreadsheet software reads it as UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_api_csv_is_french_with_a_bom(dataset):
    response = api_client(dataset.w.observer).get(
        "/api/v1/indicators", {**QUERY, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0] == ["Tableau", "Ligne", "Colonne", "Valeur"]
    assert ["Actes par type", "Télé-expertise", "Actes", "5"] in rows
    assert ["Sites par type et état de déploiement", "Total", "% déployés", "66,7"] in rows


def test_api_bad_filters_are_400_naming_fields(dataset):
    client = api_client(dataset.w.observer)
    response = client.get("/api/v1/indicators", {"period": "2022-S9", "territory": "xx"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"period", "territory"}
    bad_format = client.get("/api/v1/indicators", {"format": "xml"})
    assert bad_format.status_code == 400 and "format" in bad_format.json()["errors"]


def test_dashboard_shows_figures_and_charts_without_patient_data(dataset):
    page = logged_in(dataset.w.observer).get("/indicateurs/", QUERY)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "Actes par filière" in html and "66,7 %" in html
    assert "DORVANE" not in html and "ORLENNE" not in html


def test_dashboard_bad_filter_is_a_french_400(dataset):
    page = logged_in(dataset.w.observer).get("/indicateurs/", {"period": "hier"})
    assert page.status_code == 400
    assert "Période invalide" in page.content.decode()


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx", "synthese.pdf"])
def test_exports_bad_filter_is_a_french_400(dataset, name):
    response = logged_in(dataset.w.observer).get(f"/indicateurs/{name}", {"period": "hier"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Période invalide" in response.content.decode()


def test_dashboard_costs_constant_queries(dataset):
    client = logged_in(dataset.w.observer)
    client.get("/indicateurs/", QUERY)
    with CaptureQueriesContext(connection) as few:
        client.get("/indicateurs/", QUERY)
    for day in range(1, 25):
        add_act(dataset, dataset.e2, "teleexpertise", at(f"2022-03-{day:02d}"), hours=day)
    client.get("/indicateurs/", QUERY)  # rebuilds the month the new acts dirtied
    with CaptureQueriesContext(connection) as many:
        client.get("/indicateurs/", QUERY)
    assert len(many) == len(few)


def test_csv_of_one_table_masks_small_counts(dataset):
    response = logged_in(dataset.w.observer).get(
        "/indicateurs/export.csv", {**QUERY, "table": "acts_by_filiere"}
    )
    rows = csv_rows(response)
    assert rows[0] == ["Filière", "Actes"]
    assert ["Gériatrie", "< 5"] in rows
    missing = logged_in(dataset.w.observer).get("/indicateurs/export.csv", {"table": "nope"})
    assert missing.status_code == 404


def test_xlsx_has_a_french_sheet_per_table_with_readable_filters(dataset):
    response = logged_in(dataset.w.observer).get("/indicateurs/export.xlsx", QUERY)
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Chiffres clés",
        "Actes par type",
        "Actes par filière",
        "Actes par mois et par type",
        "Actes et sites par département",
        "Sites et déploiement",
        "Zones sous-denses et rurales",
    ]
    sheet = book["Chiffres clés"]
    assert sheet["A2"].value == "Filtres — Période : 2022-S1 ; Territoire : Mayenne (53)"
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["Actes"] == 6
    assert values["Délai de réponse médian (heures)"] == 15.0
    # Thousands grouped and one decimal, in the reader's own separators.
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=4)}
    assert cells["Actes"].number_format == "#,##0"
    assert cells["Délai de réponse médian (heures)"].number_format == "#,##0.0"


def test_pdf_summary_reads_in_french_with_local_time_and_grouped_thousands(dataset, settings):
    settings.TELESANTE_INDICATORS_MIN_COUNT = 1
    rollup.refresh_dirty()
    # One roll-up row standing for many acts (as after a bulk load), to see thousands grouped.
    assert ActMonth.objects.filter(month=datetime.date(2022, 3, 1)).update(n=12345)
    client = logged_in(dataset.w.observer)
    response = client.get("/indicateurs/synthese.pdf", QUERY, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "2022-S1" in text and "Mayenne" in text and "Sites par type" in text
    assert "Filtres — Période : 2022-S1 ; Territoire : Mayenne (53)" in text
    now = timezone.localtime()
    computed = re.search(r"Calculé le (\d\d/\d\d/\d{4}) à (\d\d):(\d\d)", text)
    assert computed.group(1) == now.strftime("%d/%m/%Y")
    minutes = int(computed.group(2)) * 60 + int(computed.group(3))
    assert abs(minutes - (now.hour * 60 + now.minute)) <= 1
    assert re.search(r"\b\d{1,3}\s\d{3}\b", text)  # thousands grouped: 24 690…
    assert not re.search(r"\b\d{5,}\b", text)  # …never 24690


def test_observer_cannot_reach_acts_through_indicators(dataset):
    # The wall is unchanged: an observer sees no act, whatever the indicators show.
    from telesante.core.policy import visible_acts

    assert Act.objects.exists()
    assert not visible_acts(dataset.w.observer).exists()


def test_home_leads_regional_roles_to_their_pages(world):
    assert "/indicateurs/" in logged_in(world.observer).get("/").content.decode()
    assert "/indicateurs/" not in logged_in(world.nurse_a).get("/").content.decode()


def test_month_labels_never_run_into_the_partial_last_month():
    from telesante.indicators import charts

    for months in (7, 13, 25, 37, 60):
        labels = [f"{2022 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
        labels[-1] += " (partiel)"
        svg = str(charts.lines(labels, {"Télé-expertise": list(range(months))}, "Actes"))
        ticks = re.findall(
            r'<text x="([\d.]+)" y="\d+" text-anchor="(\w+)" class="tick">([^<]+)<', svg
        )
        written = [(float(x), a, t) for x, a, t in ticks if t in labels]
        assert written[-1][2] == labels[-1] and written[0][2] == labels[0]
        spans = []
        for x, anchor, text in written:
            w = charts._text_w(text)
            spans.append(
                {"start": (x, x + w), "end": (x - w, x), "middle": (x - w / 2, x + w / 2)}[anchor]
            )
        clear = all(a[1] + charts.GAP <= b[0] for a, b in itertools.pairwise(spans))
        assert clear, (months, written)


def test_each_chart_is_a_named_drawing_followed_by_the_table_of_its_values():
    from telesante.indicators import charts

    series = str(
        charts.lines(
            ["2026-01", "2026-02"],
            {"Télé-expertise": [1200, 3], "Téléconsultation": [0, 0]},
            "Actes par mois et par type",
        )
    )
    assert '<svg viewBox="0 0 640 280" role="img" aria-label="Actes par mois et par type">' in (
        series
    )
    assert series.index("</svg>") < series.index('<details class="chart-values">')
    assert "<summary>Tableau des valeurs : Actes par mois et par type</summary>" in series
    # The series drawn (a series of zeros is not), a row a month, thousands grouped.
    head = re.search(r"<thead>(.*?)</thead>", series, re.S).group(1)
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == ["Mois", "Télé-expertise"]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', series)
    assert rows == [("2026-01", "1\xa0200"), ("2026-02", "3")]

    bars = str(charts.bars([("Plaies et cicatrisation", 7)], "Actes par filière"))
    assert 'role="img" aria-label="Actes par filière"' in bars
    assert re.search(r'<th scope="row">Plaies et cicatrisation</th><td>7</td>', bars)
    empty = str(charts.bars([], "Actes par filière"))
    assert "Aucune valeur sur la période." in empty
