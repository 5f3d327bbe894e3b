"""Booking: weekly availabilities cut into slots, a slot free only once, booking a published
slot, cancel and move, the iCalendar feed. Reminders: `reminders.py`."""

import datetime
from dataclasses import dataclass, replace

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import User
from telesante.acts.models import Act, ActStatus, Filiere
from telesante.core import audit, bounds, policy
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.notifications.services import notify
from telesante.rooms import services as rooms
from telesante.teleconsultation import services
from telesante.teleconsultation.models import Availability, TeleConsultation

OPEN_STATUSES = [ActStatus.SCHEDULED, ActStatus.IN_PROGRESS]
FEED_SALT = "telesante.teleconsultation.agenda"
HORIZON_DAYS = 14


@dataclass(frozen=True)
class Slot:
    start: datetime.datetime
    end: datetime.datetime
    availability: Availability


def _booked(professional: User, start: datetime.datetime, end: datetime.datetime, exclude=None):
    """(start, end) of the professional's open acts around [start, end]."""
    found = TeleConsultation.objects.filter(
        act__performers=professional,
        act__status__in=OPEN_STATUSES,
        scheduled_at__lt=end,
        scheduled_at__gt=start - datetime.timedelta(hours=3),
    )
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return [
        (tc.scheduled_at, tc.scheduled_at + datetime.timedelta(minutes=tc.duration_minutes))
        for tc in found
    ]


def check_free(
    professional: User, when: datetime.datetime, minutes: int, exclude: int | None = None
) -> None:
    end = when + datetime.timedelta(minutes=minutes)
    for start, stop in _booked(professional, when, end, exclude):
        if start < end and when < stop:
            raise ValidationError({"scheduled_at": [_("Ce créneau est déjà pris.")]})


def free_slots(
    professional: User, now: datetime.datetime | None = None, days: int = HORIZON_DAYS
) -> list[Slot]:
    """The professional's free slots of the next `days` days, in local time."""
    now = now or timezone.now()
    openings = list(
        Availability.objects.filter(professional=professional).select_related(
            "structure", "filiere"
        )
    )
    if not openings:
        return []
    first = timezone.localtime(now).date()
    horizon_end = timezone.make_aware(
        datetime.datetime.combine(first + datetime.timedelta(days=days), datetime.time())
    )
    booked = _booked(professional, now, horizon_end)
    slots = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        for opening in openings:
            if opening.weekday != day.weekday():
                continue
            start = timezone.make_aware(datetime.datetime.combine(day, opening.start))
            stop = timezone.make_aware(datetime.datetime.combine(day, opening.end))
            step = datetime.timedelta(minutes=opening.slot_minutes + opening.buffer_minutes)
            length = datetime.timedelta(minutes=opening.slot_minutes)
            while start + length <= stop:
                end = start + length
                if start > now and not any(b < end and start < e for b, e in booked):
                    slots.append(Slot(start, end, opening))
                start += step
    return sorted(slots, key=lambda s: s.start)


MAX_WEEKS = 8


@dataclass
class Week:
    """A week of a professional's free slots, day by day, for the booking page's calendar."""

    number: int  # 0 = the 7 days from today
    days: list[tuple[datetime.date, list[Slot]]]
    published: bool  # any availability at all (else the page says so)

    @property
    def empty(self) -> bool:
        return not any(slots for _day, slots in self.days)


def week(professional: User, number: int = 0, now: datetime.datetime | None = None) -> Week:
    """The free slots of the `number`-th week from today, grouped by day (7 columns)."""
    now = now or timezone.now()
    number = max(0, min(number, MAX_WEEKS - 1))
    first = timezone.localtime(now).date() + datetime.timedelta(days=7 * number)
    days = [first + datetime.timedelta(days=i) for i in range(7)]
    published = Availability.objects.filter(professional=professional).exists()
    slots = free_slots(professional, now, days=7 * (number + 1)) if published else []
    grouped: dict[datetime.date, list[Slot]] = {day: [] for day in days}
    for slot in slots:
        day = timezone.localtime(slot.start).date()
        if day in grouped:
            grouped[day].append(slot)
    return Week(number, list(grouped.items()), published)


def slots_of(user: User, performer_id: int, days: int = HORIZON_DAYS) -> list[Slot]:
    """The free slots a booking professional may choose from (any active professional's)."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied(_("Ce compte ne peut pas programmer d'acte."))
    performer = User.objects.filter(pk=performer_id, is_active=True).first()
    if performer is None:
        raise Http404
    return free_slots(performer, days=days)


def book_slot(
    request: HttpRequest | None, user: User, new: services.NewConsultation
) -> TeleConsultation:
    """Book one of the performer's published free slots for a patient: the act lasts the
    slot's length; the rest is the ordinary booking (`services.create`)."""
    services.booking_side(user, new)
    performer = User.objects.filter(pk=new.performer_id, is_active=True).first()
    free = free_slots(performer) if performer is not None else []
    slot = next((s for s in free if s.start == new.scheduled_at), None)
    if slot is None:
        raise ValidationError(
            {"scheduled_at": [_("Ce créneau n'est pas proposé par ce professionnel ou est pris.")]}
        )
    return services.create(
        request, user, replace(new, duration_minutes=slot.availability.slot_minutes)
    )


