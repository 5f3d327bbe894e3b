"""Inputs in Chromium (fr-FR): the decimal comma reaches the record, the pickers search (the
demo cardiologist among more than 500 professionals), the birthplace is chosen by name.

Screenshots of these pages (phone and desktop) on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 .venv/bin/pytest tests/e2e/test_inputs.py

PNGs go to screenshots/inputs-<page>-<phone|desktop>.png (gitignored).
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from telesante.accounts.models import Membership, Profession, User
from telesante.notifications import services as notifications
from telesante.patients.models import Patient
from telesante.structures.models import Country, StructureKind, Team
from telesante.teleconsultation import booking
from telesante.teleconsultation.models import TeleConsultation
from telesante.teleexpertise import services
from tests.conftest import World, make_structure, make_user
from tests.e2e.conftest import DESKTOP, PHONE, pick
from tests.e2e.conftest import shoot as e2e_shoot
from tests.teleexpertise.conftest import TE, load_filieres, te_world, wound_request  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    """No live push from beside Playwright's event loop (the counter is tested elsewhere)."""
    monkeypatch.setattr(notifications, "_push_counts", lambda user_ids: None)


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"inputs-{name}", {"phone": PHONE, "desktop": DESKTOP})


def test_decimal_comma_in_a_request_form_reaches_the_record(te_world: TE, new_page):  # noqa: F811
    load_filieres()
    te = services.create(None, te_world.w.nurse_a, wound_request(te_world))
    page = new_page(user=te_world.w.nurse_a)
    page.goto(reverse("teleexpertise_correct", args=[te.pk]))
    length = page.locator("#f_length_cm")
    assert length.get_attribute("inputmode") == "decimal"
    expect(page.locator("#f_length_cm + .unit")).to_have_text("cm")
    length.fill("200")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(
        page.locator("p.error", has_text="Longueur : Valeur attendue entre 0 et 100 cm.")
    ).to_be_visible()
    shoot(page, "te-correct-error")
    page.locator("#f_length_cm").fill("4,5")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_text("Demande corrigée.")).to_be_visible()
    te.refresh_from_db()
    assert te.form_data["length_cm"] == 4.5
    expect(page.get_by_text("4,5 cm")).to_be_visible()
    # The requester withdraws it: cancelled, with the reason on the page.
    page.locator("summary", has_text="Retirer la demande").click()
    page.locator("#withdraw_reason").fill("Patient hospitalisé")
    page.get_by_role("button", name="Retirer la demande (les experts sont prévenus)").click()
    expect(page.get_by_text("Demande retirée par le demandeur")).to_be_visible()
    shoot(page, "te-withdrawn")


def _many_doctors(n: int) -> None:
    """`n` doctors of a CH, made in bulk (more than the 500 the old list kept)."""
    ch = make_structure("CH de Château-Gontier", kind=StructureKind.CH, finess="530000039")
    users = User.objects.bulk_create(
        User(
            email=f"medecin{i}@example.test",
            first_name=f"Prénom{i}",
            last_name=f"Aardvark{i:03d}",
            profession=Profession.DOCTOR,
            specialty="medecine_generale",
        )
        for i in range(n)
    )
    team = Team.default_for(ch.pk)
    Membership.objects.bulk_create(Membership(user=u, structure=ch, team=team) for u in users)


