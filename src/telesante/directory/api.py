from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router

from telesante.core import paging
from telesante.directory import services

router = Router(tags=["annuaire"])


@router.get(
    "",
    auth=None,
    summary="Annuaire de l'offre de télésanté (public)",
    description="Filtres : filiere (code), act (type d'acte), territory (53, reg:52, 53130), "
    "place (lieu tel qu'on le tape : nom de commune ou de département, code postal). "
    "Par pages : `limit` sites (500 par défaut et au plus) à partir de `offset` (0 par défaut), "
    "dans l'ordre département, nom ; le nombre total de sites trouvés est dans l'en-tête "
    "`X-Total-Count`. La réponse reste une liste JSON.",
)
def directory(
    request: HttpRequest,
    response: HttpResponse,
    filiere: str = "",
    act: str = "",
    territory: str = "",
    place: str = "",
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
    limit: Annotated[int, Field(ge=1, le=services.API_LIMIT)] = services.API_LIMIT,
):
    query = services.parse({"filiere": filiere, "act": act, "territory": territory, "place": place})
    return services.entries(
        paging.api_page(request, response, services.sites(query), offset, limit, cursor)
    )
