from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from telesante.rooms import services, tokens
from telesante.rooms.models import GuestLink, Room
from telesante.rooms.tokens import Claim


def _guest_key(slug: str) -> str:
    return f"room_guest:{slug}"


def _page(
    request: HttpRequest, room: Room, claim: Claim, panel: services.PatientPanel | None = None
) -> HttpResponse:
    config = {
        "tokenUrl": reverse("room_token", args=[room.slug]),
        "wsPath": f"/ws/rooms/{room.slug}/",
        "host": claim.host,
        "label": claim.label,
        "csrf": get_token(request),
        "shareUrl": reverse("room_share", args=[room.slug]) if room.act_id else "",
        "reportUrl": reverse("teleconsultation_report_save", args=[room.act_id])
        if room.act_id and claim.host
        else "",
        "roles": services.role_labels(),
    }
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "claim": claim,
            "config": config,
            "guest": claim.party.startswith("g:"),
            "panel": panel,
            "call_with": services.call_with(room, claim, panel.patient if panel else None),
        },
    )


@never_cache
@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    room, claim = services.get_room(request, request.user, slug)
    return _page(request, room, claim, services.patient_panel(request, request.user, room, claim))


def _session_guest(request: HttpRequest, slug: str) -> tuple[GuestLink | None, bool]:
    """The guest this browser entered the room as (None if it did not enter by a link), and
    whether that link still holds."""
    guest_pk = request.session.get(_guest_key(slug))
    if guest_pk is None:
        return None, True
    guest = GuestLink.objects.select_related("room").filter(pk=guest_pk).first()
    return guest, guest is not None and services.guest_valid(guest)


def _link_gone() -> JsonResponse:
    return JsonResponse({"detail": _("Lien d'invitation expiré ou retiré.")}, status=403)


@never_cache
def room_token(request: HttpRequest, slug: str) -> HttpResponse:
    """A fresh short-lived token: the page asks again for each (re)connection."""
    guest, valid = _session_guest(request, slug)
    if not valid:
        return _link_gone()
    if guest is not None:
        return JsonResponse({"token": tokens.issue(services.guest_claim(guest))})
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _room, claim = services.get_room(request, request.user, slug)
    return JsonResponse({"token": tokens.issue(claim)})


@require_POST
def share(request: HttpRequest, slug: str) -> HttpResponse:
    """A snapshot or a document from the call, filed into the act's record by a party to the
    act or by an admitted guest of this room (who gets no address back: guests read nothing of
    the record)."""
    guest, valid = _session_guest(request, slug)
    if not valid:
        return _link_gone()
    if guest is None and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    room = guest.room if guest else services.get_room(request, request.user, slug)[0]
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse(
            {"detail": _("Aucun fichier reçu."), "errors": {"file": [_("Champ obligatoire.")]}},
            status=400,
        )
    try:
        if guest is not None:
            attachment, message = services.guest_share_file(request, guest, upload)
        else:
            attachment, message = services.share_file(request, request.user, room, upload)
    except ValidationError as exc:
        return JsonResponse(
            {"detail": " ".join(exc.messages), "errors": {"file": exc.messages}}, status=400
        )
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    chat = {"type": "room.chat", "message": services.chat_payload(message)}
    async_to_sync(get_channel_layer().group_send)(services.room_group(room.slug), chat)
    body = {"id": attachment.pk, "name": attachment.original_name}
    if guest is None:
        body["url"] = reverse("attachment", args=[attachment.pk])
    return JsonResponse(body, status=201)


@csrf_protect
@never_cache
def guest_entry(request: HttpRequest, value: str) -> HttpResponse:
    """The patient at home or an invited third party: no account, a signed expiring link."""
    guest, reason = services.guest_from_link(value)
    if guest is None:
        return render(request, "rooms/guest_refused.html", {"reason": reason}, status=403)
    if guest.code_hash and request.session.get(_guest_key(guest.room.slug)) != guest.pk:
        error = ""
        if request.method == "POST":
            if services.check_code(guest, request.POST.get("code", "")):
                request.session[_guest_key(guest.room.slug)] = guest.pk
                return redirect(request.path)
            error = (
                _("Code incorrect.")
                if guest.revoked_at is None
                else _("Trop d'erreurs : ce lien est retiré. Demandez-en un nouveau.")
            )
        return render(
            request,
            "rooms/guest_code.html",
            {"guest": guest, "error": error},
            status=400 if error else 200,
        )
    request.session[_guest_key(guest.room.slug)] = guest.pk
    return _page(request, guest.room, services.guest_claim(guest))


@never_cache
@login_required
def connection_test(request: HttpRequest) -> HttpResponse:
    """Camera, microphone and a real round trip through the server, before any consultation."""
    room = services.own_test_room(request.user)
    claim = services.user_claim(request.user, room, "a")
    return render(
        request,
        "rooms/connection_test.html",
        {"token": tokens.issue(claim), "ws_path": f"/ws/rooms/{room.slug}/"},
    )
