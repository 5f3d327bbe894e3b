from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from telesante.accounts.models import RegionalRole
from telesante.core import policy
from telesante.core.views import page_number
from telesante.structures import places
from telesante.structures.models import Structure


def viewable_structures(user):
    """Regional roles see every structure; professionals see their own."""
    if user.regional_role in {RegionalRole.ADMIN, RegionalRole.OBSERVER}:
        return Structure.objects.all()
    return policy.member_structures(user)


@login_required
def structure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    structure = get_object_or_404(
        viewable_structures(request.user)
        .select_related("commune", "departement")
        .annotate(patient_count=Count("patient_attachments", distinct=True)),
        pk=pk,
    )
    members = structure.memberships.select_related("user", "team").order_by(
        "team__name", "user__last_name", "user__first_name"
    )
    is_admin = policy.administered_structures(request.user).filter(pk=pk).exists()
    return render(
        request,
        "structures/detail.html",
        {
            "structure": structure,
            "members": members,
            "is_admin": is_admin,
        },
    )


@require_POST
@login_required
def psc_self_enrolment(request: HttpRequest, pk: int) -> HttpResponse:
    """The structure's administrator lets (or stops letting) its professionals create their
    account at their first Pro Santé Connect login."""
    structure = get_object_or_404(policy.administered_structures(request.user), pk=pk)
    structure.psc_self_enrolment = request.POST.get("enabled") == "1"
    structure.save(update_fields=["psc_self_enrolment"])
    if structure.psc_self_enrolment:
        messages.success(request, _("Inscription par Pro Santé Connect ouverte."))
    else:
        messages.success(request, _("Inscription par Pro Santé Connect fermée."))
    return redirect("structure_detail", pk)


@login_required
def search_birthplaces(request: HttpRequest) -> JsonResponse:
    """Communes (current and former) or, for a patient born abroad, countries, by name: the
    patient form's birthplace picker. Reference data, for any signed-in user."""
    found, more = places.search(
        request.GET.get("q", ""),
        countries=bool(request.GET.get("abroad")),
        page=page_number(request),
    )
    results = [{"id": p.code, "label": p.name, "detail": places.describe(p)} for p in found]
    return JsonResponse({"results": results, "more": more})
