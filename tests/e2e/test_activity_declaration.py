"""The yearly activity declaration in Chromium (fr-FR): a professional on their account page,
a structure administrator for the staff; a téléconsultation closed « non réalisé ».

Screenshots at 390 and 1280 px on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 \
        .venv/bin/pytest tests/e2e/test_activity_declaration.py

PNGs go to screenshots/activity-<page>-<phone|desktop>.png (gitignored).
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from telesante.notifications import services as notifications
from telesante.teleconsultation.models import ActivityDeclaration
from tests.conftest import World
from tests.e2e.conftest import PHONE
from tests.e2e.conftest import shoot as e2e_shoot
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1280, "height": 800}}
YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    """No live push from beside Playwright's event loop (the counter is tested elsewhere)."""
    monkeypatch.setattr(notifications, "_push_counts", lambda user_ids: None)


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"activity-{name}", {"phone": PHONE, "desktop": WIDE})


def test_a_professional_declares_the_year_on_their_account_page(world: World, new_page):
    page = new_page(PHONE, user=world.doctor_a)
    page.goto(reverse("home"))
    page.get_by_role("link", name="Mon activité déclarée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon activité déclarée")
    expect(page.locator("main")).to_contain_text(f"Activité {YEAR} non déclarée")
    shoot(page, "account")
    page.fill(f"#total-{YEAR}", "douze")
    page.locator(f"#total-{YEAR}").press("Enter")
    expect(page.locator(".error-summary")).to_contain_text("Saisissez un nombre")
    expect(page.locator(f"#total-{YEAR}")).to_have_value("douze")  # what was typed is kept
    shoot(page, "account-error")
    assert not ActivityDeclaration.objects.exists()
    page.fill(f"#total-{YEAR}", "1 250")
    page.locator(f"#total-{YEAR}").press("Enter")
    expect(page.locator(".messages")).to_contain_text("Activité déclarée.")
    expect(page.locator(f"#total-{YEAR}")).to_have_value("1250")
    expect(page.locator("main")).to_contain_text("Sous le plafond.")
    shoot(page, "account-declared")
    assert (
        ActivityDeclaration.objects.get(professional=world.doctor_a, year=YEAR).total_acts == 1250
    )


def test_a_structure_admin_declares_for_the_staff(world: World, new_page):
    page = new_page(user=world.admin_a)
    page.goto(reverse("structure_detail", args=[world.ehpad_a.pk]))
    page.get_by_role("link", name="Activité déclarée des professionnels").click()
    field = page.locator(f"#total-{world.nurse_a.pk}")
    field.fill("3 400")
    field.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Activité déclarée.")
    expect(page.locator(f"#total-{world.nurse_a.pk}")).to_have_value("3400")
    shoot(page, "staff")
    assert ActivityDeclaration.objects.get(professional=world.nurse_a, year=YEAR).total_acts == 3400


def test_a_teleconsultation_nobody_joined_closes_not_done_from_its_page(tc_world: TC, new_page):  # noqa: F811
    """The performer writes a report and finishes, but nobody was in the call with them: the
    page says « Non réalisé » with the reason, and nothing is billed."""
    act = tc_world.consultation.act
    page = new_page(PHONE, user=tc_world.cardiologist)
    page.goto(reverse("teleconsultation_detail", args=[act.pk]))
    expect(page.get_by_role("button", name="Clore « non réalisé »")).to_be_visible()
    shoot(page, "teleconsultation-open")
    page.fill("#not-done-reason", "Patiente hospitalisée la veille")
    page.get_by_role("button", name="Clore « non réalisé »").click()
    expect(page.locator("main .badge").first).to_have_text("Non réalisé")
    expect(page.locator("main")).to_contain_text("Patiente hospitalisée la veille")
    expect(page.get_by_role("button", name="Clore « non réalisé »")).to_have_count(0)
    shoot(page, "teleconsultation-not-done")
    act.refresh_from_db()
    assert act.status == "not_done" and not act.billing_codes.exists()
