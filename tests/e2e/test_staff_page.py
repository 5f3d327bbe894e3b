"""The staff page in Chromium: an administrator invites a professional, creates a team, puts a
colleague in it and deactivates an account; a RPPS missing from the directory shows; a SAMU's
administrator grants the regulation right. Phone and PC widths, no sideways scroll."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from telesante.accounts.models import MembershipRole, User
from tests.conftest import World, make_user
from tests.e2e.conftest import DESKTOP, PHONE, shoot
from tests.regulation.conftest import RG, regul  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A nursing home's or a SAMU's PC.
WIDE = {"viewport": {"width": 1280, "height": 800}}


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_administrator_manages_the_staff(world: World, new_page, device):
    world.doctor_a.rpps_missing_since = timezone.localdate()
    world.doctor_a.save()
    name = "phone" if device is PHONE else "desktop"
    page = new_page(device, user=world.admin_a)
    page.goto(reverse("structure_staff", args=[world.ehpad_a.pk]))
    expect(page.locator("h1")).to_contain_text("Professionnels et équipes")
    expect(page.locator("main")).to_contain_text("RPPS absent de l'Annuaire Santé depuis le")
    assert no_horizontal_scroll(page)
    shoot(page, f"staff-{name}")

    invite = page.locator("form[action$='/inviter/']")
    invite.get_by_label("Adresse e-mail").fill("recrue@example.test")
    invite.get_by_label("Prénom").fill("Nina")
    invite.locator("#id_last_name").fill("Recrue")
    invite.get_by_role("button", name="Inviter").click()
    expect(page.locator(".messages li.success")).to_have_text(
        "Invitation envoyée à recrue@example.test."
    )
    assert User.objects.filter(email="recrue@example.test").exists()
    assert [m.to for m in mail.outbox] == [["recrue@example.test"]]

    page.get_by_label("Nom de la nouvelle équipe").fill("Unité de nuit")
    page.get_by_role("button", name="Créer l'équipe").click()
    expect(page.locator(".messages li.success")).to_have_text("Équipe « Unité de nuit » créée.")

    card = page.locator("section.card", has=page.get_by_role("heading", name="Nurse.a TEST"))
    card.get_by_label("Ajouter à").select_option(label="Unité de nuit")
    card.get_by_role("button", name="Ajouter", exact=True).click()
    expect(card).to_contain_text("Retirer de Unité de nuit")
    card.get_by_role("button", name="Désactiver le compte").click()
    expect(card.locator(".badge")).to_contain_text(["désactivé"])
    assert no_horizontal_scroll(page)
    shoot(page, f"staff-changed-{name}")
    world.nurse_a.refresh_from_db()
    assert not world.nurse_a.is_active


def test_a_samu_administrator_grants_the_regulation_right(regul: RG, new_page):  # noqa: F811
    admin = make_user("admin.samu@example.test", structure=regul.samu, role=MembershipRole.ADMIN)
    page = new_page(PHONE, user=admin)
    page.goto(reverse("structure_staff", args=[regul.samu.pk]))
    expect(page.locator("main")).to_contain_text("Pro Santé Connect")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Arm TEST"))
    card.get_by_role("button", name="Accorder le droit de régulation").click()
    expect(page.locator(".messages li.success")).to_have_text(
        "Arm TEST peut désormais réguler les appels."
    )
    expect(card.locator(".badge")).to_contain_text(["régulateur"])
    expect(card.get_by_role("button", name="Retirer le droit de régulation")).to_be_visible()
    assert no_horizontal_scroll(page)
    shoot(page, "staff-regulation", {"phone": PHONE, "desktop": WIDE})
    assert no_horizontal_scroll(page)
    regul.assistant.refresh_from_db()
    assert regul.assistant.regulation_access
