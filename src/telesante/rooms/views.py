from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from telesante.rooms import services, tokens
from telesante.rooms.models import GuestLink, Room
from telesante.rooms.tokens import Claim


def _guest_key(slug: str) -> str:
    return f"room_guest:{slug}"


def _page(request: HttpRequest, room: Room, claim: Claim, status: int = 200) -> HttpResponse:
    config = {
        "tokenUrl": reverse("room_token", args=[room.slug]),
        "wsPath": f"/ws/rooms/{room.slug}/",
        "host": claim.host,
        "label": claim.label,
        "reportUrl": reverse("teleconsultation_report_save", args=[room.act_id])
        if room.act_id and claim.host
        else "",
    }
    return render(
        request,
        "rooms/room.html",
        {"room": room, "claim": claim, "config": config, "guest": claim.party.startswith("g:")},
        status=status,
    )


@never_cache
@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    room, claim = services.get_room(request, request.user, slug)
    return _page(request, room, claim)


@never_cache
def room_token(request: HttpRequest, slug: str) -> HttpResponse:
    """A fresh short-lived token: the page asks again for each (re)connection."""
    guest_pk = request.session.get(_guest_key(slug))
    if guest_pk is not None:
        guest = GuestLink.objects.select_related("room").filter(pk=guest_pk).first()
        if guest is None or not services.guest_valid(guest):
            return JsonResponse({"detail": "Lien d'invitation expiré ou retiré."}, status=403)
        return JsonResponse({"token": tokens.issue(services.guest_claim(guest))})
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _room, claim = services.get_room(request, request.user, slug)
    return JsonResponse({"token": tokens.issue(claim)})


@never_cache
def guest_entry(request: HttpRequest, value: str) -> HttpResponse:
    """The patient at home or an invited third party: no account, a signed expiring link."""
    guest, reason = services.guest_from_link(value)
    if guest is None:
        return render(request, "rooms/guest_refused.html", {"reason": reason}, status=403)
    request.session[_guest_key(guest.room.slug)] = guest.pk
    return _page(request, guest.room, services.guest_claim(guest))


@never_cache
@login_required
def connection_test(request: HttpRequest) -> HttpResponse:
    """Camera, microphone and a real round trip through the server, before any consultation."""
    room = services.create_test_room(request.user)
    claim = services.user_claim(request.user, room, "a")
    return render(
        request,
        "rooms/connection_test.html",
        {"token": tokens.issue(claim), "ws_path": f"/ws/rooms/{room.slug}/"},
    )
