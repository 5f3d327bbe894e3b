from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from telesante.accounts.models import RegionalRole
from telesante.core import policy
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
