"""Screenshots of every page at phone and desktop widths, to look at them as a person would.

Not collected by the suite (the name does not match test_*.py); run it on purpose:

    TELESANTE_DEBUG=1 .venv/bin/pytest tests/e2e/screenshots.py

PNGs go to screenshots/ at the repository root (gitignored), named <page>-<phone|desktop>.png.
"""

import re
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.urls import reverse

from telesante.accounts.models import Membership, User
from telesante.core import audit
from telesante.core.models import AuditAction
from telesante.patients.models import ActKind, Consent, ConsentDecision, EvidenceKind
from telesante.patients.services import change_status
from tests.conftest import PASSWORD, World, make_patient
from tests.e2e.conftest import DESKTOP, PHONE, fresh_code, pick
from tests.e2e.test_deployment_stops import tour  # noqa: F401
from tests.e2e.test_indicators_dashboard import filieres  # noqa: F401
from tests.indicators.conftest import dataset  # noqa: F401

OUT = Path(__file__).resolve().parents[2] / "screenshots"
DEVICES = {"phone": PHONE, "desktop": DESKTOP}
WIDE = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class FakeRequest:
    """Enough of a request for the audit trail when seeding data outside a view."""

    META = {"REMOTE_ADDR": "192.0.2.10"}
    path = "/patients/"


def seed(world: World) -> None:
    for i, (name, first) in enumerate(
        [("DORVILLE", "Marie Jeanne"), ("DORVAL", "Jean-Baptiste Marcel"), ("DORIAN", "Lucie")]
    ):
        make_patient(world.ehpad_a, name, first, birth_date=f"193{i}-0{i + 1}-1{i}")
    p = world.patient_a
    change_status(FakeRequest(), world.nurse_a, p, "VALI", EvidenceKind.ID_CARD, note="CNI vue")
    Consent.objects.create(
        patient=p,
        act_kind=ActKind.TELEEXPERTISE,
        information_given=True,
        decision=ConsentDecision.CONSENT,
        collected_by=world.nurse_a,
        structure=world.ehpad_a,
    )
    for action in (AuditAction.READ, AuditAction.SEARCH, AuditAction.READ):
        audit.record(FakeRequest(), world.nurse_a, action, [p])


def shoot(page, name: str, device: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / f"{name}-{device}.png", full_page=True)


