"""English: the catalogue covers every string, pages follow the browser or the switcher, and
what is kept or sent to others stays in French."""

import ast
import gettext
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from telesante.core.actions import Conflict
from telesante.core.i18n import product_language
from telesante.core.models import AuditEntry
from telesante.notifications.models import Notification
from telesante.teleexpertise import services as te_services
from telesante.telesurveillance import thresholds
from telesante.telesurveillance.models import Alert
from tests.conftest import PASSWORD, logged_in, totp_now
from tests.teleexpertise.conftest import answered, te_world  # noqa: F401
from tests.telesurveillance.conftest import NOW, tsv  # noqa: F401
from tests.telesurveillance.test_rules import send

SOURCES = Path(settings.BASE_DIR)  # src/telesante, where makemessages runs
MESSAGES = SOURCES / "locale" / "en" / "LC_MESSAGES"
ENGLISH = "en-US,en;q=0.9"  # what Chromium sends by default

PO_LINE = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$")
# %(name)s, %s, %d…, {name}: what the code fills in; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[sdif]|\{\w*\}")


def require_gettext() -> None:
    missing = [tool for tool in ("xgettext", "msgfmt") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} absent : apt-get install gettext."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def po_entries(path: Path) -> dict[tuple[str, str], dict]:
    """The live entries of a .po file by (context, msgid): msgid_plural, msgstr(s), fuzzy."""
    entries: dict[tuple[str, str], dict] = {}
    entry: dict = {}
    key = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():  # entries are separated by blank lines
            if entry.get("msgid"):  # the header's msgid is empty
                entries[(entry.get("msgctxt", ""), entry["msgid"])] = entry
            entry, key = {}, None
        elif line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif match := PO_LINE.match(line):  # obsolete entries ("#~ msgid") never match
            key = match[1]
            entry[key] = ast.literal_eval(match[2])  # PO strings use C escapes, as Python
        elif line.startswith('"') and key:
            entry[key] += ast.literal_eval(line)
    return entries


def translations(entry: dict) -> list[str]:
    return [v for k, v in sorted(entry.items()) if k.startswith("msgstr")]


# One catalogue per domain: the templates and code ("django"), the browser scripts ("djangojs",
# served by Django's JavaScriptCatalog); a string each that extraction must find.
DOMAINS = {"django": "Accueil", "djangojs": "En communication (%(count)s participants)."}


def committed(domain: str) -> dict[tuple[str, str], dict]:
    return po_entries(MESSAGES / f"{domain}.po")


