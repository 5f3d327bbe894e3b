import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.http import conditional_page
from django.views.i18n import JavaScriptCatalog
from psycopg_pool import PoolTimeout

from telesante.core import accessibility, pickers, policy, trail, worklist


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {
            "sections": worklist.build(request, request.user),
            "structures": policy.member_structures(request.user).select_related("commune"),
            "administered": policy.administered_structures(request.user),
        },
    )


def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement and the legal notices: public, like the directory."""
    return render(
        request,
        "core/accessibility.html",
        {
            "assessment": accessibility.assessment(),
            "publisher": settings.TELESANTE_PUBLISHER,
            "host": settings.TELESANTE_HOSTING,
            "contact": settings.TELESANTE_ACCESSIBILITY_CONTACT,
        },
    )


@login_required
def worklist_fragment(request: HttpRequest) -> HttpResponse:
    """The work list alone: the home page fetches it again when a notification arrives. The
    fragment shows none of the page's context (the context processors' unread count was a
    query of its own)."""
    sections = worklist.build(request, request.user)
    return HttpResponse(loader.render_to_string("core/worklist.html", {"sections": sections}))


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Stands in for the admin's password-only form, which would skip the second factor.
    Staff already logged in never get here; anyone else logged in is not staff."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


def server_error(request: HttpRequest) -> HttpResponse:
    """A crash answers 500; the database out of reach (restarting, failing over) answers 503 in
    French with Retry-After, so that people and API clients try again, and the next request
    reconnects by itself (core/postgresql) once the database is back. Every connection of
    the process's pool lent out a whole DB_POOL_TIMEOUT is the load, not the database: 503
    too, said as such."""
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    if _pool_exhausted(error):
        retry, detail = "2", _("Plateforme très sollicitée : réessayez dans quelques secondes.")
    else:
        retry = "5"
        detail = _("La base de données ne répond pas. Réessayez dans quelques secondes.")
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=503)
    else:
        # No request context: its processors would query the database again.
        html = loader.get_template("503.html").render({"detail": detail})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = retry
    return response


def _pool_exhausted(error: Exception) -> bool:
    """The pool timed out with all its connections lent: while the database is down, the
    connections it lends fail their check and are dropped, and the pool is not full."""
    if not isinstance(error.__cause__, PoolTimeout):
        return False
    stats = connection.pool.get_stats()
    return stats["pool_size"] >= stats["pool_max"] and not stats["pool_available"]


# The browser scripts' strings (domain "djangojs") in the request's language. No login: the video
# room is also opened by patients and guests, and the catalogue holds only interface strings.
# Revalidated on each use, since the language may change by cookie and the URL stays the same; an
# unchanged answer (same language, same release) costs a 304 by its ETag.
javascript_catalog = cache_control(no_cache=True)(conditional_page(JavaScriptCatalog.as_view()))


@login_required
def structure_audit(request: HttpRequest, pk: int) -> HttpResponse:
    structure = get_object_or_404(policy.administered_structures(request.user), pk=pk)
    entries = trail.entries_for(structure)
    if request.GET.get("format") == "csv":
        name = f"journal-{structure.pk}-{timezone.localdate():%Y%m%d}.csv"
        return StreamingHttpResponse(
            trail.csv_rows(entries),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"structure": structure, "page": page})


def page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return min(int(raw), 10_000) if raw.isdecimal() and len(raw) < 6 and int(raw) > 0 else 1


@login_required
def search_professionals(request: HttpRequest, set_name: str) -> JsonResponse:
    """A page of the professionals of a picker's set (name, profession, specialty,
    structure): the pickers of every page that chooses a professional."""
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied
    candidates = pickers.SETS.get(set_name)
    if candidates is None:
        raise Http404
    found, more = pickers.professionals(
        candidates(request.user, request.GET), request.GET.get("q", ""), page_number(request)
    )
    return JsonResponse({"results": [vars(c) for c in found], "more": more})
