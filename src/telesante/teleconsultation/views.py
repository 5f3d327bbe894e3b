import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telesante.acts.models import Filiere
from telesante.core import audit, numbers, paging, policy
from telesante.core.actions import run_then_back
from telesante.core.models import AuditAction
from telesante.documents import pdf
from telesante.notifications import services as notifications
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import GuestLink, GuestRelation
from telesante.teleconsultation import billing, booking, services
from telesante.teleconsultation.models import Assistance, Weekday


def _id(raw: str | None) -> int:
    return int(raw) if raw and raw.isdecimal() and len(raw) < 19 else 0


def _when(raw: str) -> datetime.datetime | None:
    try:
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied
    current = paging.page(request, services.listing(request.user))
    audit.record(request, request.user, AuditAction.SEARCH, [tc.act for tc in current])
    return render(
        request,
        "teleconsultation/list.html",
        {"page": current, "may_book": services.may_book(request.user)},
    )


def _new_consultation(source) -> services.NewConsultation:
    """The posted booking; a number typed wrong is refused (ValidationError), never guessed."""
    return services.NewConsultation(
        patient_id=_id(source.get("patient")),
        structure_id=_id(source.get("structure")),
        kind=source.get("kind", ""),
        performer_id=_id(source.get("performer")),
        scheduled_at=_when(source.get("scheduled_at", "")),
        reason=source.get("reason", ""),
        information_given=source.get("information_given") == "on",
        decision=source.get("decision", ""),
        assistance=source.get("assistance", ""),
        duration_minutes=numbers.posted(
            source, "duration_minutes", default=20, integer=True, low=5, high=120, unit="min"
        ),
        video_suitable=source.get("video_suitable") == "on",
        initial_assessment=source.get("initial_assessment") == "on",
        seen_in_person_this_year=source.get("seen_in_person_this_year") == "on",
        adult_present=source.get("adult_present") == "on",
        patient_email=source.get("patient_email", ""),
        patient_phone=source.get("patient_phone", ""),
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not services.may_book(request.user):
        raise PermissionDenied
    errors: dict = {}
    source = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        try:
            tc = services.create(request, request.user, _new_consultation(source))
        except ValidationError as exc:
            errors = exc.message_dict
        except Http404:
            errors = {"patient": [_("Patient ou structure inaccessible.")]}
        else:
            messages.success(request, _("Acte programmé ; la salle vidéo est prête."))
            return redirect("teleconsultation_detail", pk=tc.pk)
    chosen = services.performers().filter(pk=_id(source.get("performer"))).first()
    patient = policy.visible_patients(request.user).filter(pk=_id(source.get("patient"))).first()
    return render(
        request,
        "teleconsultation/create.html",
        {
            "patient": patient,
            "structures": policy.member_structures(request.user),
            "performer": chosen,
            "week": booking.week(chosen, _id(source.get("week"))) if chosen else None,
            "kinds": [(k.value, k.label) for k in services.BOOKABLE_KINDS],
            "assistances": Assistance.choices,
            # A blank form starts from the common case of the user's structure.
            "assistance": source.get("assistance", "")
            if request.method == "POST"
            else source.get("assistance", services.default_assistance(request.user)),
            "physio_fields": [
                ("initial_assessment", _("Il s'agit du bilan initial")),
                ("seen_in_person_this_year", _("Le patient a été vu en présence dans les 12 mois")),
                ("adult_present", _("Un adulte accompagne le patient mineur")),
            ],
            "values": source,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    tc = services.get(request, request.user, pk)
    act = tc.act
    notifications.mark_read(request.user, act=act)
    role = policy.act_role(request.user, act)
    room = services.room_of(tc)
    guests = list(room.guest_links.all())
    new_guest = request.session.pop("new_guest_link", "")
    return render(
        request,
        "teleconsultation/detail.html",
        {
            "tc": tc,
            "act": act,
            "room": room,
            "role": role,
            "is_host": role == "host",
            "guests": guests,
            "relations": GuestRelation.choices,
            "new_guest": new_guest,
            "incidents": act.incidents.all(),
            "attachments": act.attachments.all(),
            "billing_codes": act.billing_codes.select_related("professional"),
            "cap_warnings": billing.cap_warnings(request.user) if role == "host" else [],
            "closed": act.status in rooms.CLOSED_STATUSES,
        },
    )


def _back(request: HttpRequest, pk: int, action) -> HttpResponse:
    tc = services.get(request, request.user, pk)
    return run_then_back(request, tc, action, "teleconsultation_detail", pk)


@require_POST
@login_required
def report_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save (and optionally finish) the report; the room page posts here without leaving."""
    tc = services.get(request, request.user, pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    finish = request.POST.get("finish") == "1"
    try:
        services.save_report(
            request,
            request.user,
            tc,
            request.POST.get("report_text", ""),
            request.POST.get("prescriptions", ""),
            finish=finish,
        )
    except ValidationError as exc:
        text = " ".join(e for errs in exc.message_dict.values() for e in errs)
        if wants_json:
            return JsonResponse({"message": text, "errors": exc.message_dict}, status=400)
        messages.error(request, text)
        return redirect("teleconsultation_detail", pk=pk)
    text = (
        _("Acte clos : compte rendu PDF enregistré.") if finish else _("Compte rendu enregistré.")
    )
    if wants_json:
        pdf = reverse("teleconsultation_report", args=[pk]) if finish else ""
        return JsonResponse({"message": text, "pdf_url": pdf})
    messages.success(request, text)
    return redirect("teleconsultation_detail", pk=pk)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    tc = services.get(request, request.user, pk, AuditAction.EXPORT)
    return pdf.report_response(tc.act, f"acte-{pk}.pdf")


@require_POST
@login_required
def not_done(request: HttpRequest, pk: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: services.not_done(request, request.user, tc, request.POST.get("reason", "")),
    )


@require_POST
@login_required
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: services.add_incident(
            request, request.user, tc, request.POST.get("description", "")
        ),
    )


@require_POST
@login_required
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    def make(tc) -> None:
        guest = rooms.create_guest_link(
            request,
            request.user,
            services.room_of(tc),
            request.POST.get("label", ""),
            request.POST.get("relation", "patient"),
            numbers.posted(request.POST, "hours", integer=True, low=1, high=168, unit="h"),
            request.POST.get("contact", ""),
        )
        url = request.build_absolute_uri(tokens.guest_path(guest.pk))
        _show_link(request, guest, url)

    return _back(request, pk, make)


def _show_link(request: HttpRequest, guest: GuestLink, url: str) -> None:
    # The detail page shows the link once, with its copy button and its sending form.
    request.session["new_guest_link"] = {"id": guest.pk, "label": guest.label, "url": url}


@require_POST
@login_required
def send_guest(request: HttpRequest, pk: int, guest_id: int) -> HttpResponse:
    """Send a guest's link by SMS or e-mail; the link stays on the page either way."""

    def send(tc) -> None:
        room = services.room_of(tc)
        _show_link(request, *rooms.guest_link_url(request, request.user, room, guest_id))
        sent_to = rooms.send_guest_link(
            request, request.user, room, guest_id, request.POST.get("contact", "")
        )
        messages.success(request, _("Lien envoyé à %(to)s.") % {"to": sent_to})

    return _back(request, pk, send)


@require_POST
@login_required
def revoke_guest(request: HttpRequest, pk: int, guest_id: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: rooms.revoke_guest_link(request, request.user, services.room_of(tc), guest_id),
    )


@require_POST
@login_required
def assist(request: HttpRequest, pk: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: services.assist(request, request.user, tc, _id(request.POST.get("expert"))),
    )


def _time(raw: str) -> datetime.time | None:
    try:
        return datetime.time.fromisoformat(raw)
    except ValueError:
        return None


@login_required
def availability(request: HttpRequest) -> HttpResponse:
    """One's weekly availabilities (add, remove), free slots ahead, and the agenda feed."""
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied
    errors: dict = {}
    if request.method == "POST":
        if request.POST.get("remove"):
            booking.remove_availability(request.user, _id(request.POST.get("remove")))
            return redirect("teleconsultation_availability")
        try:
            booking.add_availability(
                request,
                request.user,
                _id(request.POST.get("structure")),
                _id(request.POST.get("weekday"))
                if request.POST.get("weekday", "").isdecimal()
                else -1,
                _time(request.POST.get("start", "")),
                _time(request.POST.get("end", "")),
                numbers.posted(
                    request.POST, "slot_minutes", default=20, integer=True, low=5, high=120
                ),
                numbers.posted(
                    request.POST, "buffer_minutes", default=0, integer=True, low=0, high=60
                ),
                request.POST.get("filiere", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("Disponibilité publiée."))
            return redirect("teleconsultation_availability")
    feed = reverse("teleconsultation_feed", args=[booking.feed_token(request.user)])
    return render(
        request,
        "teleconsultation/availability.html",
        {
            "openings": booking.openings(request.user),
            "week": booking.week(request.user),
            "structures": policy.member_structures(request.user),
            "filieres": Filiere.objects.filter(active=True),
            "weekdays": Weekday.choices,
            "feed_url": request.build_absolute_uri(feed),
            "errors": errors,
            "values": request.POST,
        },
        status=400 if errors else 200,
    )


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The read-only iCalendar feed of a professional (its signed address is the key)."""
    user = booking.feed_user(token)
    if user is None:
        raise Http404
    body = booking.ical(user, request.build_absolute_uri("/").rstrip("/"))
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: booking.cancel(request, request.user, tc, request.POST.get("reason", "")),
    )


@require_POST
@login_required
def move(request: HttpRequest, pk: int) -> HttpResponse:
    return _back(
        request,
        pk,
        lambda tc: booking.move(
            request, request.user, tc, _when(request.POST.get("scheduled_at", ""))
        ),
    )
