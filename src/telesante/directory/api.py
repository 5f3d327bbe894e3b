from django.http import HttpRequest
from ninja import Router

from telesante.directory import services

router = Router(tags=["annuaire"])


@router.get(
    "",
    auth=None,
    summary="Annuaire de l'offre de télésanté (public)",
    description="Filtres : filiere (code), act (type d'acte), territory (53, reg:52, 53130), "
    "place (lieu tel qu'on le tape : nom de commune ou de département, code postal).",
)
def directory(
    request: HttpRequest, filiere: str = "", act: str = "", territory: str = "", place: str = ""
):
    return services.listing(
        services.parse({"filiere": filiere, "act": act, "territory": territory, "place": place})
    )
