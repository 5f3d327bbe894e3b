"""Each chart of the patient page has its text alternative: a name on the drawing (measure,
unit, count, thresholds) and the table of its values right after it, in French numbers."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from telesante.telesurveillance import charts
from tests.conftest import logged_in
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401
from tests.telesurveillance.test_pages import recent

START = timezone.make_aware(datetime.datetime(2026, 3, 1))
THRESHOLDS = [
    {"type": "spo2", "kind": "below", "value": 90, "severity": 3},
    {"type": "weight", "kind": "change", "value": 2, "days": 3, "severity": 2},
]


def test_the_drawing_is_named_and_its_values_make_a_table():
    points = [
        (START + datetime.timedelta(hours=8), 95.0),
        (START + datetime.timedelta(days=1, hours=8), 87.5),
    ]
    chart = charts.render("spo2", points, THRESHOLDS, START, START + datetime.timedelta(days=2))
    label = re.search(r'<svg [^>]*role="img"[^>]*aria-label="([^"]+)"', chart.svg).group(1)
    assert label == "Saturation en oxygène (SpO2) (%), 2 mesures sur la période ; seuil min 90"
    assert chart.columns == ["Date", "Saturation en oxygène (SpO2) (%)", "Seuil franchi"]
    assert chart.rows == [
        ["01/03/2026 08:00", "95", "—"],
        ["02/03/2026 08:00", "87,5", "seuil min 90"],
    ]


def test_one_measurement_and_no_threshold_read_in_the_singular():
    point = [(START, 81.25)]
    chart = charts.render("weight", point, THRESHOLDS, START, START + datetime.timedelta(days=1))
    assert 'aria-label="Poids (kg), 1 mesure sur la période"' in chart.svg
    assert chart.rows == [["01/03/2026 00:00", "81,2", "—"]]


def test_the_patient_page_sets_each_table_after_its_chart(tsv: TSV):  # noqa: F811
    recent(tsv)
    url = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    html = logged_in(tsv.operator).get(url).content.decode()
    figures = re.findall(r'<figure class="card chart-card">(.*?)</figure>', html, re.S)
    assert len(figures) == 6
    for figure in figures:
        assert figure.index("</svg>") < figure.index('<details class="chart-values">')
    spo2 = next(f for f in figures if 'data-type="spo2"' in f)
    assert "<summary>Tableau des valeurs : Saturation en oxygène (SpO2)</summary>" in spo2
    assert '<th scope="col">Seuil franchi</th>' in spo2
    assert spo2.count("<tr>") == 1 + 6  # the header, five days and the low reading
    assert re.search(r"<td>87</td><td>seuil min 90</td>", spo2)