def test_screenshots(world: World, new_page) -> None:
    seed(world)
    newcomer = User.objects.create_user(
        "nouvelle@example.test", PASSWORD, first_name="Nora", last_name="Nouvelle"
    )
    Membership.objects.create(user=newcomer, structure=world.ehpad_a)
    User.objects.filter(pk=world.regional_admin.pk).update(is_superuser=True)
    for device, spec in DEVICES.items():
        cache.clear()  # allauth refuses a TOTP code already used by the same account
        # Login, then the TOTP step.
        page = new_page(spec)
        page.goto(reverse("account_reset_password"))
        shoot(page, "18-password-reset", device)
        page.goto("/compte/login/")
        shoot(page, "01-login", device)
        page.locator("input[name=login]").fill(world.nurse_a.email)
        page.locator("input[name=password]").fill("mauvais-mot-de-passe")
        page.locator("main form button[type=submit]").first.click()
        shoot(page, "01b-login-error", device)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url("**/compte/2fa/authenticate/")
        shoot(page, "02-totp-step", device)
        page.locator("input[name=code]").fill(fresh_code())
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(reverse("home"))
        shoot(page, "04-home", device)

        page.goto(reverse("patient_list") + "?q=dor")
        shoot(page, "05-patient-search", device)
        page.goto(reverse("patient_create"))
        shoot(page, "06-patient-create-empty", device)
        page.locator("main form.form button[type=submit]").first.click()
        shoot(page, "07-patient-create-errors", device)
        page.fill("#id_birth_name", "Dorvane")
        page.fill("#id_first_names", "Alix")
        page.fill("#id_birth_date", "1940-03-02")
        page.select_option("#id_sex", "F")
        pick(page, "id_birthplace_code", "laval", "Laval")
        page.select_option("#id_structure", label=world.ehpad_a.name)
        page.locator("main form.form button[type=submit]").first.click()
        shoot(page, "08-patient-create-duplicate", device)
        page.goto(reverse("patient_detail", args=[world.patient_a.pk]))
        shoot(page, "09-patient-detail", device)
        page.goto(reverse("structure_detail", args=[world.ehpad_a.pk]))
        shoot(page, "10-structure", device)
        page.goto(reverse("mfa_index"))
        shoot(page, "15-mfa-index", device)
        page.goto(reverse("account_logout"))
        shoot(page, "16-logout", device)

        page = new_page(spec, user=world.admin_a)
        page.goto(reverse("structure_audit", args=[world.ehpad_a.pk]))
        shoot(page, "11-audit", device)

        page = new_page(spec, user=world.nurse_b)
        page.goto(reverse("patient_detail", args=[world.patient_a.pk]))
        shoot(page, "12-404", device)

        page = new_page(spec, user=world.observer)
        page.goto(reverse("patient_list"))
        shoot(page, "13-403", device)

        page = new_page(spec, user=world.regional_admin)
        page.goto(reverse("admin:index"))
        shoot(page, "14-admin", device)
        page.goto("/api/v1/docs")
        page.wait_for_selector(".swagger-ui, #swagger-ui, redoc", state="attached")
        shoot(page, "17-api-docs", device)

        # First login of an account without an authenticator: the enrolment page.
        Authenticator.objects.filter(user=newcomer).delete()
        page = new_page(spec)
        page.goto("/compte/login/")
        page.locator("input[name=login]").fill(newcomer.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(re.compile("/compte/reauthenticate/"))
        shoot(page, "03a-reauthenticate", device)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url("**/compte/2fa/totp/activate/")
        shoot(page, "03-totp-enrol", device)
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.locator("input[name=code]").fill("000000")
        page.locator("main form button[type=submit]").first.click()
        shoot(page, "03b-totp-enrol-error", device)
        page.locator("input[name=code]").fill(fresh_code(secret))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url("**/compte/2fa/recovery-codes/")
        shoot(page, "03c-recovery-codes", device)


def test_indicator_screenshots(dataset, filieres, new_page) -> None:  # noqa: F811
    """Indicators, deployment and directory pages, as the regional observer and the public."""
    from telesante.deployment import services as deployment

    site = deployment.site_for(dataset.e1)
    site.acts, site.contact = ["teleexpertise", "teleconsultation"], "Par la plateforme"
    site.save()
    site.filieres.set(["geriatrie", "plaies_cicatrisation"])
    deployment.record_milestone(
        dataset.w.regional_admin,
        site,
        deployment.MilestoneInput("needs", None, dataset.e1.deployment_started_on),
    )
    for device, size in DEVICES.items():
        page = new_page(size, user=dataset.w.observer)
        page.goto("/indicateurs/?territory=53&period=2022-S1")
        shoot(page, "indicators", device)
        page.goto("/deploiement/")
        shoot(page, "deployment", device)
        page.goto(f"/deploiement/{dataset.e1.pk}/")
        shoot(page, "deployment-site", device)
        public = new_page(size)
        public.goto("/annuaire/")
        shoot(public, "directory", device)


def test_mobile_unit_screenshots(tour, world: World, new_page) -> None:  # noqa: F811
    """A mobile unit's page with the map of its next stops, at 390 and 1280 px."""
    for device, spec in {"phone": PHONE, "desktop": {"viewport": WIDE}}.items():
        page = new_page(spec, user=world.observer)
        page.goto(reverse("deployment_site", args=[tour.pk]))
        shoot(page, "deployment-mobile-unit", device)
