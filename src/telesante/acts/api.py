"""The filières and their request forms, as data: an integrator builds its form from them."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema

from telesante.acts.models import Filiere

router = Router(tags=["filières"])


class FormFieldOut(Schema):
    name: str
    label: str
    type: str = Field(
        description="text, textarea, number, choice, multichoice, date, photos ou file"
    )
    required: bool = False
    choices: list[str] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    min_files: int | None = Field(None, description="fichiers exigés (photos, file)")
    dated: bool | None = Field(None, description="date de prise de vue demandée")


class FiliereOut(Schema):
    code: str
    name: str
    specialty: str = Field(description="spécialité des experts")
    answer_days: int = Field(description="délai de réponse (jours)")
    form: list[FormFieldOut]


class FilierePage(Schema):
    count: int
    offset: int
    items: list[FiliereOut]


@router.get("", response=FilierePage, summary="Filières actives et leurs formulaires")
def filieres(
    request: HttpRequest,
    offset: Annotated[int, Field(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Field(ge=1, le=100)] = 50,
):
    """A request (`POST /teleexpertise`) sends the values of the form's fields in `form`, and
    the files of its photos and file fields as parts of the same name (multipart)."""
    active = Filiere.objects.filter(active=True)
    return {
        "count": active.count(),
        "offset": offset,
        "items": list(active.order_by("name", "code")[offset : offset + limit]),
    }
