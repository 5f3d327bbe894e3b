"""Exports of the indicator tables: CSV, XLSX and a printable PDF summary, in French.

Counts of acts or people below ``TELESANTE_INDICATORS_MIN_COUNT`` (but above zero) are
masked (statistical confidentiality): they could point at a patient in a small territory.
CSV files start with a byte order mark (spreadsheet software then reads them as UTF-8) and keep
plain numbers with a decimal comma, for computing; the PDF groups thousands (12 345) and the
workbook formats its cells so.
"""

import datetime
import io

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from telesante.accounts.models import Profession
from telesante.acts.models import Filiere
from telesante.core.text import csv_text
from telesante.indicators.charts import number
from telesante.indicators.figures import Indicators, Table
from telesante.patients.models import ActKind
from telesante.structures.models import Structure, StructureKind


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


def _shown(value) -> str:
    """A value as printed: thousands grouped, a decimal comma."""
    if type(value) is int:
        return number(value)
    if isinstance(value, float):
        return f"{value:,.1f}".translate({ord(","): "\xa0", ord("."): ","})
    return _cell(value)


def _yes_no(value: bool) -> str:
    return _("oui") if value else _("non")


def description(result: Indicators) -> str:
    """The filters in words: « Période : 2022-S1 ; Territoire : Mayenne (53) »."""
    f = result.filters
    parts = []
    if f.period:
        parts.append(_("Période : %(v)s") % {"v": f.period.label})
    if f.territory:
        parts.append(_("Territoire : %(v)s") % {"v": f"{f.territory.name} ({f.territory.code})"})
    if f.structure:
        name = Structure.objects.filter(pk=f.structure).values_list("name", flat=True).first()
        parts.append(_("Structure : %(v)s") % {"v": name or f.structure})
    if f.structure_kind:
        parts.append(_("Type de structure : %(v)s") % {"v": StructureKind(f.structure_kind).label})
    if f.kind:
        parts.append(_("Type d'acte : %(v)s") % {"v": ActKind(f.kind).label})
    if f.filiere:
        name = Filiere.objects.filter(pk=f.filiere).values_list("name", flat=True).first()
        parts.append(_("Filière : %(v)s") % {"v": name or f.filiere})
    if f.profession:
        parts.append(_("Profession : %(v)s") % {"v": Profession(f.profession).label})
    if f.rural is not None:
        parts.append(_("Zone rurale : %(v)s") % {"v": _yes_no(f.rural)})
    if f.underserved is not None:
        parts.append(_("Zone sous-dense : %(v)s") % {"v": _yes_no(f.underserved)})
    return _("Filtres — %(f)s") % {"f": " ; ".join(parts) or _("aucun (toute la région)")}


def table_csv(table: Table) -> str:
    return csv_text(table.columns, [[_cell(v) for v in row] for row in masked_rows(table)])


def all_csv(result: Indicators) -> str:
    """Every table in one long CSV: table;row label;column;value."""
    rows = [
        [table.title, row[0], column, _cell(value)]
        for table in result.tables
        for row in masked_rows(table)
        for column, value in zip(table.columns[1:], row[1:], strict=True)
    ]
    return csv_text([_("Tableau"), _("Ligne"), _("Colonne"), _("Valeur")], rows)


def workbook(result: Indicators) -> bytes:
    book = Workbook()
    book.remove(book.active)
    filters = description(result)
    for table in result.tables:
        sheet = book.create_sheet(table.sheet_name)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([filters])
        sheet.append([str(c) for c in table.columns])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in masked_rows(table):
            sheet.append([v if v is None or isinstance(v, int | float) else str(v) for v in row])
            for cell in sheet[sheet.max_row]:
                # Shown with the reader's separators: 12 345 and 66,7 in a French spreadsheet.
                if type(cell.value) is int:
                    cell.number_format = "#,##0"
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.0"
        sheet.column_dimensions["A"].width = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _local(moment: str) -> str:
    """An ISO date-time as read in the platform's time zone: 05/03/2026 à 14:30."""
    local = timezone.localtime(datetime.datetime.fromisoformat(moment))
    return _("%(date)s à %(time)s") % {
        "date": local.strftime("%d/%m/%Y"),
        "time": local.strftime("%H:%M"),
    }


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
            % {
                "d": _local(result.summary["computed_at"]),
                "n": settings.TELESANTE_INDICATORS_MIN_COUNT,
            },
            styles["Normal"],
        ),
    ]
    for table in result.tables:
        story += [Spacer(1, 5 * mm), Paragraph(table.title, styles["Heading2"])]
        data = [table.columns, *[[_shown(v) for v in row] for row in masked_rows(table)]]
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
