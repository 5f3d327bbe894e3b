"""The télé-expertise loop in Chromium, against the real ASGI server (WebSocket counter).

A nurse of an EHPAD in Mayenne asks the wound-care experts of the département; an expert of
the CH de Laval sees the counter rise live, claims, asks a question; the nurse answers; the
expert concludes; the nurse downloads the PDF report.

Screenshots of the télé-expertise pages (phone and desktop) on purpose:

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-te.sqlite3 \
        .venv/bin/pytest tests/e2e/test_teleexpertise_loop.py -k screenshots

PNGs go to screenshots/te-<page>-<phone|desktop>.png (gitignored).
"""

import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from telesante.accounts.models import Profession, User
from telesante.acts.models import Filiere
from telesante.notifications import services as notifications
from telesante.structures.models import StructureKind
from telesante.teleexpertise import services
from telesante.teleexpertise.models import State, TeleExpertise
from tests.conftest import PASSWORD, World, make_patient, make_structure, make_user, totp_now
from tests.e2e.conftest import DESKTOP, PHONE, login_cookie, pick
from tests.e2e.server import Server, running_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILIERES = Path(__file__).resolve().parents[2] / "src/telesante/acts/data/filieres.json"
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CONCLUSION = "Escarre de stade 3 en voie de détersion : hydrocolloïde, décharge stricte."


@dataclass
class Cast:
    w: World
    expert: User  # wound care, CH de Laval: same département (53) as the nurse's EHPAD


@pytest.fixture
def cast(world: World) -> Cast:
    # A flush between transactional tests empties the filières loaded by a data migration.
    for item in json.loads(FILIERES.read_text(encoding="utf-8")):
        Filiere.objects.update_or_create(code=item.pop("code"), defaults=item)
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    expert = make_user(
        "plaies@example.test",
        structure=ch,
        profession=Profession.DOCTOR,
        specialty="plaies_cicatrisation",
    )
    # The server keeps the production hashers: the test's fast MD5 hashes would not log in.
    hasher = Argon2PasswordHasher()
    User.objects.filter(pk__in=[world.nurse_a.pk, expert.pk]).update(
        password=hasher.encode(PASSWORD, hasher.salt())
    )
    for user in (world.nurse_a, expert):
        user.refresh_from_db()  # a session's hash is made from the password hash
    return Cast(w=world, expert=expert)


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    log_dir = tmp_path / "server"
    log_dir.mkdir()
    with running_server(Path(settings.MEDIA_ROOT), log_dir) as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-5000:])  # shown when the test fails


