"""The compte rendu (R.6316-4): patient identity with its INS status, professionals with RPPS,
dates and times, question, answer, attachments and incidents, as a PDF stored with the act."""

import io
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from telesante.acts import filiere_forms


def _fmt(dt) -> str:
    return timezone.localtime(dt).strftime("%d/%m/%Y %H:%M") if dt else "—"


def _pro(user) -> str:
    if user is None:
        return "—"
    rpps = f" — RPPS {user.rpps}" if user.rpps else ""
    return f"{user.display_name} ({user.get_profession_display()}{rpps})"


def render(te) -> bytes:
    act, patient = te.act, te.act.patient
    styles = getSampleStyleSheet()
    body, h2 = styles["BodyText"], styles["Heading2"]
    story = [
        Paragraph("Compte rendu de télé-expertise", styles["Title"]),
        Paragraph(escape(f"{act.filiere.name} — demande n° {act.pk}"), body),
        Spacer(1, 0.4 * cm),
        Paragraph("Patient", h2),
    ]
    ins = patient.shareable_matricule
    identity = [
        ["Nom de naissance", patient.birth_name],
        ["Prénom(s)", patient.first_names],
        ["Date de naissance", patient.birth_date.strftime("%d/%m/%Y")],
        ["Sexe", patient.get_sex_display()],
        ["Lieu de naissance (INSEE)", patient.birthplace_code],
        ["Statut de l'identité", patient.get_identity_status_display()],
        ["Matricule INS", f"{ins} ({patient.matricule_oid})" if ins else "non qualifiée"],
    ]
    if patient.used_name:
        identity.insert(1, ["Nom utilisé", patient.used_name])
    people = [
        ["Demandeur (requérant)", _pro(act.requester)],
        ["Structure demandeuse", act.requesting_structure.name],
        ["Expert (requis)", _pro(te.claimed_by)],
        ["Demande envoyée le", _fmt(act.requested_at)],
        ["Prise en charge le", _fmt(te.claimed_at)],
        ["Réponse le", _fmt(te.answered_at)],
    ]
    story += [
        _table(identity),
        Paragraph("Professionnels et dates", h2),
        _table(people),
        Paragraph("Question", h2),
        Paragraph(escape(te.question), body),
    ]
    rows = filiere_forms.display(act.filiere.form, te.form_data)
    if rows:
        story.append(_table([[label, value] for label, value in rows]))
    story += [Paragraph("Avis de l'expert", h2), Paragraph(escape(te.opinion), body)]
    if te.recommendations:
        story += [Paragraph("Recommandations", h2), Paragraph(escape(te.recommendations), body)]
    story.append(Paragraph(escape(f"Consultation : {te.get_consultation_need_display()}"), body))
    attachments = list(act.attachments.all())
    if attachments:
        story.append(Paragraph("Pièces jointes", h2))
        for a in attachments:
            line = f"{a.original_name} ({a.content_type}, {a.size // 1024} Ko)"
            story.append(Paragraph(escape(line), body))
            if a.thumbnail:
                a.thumbnail.open("rb")
                story.append(
                    Image(
                        io.BytesIO(a.thumbnail.read()),
                        width=4 * cm,
                        height=4 * cm,
                        kind="proportional",
                    )
                )
                a.thumbnail.close()
    incidents = list(act.incidents.all())
    story.append(Paragraph("Incidents techniques", h2))
    story.append(
        Paragraph(
            escape(
                "; ".join(f"{_fmt(i.occurred_at)} {i.description}" for i in incidents) or "Aucun."
            ),
            body,
        )
    )
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"Télé-expertise {act.pk}", author="Télésanté").build(
        story
    )
    return out.getvalue()


def _table(rows: list[list[str]]) -> Table:
    styles = getSampleStyleSheet()
    data = [
        [
            Paragraph(escape(str(a)), styles["BodyText"]),
            Paragraph(escape(str(b)), styles["BodyText"]),
        ]
        for a, b in rows
    ]
    table = Table(data, colWidths=[5.5 * cm, 11 * cm])
    table.setStyle(
        TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#cccccc")]
        )
    )
    return table


def attach(te) -> None:
    te.act.report.save(f"te-{te.act.pk}.pdf", ContentFile(render(te)), save=True)