def openings(user: User) -> QuerySet[Availability]:
    """The professional's own weekly availabilities."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied
    return Availability.objects.filter(professional=user).select_related("structure", "filiere")


def add_availability(
    request: HttpRequest | None,
    user: User,
    structure_id: int,
    weekday: int,
    start: datetime.time | None,
    end: datetime.time | None,
    slot_minutes: int = 20,
    buffer_minutes: int = 5,
    filiere_code: str = "",
) -> Availability:
    if not policy.may_handle_patients(user):
        raise PermissionDenied
    structure = policy.member_structures(user).filter(pk=structure_id).first()
    errors: dict[str, list[str]] = {}
    if structure is None:
        errors["structure"] = [_("Choisissez une de vos structures.")]
    if weekday not in range(7):
        errors["weekday"] = [_("Jour inconnu.")]
    if start is None or end is None or start >= end:
        errors["end"] = [_("L'heure de fin doit suivre l'heure de début.")]
    if not 5 <= slot_minutes <= 120:
        errors["slot_minutes"] = [_("Créneau entre 5 et 120 minutes.")]
    if not 0 <= buffer_minutes <= 60:
        errors["buffer_minutes"] = [_("Battement entre 0 et 60 minutes.")]
    filiere = Filiere.objects.filter(pk=filiere_code).first() if filiere_code else None
    if filiere_code and filiere is None:
        errors["filiere"] = [_("Filière inconnue.")]
    if errors:
        raise ValidationError(errors)
    return Availability.objects.create(
        professional=user,
        structure=structure,
        filiere=filiere,
        weekday=weekday,
        start=start,
        end=end,
        slot_minutes=slot_minutes,
        buffer_minutes=buffer_minutes,
    )


def remove_availability(user: User, pk: int) -> None:
    if not policy.may_handle_patients(user):
        raise PermissionDenied
    removed, _kinds = Availability.objects.filter(pk=pk, professional=user).delete()
    if not removed:
        raise Http404


def _may_change(user: User, tc: TeleConsultation) -> None:
    if policy.act_role(user, tc.act) is None:
        raise PermissionDenied(_("Seules les parties à l'acte le déplacent ou l'annulent."))
    if tc.act.status != ActStatus.SCHEDULED:
        raise ValidationError({"__all__": [_("Seul un acte programmé se déplace ou s'annule.")]})


def parties(act: Act) -> list[User]:
    return [act.requester, *act.performers.all()]


def cancel(request: HttpRequest | None, user: User, tc: TeleConsultation, reason: str) -> None:
    _may_change(user, tc)
    if not reason.strip():
        raise ValidationError({"reason": [_("Indiquez le motif de l'annulation.")]})
    act = tc.act
    with transaction.atomic():
        act.status = ActStatus.CANCELLED
        act.save(update_fields=["status"])
        rooms.close_room(act)
        audit.record(request, user, AuditAction.UPDATE, [act], detail=f"annulé : {reason[:200]}")
        when = timezone.localtime(tc.scheduled_at).strftime("%d/%m/%Y %H:%M")
        with product_language():
            notify(
                [p for p in parties(act) if p.pk != user.pk],
                _("Acte du %(when)s annulé : %(reason)s")
                % {"when": when, "reason": reason.strip()},
                act=act,
                url=reverse("teleconsultation_detail", args=[act.pk]),
            )


def move(
    request: HttpRequest | None, user: User, tc: TeleConsultation, when: datetime.datetime | None
) -> TeleConsultation:
    _may_change(user, tc)
    if when is None or when < timezone.now():
        raise ValidationError({"scheduled_at": [_("Choisissez une date à venir.")]})
    if beyond := bounds.moment_error(when):
        raise ValidationError({"scheduled_at": [beyond]})
    act = tc.act
    for performer in act.performers.all():
        check_free(performer, when, tc.duration_minutes, exclude=tc.pk)
    with transaction.atomic():
        tc.scheduled_at = when
        tc.save(update_fields=["scheduled_at"])
        act.due_at = when
        act.save(update_fields=["due_at"])
        # The patient's link was sent with the old time: the next reminder brings a new one.
        rooms.withdraw_patient_links(act)
        audit.record(request, user, AuditAction.UPDATE, [act], detail="déplacé")
        local = timezone.localtime(when).strftime("%d/%m/%Y %H:%M")
        with product_language():
            notify(
                [p for p in parties(act) if p.pk != user.pk],
                _("Acte déplacé au %(when)s") % {"when": local},
                act=act,
                url=reverse("teleconsultation_detail", args=[act.pk]),
            )
    return tc


def feed_token(user: User) -> str:
    # No timestamp: a calendar application keeps the address it was given.
    return signing.Signer(salt=FEED_SALT).sign(str(user.pk))


def feed_user(token: str) -> User | None:
    try:
        pk = int(signing.Signer(salt=FEED_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical(user: User, base_url: str) -> str:
    """The professional's open acts (performed or requested) as iCalendar. No patient identity:
    the feed's address is all a calendar application needs to read it."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    acts = (
        TeleConsultation.objects.filter(act__status__in=OPEN_STATUSES)
        .filter(act__in=policy.party_acts(user))
        .select_related("act")
        .order_by("scheduled_at")
    )
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Télésanté//Agenda//FR", "METHOD:PUBLISH"]
    for tc in acts:
        start = tc.scheduled_at.astimezone(datetime.UTC)
        end = start + datetime.timedelta(minutes=tc.duration_minutes)
        url = base_url + reverse("teleconsultation_detail", args=[tc.pk])
        lines += [
            "BEGIN:VEVENT",
            f"UID:acte-{tc.pk}@telesante",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{_ics_text(f'{tc.act.get_kind_display()} n° {tc.pk}')}",
            f"URL:{url}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