@pytest.fixture
def open_page(browser, server):
    """Factory: a page in a fresh French-speaking context on the real server."""
    contexts = []

    def make(device: dict | None = None):
        context = browser.new_context(
            base_url=server.url, locale="fr-FR", accept_downloads=True, **(device or DESKTOP)
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def jpeg(path: Path) -> Path:
    Image.new("RGB", (320, 240), (190, 90, 80)).save(path, "JPEG")
    return path


def fresh_code() -> str:
    """The current TOTP code, with time left to use it (codes change every 30 s)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)
    return totp_now()


def login(page, user: User) -> None:
    """The real login page: email and password, then the authenticator code."""
    page.goto(reverse("account_login"))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/compte/2fa/authenticate/")
    page.locator("input[name=code]").fill(fresh_code())
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(reverse("home"))


def test_request_live_notification_thread_answer_and_pdf(cast: Cast, open_page, tmp_path):
    nurse, expert, patient = cast.w.nurse_a, cast.expert, cast.w.patient_a

    # The expert is logged in with a page open: its counter listens on the WebSocket.
    ex = open_page()
    login(ex, expert)
    badge = ex.locator("#unread-count")
    expect(badge).to_have_attribute("data-live", "1")  # the socket said hello (0 unread)
    expect(badge).to_be_hidden()
    ex.evaluate("window.sameDocument = true")

    # The nurse asks: step 1 (patient, filière), step 2 (question, wound form, photo, consent).
    nu = open_page()
    login(nu, nurse)
    nu.get_by_role("link", name="Télé-expertise", exact=True).click()
    nu.get_by_role("link", name="Nouvelle demande").click()
    pick(nu, "patient", "dorv", "DORVANE Alix")
    nu.select_option("#filiere", label="Plaies et cicatrisation")
    nu.get_by_role("button", name="Continuer").click()
    nu.wait_for_url(re.compile(r"filiere=plaies_cicatrisation"))
    nu.fill("#question", "Escarre sacrée qui s'aggrave depuis 10 jours : quel pansement ?")
    nu.select_option("#f_wound_type", "Escarre")
    nu.fill("#f_location", "Sacrum")
    nu.fill("#f_length_cm", "4")
    nu.fill("#f_width_cm", "3,5")  # the French decimal comma, typed in Chromium (fr-FR)
    nu.select_option("#f_stage", "Stade 3")
    assert nu.get_attribute("#f_photos", "capture") == "environment"
    nu.set_input_files("#f_photos", jpeg(tmp_path / "plaie.jpg"))
    nu.fill("#f_photos_date", "2026-03-02")
    nu.check("#information_given")
    nu.check("input[name=decision][value=consent]")
    nu.get_by_role("button", name="Envoyer la demande").click()
    nu.wait_for_url(re.compile(r"/teleexpertise/\d+/$"))
    te = TeleExpertise.objects.get(act__patient=patient)
    assert te.state == State.POOLED and te.act.attachments.count() == 1
    assert te.form_data["width_cm"] == 3.5  # « 3,5 » reached the record as 3.5, never 35
    expect(nu.locator(".thumbs img")).to_have_js_property("naturalWidth", 320)

    # The expert's open page shows the new notification without reloading.
    expect(badge).to_have_text("1")
    expect(badge).to_be_visible()
    assert ex.evaluate("window.sameDocument") is True

    # The inbox, the request, claim, a question asking for information.
    ex.get_by_role("link", name="Télé-expertise", exact=True).click()
    ex.locator("table.list").get_by_role("link", name=str(patient)).click()
    expect(ex.locator(".thumbs img")).to_have_js_property("naturalWidth", 320)
    ex.get_by_role("button", name="Prendre en charge").click()
    expect(ex.locator(".badge.te-claimed")).to_be_visible()
    message = ex.locator("form[action$='/message/']")
    message.locator("textarea[name=body]").fill("Depuis quand la plaie s'aggrave-t-elle ?")
    message.locator("#ask_info").check()
    message.get_by_role("button", name="Envoyer").click()
    expect(ex.locator(".badge.te-waiting_info")).to_be_visible()

    # The nurse, on the request's page, sees her counter rise (claim, then the question).
    expect(nu.locator("#unread-count")).to_have_text("2")
    nu.reload()
    expect(nu.locator(".thread")).to_contain_text("Depuis quand")
    message = nu.locator("form[action$='/message/']")
    message.locator("textarea[name=body]").fill("Depuis trois semaines, malgré les changements.")
    message.get_by_role("button", name="Envoyer").click()
    expect(nu.locator(".thread li")).to_have_count(2)
    expect(nu.locator(".badge.te-claimed")).to_be_visible()

    # The expert concludes.
    ex.reload()
    expect(ex.locator(".thread")).to_contain_text("trois semaines")
    ex.fill("#opinion", CONCLUSION)
    ex.fill("#recommendations", "Réévaluer dans 15 jours avec une photo.")
    ex.select_option("#consultation_need", "routine")
    ex.get_by_role("button", name="Répondre et produire le compte rendu").click()
    expect(ex.locator(".badge.te-answered")).to_be_visible()

    # The nurse downloads the report; its text holds the conclusion.
    nu.reload()
    with nu.expect_download() as info:
        nu.get_by_role("link", name="Télécharger le compte rendu (PDF)").click()
    pdf = tmp_path / "compte-rendu.pdf"
    info.value.save_as(pdf)
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert " ".join(CONCLUSION.split()) in " ".join(text.split())


def photo(name: str = "plaie.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (190, 90, 80)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def wound(c: Cast, patient, question: str, **extra) -> TeleExpertise:
    new = services.NewRequest(
        patient_id=patient.pk,
        structure_id=c.w.ehpad_a.pk,
        filiere_code="plaies_cicatrisation",
        question=question,
        information_given=True,
        decision="consent",
        form_data={
            "wound_type": "Ulcère veineux",
            "location": "Face interne de la jambe gauche, tiers inférieur",
            "length_cm": "6",
            "width_cm": "4,5",
            "stage": "Non classable",
        },
        files={"photos": [(photo(), None), (photo("plaie-profil-avec-un-nom-long.jpg"), None)]},
        **extra,
    )
    return services.create(None, c.w.nurse_a, new)


@pytest.mark.skipif(not os.environ.get("TELESANTE_SCREENSHOTS"), reason="captures sur demande")
def test_screenshots(cast: Cast, open_page, server: Server, monkeypatch):
    # Seeding here, beside Playwright's event loop: no live push from the test process.
    monkeypatch.setattr(notifications, "_push_counts", lambda user_ids: None)
    c, nurse, expert = cast, cast.w.nurse_a, cast.expert
    ehpad = c.w.ehpad_a
    pooled = wound(
        c,
        make_patient(ehpad, "DE LA ROCHEFOUCAULD-MONTMORENCY", "Marie-Thérèse Geneviève"),
        "Ulcère qui ne cicatrise pas depuis 6 semaines.",
        urgency="urgent",
    )
    waiting = wound(c, c.w.patient_a, "Escarre sacrée qui s'aggrave : quel pansement ?")
    services.claim(None, expert, waiting)
    services.post_message(None, expert, waiting, "Depuis quand ? Quel pansement ?", ask_info=True)
    services.post_message(None, nurse, waiting, "Trois semaines ; hydrocellulaire tous les 2 j.")
    answered = wound(c, make_patient(ehpad, "DORVILLE", "Lucie"), "Plaie du talon : avis ?")
    services.claim(None, expert, answered)
    services.answer(
        None, expert, answered, CONCLUSION, "Réévaluer dans 15 jours avec une photo.", "routine"
    )
    SHOTS.mkdir(exist_ok=True)
    for device, spec in {"phone": PHONE, "desktop": DESKTOP}.items():

        def shoot(page, name: str, device: str = device) -> None:
            page.wait_for_load_state("networkidle")
            page.screenshot(path=SHOTS / f"te-{name}-{device}.png", full_page=True)

        nu = open_page(spec)
        login_cookie(nu.context, server.url, nurse)
        nu.goto(reverse("teleexpertise_list") + "?box=outbox")
        shoot(nu, "list-outbox")
        nu.goto(reverse("teleexpertise_create"))
        shoot(nu, "create-step1")
        pick(nu, "patient", "dorvane", "DORVANE Alix")
        nu.select_option("#filiere", "plaies_cicatrisation")
        nu.get_by_role("button", name="Continuer").click()
        nu.wait_for_url(re.compile(r"filiere="))
        shoot(nu, "create-step2")
        nu.fill("#question", "Plaie du pied ?")
        nu.get_by_role("button", name="Envoyer la demande").click()
        expect(nu.locator(".card.warning")).to_be_visible()
        shoot(nu, "create-step2-errors")
        nu.goto(reverse("teleexpertise_detail", args=[waiting.pk]))
        shoot(nu, "detail-requester")
        nu.goto(reverse("teleexpertise_detail", args=[answered.pk]))
        shoot(nu, "detail-answered")
        nu.goto(reverse("notifications"))
        shoot(nu, "notifications")

        ex = open_page(spec)
        login_cookie(ex.context, server.url, expert)
        ex.goto(reverse("teleexpertise_list"))
        shoot(ex, "list-inbox")
        ex.goto(reverse("teleexpertise_detail", args=[pooled.pk]))
        shoot(ex, "detail-pooled-expert")
        ex.goto(reverse("teleexpertise_detail", args=[waiting.pk]))
        shoot(ex, "detail-expert")
        ex.goto(reverse("notifications"))
        shoot(ex, "notifications-expert")
