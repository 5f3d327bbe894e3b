"""The compte rendu (R.6316-4): the expert's letterhead (structure, author with RPPS), patient
identity with its INS status, professionals with RPPS, dates and times, question, the exchange of
messages, answer, attachments and incidents, as a PDF stored with the act. A section with
nothing to say is left out rather than printed empty."""

import io
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, Spacer

from telesante.acts import filiere_forms
from telesante.core.i18n import product_language
from telesante.documents.pdf import (
    BODY,
    H2,
    TITLE,
    build,
    fmt,
    identity,
    incidents,
    letterhead,
    para,
    pro,
    table,
)


@product_language()
def render(te) -> bytes:
    act = te.act
    body, h2 = BODY, H2
    story = [
        *letterhead(act.performing_structure, te.claimed_by),
        Paragraph("Compte rendu de télé-expertise", TITLE),
        Paragraph(escape(f"{act.filiere.name} — demande n° {act.pk}"), body),
        Spacer(1, 0.4 * cm),
        Paragraph("Patient", h2),
    ]
    people = [
        ["Demandeur (requérant)", pro(act.requester)],
        ["Structure demandeuse", act.requesting_structure.name],
        ["Expert (requis)", pro(te.claimed_by)],
        ["Demande envoyée le", fmt(act.requested_at)],
        ["Prise en charge le", fmt(te.claimed_at)],
        ["Réponse le", fmt(te.answered_at)],
    ]
    story += [
        identity(act.patient),
        Paragraph("Professionnels et dates", h2),
        table(people),
        Paragraph("Question", h2),
        para(te.question),
    ]
    rows = filiere_forms.display(act.filiere.form, te.form_data)
    if rows:
        story.append(table([[label, value] for label, value in rows]))
    messages = list(te.messages.select_related("author"))
    if messages:
        story.append(Paragraph("Échanges entre les professionnels", h2))
        story.append(table([[f"{fmt(m.created_at)}\n{pro(m.author)}", m.body] for m in messages]))
    if te.opinion:
        story += [Paragraph("Avis de l'expert", h2), para(te.opinion)]
        if te.consultation_need:
            story.append(para(f"Consultation : {te.get_consultation_need_display()}"))
    if te.recommendations:
        story += [Paragraph("Recommandations", h2), para(te.recommendations)]
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
    story += incidents(act)
    return build(story, f"Télé-expertise {act.pk}")


def attach(te) -> None:
    """The report on the act, then on its way to the médecin traitant and the DMP (outbox)."""
    from telesante.outbox import services as outbox

    te.act.report.save(f"te-{te.act.pk}.pdf", ContentFile(render(te)), save=True)
    outbox.queue(te.act)
