"""Pages of the yearly activity declaration: one's own, and a structure's staff (its admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from telesante.accounts.models import User
from telesante.core.views import page_number
from telesante.teleconsultation import activity


@login_required
def my_activity(request: HttpRequest) -> HttpResponse:
    """The professional's account page for the activity they declare and the cap it gives."""
    user = request.user
    activity.declare_check(user)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.POST
        try:
            activity.declare(request, user, user, values.get("year"), values.get("total_acts"))
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("Activité déclarée."))
            return redirect("my_activity")
    return render(
        request,
        "teleconsultation/activity.html",
        {"years": activity.activity(user), "errors": errors, "values": values},
        status=400 if errors else 200,
    )


@login_required
def staff_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """A structure's administrator declares the year's activity of its professionals."""
    structure, page, declared = activity.staff(request.user, pk, page_number(request))
    if request.method == "POST":
        raw = request.POST.get("professional", "")
        person = User.objects.filter(pk=raw).first() if raw.isdecimal() else None
        if person is None:
            raise Http404
        try:
            activity.declare(
                request, request.user, person, activity.years()[0], request.POST.get("total_acts")
            )
        except ValidationError as exc:
            for errs in exc.message_dict.values():
                messages.error(request, f"{person.display_name} : {' '.join(errs)}")
        else:
            messages.success(request, _("Activité déclarée."))
        return redirect(f"{request.path}?page={page.number}")
    rows = [(person, declared.get(person.pk)) for person in page]
    return render(
        request,
        "teleconsultation/staff_activity.html",
        {"structure": structure, "page": page, "rows": rows, "year": activity.years()[0]},
    )
