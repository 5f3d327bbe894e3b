"""Exports of the indicator tables: CSV, XLSX and a printable PDF summary.

Counts of acts or people below ``TELESANTE_INDICATORS_MIN_COUNT`` (but above zero) are
masked (statistical confidentiality): they could point at a patient in a small territory.
"""

import csv
import io

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from telesante.indicators.figures import Indicators, Table


def masked_label() -> str:
    return f"< {settings.TELESANTE_INDICATORS_MIN_COUNT}"


def is_small(value) -> bool:
    threshold = settings.TELESANTE_INDICATORS_MIN_COUNT
    return type(value) is int and 0 < value < threshold


def masked_rows(table: Table) -> list[list]:
    label = masked_label()
    return [
        [label if i in table.masked and is_small(v) else v for i, v in enumerate(row)]
        for row in table.rows
    ]


def masked_summary(value):
    """The API's JSON with its small counts masked (act and people counts only)."""
    if isinstance(value, dict):
        return {
            # Sites are not people: their counts stay; so do shares, delays and distances.
            k: v if k.endswith(("_pct", "_hours")) or k in ("km", "sites") else masked_summary(v)
            for k, v in value.items()
        }
    return masked_label() if is_small(value) else value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def description(result: Indicators) -> str:
    f = result.filters
    parts = [f"{k}={v}" for k, v in f.raw.items()]
    return _("Filtres : %(f)s") % {"f": ", ".join(parts) or _("aucun (toute la région)")}


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([[_cell(v) for v in row] for row in masked_rows(table)])
    return out.getvalue()


def all_csv(result: Indicators) -> str:
    """Every table in one long CSV: table;row label;column;value."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["table", "ligne", "colonne", "valeur"])
    for table in result.tables:
        for row in masked_rows(table):
            for column, value in zip(table.columns[1:], row[1:], strict=True):
                writer.writerow([table.key, row[0], column, _cell(value)])
    return out.getvalue()


def workbook(result: Indicators) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in result.tables:
        sheet = book.create_sheet(table.key[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([description(result)])
        sheet.append([str(c) for c in table.columns])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in masked_rows(table):
            sheet.append([v if v is None or isinstance(v, int | float) else str(v) for v in row])
        sheet.column_dimensions["A"].width = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf_summary(result: Indicators) -> bytes:
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, title=_("Indicateurs")
    )
    period = result.summary["period"] or _("toutes périodes")
    territory = result.summary["territory"] or _("toute la région")
    story = [
        Paragraph(
            _("Indicateurs de télésanté — %(p)s, %(t)s") % {"p": period, "t": territory},
            styles["Title"],
        ),
        Paragraph(description(result), styles["Normal"]),
        Paragraph(
            _("Calculé le %(d)s. Effectifs inférieurs à %(n)d masqués.")
            % {"d": result.summary["computed_at"], "n": settings.TELESANTE_INDICATORS_MIN_COUNT},
            styles["Normal"],
        ),
    ]
    for table in result.tables:
        story += [Spacer(1, 5 * mm), Paragraph(table.title, styles["Heading2"])]
        data = [table.columns, *[[_cell(v) for v in row] for row in masked_rows(table)]]
        pdf_table = PdfTable(data, repeatRows=1, hAlign="LEFT")
        pdf_table.setStyle(
            TableStyle(
                [
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ]
            )
        )
        story.append(pdf_table)
    doc.build(story)
    return out.getvalue()
