"""Regulation pages: the regulator's (list, new record, record, video screen) and the caller's
(no account: the single-use link, consent, position, photos). Thin: logic in services.py."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from telesante.core import audit, paging, policy
from telesante.core.actions import run_then_back
from telesante.core.models import AuditAction
from telesante.regulation import position, services
from telesante.regulation.models import Decision, MediaKind, RegulationMedia, VideoQuality
from telesante.rooms import services as rooms
from telesante.rooms import tokens


def _regulator(request: HttpRequest) -> None:
    if not policy.regulation_structures(request.user).exists():
        raise PermissionDenied


@login_required
def record_list(request: HttpRequest) -> HttpResponse:
    _regulator(request)
    records = policy.visible_regulations(request.user).select_related("patient", "structure")
    current = paging.page(request, records.order_by("-called_at", "-pk"))
    audit.record(request, request.user, AuditAction.SEARCH, list(current))
    return render(request, "regulation/list.html", {"page": current})


@login_required
def record_create(request: HttpRequest) -> HttpResponse:
    _regulator(request)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.POST
        try:
            record = services.create_record(request, request.user, request.POST)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            return redirect("regulation_detail", record.pk)
    return render(
        request,
        "regulation/create.html",
        {"errors": errors, "values": values, "decisions": Decision.choices},
        status=400 if errors else 200,
    )


@login_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = policy.get_regulation(request, request.user, pk, AuditAction.READ)
    return render(
        request,
        "regulation/detail.html",
        {
            "record": record,
            "events": services.timeline(record),
            "media": record.media.select_related("author"),
            "links": record.links.all(),
            "decisions": Decision.choices,
            "position": position.of(record),
            "current": services.regulator_link(request.user, record),
        },
    )


def _run(request: HttpRequest, pk: int, action) -> HttpResponse:
    record = policy.get_regulation(request, request.user, pk, AuditAction.UPDATE)
    return run_then_back(request, record, action, "regulation_detail", pk)


@require_POST
@login_required
def record_update(request: HttpRequest, pk: int) -> HttpResponse:
    data = {k: request.POST.get(k, "") for k in ("reason", "decision", "notes")}
    return _run(request, pk, lambda r: services.update_record(request, request.user, r, data))


@require_POST
@login_required
def record_patient(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        patient_pk = int(request.POST.get("patient", ""))
    except ValueError:
        patient_pk = 0
    return _run(request, pk, lambda r: services.link_patient(request, request.user, r, patient_pk))


@require_POST
@login_required
def send_link(request: HttpRequest, pk: int) -> HttpResponse:
    record = policy.get_regulation(request, request.user, pk, AuditAction.UPDATE)
    services.send_video_link(request, request.user, record)
    return redirect("regulation_video", record.pk)


@require_POST
@login_required
def revoke_link(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    return _run(request, pk, lambda r: services.revoke_link(request, request.user, r, link_pk))


@never_cache
@login_required
def video(request: HttpRequest, pk: int) -> HttpResponse:
    """The regulator's screen: the caller's video full size, position, quality, commands."""
    record = policy.get_regulation(request, request.user, pk, AuditAction.READ)
    link = services.regulator_link(request.user, record)
    config = {}
    if link is not None:
        config = {
            "tokenUrl": reverse("room_token", args=[link.room.slug]),
            "wsPath": f"/ws/rooms/{link.room.slug}/",
            "snapshotUrl": reverse("regulation_snapshot", args=[record.pk]),
            "positionUrl": reverse("regulation_position", args=[record.pk]),
            "csrf": get_token(request),
            "host": True,
        }
    return render(
        request,
        "regulation/video.html",
        {
            "record": record,
            "link": link,
            "config": config,
            "position": position.of(record),
            "qualities": VideoQuality.choices,
        },
    )


@never_cache
@login_required
def position_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    record = policy.get_regulation(request, request.user, pk, AuditAction.READ)
    return render(request, "regulation/position.html", {"position": position.of(record)})


def _media_answer(media: RegulationMedia) -> JsonResponse:
    return JsonResponse({"id": media.pk, "kind": media.kind}, status=201)


def _upload_error(exc: Exception) -> JsonResponse:
    detail = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return JsonResponse({"detail": detail}, status=400 if isinstance(exc, ValidationError) else 403)


@require_POST
@login_required
def snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    """A frame of the caller's video taken on the regulator's screen, filed in the record."""
    record = policy.get_regulation(request, request.user, pk, AuditAction.UPDATE)
    link = services.regulator_link(request.user, record)
    upload = request.FILES.get("file")
    if link is None or upload is None:
        return JsonResponse({"detail": _("Aucune vidéo en cours ou aucun fichier.")}, status=400)
    try:
        media = services.file_media(request, link, upload, MediaKind.SNAPSHOT, request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _upload_error(exc)
    return _media_answer(media)


@require_POST
@login_required
def end(request: HttpRequest, pk: int) -> HttpResponse:
    data = {k: request.POST.get(k, "") for k in ("seen", "quality")}
    return _run(request, pk, lambda r: services.end_session(request, request.user, r, data))


@login_required
def media_file(request: HttpRequest, pk: int) -> FileResponse:
    """A snapshot or photo, only through the wall of its record; every read is audited."""
    media = RegulationMedia.objects.filter(pk=pk).values_list("record_id", flat=True).first()
    if media is None:
        raise Http404
    record = policy.get_regulation(request, request.user, media, AuditAction.READ)
    item = record.media.get(pk=pk)
    return FileResponse(item.file.open("rb"), content_type=item.content_type)


# The caller's side ---------------------------------------------------------------------------

# The caller has no account and gets no session (nothing written for them on each request): a
# signed cookie names their link, sent only to the caller's addresses; the link's validity is
# read from the database each time (withdrawn, ended, expired).
CALLER_COOKIE = "regulation_call"
CALLER_SALT = "telesante.regulation.caller"
LANG_COOKIE = "regulation_lang"
RTL = {"ar"}


@never_cache
def caller_open(request: HttpRequest, value: str) -> HttpResponse:
    """The SMS link: spent on this first opening, it answers with the caller's page itself (no
    redirect: one round trip less on a poor network) and the cookie that keeps the caller in;
    the page's script then shows its plain address, whose reloads no longer spend the link (the
    link's value leaves the history and, by this answer's referrer policy, every Referer)."""
    with translation.override(_caller_language(request)):
        link, reason = services.open_link(value)
    if link is None:
        return _caller_render(request, "regulation/caller_refused.html", {"reason": reason}, 403)
    response = _caller_page(request, link)
    response.set_signed_cookie(
        CALLER_COOKIE,
        link.pk,
        salt=CALLER_SALT,
        max_age=settings.TELESANTE_REGULATION_SESSION_MINUTES * 60,
        path=reverse("regulation_caller"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    response["Referrer-Policy"] = "strict-origin"
    return response


def _caller_language(request: HttpRequest) -> str:
    codes = {code for code, _name in services.CALLER_LANGUAGES}
    asked = request.GET.get("lang") or request.COOKIES.get(LANG_COOKIE, "")
    if asked not in codes:
        asked = (translation.get_language_from_request(request) or "fr")[:2]
    return asked if asked in codes else "fr"


def _caller_render(request: HttpRequest, template: str, context: dict, status: int = 200):
    lang = _caller_language(request)
    with translation.override(lang):
        response = render(
            request,
            template,
            {
                **context,
                "lang": lang,
                "rtl": lang in RTL,
                "languages": services.CALLER_LANGUAGES,
            },
            status=status,
        )
    response["Content-Language"] = lang
    if request.COOKIES.get(LANG_COOKIE) != lang:  # the language chosen stays for the next pages
        response.set_cookie(
            LANG_COOKIE, lang, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
        )
    return response


def _cookie_link(request: HttpRequest):
    """The caller's link named by their cookie while it holds; None otherwise."""
    pk = request.get_signed_cookie(
        CALLER_COOKIE,
        default=None,
        salt=CALLER_SALT,
        max_age=settings.TELESANTE_REGULATION_SESSION_MINUTES * 60,
    )
    return services.caller_link(int(pk) if pk else None)


