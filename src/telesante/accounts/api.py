"""Who am I (`GET /me`) and who is on the platform (`GET /professionals`): what an integrator
needs to fill in a request (its structure ids, an expert's or a performer's id)."""

from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from telesante.accounts.models import MembershipRole, Profession, Specialty, User
from telesante.core.bounds import Id
from telesante.directory import professionals
from telesante.patients.models import ActKind

router = Router(tags=["comptes"])


class TeamOut(Schema):
    id: int
    name: str


class MyStructureOut(Schema):
    id: int
    name: str
    kind: str
    finess: str | None
    role: str = Field(description="admin when the account administers the structure")
    teams: list[TeamOut] = Field(description="the account's care teams in the structure")


class MeOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    display_name: str
    profession: str
    specialty: str
    rpps: str | None
    idnps: str
    regional_role: str
    structures: list[MyStructureOut]

    @staticmethod
    def resolve_structures(user: User) -> list[dict]:
        return user.my_structures


def _my_structures(user: User) -> list[dict]:
    """One entry per structure, with the account's teams there (memberships are per team)."""
    found: dict[int, dict] = {}
    for m in user.memberships.select_related("structure", "team").order_by(
        "structure__name", "team__name"
    ):
        s = m.structure
        entry = found.setdefault(
            s.pk,
            {"id": s.pk, "name": s.name, "kind": s.kind, "finess": s.finess, "role": m.role},
        )
        entry.setdefault("teams", []).append({"id": m.team_id, "name": m.team.name})
        if m.role == MembershipRole.ADMIN:
            entry["role"] = m.role
    return list(found.values())


@router.get("/me", response=MeOut, summary="Mon compte, mes structures et mes équipes")
def me(request: HttpRequest):
    user: User = request.user
    user.my_structures = _my_structures(user)
    return user


class OfferingStructureOut(Schema):
    id: int
    name: str
    kind: str
    commune: str
    acts: list[str] = Field(description="actes proposés par la structure (annuaire)")


class ProfessionalOut(Schema):
    id: int
    first_name: str
    last_name: str
    display_name: str
    profession: str
    profession_label: str
    specialty: str
    specialty_label: str
    structures: list[OfferingStructureOut]

    @staticmethod
    def resolve_profession_label(user: User) -> str:
        return str(user.get_profession_display())

    @staticmethod
    def resolve_specialty_label(user: User) -> str:
        return str(user.get_specialty_display()) if user.specialty else ""

    @staticmethod
    def resolve_structures(user: User) -> list[dict]:
        return [
            {
                "id": m.structure.pk,
                "name": m.structure.name,
                "kind": m.structure.kind,
                "commune": m.structure.commune.name,
                "acts": m.structure.site_deployment.acts
                if hasattr(m.structure, "site_deployment")
                else [],
            }
            for m in user.listed_memberships
        ]


class ProfessionalPage(Schema):
    count: int
    offset: int
    items: list[ProfessionalOut]


class ProfessionalFilters(Schema):
    q: str = Field("", max_length=100, description="nom ou prénom (accents et casse ignorés)")
    profession: Profession | None = None
    specialty: Specialty | None = None
    structure_id: Id | None = None
    act: ActKind | None = Field(None, description="type d'acte proposé par la structure")
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@router.get(
    "/professionals",
    response=ProfessionalPage,
    summary="Rechercher des professionnels (expert sollicité, effecteur)",
)
def search_professionals(request: HttpRequest, filters: Query[ProfessionalFilters]):
    query = professionals.ProfessionalQuery(
        q=filters.q,
        profession=filters.profession or "",
        specialty=filters.specialty or "",
        structure_id=filters.structure_id,
        act=filters.act or "",
    )
    page = professionals.search(query, filters.offset, filters.limit)
    return {"count": page.count, "offset": filters.offset, "items": page.items}
