"""Real flows in Chromium against `live_server`: the two-step login, first-login enrolment of
the authenticator, patient creation with the duplicate check, the wall between structures,
and the regional observer kept away from patient data."""

import re
import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from playwright.sync_api import expect

from telesante.accounts.models import Membership, User
from telesante.patients.models import Consent, Patient
from tests.conftest import PASSWORD, TOTP_SECRET, World
from tests.e2e.conftest import PHONE, fresh_code, log_in, pick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIVATE = re.compile(r"/compte/2fa/totp/activate/$")


def submit(page) -> None:
    """The main form's submit button (the header holds the logout form)."""
    page.locator("main form button[type=submit]").first.click()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def wrong_code() -> str:
    """A 6-digit code valid in no window allauth accepts around now."""
    totp, now = pyotp.TOTP(TOTP_SECRET), time.time()
    valid = {totp.at(now + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_login_with_password_then_totp_lands_on_home(world: World, page) -> None:
    log_in(page, world.nurse_a.email, PASSWORD, wrong_code())
    expect(page.locator("main")).to_contain_text("Code incorrect")
    assert "/compte/2fa/authenticate/" in page.url

    page.locator("input[name=code]").fill(fresh_code())
    submit(page)
    page.wait_for_url(reverse("home"))
    expect(page.locator("h1")).to_have_text(f"Bonjour {world.nurse_a.display_name}")
    expect(page.get_by_role("link", name="Patients", exact=True)).to_be_visible()
    assert page.title().endswith("Télésanté")


def test_first_login_enrols_the_authenticator(world: World, page) -> None:
    newcomer = User.objects.create_user(
        "nouvelle@example.test", PASSWORD, first_name="Nora", last_name="Nouvelle"
    )
    Membership.objects.create(user=newcomer, structure=world.ehpad_a)

    page.goto("/compte/login/")
    page.locator("input[name=login]").fill(newcomer.email)
    page.locator("input[name=password]").fill(PASSWORD)
    submit(page)
    # No authenticator yet: every page leads to the enrolment (allauth asks the password again
    # before any change of second factor).
    page.wait_for_url(re.compile(r"/compte/(reauthenticate/\?next=.*totp|2fa/totp/activate/$)"))
    if "/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(PASSWORD)
        submit(page)
    page.wait_for_url(ACTIVATE)
    page.goto(reverse("patient_list"))
    page.wait_for_url(ACTIVATE)

    expect(page.locator("h1")).to_have_text("Activer la double authentification")
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.naturalWidth") > 0
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)

    page.locator("#id_code").fill(fresh_code(secret))
    submit(page)
    page.wait_for_url("**/compte/2fa/recovery-codes/")
    assert Authenticator.objects.filter(user=newcomer, type=Authenticator.Type.TOTP).exists()
    expect(page.locator("#recovery_codes li")).to_have_count(10)

    page.get_by_role("link", name="Continuer vers l'accueil").click()
    page.wait_for_url(reverse("home"))
    expect(page.locator("h1")).to_have_text("Bonjour Nora NOUVELLE")

    # The recovery codes stay reachable from every page.
    page.get_by_role("link", name="Double authentification et codes de récupération").click()
    page.get_by_role("link", name="Voir les codes").click()
    page.wait_for_url("**/compte/2fa/recovery-codes/")
    expect(page.locator("#recovery_codes li")).to_have_count(10)


def fill_identity(page, structure_name: str) -> None:
    page.locator("#id_birth_name").fill("Lemarchal")
    page.locator("#id_first_names").fill("Odile Marie")
    page.locator("#id_birth_date").fill("1938-11-05")
    page.locator("#id_sex").select_option("F")
    pick(page, "id_birthplace_code", "laval", "Laval")
    page.locator("#id_structure").select_option(label=structure_name)


def test_nurse_searches_creates_patient_then_duplicate_needs_confirmation(
    world: World, new_page
) -> None:
    page = new_page(PHONE, user=world.nurse_a)
    page.goto("/")
    page.get_by_role("button", name="Menu").click()  # the navigation folds on a phone
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_label("Rechercher un patient de vos structures").fill("lemarchal")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Aucun patient trouvé.")).to_be_visible()

    page.get_by_role("link", name="Nouveau patient").click()
    page.wait_for_url(f"**{reverse('patient_create')}")  # measured on the new page, not mid-way
    assert no_horizontal_scroll(page)
    submit(page)  # empty: every strict trait is flagged, nothing saved
    expect(page.locator(".error-summary")).to_contain_text("Nom de naissance")
    assert not Patient.objects.filter(birth_name="LEMARCHAL").exists()

    fill_identity(page, world.ehpad_a.name)
    submit(page)
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    first = Patient.objects.get(birth_name="LEMARCHAL")
    assert page.url.endswith(reverse("patient_detail", args=[first.pk]))
    expect(page.locator("h1")).to_contain_text("LEMARCHAL Odile Marie")
    expect(page.locator(".messages")).to_contain_text("Patient créé avec une identité provisoire")
    expect(page.locator("main .badge").first).to_have_text("Identité provisoire")
    assert no_horizontal_scroll(page)

    # The consent form on the detail page (radio buttons without an empty choice).
    page.locator("#consent_act_kind").select_option("teleexpertise")
    page.get_by_label("Information délivrée au patient").check()
    expect(page.locator("input[name=decision]")).to_have_count(2)
    page.get_by_label("Consentement", exact=True).check()
    page.get_by_role("button", name="Enregistrer le consentement").click()
    expect(page.locator(".messages")).to_contain_text("Consentement enregistré")
    assert Consent.objects.filter(patient=first, decision="consent").count() == 1

    # The same person again: the warning lists the first one, nothing is saved unconfirmed.
    page.goto(reverse("patient_create"))
    fill_identity(page, world.ehpad_a.name)
    submit(page)
    warning = page.locator(".card.warning")
    expect(warning).to_contain_text("Identités proches déjà enregistrées")
    expect(warning.get_by_role("link", name="LEMARCHAL Odile Marie")).to_have_attribute(
        "href", reverse("patient_detail", args=[first.pk])
    )
    assert Patient.objects.filter(birth_name="LEMARCHAL").count() == 1
    submit(page)  # still not ticked
    expect(page.locator(".card.warning")).to_be_visible()
    assert Patient.objects.filter(birth_name="LEMARCHAL").count() == 1
    assert no_horizontal_scroll(page)

    page.get_by_label("J'ai vérifié", exact=False).check()
    submit(page)
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    assert Patient.objects.filter(birth_name="LEMARCHAL").count() == 2
    assert not page.url.endswith(reverse("patient_detail", args=[first.pk]))


def test_nurse_of_another_structure_meets_the_wall(world: World, new_page) -> None:
    page = new_page(PHONE)
    log_in(page, world.nurse_b.email, PASSWORD, fresh_code)
    page.wait_for_url(reverse("home"))

    response = page.goto(reverse("patient_detail", args=[world.patient_a.pk]))
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page introuvable")
    expect(page.locator("main")).not_to_contain_text("DORVANE")

    page.goto(reverse("patient_list"))
    expect(page.locator("table.list")).to_contain_text("VALMORIN")
    expect(page.locator("main")).not_to_contain_text("DORVANE")
    page.get_by_label("Rechercher un patient de vos structures").fill("dorvane")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Aucun patient trouvé.")).to_be_visible()
    # Same birth date as A's patient: only B's own patient comes up.
    page.get_by_label("Rechercher un patient de vos structures").fill("02/03/1940")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text("VALMORIN")
    expect(page.locator("main")).not_to_contain_text("DORVANE")


def test_regional_observer_has_no_patients_link_and_gets_403(world: World, new_page) -> None:
    page = new_page(user=world.observer)
    page.goto("/")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Accueil")).to_be_visible()
    expect(nav.get_by_role("link", name="Patients")).to_have_count(0)
    expect(page.get_by_role("link", name="Rechercher un patient")).to_have_count(0)

    response = page.goto(reverse("patient_list"))
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Accès refusé")
