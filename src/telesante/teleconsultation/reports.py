"""The compte rendu of a téléconsultation, télésoin or téléassistance, as a PDF with the act."""

from django.core.files.base import ContentFile
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, Spacer

from telesante.core.i18n import product_language
from telesante.documents.pdf import H2, TITLE, build, fmt, identity, incidents, para, pro, table
from telesante.patients.models import ActKind
from telesante.teleconsultation.models import TeleConsultation


@product_language()
def render(tc: TeleConsultation) -> bytes:
    act = tc.act
    people = [
        ["Demandeur", pro(act.requester)],
        ["Structure demandeuse", act.requesting_structure.name],
        *[["Professionnel à distance", pro(p)] for p in act.performers.all()],
        ["Accompagnement", tc.get_assistance_display()],
        ["Prescripteur", pro(tc.prescriber)],
        ["Prévue le", fmt(tc.scheduled_at)],
        ["Début", fmt(tc.started_at)],
        ["Fin", fmt(act.done_at)],
    ]
    if tc.assists_id:
        people.append(["Acte assisté", f"n° {tc.assists_id}"])
    if act.kind == ActKind.TELESOIN:
        feasible = "déclaré sans contact ni matériel manquant" if tc.video_suitable else "non"
        people.append(["Réalisable en vidéo", feasible])
    story = [
        Paragraph(f"Compte rendu — {act.get_kind_display()}", TITLE),
        para(f"Acte n° {act.pk} — motif : {tc.reason}"),
        Spacer(1, 0.4 * cm),
        Paragraph("Patient", H2),
        identity(act.patient),
        Paragraph("Professionnels et dates", H2),
        table(people),
        Paragraph("Compte rendu", H2),
        para(tc.report_text),
    ]
    if tc.prescriptions:
        story += [Paragraph("Prescriptions", H2), para(tc.prescriptions)]
    codes = [f"{c.code} ({c.professional.display_name})" for c in act.billing_codes.all()]
    story += [Paragraph("Cotation", H2), para(", ".join(codes) or "Aucune.")]
    story += incidents(act)
    return build(story, f"{act.get_kind_display()} {act.pk}")


@product_language()
def prescription(tc: TeleConsultation, prescriber) -> bytes:
    """The prescriptions of the act as their own document (the record keeps it apart)."""
    act = tc.act
    story = [
        Paragraph("Ordonnance", TITLE),
        para(f"{act.get_kind_display()} n° {act.pk} du {fmt(act.done_at)}"),
        Paragraph("Patient", H2),
        identity(act.patient),
        Paragraph("Prescripteur", H2),
        para(pro(prescriber)),
        Paragraph("Prescriptions", H2),
        para(tc.prescriptions),
    ]
    return build(story, f"Ordonnance {act.pk}")


def attach(tc: TeleConsultation, performer) -> None:
    """The report PDF on the act; the prescriptions, if any, as an attachment of the record."""
    from telesante.documents import services as documents
    from telesante.outbox import services as outbox

    tc.act.report.save(f"tc-{tc.act.pk}.pdf", ContentFile(render(tc)), save=True)
    outbox.queue(tc.act)
    if tc.prescriptions:
        pdf = prescription(tc, performer)
        clean = documents.CleanFile(pdf, "application/pdf", f"ordonnance-{tc.act.pk}.pdf", None)
        documents.store(tc.act, performer, clean, field="ordonnance")
