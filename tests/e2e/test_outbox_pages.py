"""The report's deliveries on the act page and the patient's objection to sharing, in Chromium
(fr-FR) at 320 px and on a PC.

Screenshots on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 .venv/bin/pytest tests/e2e/test_outbox_pages.py

PNGs go to screenshots/outbox-<page>-<phone|desktop>.png (gitignored).
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from telesante.notifications import services as notifications
from telesante.outbox import services
from tests.e2e.conftest import shoot as e2e_shoot
from tests.outbox.conftest import mhd_receiver, smtp_server, tls_files  # noqa: F401
from tests.outbox.test_outbox import t  # noqa: F401
from tests.teleexpertise.conftest import (  # noqa: F401
    TE,
    answered,
    immediate_tasks,
    load_filieres,
    te_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NARROW = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
WIDE = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    """The migration's filières back (a transactional test flushed them); no live push from
    beside Playwright's event loop (the counter is tested elsewhere)."""
    load_filieres()
    monkeypatch.setattr(notifications, "_push_counts", lambda user_ids: None)


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"outbox-{name}", {"phone": NARROW, "desktop": WIDE})


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_act_page_shows_sent_and_failed_lines(t, smtp_server, mhd_receiver, new_page):  # noqa: F811
    mhd_receiver.refuse_with = 503
    te = answered(t)
    services.send_due(timezone.now())
    page = new_page(NARROW, user=t.w.nurse_a)
    page.goto(reverse("teleexpertise_detail", args=[te.pk]))
    section = page.locator("#envois")
    expect(section.get_by_role("heading")).to_have_text("Envois du compte rendu")
    expect(section.locator(".outbox-sent")).to_have_count(2)
    expect(section.locator(".outbox-failed")).to_contain_text("DMP : refus 503")
    assert fits(page)
    section.scroll_into_view_if_needed()
    shoot(page, "act")


def test_the_patient_objects_on_their_page_and_the_act_says_why(t, new_page):  # noqa: F811
    patient = t.w.patient_a
    page = new_page(NARROW, user=t.w.nurse_a)
    page.goto(reverse("patient_detail", args=[patient.pk]))
    section = page.locator("#objections")
    section.get_by_label("Le patient s'oppose à l'alimentation de son DMP").check()
    section.get_by_role("button", name="Enregistrer l'opposition").click()
    expect(page.locator(".messages")).to_contain_text("Opposition au partage enregistrée.")
    expect(
        page.locator("#objections").get_by_label("Le patient s'oppose à l'alimentation de son DMP")
    ).to_be_checked()
    assert fits(page)
    shoot(page, "patient")
    te = answered(t)
    page.goto(reverse("teleexpertise_detail", args=[te.pk]))
    expect(page.locator("#envois")).to_contain_text("DMP : le patient s'est opposé")
    shoot(page, "act-objection")
