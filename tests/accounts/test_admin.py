"""The regional back office: accounts, structures, territories and API tokens."""

import pytest
from django.urls import reverse

from telesante.accounts.models import ApiToken, Membership, RegionalRole, User
from tests.conftest import PASSWORD, logged_in, make_user


@pytest.fixture
def back_office(world):
    """A superuser: regional admins are staff but get no model permission by default."""
    root = make_user(
        "root@example.test", regional_role=RegionalRole.ADMIN, is_staff=True, is_superuser=True
    )
    return logged_in(root)


@pytest.mark.parametrize(
    "model",
    [
        "accounts_user",
        "accounts_apitoken",
        "structures_structure",
        "structures_commune",
        "structures_region",
        "structures_departement",
    ],
)
def test_regional_admin_browses_and_searches_every_list(back_office, model):
    url = reverse(f"admin:{model}_changelist")
    assert back_office.get(url).status_code == 200
    assert back_office.get(url, {"q": "laval"}).status_code == 200


def test_user_list_and_search_show_professionals(back_office, world):
    html = back_office.get(reverse("admin:accounts_user_changelist"), {"q": "nurse.a"})
    assert "nurse.a@example.test" in html.content.decode()
    assert "nurse.b@example.test" not in html.content.decode()


def test_user_page_shows_memberships_inline(back_office, world):
    page = back_office.get(reverse("admin:accounts_user_change", args=[world.admin_a.pk]))
    assert page.status_code == 200
    membership = Membership.objects.get(user=world.admin_a)
    assert str(membership) == "Admin.a TEST — EHPAD Les Tilleuls (Administrateur de la structure)"
    assert str(membership) in page.content.decode()


def test_region_departement_and_commune_labels(back_office, world):
    html = back_office.get(reverse("admin:structures_region_changelist")).content.decode()
    assert "Pays de la Loire" in html
    html = back_office.get(reverse("admin:structures_commune_changelist")).content.decode()
    assert "Laval" in html
    assert str(world.ehpad_a.commune) == "Laval (53130)"
    assert str(world.ehpad_a.departement) == "53 Mayenne"


def test_token_list_shows_the_prefix_never_the_secret(back_office, world):
    token, raw = ApiToken.issue(world.nurse_a, name="import")
    html = back_office.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert token.prefix in html
    assert raw not in html
    assert token.digest not in html


def test_non_staff_members_are_kept_out_of_the_back_office(world):
    response = logged_in(world.nurse_a).get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
    assert User.objects.get(pk=world.nurse_a.pk).is_staff is False


def test_create_superuser_is_a_staff_regional_admin(db):
    root = User.objects.create_superuser("Root@Example.TEST", PASSWORD, rpps="")
    assert (root.email, root.is_staff, root.is_superuser) == ("root@example.test", True, True)
    assert root.regional_role == RegionalRole.ADMIN
    assert root.rpps is None  # an empty RPPS is stored as NULL: several accounts may lack one
    assert root.display_name == "root@example.test"
    assert root.check_password(PASSWORD)
