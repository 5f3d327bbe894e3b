from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telesante.accounts.models import RegionalRole, User
from telesante.acts.models import Filiere
from telesante.core import paging
from telesante.deployment import services
from telesante.deployment.models import Step
from telesante.indicators import filters
from telesante.patients.models import ActKind
from telesante.structures.models import DeploymentStatus, Structure, StructureKind


def _check(user) -> None:
    if not services.may_view(user):
        raise PermissionDenied


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Where each site of the region stands (regional roles and support officers)."""
    _check(request.user)
    errors = {}
    try:
        f = filters.parse({k: request.GET.get(k, "") for k in ("territory", "structure_kind")})
    except ValidationError as err:
        errors, f = err.message_dict, filters.Filters()
    qs = services.overview(f.structure_q())
    status = request.GET.get("status", "")
    counts = services.status_counts(qs)
    if status in DeploymentStatus.values:
        qs = qs.filter(deployment_status=status)
    total = sum(counts.values())
    return render(
        request,
        "deployment/overview.html",
        {
            "page": paging.page(request, qs),
            "steps": Step.choices,
            "counts": [
                (s, label, counts[s], round(100 * counts[s] / total, 1) if total else None)
                for s, label in DeploymentStatus.choices
            ],
            "total": total,
            "params": request.GET,
            "status": status,
            "statuses": DeploymentStatus.choices,
            "structure_kinds": StructureKind.choices,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _flash(request: HttpRequest, err: ValidationError) -> None:
    for field_errors in err.message_dict.values():
        for message in field_errors:
            messages.error(request, message)


def _structure(pk: int) -> Structure:
    structure = Structure.objects.select_related("commune", "departement").filter(pk=pk).first()
    if structure is None:
        raise Http404(_("Site introuvable."))
    return structure


@login_required
def site(request: HttpRequest, pk: int) -> HttpResponse:
    _check(request.user)
    structure = _structure(pk)
    follow_up = services.site_for(structure)
    stops = list(services.schedule(structure, timezone.now()))
    return render(
        request,
        "deployment/site.html",
        {
            "structure": structure,
            "site": follow_up,
            "milestones": services.milestone_map(follow_up),
            "may_edit": services.may_edit(request.user, follow_up),
            "is_admin": request.user.regional_role == RegionalRole.ADMIN,
            "officers": User.objects.filter(
                is_active=True, regional_role__in=[RegionalRole.ADMIN, RegionalRole.OBSERVER]
            ).order_by("last_name"),
            "filieres": Filiere.objects.order_by("name"),
            "kinds": ActKind.choices,
            "offered": [label for value, label in ActKind.choices if value in follow_up.acts],
            "opened": set(follow_up.filieres.values_list("code", flat=True)),
            "stops": stops,
            "stops_map": services.stops_map(stops) if stops else None,
        },
    )


def _post(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    """Apply a change to the site; French errors or the confirmation come back as messages."""
    _check(request.user)
    site_ = services.site_for(_structure(pk))
    try:
        action(site_)
    except ValidationError as err:
        _flash(request, err)
    else:
        messages.success(request, done)
    return redirect("deployment_site", pk=pk)


@login_required
@require_POST
def milestone(request: HttpRequest, pk: int) -> HttpResponse:
    def record(site_) -> None:
        services.record_milestone(request.user, site_, services.parse_milestone(request.POST))

    return _post(request, pk, record, _("Jalon enregistré."))


@login_required
@require_POST
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    raw = request.POST.get("officer", "")
    officer = int(raw) if raw.isdecimal() and len(raw) < 18 else (None if not raw else -1)
    offer = services.Offer(
        request.POST.getlist("acts"),
        request.POST.get("availability", "").strip(),
        request.POST.get("contact", "").strip(),
    )

    def update(site_) -> None:
        services.set_follow_up(
            request.user, site_, officer, request.POST.getlist("filieres"), offer
        )

    return _post(request, pk, update, _("Suivi du site enregistré."))


@login_required
@require_POST
def stop(request: HttpRequest, pk: int) -> HttpResponse:
    def add(site_) -> None:
        services.add_stop(request.user, site_, request.POST)

    return _post(request, pk, add, _("Étape enregistrée."))
