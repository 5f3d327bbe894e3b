from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from telesante.acts.models import Filiere
from telesante.directory import map_svg, services
from telesante.patients.models import ActKind


def directory(request: HttpRequest) -> HttpResponse:
    """Public page: no login, no patient data."""
    context = {
        "params": request.GET,
        "filieres": Filiere.objects.filter(active=True).order_by("name"),
        "kinds": ActKind.choices,
    }
    try:
        query = services.parse(request.GET)
    except ValidationError as err:
        context["errors"] = err.message_dict
        return render(request, "directory/list.html", context, status=400)
    page, entries = services.page(query, request.GET.get("page"))
    # The pager's links keep the search.
    search = request.GET.copy()
    search.pop("page", None)
    context.update(
        page=page, entries=entries, map=map_svg.render(entries), search=search.urlencode()
    )
    return render(request, "directory/list.html", context)
