"""A structure's administrator manages its staff and teams (page and API): invitation by e-mail
or RPPS, roles, teams, deactivation; refusals for members (403) and other structures (404)."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.accounts import staff
from telesante.accounts.models import ApiToken, Membership, MembershipRole, User
from telesante.core import policy
from telesante.core.identifiers import luhn_complete
from telesante.core.models import AuditAction, AuditEntry
from telesante.directory.models import Practitioner
from telesante.psc import services as psc
from telesante.psc.claims import ProClaims
from telesante.structures.models import Team
from tests.conftest import PASSWORD, api_client, logged_in, make_user
from tests.regulation.conftest import RG, regul  # noqa: F401

RPPS = luhn_complete("1000055555")


def staff_url(world) -> str:
    return reverse("structure_staff", args=[world.ehpad_a.pk])


def member_url(world, person) -> str:
    return reverse("structure_staff_member", args=[world.ehpad_a.pk, person.pk])


def team_a(world) -> Team:
    return Team.default_for(world.ehpad_a.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Who gets the page.


def test_the_structure_page_leads_its_administrator_to_the_staff_page(world):
    page = logged_in(world.admin_a).get(reverse("structure_detail", args=[world.ehpad_a.pk]))
    assert staff_url(world) in page.text
    member_page = logged_in(world.nurse_a).get(reverse("structure_detail", args=[world.ehpad_a.pk]))
    assert staff_url(world) not in member_page.text


def test_members_get_403_and_other_structures_404(world):
    assert logged_in(world.nurse_a).get(staff_url(world)).status_code == 403
    assert logged_in(world.nurse_b).get(staff_url(world)).status_code == 404
    assert logged_in(world.regional_admin).get(staff_url(world)).status_code == 404


def test_the_page_lists_every_professional_with_teams_and_roles(world):
    page = logged_in(world.admin_a).get(staff_url(world))
    assert page.status_code == 200
    for person in (world.nurse_a, world.admin_a, world.doctor_a):
        assert person.display_name in page.text
    assert world.nurse_b.display_name not in page.text
    assert "Équipe de la structure" in page.text and "administrateur" in page.text


def test_the_list_costs_the_same_queries_for_two_or_many_professionals(world):
    client = logged_in(world.admin_a)
    client.get(staff_url(world))  # sessions, caches
    with CaptureQueriesContext(connection) as few:
        client.get(staff_url(world))
    for n in range(30):
        make_user(f"renfort{n}@example.test", structure=world.ehpad_a)
    with CaptureQueriesContext(connection) as many:
        page = client.get(staff_url(world))
    assert len(many) == len(few)
    assert page.context["page"].paginator.count == 33
    assert len(page.context["rows"]) == 20


# Invitation.


def test_an_invitation_creates_the_account_and_sends_a_link_to_choose_a_password(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(world.admin_a).post(
            reverse("structure_staff_invite", args=[world.ehpad_a.pk]),
            {
                "email": "Nouvelle.Recrue@Example.test",
                "first_name": "Nina",
                "last_name": "Recrue",
                "profession": "infirmier",
                "team": team_a(world).pk,
                "role": "member",
            },
            follow=True,
        )
    assert "Invitation envoyée à nouvelle.recrue@example.test." in messages_of(response)
    person = User.objects.get(email="nouvelle.recrue@example.test")
    assert not person.has_usable_password()
    assert Membership.objects.get(user=person).team == team_a(world)
    [sent] = mail.outbox
    assert sent.to == ["nouvelle.recrue@example.test"]
    assert "EHPAD Les Tilleuls" in sent.body and "double authentification" in sent.body
    assert "DORVANE" not in sent.body  # no patient data in an e-mail
    link = re.search(r"https?://\S+", sent.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    # The link opens allauth's « choose a password » form; once set, the account logs in and
    # is sent to enrol its second factor.
    client = Client()
    form = client.get("/" + path, follow=True)
    assert form.status_code == 200 and 'name="password1"' in form.text
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else "/" + path,
        {"password1": PASSWORD, "password2": PASSWORD},
    )
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert AuditEntry.objects.filter(
        object_type="user", object_id=str(person.pk), action=AuditAction.UPDATE
    ).exists()


def test_an_invitation_by_rpps_adds_the_existing_account_without_mail(world):
    world.doctor_a.rpps = RPPS
    world.doctor_a.save()
    other_team = Team.objects.create(structure=world.ehpad_a, name="Unité Alzheimer")
    person, created = staff.invite(
        None, world.admin_a, world.ehpad_a, staff.Invitation(rpps=RPPS, team_id=other_team.pk)
    )
    assert (person, created) == (world.doctor_a, False)
    assert set(person.memberships.values_list("team__name", flat=True)) == {
        "Équipe de la structure",
        "Unité Alzheimer",
    }
    assert mail.outbox == []


def test_an_invitation_by_an_unknown_rpps_asks_for_the_email(world):
    with pytest.raises(staff.ValidationError) as caught:
        staff.invite(
            None,
            world.admin_a,
            world.ehpad_a,
            staff.Invitation(rpps=RPPS, team_id=team_a(world).pk),
        )
    assert "indiquez son adresse e-mail" in str(caught.value)
    assert not User.objects.filter(rpps=RPPS).exists()


def test_an_invitation_names_the_account_from_the_directory(world):
    Practitioner.objects.create(
        rpps=RPPS, last_name="ANNUAIRE", first_name="Léa", profession="medecin"
    )
    person, created = staff.invite(
        None,
        world.admin_a,
        world.ehpad_a,
        staff.Invitation(email="lea@example.test", rpps=RPPS, team_id=team_a(world).pk),
    )
    assert created and (person.last_name, person.first_name) == ("ANNUAIRE", "Léa")
    assert person.profession == "medecin"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Indiquez l'adresse e-mail ou le RPPS."),
        ({"email": "pas-une-adresse"}, "Adresse e-mail invalide."),
        ({"rpps": "12345678901"}, "RPPS"),
        ({"email": "nurse.a@example.test"}, "déjà dans cette équipe"),
    ],
)
def test_invitation_refusals_are_french_and_change_nothing(world, fields, error):
    before = (User.objects.count(), Membership.objects.count())
    with pytest.raises(staff.ValidationError) as caught:
        staff.invite(
            None, world.admin_a, world.ehpad_a, staff.Invitation(team_id=team_a(world).pk, **fields)
        )
    assert error in " ".join(caught.value.messages)
    assert (User.objects.count(), Membership.objects.count()) == before


def test_another_structures_team_is_refused(world):
    with pytest.raises(staff.ValidationError, match="équipe de la structure"):
        staff.invite(
            None,
            world.admin_a,
            world.ehpad_a,
            staff.Invitation(email="x@example.test", team_id=Team.default_for(world.ehpad_b.pk).pk),
        )


# Roles and teams.


def test_roles_change_and_the_last_administrator_stays(world):
    client = logged_in(world.admin_a)
    client.post(member_url(world, world.nurse_a), {"action": "role", "role": "admin"})
    assert set(world.nurse_a.memberships.values_list("role", flat=True)) == {"admin"}
    client.post(member_url(world, world.nurse_a), {"action": "role", "role": "member"})
    refused = client.post(
        member_url(world, world.admin_a), {"action": "role", "role": "member"}, follow=True
    )
    assert "La structure doit garder au moins un administrateur actif." in messages_of(refused)
    assert world.admin_a.memberships.get().role == MembershipRole.ADMIN


def test_teams_are_created_joined_and_left(world):
    client = logged_in(world.admin_a)
    created = client.post(
        reverse("structure_team_create", args=[world.ehpad_a.pk]), {"name": " Unité  de nuit "}
    )
    assert created.status_code == 302
    night = Team.objects.get(structure=world.ehpad_a, name="Unité de nuit")
    again = client.post(
        reverse("structure_team_create", args=[world.ehpad_a.pk]),
        {"name": "unité de nuit"},
        follow=True,
    )
    assert "La structure a déjà une équipe de ce nom." in messages_of(again)
    client.post(member_url(world, world.nurse_a), {"action": "add_team", "team": night.pk})
    assert world.nurse_a.memberships.filter(team=night).exists()
    client.post(member_url(world, world.nurse_a), {"action": "remove_team", "team": night.pk})
    assert not world.nurse_a.memberships.filter(team=night).exists()
    unknown = client.post(member_url(world, world.nurse_a), {"action": "nope"}, follow=True)
    assert "Action inconnue." in messages_of(unknown)


def test_another_structures_professional_is_404(world):
    response = logged_in(world.admin_a).post(
        reverse("structure_staff_member", args=[world.ehpad_a.pk, world.nurse_b.pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 404
    world.nurse_b.refresh_from_db()
    assert world.nurse_b.is_active


# Deactivation.


def test_a_deactivated_account_cannot_log_in_nor_use_its_tokens_and_keeps_its_trail(world):
    _token, raw = ApiToken.issue(world.nurse_a)
    session = logged_in(world.nurse_a)
    assert session.get(reverse("home")).status_code == 200
    response = logged_in(world.admin_a).post(
        member_url(world, world.nurse_a), {"action": "deactivate"}, follow=True
    )
    assert f"{world.nurse_a} : modification enregistrée." in messages_of(response)
    world.nurse_a.refresh_from_db()
    assert not world.nurse_a.is_active
    assert "désactivé" in response.text
    # Its open session is gone, its password and token refused.
    assert session.get(reverse("home")).status_code == 302
    assert not Client().login(email=world.nurse_a.email, password=PASSWORD)
    token_client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert token_client.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(
        object_type="user", object_id=str(world.nurse_a.pk), detail="désactivé"
    ).exists()
    logged_in(world.admin_a).post(member_url(world, world.nurse_a), {"action": "reactivate"})
    world.nurse_a.refresh_from_db()
    assert world.nurse_a.is_active


def test_deactivation_refuses_oneself_and_a_professional_of_another_structure(world):
    with pytest.raises(staff.ValidationError, match="votre propre compte"):
        staff.set_active(None, world.admin_a, world.ehpad_a, world.admin_a, False)
    Membership.objects.create(user=world.nurse_a, structure=world.ehpad_b)
    with pytest.raises(staff.ValidationError, match="autre structure"):
        staff.set_active(None, world.admin_a, world.ehpad_a, world.nurse_a, False)
    world.nurse_a.refresh_from_db()
    assert world.nurse_a.is_active


# API.


def test_the_api_lists_pages_with_the_total(world):
    client = api_client(world.admin_a)
    response = client.get(f"/api/v1/structures/{world.ehpad_a.pk}/staff", {"limit": 2})
    assert response.status_code == 200
    assert response["X-Total-Count"] == "3"
    body = response.json()
    assert len(body) == 2
    admin = next(p for p in body if p["id"] == world.admin_a.pk)
    assert admin["role"] == "admin"
    assert admin["teams"] == [{"id": team_a(world).pk, "name": "Équipe de la structure"}]
    assert admin["rpps_missing_since"] is None


def test_the_api_list_costs_the_same_queries_for_few_or_many(world):
    client = api_client(world.admin_a)
    url = f"/api/v1/structures/{world.ehpad_a.pk}/staff"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(20):
        make_user(f"renfort{n}@example.test", structure=world.ehpad_a)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()) == 23
    assert len(many) == len(few)


def test_the_api_invites_changes_and_manages_teams(world, django_capture_on_commit_callbacks):
    client = api_client(world.admin_a)
    base = f"/api/v1/structures/{world.ehpad_a.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(
            f"{base}/staff",
            {"email": "api@example.test", "team_id": team_a(world).pk, "profession": "medecin"},
            content_type="application/json",
        )
    assert invited.status_code == 201, invited.content
    assert len(mail.outbox) == 1
    person_id = invited.json()["id"]
    team = client.post(
        f"{base}/teams", {"name": "Soins palliatifs"}, content_type="application/json"
    )
    assert team.status_code == 201
    joined = client.post(
        f"{base}/staff/{person_id}/teams",
        {"team_id": team.json()["id"]},
        content_type="application/json",
    )
    assert {t["name"] for t in joined.json()["teams"]} == {
        "Équipe de la structure",
        "Soins palliatifs",
    }
    left = client.delete(f"{base}/staff/{person_id}/teams/{team.json()['id']}")
    assert left.status_code == 204
    changed = client.patch(
        f"{base}/staff/{person_id}",
        {"role": "admin", "is_active": False},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["is_active"]) == ("admin", False)


def test_the_api_says_refusals_in_french(world):
    client = api_client(world.admin_a)
    response = client.patch(
        f"/api/v1/structures/{world.ehpad_a.pk}/staff/{world.admin_a.pk}",
        {"is_active": False},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "votre propre compte" in response.content.decode()
    assert (
        api_client(world.nurse_a).get(f"/api/v1/structures/{world.ehpad_a.pk}/staff").status_code
        == 403
    )
    assert (
        api_client(world.nurse_b).get(f"/api/v1/structures/{world.ehpad_a.pk}/staff").status_code
        == 404
    )


def test_an_administrator_invited_to_a_second_team_administers_in_both(world):
    night = Team.objects.create(structure=world.ehpad_a, name="Unité de nuit")
    staff.invite(
        None,
        world.admin_a,
        world.ehpad_a,
        staff.Invitation(email=world.nurse_a.email, team_id=night.pk, role="admin"),
    )
    assert set(world.nurse_a.memberships.values_list("role", flat=True)) == {"admin"}
    # Its other team keeps the role when it leaves one of them.
    staff.remove_from_team(None, world.admin_a, world.ehpad_a, world.nurse_a, night.pk)
    assert world.nurse_a.memberships.get().role == "admin"


def test_the_last_administrator_cannot_leave_its_last_team(world):
    with pytest.raises(staff.ValidationError, match="au moins un administrateur"):
        staff.remove_from_team(None, world.admin_a, world.ehpad_a, world.admin_a, team_a(world).pk)
    with pytest.raises(staff.ValidationError, match="pas dans cette équipe"):
        night = Team.objects.create(structure=world.ehpad_a, name="Unité de nuit")
        staff.remove_from_team(None, world.admin_a, world.ehpad_a, world.nurse_a, night.pk)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda w: staff.create_team(None, w.admin_a, w.ehpad_a, "  "), "Donnez un nom"),
        (lambda w: staff.create_team(None, w.admin_a, w.ehpad_a, "x" * 151), "150 caractères"),
        (lambda w: staff.set_role(None, w.admin_a, w.ehpad_a, w.nurse_a, "chef"), "Rôle inconnu"),
        (
            lambda w: staff.invite(
                None,
                w.admin_a,
                w.ehpad_a,
                staff.Invitation(email="a@example.test", team_id=team_a(w).pk, role="chef"),
            ),
            "Rôle inconnu",
        ),
        (
            lambda w: staff.invite(
                None,
                w.admin_a,
                w.ehpad_a,
                staff.Invitation(email="a@example.test", team_id=team_a(w).pk, profession="x"),
            ),
            "Profession inconnue",
        ),
        (
            lambda w: staff.add_to_team(None, w.admin_a, w.ehpad_a, w.nurse_a, team_a(w).pk),
            "déjà dans cette équipe",
        ),
    ],
)
def test_each_refusal_says_why_in_french(world, call, error):
    with pytest.raises(staff.ValidationError) as caught:
        call(world)
    assert error in " ".join(caught.value.messages)


def test_an_invitation_form_missing_its_team_is_refused_on_the_page(world):
    response = logged_in(world.admin_a).post(
        reverse("structure_staff_invite", args=[world.ehpad_a.pk]),
        {"email": "x@example.test", "profession": "infirmier", "role": "member"},
        follow=True,
    )
    assert any("obligatoire" in m for m in messages_of(response))
    assert not User.objects.filter(email="x@example.test").exists()


# The regulation right, in a SAMU or SAS.


@pytest.fixture
def centre(regul: RG) -> RG:  # noqa: F811
    """SAMU 53 (its regulator, an assistant without the right) with an administrator,
    `centre.admin`; SAMU 72 and its regulator."""
    regul.admin = make_user(
        "admin.samu@example.test", structure=regul.samu, role=MembershipRole.ADMIN
    )
    return regul


def regulation_url(structure, person) -> str:
    return reverse("structure_staff_regulation", args=[structure.pk, person.pk])


def test_a_samu_administrator_grants_and_withdraws_the_regulation_right(centre):
    client = logged_in(centre.admin)
    page = client.get(reverse("structure_staff", args=[centre.samu.pk]))
    assert "Accorder le droit de régulation" in page.text
    assert "Pro Santé Connect" in page.text
    granted = client.post(
        regulation_url(centre.samu, centre.assistant), {"granted": "1"}, follow=True
    )
    assert f"{centre.assistant} peut désormais réguler les appels." in messages_of(granted)
    centre.assistant.refresh_from_db()
    assert centre.assistant.regulation_access
    assert list(policy.regulation_structures(centre.assistant)) == [centre.samu]
    assert "Retirer le droit de régulation" in granted.text
    client.post(regulation_url(centre.samu, centre.assistant), {"granted": "0"})
    centre.assistant.refresh_from_db()
    assert not centre.assistant.regulation_access
    assert not policy.regulation_structures(centre.assistant).exists()
    trail = AuditEntry.objects.filter(
        object_type="user", object_id=str(centre.assistant.pk), actor_id=centre.admin.pk
    ).order_by("pk")
    assert [e.detail for e in trail] == [
        "droit de régulation accordé",
        "droit de régulation retiré",
    ]
    assert {e.structure_id for e in trail} == {centre.samu.pk}


def test_the_regulation_right_is_refused_outside_a_samu_or_sas(world):
    page = logged_in(world.admin_a).get(staff_url(world))
    assert "droit de régulation" not in page.text
    refused = logged_in(world.admin_a).post(
        regulation_url(world.ehpad_a, world.doctor_a), {"granted": "1"}, follow=True
    )
    assert (
        "Le droit de régulation médicale ne s'accorde que dans un SAMU ou un SAS."
        in messages_of(refused)
    )
    world.doctor_a.refresh_from_db()
    assert not world.doctor_a.regulation_access
    assert not AuditEntry.objects.filter(detail__startswith="droit de régulation").exists()


def test_the_regulation_right_belongs_to_the_structures_admins_and_members(centre):
    url = regulation_url(centre.samu, centre.assistant)
    assert logged_in(centre.regulator).post(url, {"granted": "1"}).status_code == 403
    assert logged_in(centre.regulator_b).post(url, {"granted": "1"}).status_code == 404
    assert logged_in(centre.w.admin_a).post(url, {"granted": "1"}).status_code == 404
    assert Client().post(url, {"granted": "1"}).status_code == 302
    # A professional of another SAMU is not this one's to change.
    other = logged_in(centre.admin).post(
        regulation_url(centre.samu, centre.regulator_b), {"granted": "0"}
    )
    assert other.status_code == 404
    unknown = logged_in(centre.admin).post(url, {"granted": "oui"}, follow=True)
    assert "Action inconnue." in messages_of(unknown)
    centre.assistant.refresh_from_db()
    centre.regulator_b.refresh_from_db()
    assert not centre.assistant.regulation_access and centre.regulator_b.regulation_access


def test_a_member_of_two_samus_needs_an_administrator_of_both(centre):
    Membership.objects.create(user=centre.assistant, structure=centre.samu_b)
    with pytest.raises(staff.ValidationError, match="autre SAMU ou SAS"):
        staff.set_regulation_access(None, centre.admin, centre.samu, centre.assistant, True)
    centre.assistant.refresh_from_db()
    assert not centre.assistant.regulation_access
    Membership.objects.create(user=centre.admin, structure=centre.samu_b, role=MembershipRole.ADMIN)
    staff.set_regulation_access(None, centre.admin, centre.samu, centre.assistant, True)
    centre.assistant.refresh_from_db()
    assert centre.assistant.regulation_access


def test_pro_sante_connect_sets_the_right_again_at_each_login(centre):
    staff.set_regulation_access(None, centre.admin, centre.samu, centre.assistant, True)
    claims = ProClaims(
        rpps=RPPS,
        first_name="",
        last_name="",
        email="",
        profession=None,
        specialty=None,
        regulation_access=False,
        finess=frozenset(),
    )
    psc.refresh(centre.assistant, claims)
    centre.assistant.refresh_from_db()
    assert not centre.assistant.regulation_access


def test_the_samu_staff_page_costs_the_same_queries_for_few_or_many(centre):
    client = logged_in(centre.admin)
    url = reverse("structure_staff", args=[centre.samu.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(20):
        make_user(f"arm{n}@example.test", structure=centre.samu, regulation_access=n % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(many) == len(few)
    rows = page.context["rows"]
    regulators = sum(row["person"].regulation_access for row in rows)
    assert len(rows) == 20 and 0 < regulators < 20
    assert page.text.count("Retirer le droit de régulation") == regulators
    assert page.text.count("Accorder le droit de régulation") == 20 - regulators


def test_the_api_grants_and_withdraws_the_regulation_right(centre):
    url = f"/api/v1/structures/{centre.samu.pk}/staff/{centre.assistant.pk}/regulation"
    client = api_client(centre.admin)
    granted = client.put(url, {"regulation_access": True}, content_type="application/json")
    assert granted.status_code == 200, granted.content
    assert granted.json()["regulation_access"] is True
    listed = client.get(f"/api/v1/structures/{centre.samu.pk}/staff").json()
    assert {p["id"]: p["regulation_access"] for p in listed} == {
        centre.regulator.pk: True,
        centre.assistant.pk: True,
        centre.admin.pk: False,
    }
    withdrawn = client.put(url, {"regulation_access": False}, content_type="application/json")
    assert withdrawn.json()["regulation_access"] is False
    body = {"regulation_access": True}
    for user, status in ((centre.regulator, 403), (centre.regulator_b, 404), (None, 401)):
        answer = api_client(user).put(url, body, content_type="application/json")
        assert answer.status_code == status
    elsewhere = api_client(centre.w.admin_a).put(
        f"/api/v1/structures/{centre.w.ehpad_a.pk}/staff/{centre.w.doctor_a.pk}/regulation",
        body,
        content_type="application/json",
    )
    assert elsewhere.status_code == 400
    assert "ne s'accorde que dans un SAMU ou un SAS" in elsewhere.content.decode()
    centre.assistant.refresh_from_db()
    centre.w.doctor_a.refresh_from_db()
    assert not centre.assistant.regulation_access and not centre.w.doctor_a.regulation_access
