"""The accessibility statement (/accessibilite/) and its self-assessment, and the accessibility
of the pages' markup that the server writes: fields in error, ids, the footer's link."""

import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse

from telesante.core import accessibility
from telesante.core.accessibility import Assessment, Criterion
from tests.conftest import World, logged_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "accessibility.md"


def ids_twice(html: str) -> list[str]:
    ids = re.findall(r'\sid="([^"]+)"', html)
    return sorted({i for i in ids if ids.count(i) > 1})


def criteria(*results: str) -> Assessment:
    return Assessment(
        "RGAA 4.1.2",
        datetime.date(2026, 12, 6),
        tuple(Criterion(str(i), "Images", "t", r, "w") for i, r in enumerate(results)),
    )


def test_rate_counts_applicable_criteria_only_and_never_rounds_up():
    assert criteria("C", "C", "NA", "NC").rate == 66  # 2 of 3 applicable, 66.7 rounded down
    assert criteria("C", "NA").rate == 100
    assert criteria("C", "NA").level == "totalement conforme"
    assert criteria("C", "NC").level == "partiellement conforme"
    assert criteria("C", "NC", "NC").level == "non conforme"


def test_the_self_assessment_covers_the_106_criteria_once():
    assessed = accessibility.assessment()
    ids = [c.id for c in assessed.criteria]
    assert len(ids) == len(set(ids)) == 106
    assert {c.result for c in assessed.criteria} <= {"C", "NC", "NA"}
    assert all(c.where for c in assessed.criteria)


def test_the_document_says_what_the_data_says():
    """docs/accessibility.md lists every criterion with the result of rgaa.json, and the rate."""
    doc = DOC.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+\.\d+) \| .*? \| (C|NC|NA) \| ", doc, re.M))
    assessed = accessibility.assessment()
    assert rows == {c.id: c.result for c in assessed.criteria}
    assert f"**{assessed.rate} %**" in doc
    assert (
        f"{assessed.count_c} conforming, {assessed.count_nc} not conforming, "
        f"{assessed.count_na} not applicable" in doc
    )


def test_statement_page_is_public_and_follows_the_rgaa_template(db):
    html = unescape(logged_in(None).get(reverse("accessibility")).content.decode())
    assessed = accessibility.assessment()
    for heading in (
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Dérogations pour charge disproportionnée",
        "Retour d'information et contact",
        "Voies de recours",
        "Mentions légales",
    ):
        assert f">{heading}</h" in html, heading
    assert f"<strong>{assessed.rate} %</strong>" in html
    assert "<strong>partiellement conforme</strong>" in html
    for failure in assessed.failures:
        assert f"Critère {failure.id} ({failure.theme})" in html
    assert "Défenseur des droits" in html and "Libre réponse 71120" in html
    assert 'id="mentions-legales"' in html
    assert ids_twice(html) == []


def test_statement_in_english(db):
    client = logged_in(None)
    html = client.get(reverse("accessibility"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Accessibility statement" in html and "partially compliant" in html


@pytest.mark.parametrize("who", ["anonymous", "nurse_a"])
def test_every_page_links_to_the_statement_from_its_footer(world: World, who):
    user = None if who == "anonymous" else world.nurse_a
    url = reverse("account_login") if user is None else reverse("home")
    html = unescape(logged_in(user).get(url).content.decode())
    footer = html.split('<footer class="foot">', 1)[1]
    assert '<a href="/accessibilite/">Accessibilité : partiellement conforme</a>' in footer
    assert '<a href="/accessibilite/#mentions-legales">Mentions légales</a>' in footer


def test_flash_messages_keep_their_list(world: World):
    client = logged_in(world.nurse_a)
    response = client.post(
        reverse("patient_consent", args=[world.patient_a.pk]),
        {"act_kind": "teleexpertise", "information_given": "on", "decision": "consent"},
        follow=True,
    )
    html = response.content.decode()
    assert '<div role="status"><ul class="messages"><li' in html
    assert 'role="status"><li' not in html


def test_fields_in_error_name_their_message(world: World):
    """Through the one field template: aria-invalid, and aria-describedby naming the error's id
    (and the help's), whatever the form."""
    client = logged_in(world.nurse_a)
    html = client.post(reverse("patient_create"), {"birth_name": ""}).content.decode()
    birth = re.search(r"<input[^>]*id=\"id_birth_name\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in birth
    assert 'aria-describedby="id_birth_name_error"' in birth
    assert re.search(r'id="id_birth_name_error"><p class="error">[^<]+</p>', html)
    # The picker: its combobox, where people type, is the field in error.
    place = re.search(r'<input[^>]*id="id_birthplace_code_search"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in place and "id_birthplace_code_error" in place
    assert 'id="id_birthplace_code_error"' in html
    assert ids_twice(html) == []


def test_patient_page_forms_have_ids_of_their_own(world: World):
    html = logged_in(world.nurse_a).get(reverse("patient_detail", args=[world.patient_a.pk]))
    page = html.content.decode()
    assert ids_twice(page) == []
    assert '<label for="status_note">' in page and '<label for="consent_note">' in page


def test_asterisks_are_explained_where_they_are_used(world: World):
    url = reverse("teleexpertise_create") + "?filiere=plaies_cicatrisation"
    html = unescape(logged_in(world.nurse_a).get(url).content.decode())
    form = html.split("<main", 1)[1].split("<form", 1)[1].split("</form>", 1)[0]
    assert " *</label>" in form
    assert "Les champs marqués d'un astérisque (*) sont obligatoires." in form
