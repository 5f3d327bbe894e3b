"""Reminders the day before and the hour before (queued by `telesante worker` every minute).

They reach the parties (in-app and e-mail), the patient (e-mail, SMS) and the guests invited
with an address or a number (where their code went). Messages sent outside carry no health
detail: the date and time, and for a patient who joins from home their own link to the room.
Each recipient is recorded once per kind and appointment time (`Reminder`'s unique constraint),
so a second run or a second worker sends nothing again.
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.acts.models import ActStatus
from telesante.notifications import delivery
from telesante.notifications.services import notify
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.teleconsultation.booking import parties
from telesante.teleconsultation.models import Assistance, Reminder, ReminderKind, TeleConsultation

# kind: (sent when the appointment is at most this far ahead, and more than this).
WINDOWS = {
    ReminderKind.DAY: (datetime.timedelta(hours=24), datetime.timedelta(hours=1)),
    ReminderKind.HOUR: (datetime.timedelta(hours=1), datetime.timedelta(0)),
}
# The patient's link stays valid this long after the planned end (a consultation running late).
LINK_GRACE = datetime.timedelta(hours=2)


def send_reminders(now: datetime.datetime | None = None) -> dict[str, int]:
    """Send the reminders now due; returns how many recipients each kind reached."""
    now = now or timezone.now()
    counts = {}
    for kind, (ahead, after) in WINDOWS.items():
        sent = Reminder.objects.filter(
            teleconsultation=OuterRef("pk"), kind=kind, scheduled_at=OuterRef("scheduled_at")
        )
        due = (
            TeleConsultation.objects.filter(
                act__status=ActStatus.SCHEDULED,
                scheduled_at__gt=now + after,
                scheduled_at__lte=now + ahead,
            )
            .exclude(Exists(sent))
            .select_related("act__requester", "act__patient")
        )
        counts[kind.value] = sum(remind(tc, kind, now) for tc in due)
    return counts


def remind(tc: TeleConsultation, kind: str, now: datetime.datetime) -> int:
    """One act's reminders of one kind, to every recipient not yet reminded of it."""
    act = tc.act
    local = timezone.localtime(tc.scheduled_at)
    with transaction.atomic():
        professionals = [u for u in parties(act) if _first(tc, kind, f"u:{u.pk}", now)]
        notify(
            professionals,
            _("Rappel : %(kind)s n° %(pk)s le %(when)s")
            % {"kind": act.get_kind_display(), "pk": tc.pk, "when": f"{local:%d/%m/%Y à %H:%M}"},
            act=act,
            url=reverse("teleconsultation_detail", args=[tc.pk]),
        )
        outside = [(a, patient) for a, patient in _outside(tc) if _first(tc, kind, a, now)]
        link = ""
        for address, patient in outside:
            if patient and _joins_from_home(tc):
                link = link or _patient_link(tc, now)
            text = _patient_text(local, link) if patient else _guest_text(local)
            delivery.send(address, _("Rappel de votre rendez-vous de télésanté"), text)
    return len(professionals) + len(outside)


def _patient_text(local: datetime.datetime, link: str) -> str:
    text = _("Télésanté : rappel de votre rendez-vous à distance le %(day)s à %(time)s.") % {
        "day": f"{local:%d/%m/%Y}",
        "time": f"{local:%H:%M}",
    }
    if link:
        text += " " + _("Pour entrer dans la salle à l'heure prévue : %(link)s") % {"link": link}
    return text


def _guest_text(local: datetime.datetime) -> str:
    return _(
        "Télésanté : rappel du rendez-vous à distance du %(day)s à %(time)s auquel vous êtes "
        "invité·e. Entrez avec le lien reçu ; le code envoyé ici vous sera demandé."
    ) % {"day": f"{local:%d/%m/%Y}", "time": f"{local:%H:%M}"}


def _outside(tc: TeleConsultation) -> list[tuple[str, bool]]:
    """(address, is the patient) of the patient, then of the guests invited with an address or
    a number whose link still holds at the appointment; an address met twice (the patient
    invited as a guest too) is reminded once, as the patient."""
    found = {}
    for address in (tc.patient_email, tc.patient_phone):
        if address:
            found.setdefault(address, True)
    guests = rooms.room_for_act(tc.act).guest_links.filter(
        revoked_at=None, expires_at__gt=tc.scheduled_at
    )
    for contact in guests.exclude(contact="").values_list("contact", flat=True):
        found.setdefault(contact, False)
    return list(found.items())


def _joins_from_home(tc: TeleConsultation) -> bool:
    # Nobody at the patient's side: they connect from home, with their own link.
    return tc.assistance == Assistance.NONE


def _patient_link(tc: TeleConsultation, now: datetime.datetime) -> str:
    until = tc.scheduled_at + datetime.timedelta(minutes=tc.duration_minutes) + LINK_GRACE
    guest = rooms.patient_link(tc.act, until, now)
    return settings.TELESANTE_BASE_URL + tokens.guest_path(guest.pk)


def _first(tc: TeleConsultation, kind: str, recipient: str, now: datetime.datetime) -> bool:
    """Record the reminder of this recipient; False when it was already sent (by this worker
    earlier or another one now: the second insert waits for the first and fails)."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                teleconsultation=tc,
                kind=kind,
                scheduled_at=tc.scheduled_at,
                recipient=recipient,
                sent_at=now,
            )
    except IntegrityError:
        return False
    return True