def test_picker_finds_the_demo_cardiologist_and_shows_her_week(world: World, new_page):
    _many_doctors(520)
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    cardio = make_user(
        "expert.cardiologie@example.test",
        structure=ch,
        profession=Profession.DOCTOR,
        specialty="cardiologie",
    )
    User.objects.filter(pk=cardio.pk).update(first_name="Claire", last_name="Valarac")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    booking.add_availability(
        None, cardio, ch.pk, tomorrow.weekday(), datetime.time(9), datetime.time(11)
    )
    page = new_page(user=world.nurse_a)
    page.goto(reverse("teleconsultation_create"))
    assert page.locator("#performer option").count() == 0  # no list: a search
    pick(page, "patient", "dorvane", "DORVANE Alix")
    pick(page, "performer", "cardiologie laval", "Claire VALARAC")
    expect(page.locator("#performer_search")).to_have_value("Claire VALARAC")
    page.get_by_role("button", name="Voir ses créneaux libres").click()
    expect(page.locator(".week-day")).to_have_count(7)
    expect(page.locator("#patient_search")).to_have_value("DORVANE Alix")
    slot = f"{tomorrow:%Y-%m-%d}T09:00"
    expect(page.locator(f"input[name=scheduled_at][value='{slot}']")).to_be_visible()
    shoot(page, "booking-week")
    # The search pages through every professional: the 520 are all reachable.
    box = page.locator("#performer_search")
    box.fill("")
    box.press_sequentially("aardvark", delay=30)
    expect(
        page.locator("#performer + .picker-search + .picker-list + .picker-status")
    ).to_have_text("20 résultats +", timeout=10_000)
    expect(page.locator("#performer_list [role=option]")).to_have_count(21)  # 20 + « more »
    page.locator("#performer_list .picker-more").dispatch_event("mousedown")
    expect(page.locator("#performer_list [role=option]")).to_have_count(41)
    shoot(page, "picker-open")


def test_birthplace_by_commune_then_by_country(world: World, new_page):
    Country.objects.create(code="99350", name="Maroc")
    page = new_page(PHONE, user=world.nurse_a)
    for name, born, typed, option, abroad, code in (
        ("BERNOLIN", "1951-06-14", "chateau gon", "Château-Gontier-sur-Mayenne", False, "53062"),
        ("MARTELOT", "1962-01-30", "mar", "Maroc", True, "99350"),
    ):
        page.goto(reverse("patient_create"))
        page.locator("#id_birth_name").fill(name)
        page.locator("#id_first_names").fill("Léa")
        page.locator("#id_birth_date").fill(born)
        page.locator("#id_sex").select_option("F")
        if abroad:
            page.locator("#id_born_abroad").check()
        pick(page, "id_birthplace_code", typed, option)
        if name == "BERNOLIN":
            shoot(page, "birthplace")
        page.locator("#id_structure").select_option(label=world.ehpad_a.name)
        page.get_by_role("button", name="Enregistrer le patient").click()
        page.wait_for_url(re.compile(r"/patients/\d+/$"))
        assert Patient.objects.get(birth_name=name).birthplace_code == code
        expect(page.get_by_text(f"{option} ({code})")).to_be_visible()
    shoot(page, "patient-detail")


def test_booking_duration_typed_with_a_comma_follows_the_whole_minutes_rule(world: World, new_page):
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    cardio = make_user(
        "cardio@example.test", structure=ch, profession=Profession.DOCTOR, specialty="cardiologie"
    )
    page = new_page(PHONE, user=world.nurse_a)
    page.goto(reverse("teleconsultation_create") + f"?performer={cardio.pk}")
    pick(page, "patient", "dorvane", "DORVANE Alix")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.locator("#scheduled_at").fill(f"{tomorrow:%Y-%m-%d}T10:00")
    page.locator("#reason").fill("Suivi de l'insuffisance cardiaque")
    page.locator("#information_given").check()
    page.get_by_label("Le patient consent").check()
    page.locator("#duration_minutes").fill("20,5")  # minutes are whole: refused, nothing saved
    page.get_by_role("button", name="Programmer", exact=True).click()
    error = page.locator("#duration_minutes").locator("xpath=../..").locator("p.error")
    expect(error).to_have_text("Saisissez un nombre entier.")
    assert not TeleConsultation.objects.exists()
    expect(page.locator("#duration_minutes")).to_have_value("20,5")
    shoot(page, "booking-duration-error")
    page.locator("#duration_minutes").fill("30,0")  # a whole number written with a comma
    page.get_by_role("button", name="Programmer", exact=True).click()
    page.wait_for_url(re.compile(r"/teleconsultations/\d+/$"))
    assert TeleConsultation.objects.get().duration_minutes == 30
