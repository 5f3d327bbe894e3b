"""Plan an act's report to its recipients, and send what is due (`telesante worker`).

A report goes by MSSanté to the patient's médecin traitant (and, for the end of a monitoring,
its prescriber) when they have an MSSanté address, to the patient's Mon espace santé mailbox for
a qualified identity, and to the patient's DMP for a qualified identity; the patient's objection
to the DMP or to MSSanté creates no line, and the act says why. Each line is sent once: a unique
key (act, document, channel, recipient), and a send runs under the line's row lock, changing its
state in the same transaction; a failure is retried with a growing delay, then abandoned.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telesante.acts.models import Act
from telesante.outbox import cda, xdm
from telesante.outbox.models import Channel, Delivery, State

PATIENT_MAIL_DOMAIN = "patient.mssante.fr"
DMP_RECIPIENT = "dmp"
MAX_ATTEMPTS = 8
FIRST_DELAY = datetime.timedelta(minutes=5)
LONGEST_DELAY = datetime.timedelta(hours=12)
ROLES = {
    "gp": gettext_lazy("médecin traitant"),
    "prescriber": gettext_lazy("prescripteur"),
    "patient": gettext_lazy("patient (Mon espace santé)"),
    "dmp": gettext_lazy("DMP du patient"),
}


class DeliveryError(Exception):
    """A send that did not go through; its message (French) is kept on the line."""


@dataclass(frozen=True)
class Package:
    """What every channel carries: the PDF, the CDA document wrapping it, its metadata."""

    act: Act
    pdf: bytes
    document: bytes
    entry: xdm.Entry


@dataclass(frozen=True)
class Line:
    channel: str
    recipient: str
    role: str


def plan(act: Act, professionals: list[tuple[str, object]] = ()) -> tuple[list[Line], list[str]]:
    """The lines a report gets, and why others are not created (shown on the act)."""
    patient = act.patient
    author = cda.author_of(act)
    lines: list[Line] = []
    withheld: list[str] = []
    if patient.mssante_objection:
        withheld.append(_("MSSanté : le patient s'est opposé aux envois par messagerie sécurisée."))
    else:
        for role, pro in [("gp", patient.gp), *professionals]:
            if pro is None or pro.pk == author.pk:
                continue
            if pro.mssante_address:
                lines.append(Line(Channel.MSSANTE, pro.mssante_address.lower(), role))
            else:
                withheld.append(
                    _("MSSanté : %(who)s (%(role)s) n'a pas d'adresse MSSanté enregistrée.")
                    % {"who": pro.display_name, "role": ROLES[role]}
                )
        if patient.is_qualified:
            box = f"{patient.shareable_matricule}@{PATIENT_MAIL_DOMAIN}"
            lines.append(Line(Channel.MSSANTE, box, "patient"))
        else:
            withheld.append(
                _(
                    "Mon espace santé : identité non qualifiée, la messagerie du patient n'est "
                    "pas utilisée."
                )
            )
    if patient.dmp_objection:
        withheld.append(_("DMP : le patient s'est opposé à l'alimentation de son DMP."))
    elif not patient.is_qualified:
        withheld.append(
            _("DMP : identité non qualifiée, le DMP n'est alimenté qu'avec l'INS qualifiée.")
        )
    else:
        lines.append(Line(Channel.DMP, DMP_RECIPIENT, "dmp"))
    unique = {(line.channel, line.recipient): line for line in reversed(lines)}
    return [line for line in lines if unique[(line.channel, line.recipient)] is line], withheld


def queue(act: Act, professionals: list[tuple[str, object]] = ()) -> int:
    """Create the report's lines (none twice) and have the worker send them after commit."""
    from telesante.outbox.tasks import send_outbox

    lines, _withheld = plan(act, professionals)
    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(
                act=act,
                channel=line.channel,
                recipient=line.recipient,
                role=line.role,
                next_attempt_at=now,
            )
            for line in lines
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(send_outbox.enqueue)
    return len(lines)


def package(act: Act) -> Package:
    act.report.open("rb")
    try:
        pdf = act.report.read()
    finally:
        act.report.close()
    document = cda.build(act, pdf, now=act.done_at)
    # A document the CDA schema refuses would be refused by the DMP and the mailboxes' software:
    # it fails here, with the schema's reason on the line, and nothing leaves.
    problems = cda.errors(document)
    if problems:
        raise DeliveryError(
            _("Le document CDA ne respecte pas le schéma CDA R2 : %(detail)s")
            % {"detail": problems[0]}
        )
    return Package(act, pdf, document, xdm.entry(act, document))


def backend(channel: str):
    name = (
        settings.TELESANTE_MSSANTE_BACKEND
        if channel == Channel.MSSANTE
        else settings.TELESANTE_DMP_BACKEND
    )
    return import_string(name)()


def delay(attempts: int) -> datetime.timedelta:
    """5 minutes after the first failure, doubling, at most 12 hours."""
    return min(FIRST_DELAY * 2 ** (attempts - 1), LONGEST_DELAY)


def deliver(pk: int, now: datetime.datetime) -> str | None:
    """Send one line if it is still due and no other worker holds it; its new state."""
    with transaction.atomic():
        line = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state__in=[State.PENDING, State.FAILED], next_attempt_at__lte=now)
            .first()
        )
        if line is None:
            return None
        act = Act.objects.select_related(
            "patient", "requester", "requesting_structure", "performing_structure"
        ).get(pk=line.act_id)
        line.attempts += 1
        try:
            if not act.report:
                raise DeliveryError(_("Le compte rendu n'existe plus."))
            backend(line.channel).send(line, package(act))
        except DeliveryError as exc:
            line.last_error = str(exc)[:500]
            if line.attempts >= MAX_ATTEMPTS:
                line.state = State.ABANDONED
            else:
                line.state = State.FAILED
                line.next_attempt_at = now + delay(line.attempts)
        else:
            line.state, line.sent_at, line.last_error = State.SENT, now, ""
        line.save(update_fields=["state", "attempts", "last_error", "next_attempt_at", "sent_at"])
        return line.state


def send_due(now: datetime.datetime, limit: int = 200) -> dict[str, int]:
    """The lines due now, each under its own lock: several workers never send one twice."""
    due = Delivery.objects.filter(
        state__in=[State.PENDING, State.FAILED], next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    counts: dict[str, int] = {}
    for pk in due.values_list("pk", flat=True)[:limit]:
        state = deliver(pk, now)
        if state:
            counts[state] = counts.get(state, 0) + 1
    return counts


def for_act(act: Act) -> dict:
    """The act page's outbox section: the lines, and why some recipients get nothing."""
    if not act.report:
        return {"deliveries": [], "withheld": []}
    deliveries = list(act.deliveries.all())
    enrolment = getattr(act, "telesurveillance", None)
    professionals = [("prescriber", enrolment.prescriber)] if enrolment else []
    return {"deliveries": deliveries, "withheld": plan(act, professionals)[1], "roles": ROLES}
