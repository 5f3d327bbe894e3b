"""The staff page of a structure's administrators: thin views over `accounts.staff`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from telesante.accounts import staff
from telesante.accounts.models import MembershipRole, Profession
from telesante.core import paging, policy
from telesante.core.actions import run_then_back

PAGE_SIZE = 20


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Adresse e-mail"), required=False, max_length=254)
    rpps = forms.CharField(
        label=gettext_lazy("RPPS"),
        required=False,
        max_length=14,
        help_text=gettext_lazy("Un compte qui a ce RPPS est ajouté sans invitation."),
    )
    first_name = forms.CharField(label=gettext_lazy("Prénom"), required=False, max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Nom"), required=False, max_length=150)
    profession = forms.ChoiceField(
        label=gettext_lazy("Profession"), choices=Profession.choices, initial=Profession.NURSE
    )
    team = forms.ChoiceField(label=gettext_lazy("Équipe"))
    role = forms.ChoiceField(
        label=gettext_lazy("Rôle"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER
    )

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom de la nouvelle équipe"), max_length=150)


def _teams(structure) -> list:
    return list(structure.teams.order_by("name"))


@login_required
def structure_staff(request: HttpRequest, pk: int) -> HttpResponse:
    structure = staff.administered(request.user, pk)
    teams = _teams(structure)
    current = paging.page(request, staff.staff(structure), per_page=PAGE_SIZE)
    rows = [
        {
            "person": person,
            "admin": staff.is_admin_row(person),
            "teams": [m.team for m in person.structure_memberships],
            "other_teams": [
                t for t in teams if t.pk not in {m.team_id for m in person.structure_memberships}
            ],
        }
        for person in current
    ]
    return render(
        request,
        "structures/staff.html",
        {
            "structure": structure,
            "page": current,
            "rows": rows,
            "regulation": structure.kind in policy.REGULATION_KINDS,
            "invite_form": InviteForm(teams=teams),
            "team_form": TeamForm(),
        },
    )


@require_POST
@login_required
def staff_invite(request: HttpRequest, pk: int) -> HttpResponse:
    structure = staff.administered(request.user, pk)
    form = InviteForm(request.POST, teams=_teams(structure))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("structure_staff", pk)
    data = form.cleaned_data

    def invite(_obj) -> None:
        person, created = staff.invite(
            request,
            request.user,
            structure,
            staff.Invitation(
                email=data["email"],
                rpps=data["rpps"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                profession=data["profession"],
                team_id=int(data["team"]),
                role=data["role"],
            ),
        )
        if created:
            text = _("Invitation envoyée à %(email)s.") % {"email": person.email}
        else:
            text = _("%(name)s ajouté·e à l'équipe.") % {"name": person.display_name}
        messages.success(request, text)

    return run_then_back(request, None, invite, "structure_staff", pk)


@require_POST
@login_required
def team_create(request: HttpRequest, pk: int) -> HttpResponse:
    structure = staff.administered(request.user, pk)

    def create(_obj) -> None:
        team = staff.create_team(request, request.user, structure, request.POST.get("name", ""))
        messages.success(request, _("Équipe « %(name)s » créée.") % {"name": team.name})

    return run_then_back(request, None, create, "structure_staff", pk)


@require_POST
@login_required
def staff_member(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """One change to a professional: `action` is role, add_team, remove_team, deactivate or
    reactivate."""
    structure = staff.administered(request.user, pk)
    person = staff.member_of(structure, user_pk)
    admin, post = request.user, request.POST
    actions = {
        "role": lambda p: staff.set_role(request, admin, structure, p, post.get("role", "")),
        "add_team": lambda p: staff.add_to_team(request, admin, structure, p, post.get("team")),
        "remove_team": lambda p: staff.remove_from_team(
            request, admin, structure, p, post.get("team")
        ),
        "deactivate": lambda p: staff.set_active(request, admin, structure, p, False),
        "reactivate": lambda p: staff.set_active(request, admin, structure, p, True),
    }
    action = actions.get(post.get("action", ""))
    if action is None:
        messages.error(request, _("Action inconnue."))
        return redirect("structure_staff", pk)

    def run(p) -> None:
        action(p)
        messages.success(request, _("%(name)s : modification enregistrée.") % {"name": p})

    return run_then_back(request, person, run, "structure_staff", pk)


@require_POST
@login_required
def staff_regulation(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """Grant (`granted=1`) or withdraw (`granted=0`) the regulation right in a SAMU or SAS."""
    structure = staff.administered(request.user, pk)
    person = staff.member_of(structure, user_pk)
    granted = {"1": True, "0": False}.get(request.POST.get("granted", ""))
    if granted is None:
        messages.error(request, _("Action inconnue."))
        return redirect("structure_staff", pk)

    def run(p) -> None:
        staff.set_regulation_access(request, request.user, structure, p, granted)
        text = (
            _("%(name)s peut désormais réguler les appels.")
            if granted
            else _("%(name)s ne peut plus réguler les appels.")
        )
        messages.success(request, text % {"name": p})

    return run_then_back(request, person, run, "structure_staff", pk)
