"""A structure's administrators manage its staff and teams by API, as on the staff page."""

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from telesante.accounts import staff
from telesante.accounts.models import MembershipRole, Profession, User
from telesante.core import paging
from telesante.core.bounds import Id

router = Router(tags=["professionnels de ma structure"])


class StaffTeamOut(Schema):
    id: int
    name: str


class StaffOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    profession: str
    specialty: str
    rpps: str | None
    is_active: bool
    regulation_access: bool = Field(
        description="may regulate calls in a SAMU or SAS (Pro Santé Connect's claim wins at "
        "each PSC login)"
    )
    role: str = Field(description="admin or member in this structure")
    teams: list[StaffTeamOut]
    rpps_missing_since: str | None = Field(
        description="day the RPPS went missing from the Annuaire Santé extract (YYYY-MM-DD)"
    )

    @staticmethod
    def resolve_role(person: User) -> str:
        return MembershipRole.ADMIN if staff.is_admin_row(person) else MembershipRole.MEMBER

    @staticmethod
    def resolve_teams(person: User) -> list:
        return [m.team for m in person.structure_memberships]

    @staticmethod
    def resolve_rpps_missing_since(person: User) -> str | None:
        day = person.rpps_missing_since
        return day.isoformat() if day else None


class InvitationIn(Schema):
    email: str = Field("", max_length=254)
    rpps: str = Field("", max_length=14)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    profession: Profession = Profession.OTHER
    team_id: Id
    role: MembershipRole = MembershipRole.MEMBER


class StaffChangeIn(Schema):
    """Only what is sent changes."""

    role: MembershipRole | None = None
    is_active: bool | None = None


class RegulationIn(Schema):
    regulation_access: bool


class TeamIn(Schema):
    name: str = Field(max_length=150)


class TeamMembershipIn(Schema):
    team_id: Id


def _one(structure, person_pk: int) -> User:
    return staff.staff(structure).get(pk=person_pk)


@router.get(
    "/{structure_id}/staff", response=list[StaffOut], summary="Professionnels de ma structure"
)
def list_staff(
    request: HttpRequest,
    response: HttpResponse,
    structure_id: Id,
    limit: int = 50,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Deactivated accounts too, by name; `limit` at most 200, the total in X-Total-Count."""
    structure = staff.administered(request.user, structure_id)
    return paging.api_page(
        request, response, staff.staff(structure), offset, max(1, min(limit, 200)), cursor
    )


@router.post(
    "/{structure_id}/staff",
    response={200: StaffOut, 201: StaffOut},
    summary="Inviter un professionnel (par e-mail ou RPPS) dans une équipe",
)
def invite(request: HttpRequest, structure_id: Id, payload: InvitationIn):
    """201 and an invitation e-mail for a new account; 200 when an account with this RPPS or
    e-mail joins the team."""
    structure = staff.administered(request.user, structure_id)
    person, created = staff.invite(
        request, request.user, structure, staff.Invitation(**payload.dict())
    )
    return Status(201 if created else 200, _one(structure, person.pk))


@router.patch(
    "/{structure_id}/staff/{user_id}",
    response=StaffOut,
    summary="Changer le rôle d'un professionnel, désactiver ou réactiver son compte",
)
def change(request: HttpRequest, structure_id: Id, user_id: Id, payload: StaffChangeIn):
    structure = staff.administered(request.user, structure_id)
    person = staff.member_of(structure, user_id)
    if payload.role is not None:
        staff.set_role(request, request.user, structure, person, payload.role)
    if payload.is_active is not None:
        staff.set_active(request, request.user, structure, person, payload.is_active)
    return _one(structure, person.pk)


@router.put(
    "/{structure_id}/staff/{user_id}/regulation",
    response=StaffOut,
    summary="Accorder ou retirer le droit de régulation médicale (SAMU, SAS)",
)
def set_regulation(request: HttpRequest, structure_id: Id, user_id: Id, payload: RegulationIn):
    """400 outside a SAMU or SAS, or for a member of another SAMU or SAS the caller does not
    administer (the right is the account's). A Pro Santé Connect login sets it again from
    `Acces_Regulation_Medicale`."""
    structure = staff.administered(request.user, structure_id)
    person = staff.member_of(structure, user_id)
    staff.set_regulation_access(request, request.user, structure, person, payload.regulation_access)
    return _one(structure, person.pk)


@router.post(
    "/{structure_id}/staff/{user_id}/teams",
    response=StaffOut,
    summary="Ajouter un professionnel à une équipe de ma structure",
)
def add_team(request: HttpRequest, structure_id: Id, user_id: Id, payload: TeamMembershipIn):
    structure = staff.administered(request.user, structure_id)
    person = staff.member_of(structure, user_id)
    staff.add_to_team(request, request.user, structure, person, payload.team_id)
    return _one(structure, person.pk)


@router.delete(
    "/{structure_id}/staff/{user_id}/teams/{team_id}",
    response={204: None},
    summary="Retirer un professionnel d'une équipe de ma structure",
)
def remove_team(request: HttpRequest, structure_id: Id, user_id: Id, team_id: Id):
    structure = staff.administered(request.user, structure_id)
    person = staff.member_of(structure, user_id)
    staff.remove_from_team(request, request.user, structure, person, team_id)
    return Status(204, None)


@router.post(
    "/{structure_id}/teams", response={201: StaffTeamOut}, summary="Créer une équipe de soins"
)
def create_team(request: HttpRequest, structure_id: Id, payload: TeamIn):
    structure = staff.administered(request.user, structure_id)
    return Status(201, staff.create_team(request, request.user, structure, payload.name))