def extracted(domain: str, tmp_path: Path, monkeypatch, settings) -> dict[tuple[str, str], dict]:
    """What makemessages finds in today's sources for `domain`, extracted from a copy of them."""
    require_gettext()
    copy = tmp_path / "telesante"
    if domain == "djangojs":
        shutil.copytree(SOURCES / "static", copy / "static")
    else:
        shutil.copytree(
            SOURCES,
            copy,
            ignore=lambda folder, names: [
                n
                for n in names
                if n in ("static", "locale", "__pycache__")
                or (Path(folder, n).is_file() and not n.endswith((".py", ".html", ".txt")))
            ],
        )
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], domain=domain, verbosity=0)
    return po_entries(copy / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po")


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_of_the_sources_has_an_english_translation(
    domain, tmp_path, monkeypatch, settings
):
    found = extracted(domain, tmp_path, monkeypatch, settings)
    assert ("", DOMAINS[domain]) in found  # the extraction did run over the sources
    kept = committed(domain)
    missing = [msgid for context, msgid in found if (context, msgid) not in kept]
    assert not missing, f"absent de {domain}.po (makemessages -d {domain} -l en) : {missing}"
    for key in found:
        assert not kept[key].get("fuzzy"), f"traduction approximative à revoir : {key[1]!r}"
        assert all(t.strip() for t in translations(kept[key])), f"non traduit : {key[1]!r}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_the_placeholders(domain):
    for (_, msgid), entry in committed(domain).items():
        sources = [msgid, entry.get("msgid_plural", msgid)]
        for i, text in enumerate(translations(entry)):
            expected = sources[min(i, 1)]
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(expected)), (
                f"{msgid!r} → {text!r}"
            )


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_is_the_committed_one(domain, tmp_path):
    """The .mo Django reads says exactly what the .po says (refresh: compilemessages -l en)."""
    require_gettext()
    po = MESSAGES / f"{domain}.po"
    # msgfmt's own checks, as compilemessages runs them (python-format placeholders, plurals).
    subprocess.run(["msgfmt", "--check-format", "-o", tmp_path / f"{domain}.mo", po], check=True)
    expected = {}
    for (context, msgid), entry in committed(domain).items():
        key = f"{context}\x04{msgid}" if context else msgid
        if "msgid_plural" in entry:
            expected.update({(key, i): text for i, text in enumerate(translations(entry))})
        else:
            expected[key] = entry["msgstr"]
    with (MESSAGES / f"{domain}.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog
    assert {k: v for k, v in catalog.items() if k != ""} == expected  # "": the header


# Pages: the browser's language, else French.


@pytest.fixture(autouse=True)
def fresh_cache():
    """Used TOTP codes and login rate limits live in the cache."""
    cache.clear()
    yield
    cache.clear()


def page(client: Client, url: str, language: str | None = None) -> str:
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_english(html: str, present: list[str], absent: list[str]) -> None:
    assert '<html lang="en">' in html
    for text in present:
        assert text in html, text
    for text in absent:
        assert text not in html, text


LOGIN_EN = ["Sign in", "Reserved for the health and social care professionals", "Password"]
LOGIN_FR = ["Connexion", "Se connecter", "Espace réservé aux professionnels", "Mot de passe"]
HOME_EN = ["Hello Nurse.a", "My worklist", "Find a patient", "Sign out", "My organisations"]
HOME_FR = ["Bonjour Nurse.a", "Ma liste de travail", "Rechercher un patient", "Déconnexion"]


@pytest.mark.django_db
def test_the_login_page_follows_the_browser_language():
    assert_english(page(Client(), reverse("account_login"), ENGLISH), LOGIN_EN, LOGIN_FR)
    for language in (None, "fr-FR,fr;q=0.9", "de-DE"):  # French unless English is asked for
        html = page(Client(), reverse("account_login"), language)
        assert '<html lang="fr">' in html
        assert all(text in html for text in LOGIN_FR)
        assert "Sign in" not in html


def test_the_second_factor_page_in_english_and_in_french(world):
    english = Client(HTTP_ACCEPT_LANGUAGE=ENGLISH)
    step = english.post(
        reverse("account_login"), {"login": world.nurse_a.email, "password": PASSWORD}
    )
    assert step["Location"] == "/compte/2fa/authenticate/"
    html = page(english, step["Location"])
    assert_english(
        html,
        ["Two-Factor Authentication", "Please enter an authenticator code"],
        ["Authentification à deux facteurs"],
    )
    assert english.post(step["Location"], {"code": totp_now()})["Location"] == "/"
    assert_english(page(english, "/"), HOME_EN, HOME_FR)

    french = Client()
    french.post(reverse("account_login"), {"login": world.nurse_a.email, "password": PASSWORD})
    html = page(french, "/compte/2fa/authenticate/")
    assert "Authentification à deux facteurs" in html
    assert "Two-Factor Authentication" not in html


def test_home_and_patient_pages_of_a_logged_in_user(world):
    client = logged_in(world.nurse_a)
    assert_english(page(client, "/", ENGLISH), HOME_EN, HOME_FR)
    patient = reverse("patient_detail", args=[world.patient_a.pk])
    assert_english(
        page(client, patient, ENGLISH),
        ["Identity status", "Date of birth", "Provisional identity", "Record the consent"],
        ["Statut de l'identité", "Date de naissance", "Identité provisoire"],
    )
    html = page(client, "/")
    assert '<html lang="fr">' in html
    assert all(text in html for text in HOME_FR)


def test_the_switcher_sets_the_language_for_the_next_pages(world):
    client = logged_in(world.nurse_a)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = page(client, "/")  # no Accept-Language: the choice is kept in a cookie
    assert_english(html, HOME_EN, HOME_FR)
    assert '<option value="en" selected>English</option>' in html
    # The choice wins over the browser's language, both ways.
    assert_english(page(client, "/", "fr-FR"), HOME_EN, HOME_FR)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    html = page(client, "/", ENGLISH)
    assert all(text in html for text in HOME_FR)
    assert '<option value="fr" selected>Français</option>' in html


@pytest.mark.django_db
def test_anonymous_visitors_switch_on_the_login_page():
    client = Client()
    login = reverse("account_login")
    client.post(reverse("set_language"), {"language": "en", "next": login})
    assert_english(page(client, login), LOGIN_EN, LOGIN_FR)


def test_the_error_page_is_translated():
    with translation.override("en"):
        html = render_to_string("500.html")
    assert '<html lang="en">' in html
    assert "An error occurred" in html
    assert "Une erreur est survenue" not in html


# Typography: French sets a space before « : ; ? ! », English does not.

MARKUP = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
SPACED_PUNCTUATION = re.compile(r".{0,40}\s[:;?!]")  # times (09:00) have no space


def visible_text(html: str) -> str:
    return unescape(MARKUP.sub("", html))


def test_english_pages_set_no_space_before_a_colon(tsv):  # noqa: F811
    send(tsv, ("a", "spo2", 85, NOW))  # an alert, resolved below with a note
    operator = logged_in(tsv.operator)
    operator.post(
        reverse("telesurveillance_resolve", args=[Alert.objects.get().pk]), {"note": "Rappelé"}
    )
    nurse = logged_in(tsv.w.nurse_a)
    patient = reverse("patient_detail", args=[tsv.w.patient_a.pk])
    consent = {"act_kind": "teleexpertise", "information_given": "on", "decision": "consent"}
    nurse.post(reverse("patient_consent", args=[tsv.w.patient_a.pk]), consent)
    follow_up = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])

    def pages(language: str) -> dict[str, str]:
        invalid = nurse.post(reverse("patient_create"), {"sex": "X"}, HTTP_ACCEPT_LANGUAGE=language)
        assert invalid.status_code == 400  # the form comes back with its error summary
        return {
            follow_up: page(operator, follow_up, language),
            patient: page(nurse, patient, language),
            "create": invalid.content.decode(),
        }

    english = {url: visible_text(html) for url, html in pages(ENGLISH).items()}
    for url, text in english.items():
        found = SPACED_PUNCTUATION.findall(text)
        assert not found, (url, found)
    assert "Status: In progress" in english[follow_up]
    assert "Tele-expertise: Consent" in english[patient]
    assert "Sex: Select a valid choice" in english["create"]
    french = {url: visible_text(html) for url, html in pages("fr-FR").items()}
    assert "État : En cours" in french[follow_up]
    assert "Télé-expertise : Consentement" in french[patient]
    assert "Sexe : Sélectionnez un choix valide" in french["create"]


