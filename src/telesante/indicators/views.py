from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession
from telesante.acts.models import Filiere
from telesante.core.i18n import product_language
from telesante.indicators import access, billing, charts, exports, filters
from telesante.indicators.figures import compute
from telesante.patients.models import ActKind
from telesante.structures.models import StructureKind


def _download(content: str | bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _filename(result, ext: str) -> str:
    parts = [
        "indicateurs",
        result.filters.raw.get("territory", ""),
        result.filters.raw.get("period", ""),
    ]
    return "-".join(p.replace(":", "") for p in parts if p) + f".{ext}"


def _refusal(err: ValidationError) -> HttpResponse:
    """A download refused for its parameters: the French reasons, as plain text."""
    return HttpResponse(
        " ".join(m for ms in err.message_dict.values() for m in ms),
        status=400,
        content_type="text/plain; charset=utf-8",
    )


def _export(request: HttpRequest, make: Callable[[Any], HttpResponse]) -> HttpResponse:
    """The figures of the request's filters handed to `make`; bad filters are a 400."""
    access.check(request.user)
    try:
        result = compute(filters.parse(request.GET))
    except ValidationError as err:
        return _refusal(err)
    return make(result)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    access.check(request.user)
    context = {
        "params": request.GET,
        "kinds": ActKind.choices,
        "structure_kinds": StructureKind.choices,
        "filieres": Filiere.objects.order_by("name"),
        "professions": Profession.choices,
        "query": request.GET.urlencode(),
    }
    try:
        result = compute(filters.parse(request.GET))
    except ValidationError as err:
        context["errors"] = err.message_dict
        return render(request, "indicators/dashboard.html", context, status=400)
    months = result.table("acts_by_month")
    context.update(
        result=result,
        s=result.summary,
        tables=[t for t in result.tables if t.key != "summary"],
        series_chart=charts.lines(
            [row[0] for row in months.rows],
            {
                name: [row[i + 1] for row in months.rows]
                for i, name in enumerate(months.columns[1:])
            },
            _("Actes par mois et par type"),
        ),
        filiere_chart=charts.bars(
            [(row[0], row[1]) for row in result.table("acts_by_filiere").rows],
            _("Actes par filière"),
        ),
    )
    return render(request, "indicators/dashboard.html", context)


# Exports are documents handed on (reports, spreadsheets): French whatever the page's language.
@login_required
@product_language()
def export_csv(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("table", "")

    def make(result) -> HttpResponse:
        if not key:
            return _download(
                exports.all_csv(result), _filename(result, "csv"), "text/csv; charset=utf-8"
            )
        table = next((t for t in result.tables if t.key == key), None)
        if table is None:
            raise Http404(_("Tableau inconnu."))
        name = _filename(result, "csv").replace("indicateurs", f"indicateurs-{key}")
        return _download(exports.table_csv(table), name, "text/csv; charset=utf-8")

    return _export(request, make)


@login_required
@product_language()
def export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        lambda result: _download(
            exports.workbook(result),
            _filename(result, "xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    )


@login_required
@product_language()
def export_pdf(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        lambda result: _download(
            exports.pdf_summary(result), _filename(result, "pdf"), "application/pdf"
        ),
    )


@login_required
def billing_csv(request: HttpRequest) -> HttpResponse:
    try:
        professional = billing.target(request.user, request.GET.get("professional", ""))
        period = billing.period_of(request.GET.get("period", ""))
    except ValidationError as err:
        return _refusal(err)
    return _download(
        billing.export_csv(professional, period),
        f"facturation-{professional.pk}-{period.label}.csv",
        "text/csv; charset=utf-8",
    )
