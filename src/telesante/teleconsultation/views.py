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

from telesante.accounts.models import Profession, User
from telesante.acts.models import Filiere
from telesante.core import audit, policy
from telesante.core.actions import run_then_back
from telesante.core.models import AuditAction
from telesante.documents import pdf
from telesante.rooms import services as rooms
from telesante.rooms import tokens
from telesante.rooms.models import GuestRelation
from telesante.teleconsultation import billing, booking, services, telesoin
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
    items = list(services.listing(request.user)[:200])
    audit.record(request, request.user, AuditAction.SEARCH, [tc.act for tc in items])
    return render(
        request,
        "teleconsultation/list.html",
        {"items": items, "may_book": services.may_book(request.user)},
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not services.may_book(request.user):
        raise PermissionDenied
    errors: dict = {}
    source = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        new = services.NewConsultation(
            patient_id=_id(source.get("patient")),
            structure_id=_id(source.get("structure")),
            kind=source.get("kind", ""),
            performer_id=_id(source.get("performer")),
            scheduled_at=_when(source.get("scheduled_at", "")),
            reason=source.get("reason", ""),
            information_given=source.get("information_given") == "on",
            decision=source.get("decision", ""),
            assistance=source.get("assistance", ""),
            duration_minutes=_id(source.get("duration_minutes")) or 20,
            video_suitable=source.get("video_suitable") == "on",
            initial_assessment=source.get("initial_assessment") == "on",
            seen_in_person_this_year=source.get("seen_in_person_this_year") == "on",
            adult_present=source.get("adult_present") == "on",
            patient_email=source.get("patient_email", ""),
            patient_phone=source.get("patient_phone", ""),
        )
        try:
            tc = services.create(request, request.user, new)
        except ValidationError as exc:
            errors = exc.message_dict
        except Http404:
            errors = {"patient": [_("Patient ou structure inaccessible.")]}
        else:
            messages.success(request, _("Acte programmé ; la salle vidéo est prête."))
            return redirect("teleconsultation_detail", pk=tc.pk)
    chosen = User.objects.filter(pk=_id(source.get("performer")), is_active=True).first()
    slots = booking.free_slots(chosen)[:60] if chosen else []
    professionals = User.objects.filter(
        is_active=True,
        profession__in=[Profession.DOCTOR, *telesoin.PROFESSIONS],
        memberships__isnull=False,
    ).distinct()
    return render(
        request,
        "teleconsultation/create.html",
        {
            "patients": policy.visible_patients(request.user).order_by("birth_name")[:500],
            "structures": policy.member_structures(request.user),
            "professionals": professionals.order_by("last_name")[:500],
            "kinds": [(k.value, k.label) for k in services.BOOKABLE_KINDS],
            "assistances": Assistance.choices,
            "slots": slots,
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
            "experts": User.objects.filter(profession=Profession.DOCTOR, is_active=True)
            .exclude(pk=request.user.pk)
            .order_by("last_name")[:200]
            if role == "host"
            else [],
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
            _id(hours) if (hours := request.POST.get("hours", "").strip()) else None,
            request.POST.get("contact", ""),
        )
        request.session["new_guest_link"] = request.build_absolute_uri(tokens.guest_path(guest.pk))

    return _back(request, pk, make)


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
                _id(request.POST.get("slot_minutes")) or 20,
                _id(request.POST.get("buffer_minutes")),
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
            "slots": booking.free_slots(request.user, days=7)[:40],
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
