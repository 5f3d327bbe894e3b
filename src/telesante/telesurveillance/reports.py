"""Monthly and end-of-monitoring reports (PDF) for the prescriber and the patient."""

import datetime

from django.core.files.base import ContentFile
from django.db.models import Avg, Count, Max, Min
from reportlab.lib.units import cm
from reportlab.platypus import Spacer

from telesante.core.i18n import product_language
from telesante.documents.pdf import H2, STYLES, TITLE, build, fmt, para, pro, table
from telesante.telesurveillance import adherence, catalog
from telesante.telesurveillance.ingest import EMERGENCY_NOTICE
from telesante.telesurveillance.models import Alert, Enrolment, Measurement


def _day(d: datetime.date) -> str:
    return d.strftime("%d/%m/%Y")


@product_language()
def render(enrolment: Enrolment, start: datetime.date, end: datetime.date, title: str) -> bytes:
    """Report over [start, end): measurements summarised per type, alerts, adherence."""
    act, patient = enrolment.act, enrolment.act.patient
    score = adherence.adherence(enrolment, start, end)
    story = [
        para(title, TITLE),
        para(f"{enrolment.programme.name} — suivi n° {act.pk}"),
        para(f"Période du {_day(start)} au {_day(end - datetime.timedelta(1))}"),
        Spacer(1, 0.3 * cm),
        table(
            [
                ["Patient", f"{patient} — né(e) le {_day(patient.birth_date)}"],
                ["Statut de l'identité", patient.get_identity_status_display()],
                ["Prescripteur", pro(enrolment.prescriber)],
                ["Équipe opérateur", f"{enrolment.team.structure} — {enrolment.team}"],
                ["Médecin opérateur", pro(enrolment.operator)],
                ["Exploitant", enrolment.exploitant],
                ["Suivi", f"du {_day(enrolment.starts_on)} au {_day(enrolment.ends_on)}"],
                [
                    "Observance",
                    f"{score.percent} % ({score.received} transmissions sur {score.expected} "
                    "attendues)",
                ],
            ]
        ),
        para("Mesures", H2),
    ]
    stats = (
        Measurement.objects.filter(enrolment=enrolment, at__date__gte=start, at__date__lt=end)
        .values("type", "unit")
        .annotate(n=Count("id"), low=Min("value"), mean=Avg("value"), high=Max("value"))
        .order_by("type")
    )
    rows = [
        [
            catalog.TYPES[s["type"]].label if s["type"] in catalog.TYPES else s["type"],
            f"{s['n']} mesures ; min {s['low']:g}, moyenne {s['mean']:.1f}, "
            f"max {s['high']:g} {catalog.SHOWN_UNITS.get(s['unit'], s['unit'])}",
        ]
        for s in stats
    ]
    story.append(table(rows) if rows else para("Aucune mesure reçue."))
    story.append(para("Alertes", H2))
    alerts = Alert.objects.filter(
        enrolment=enrolment, opened_at__date__gte=start, opened_at__date__lt=end
    ).order_by("opened_at")
    lines = [
        [
            fmt(a.opened_at),
            f"{a.get_severity_display()} — {a.message} — {a.get_state_display()}"
            + (f" : {a.resolution_note}" if a.resolution_note else ""),
        ]
        for a in alerts
    ]
    story.append(table(lines) if lines else para("Aucune alerte."))
    if enrolment.adherence_flag:
        story.append(para(enrolment.adherence_flag))
    story += [Spacer(1, 0.4 * cm), para(EMERGENCY_NOTICE, STYLES["Heading3"])]
    return build(story, title)


def monthly(enrolment: Enrolment, month: datetime.date) -> bytes:
    first, following = adherence.month_bounds(month)
    return render(enrolment, first, following, f"Télésurveillance — bilan de {month:%m/%Y}")


def final(enrolment: Enrolment) -> bytes:
    return render(
        enrolment,
        enrolment.starts_on,
        enrolment.ends_on + datetime.timedelta(days=1),
        "Télésurveillance — compte rendu de fin de suivi",
    )


def attach_monthly(forfait) -> None:
    """The month's report on its forfait act, on its way to the prescriber, the patient and the
    DMP like the final one (outbox)."""
    from telesante.outbox import services as outbox

    enrolment = forfait.enrolment
    pdf = monthly(enrolment, forfait.month)
    forfait.act.report.save(f"tsv-{enrolment.pk}-{forfait.month:%Y-%m}.pdf", ContentFile(pdf))
    outbox.queue(forfait.act, [("prescriber", enrolment.prescriber)])


def attach_final(enrolment: Enrolment) -> None:
    """The end-of-monitoring report on the act, then to the prescriber and the patient
    (REGULATORY.md § Télésurveillance) and the DMP through the outbox."""
    from telesante.outbox import services as outbox

    enrolment.act.report.save(f"tsv-{enrolment.pk}.pdf", ContentFile(final(enrolment)), save=True)
    outbox.queue(enrolment.act, [("prescriber", enrolment.prescriber)])