# What is kept or sent to other people stays French.


def test_product_language_is_french_inside_and_restores_the_page_language():
    with translation.override("en"):
        assert translation.gettext("Accueil") == "Home"
        with product_language():
            assert translation.gettext("Accueil") == "Accueil"
        assert translation.gettext("Accueil") == "Home"

        @product_language()
        def label() -> str:
            return translation.gettext("Accueil")

        assert [label(), label()] == ["Accueil", "Accueil"]  # a fresh override per call
        assert translation.get_language() == "en"


def test_an_expert_reading_english_leaves_french_in_the_record(te_world):  # noqa: F811
    t = te_world
    with translation.override("en"):
        te = answered(t)
        # The refusal is shown to the expert: their language.
        with pytest.raises(Conflict, match="already been taken on"):
            te_services.claim(None, t.wound_expert, te)
    texts = set(Notification.objects.filter(user=t.w.nurse_a).values_list("text", flat=True))
    assert texts == {
        f"Votre demande de télé-expertise est prise en charge par {t.wound_expert}.",
        f"Réponse et compte rendu de télé-expertise pour {t.w.patient_a}",
    }


def test_threshold_changes_answer_in_english_and_audit_in_french(tsv):  # noqa: F811
    spo2 = {"type": "spo2", "kind": "below", "value": 88, "severity": 4}
    with translation.override("en"):
        lines = thresholds.change(None, tsv.operator, tsv.enrolment, [spo2])
        assert send(tsv, ("a", "spo2", 85, NOW)).alerts == 1
    assert lines[0] == (
        "threshold changed: Oxygen saturation (SpO2): minimum 90 % (critical) → "
        "Oxygen saturation (SpO2): minimum 88 % (critical)"
    )
    entries = AuditEntry.objects.filter(detail__startswith="seuil").order_by("id")
    details = list(entries.values_list("detail", flat=True))
    assert details[0] == (
        "seuil modifié : Saturation en oxygène (SpO2) : minimum 90 % (critique) → "
        "Saturation en oxygène (SpO2) : minimum 88 % (critique)"
    )
    assert len(details) == len(lines)
    assert Alert.objects.get().message == (
        "Saturation en oxygène (SpO2) 85 %, inférieure au seuil (88)"
    )


# The browser scripts: the "djangojs" catalogue, served by Django's JavaScriptCatalog.


def test_the_script_catalogue_is_public_and_follows_the_page_language():
    url = reverse("javascript_catalog")
    english_text = '"In the call (%(count)s participants)."'
    response = Client().get(url, HTTP_ACCEPT_LANGUAGE=ENGLISH)  # no login: guests use it too
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert english_text in response.content.decode()
    for language in (None, "fr-FR,fr;q=0.9", "de-DE"):
        french = page(Client(), url, language)
        assert "django.gettext = function" in french
        assert english_text not in french and "Filed in the record" not in french

    # The switcher's cookie wins over the browser; a copy kept in the other language is
    # revalidated and replaced, not reused.
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    chosen = client.get(url, HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert english_text in chosen.content.decode()
    tag = chosen["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    again = client.get(url, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 200
    assert english_text not in again.content.decode()
    assert again["Cache-Control"] == "no-cache"
