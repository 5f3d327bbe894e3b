"""API of the yearly activity declaration (the 20 % remote-activity cap is measured on it)."""

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from telesante.accounts.models import User
from telesante.teleconsultation import activity

router = Router(tags=["activité déclarée"])


class ActivityOut(Schema):
    year: int
    declared: int | None = Field(description="actes de l'année, tous modes ; null : non déclarée")
    remote: int = Field(description="actes à distance réalisés sur la plateforme")
    warnings: list[str] = Field(description="alertes du plafond d'activité à distance")


class DeclarationIn(Schema):
    total_acts: int | str = Field(description="nombre d'actes de l'année, ex. 1250 ou « 1 250 »")


@router.get("", response=list[ActivityOut], summary="Mon activité déclarée et le plafond")
def mine(request: HttpRequest):
    activity.declare_check(request.user)
    return activity.activity(request.user)


@router.put("/{year}", response=list[ActivityOut], summary="Déclarer mon activité d'une année")
def declare_mine(request: HttpRequest, year: int, payload: DeclarationIn):
    activity.declare(request, request.user, request.user, year, payload.total_acts)
    return activity.activity(request.user)


@router.put(
    "/professionals/{user_id}/{year}",
    response=list[ActivityOut],
    summary="Déclarer l'activité d'un professionnel de ma structure (administrateur)",
)
def declare_for(request: HttpRequest, user_id: int, year: int, payload: DeclarationIn):
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        raise Http404
    activity.declare(request, request.user, person, year, payload.total_acts)
    return activity.activity(person)
