from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router

from telesante.core.i18n import product_language
from telesante.indicators import access, exports, filters
from telesante.indicators.figures import compute

router = Router(tags=["indicateurs"])


@router.get(
    "",
    summary="Indicateurs d'activité (agrégats)",
    description="Filtres : period (2022, 2022-S1, 2022-03), territory (53, reg:52, 53130), "
    "structure, structure_kind, kind, filiere, profession, rural, underserved ; "
    "format=csv pour un CSV. Effectifs faibles masqués.",
)
def indicators(request: HttpRequest, format: str = "json"):
    access.check(request.user)
    if format not in ("json", "csv"):
        raise ValidationError({"format": ["Format inconnu : json ou csv."]})
    if format == "csv":
        with product_language():  # a file handed on: French, as the page exports
            content = exports.all_csv(compute(filters.parse(request.GET)))
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="indicateurs.csv"'
        return response
    return exports.masked_summary(compute(filters.parse(request.GET)).summary)
