"""Building blocks of the comptes rendus (R.6316-4) every kind of act writes as a PDF: the
patient's identity with its INS status, professionals with RPPS, dates, incidents."""

import io
from xml.sax.saxutils import escape

from django.http import FileResponse, Http404
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Table, TableStyle

from telesante.structures import places

STYLES = getSampleStyleSheet()
BODY, H2, TITLE = STYLES["BodyText"], STYLES["Heading2"], STYLES["Title"]
HEAD = ParagraphStyle("letterhead", parent=BODY, fontSize=9, leading=12)


def fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%d/%m/%Y %H:%M") if dt else "—"


def pro(user) -> str:
    if user is None:
        return "—"
    rpps = f" — RPPS {user.rpps}" if user.rpps else ""
    return f"{user.display_name} ({user.get_profession_display()}{rpps})"


def para(text: str, style=BODY) -> Paragraph:
    """Plain text, its line breaks kept (messages and answers are typed on several lines)."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def letterhead(structure, author) -> list:
    """The top of a report: the structure it comes from and its author, with RPPS."""
    lines = []
    if structure is not None:
        lines.append(f"<b>{escape(structure.name)}</b>")
        place = [structure.address, f"{structure.postal_code} {structure.commune.name}".strip()]
        lines.append(escape(", ".join(p for p in place if p)))
        if structure.finess:
            lines.append(escape(f"FINESS {structure.finess}"))
    if author is not None:
        lines.append(escape(f"Rédigé par {pro(author)}"))
    if not lines:
        return []
    return [Paragraph("<br/>".join(lines), HEAD), HRFlowable(width="100%", color="#1f5fa8")]


def table(rows: list[list[str]]) -> Table:
    data = [[para(str(a)), para(str(b))] for a, b in rows]
    out = Table(data, colWidths=[5.5 * cm, 11 * cm])
    out.setStyle(
        TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#cccccc")]
        )
    )
    return out


def identity(patient) -> Table:
    ins = patient.shareable_matricule
    rows = [
        ["Nom de naissance", patient.birth_name],
        ["Prénom(s)", patient.first_names],
        ["Date de naissance", patient.birth_date.strftime("%d/%m/%Y")],
        ["Sexe", patient.get_sex_display()],
        ["Lieu de naissance", places.label(patient.birthplace_code)],
        ["Statut de l'identité", patient.get_identity_status_display()],
        ["Matricule INS", f"{ins} ({patient.matricule_oid})" if ins else "non qualifiée"],
    ]
    if patient.used_name:
        rows.insert(1, ["Nom utilisé", patient.used_name])
    return table(rows)


def incidents(act) -> list:
    found = list(act.incidents.all())
    text = "; ".join(f"{fmt(i.occurred_at)} {i.description}" for i in found) or "Aucun."
    return [Paragraph("Incidents techniques", H2), para(text)]


def build(story: list, title: str) -> bytes:
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title, author="Télésanté").build(story)
    return out.getvalue()


def report_response(act, filename: str) -> FileResponse:
    """The act's stored PDF report as a download; 404 while there is none."""
    if not act.report:
        raise Http404
    return FileResponse(act.report.open("rb"), content_type="application/pdf", filename=filename)