def _caller_link(request: HttpRequest):
    link = _cookie_link(request)
    if link is None:
        raise PermissionDenied
    return link


def _caller_page(request: HttpRequest, link) -> HttpResponse:
    """Who asks, what happens, consent; then the camera. Nothing of the record shows here: only
    the centre's name."""
    config = {
        "pageUrl": reverse("regulation_caller"),
        "tokenUrl": reverse("regulation_caller_token"),
        # The caller's socket: the room's, with the acceptance carried by the join.
        "wsPath": f"/ws/appel/{link.room.slug}/",
        "consentUrl": reverse("regulation_caller_consent"),
        "positionUrl": reverse("regulation_caller_position"),
        "photoUrl": reverse("regulation_caller_photo"),
        "csrf": get_token(request),
        "host": False,
        "consented": link.consent_at is not None,
        # The first room token comes with the page: one round trip less on a poor network.
        "token": tokens.issue(rooms.guest_claim(link.guest)),
    }
    return _caller_render(
        request,
        "regulation/caller.html",
        {"centre": services.caller_centre(link.record.structure), "config": config},
    )


@never_cache
def caller_page(request: HttpRequest) -> HttpResponse:
    """The caller's page at its plain address (reloads, language changes)."""
    link = _cookie_link(request)
    if link is None:
        return _caller_render(request, "regulation/caller_refused.html", {"reason": ""}, 403)
    return _caller_page(request, link)


@never_cache
def caller_token(request: HttpRequest) -> HttpResponse:
    """A fresh room token for the caller's page to reconnect with."""
    link = _caller_link(request)
    return JsonResponse({"token": tokens.issue(rooms.guest_claim(link.guest))})


@require_POST
def caller_consent(request: HttpRequest) -> HttpResponse:
    link = _caller_link(request)
    accepted = request.POST.get("answer") == "yes"
    services.answer_consent(link, accepted, _caller_language(request))
    return JsonResponse({"consented": accepted})


@require_POST
def caller_position(request: HttpRequest) -> HttpResponse:
    link = _caller_link(request)
    try:
        services.set_position(link, request.POST)
    except (ValidationError, PermissionDenied) as exc:
        return _upload_error(exc)
    return JsonResponse({"ok": True})


@require_POST
def caller_photo(request: HttpRequest) -> HttpResponse:
    """A photo from the caller: on their own (the fallback when video is poor), or a snapshot
    their phone took at full resolution when the regulator asked (filed under the regulator)."""
    link = _caller_link(request)
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"detail": _("Aucun fichier reçu.")}, status=400)
    asked = request.POST.get("kind") == MediaKind.SNAPSHOT
    kind = MediaKind.SNAPSHOT if asked else MediaKind.UPLOAD
    try:
        media = services.file_media(request, link, upload, kind, link.created_by if asked else None)
    except (ValidationError, PermissionDenied) as exc:
        return _upload_error(exc)
    return _media_answer(media)
