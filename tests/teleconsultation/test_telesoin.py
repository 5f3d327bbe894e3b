"""Télésoin, profession by profession (REGULATORY.md § Télésoin): every listed profession is an
account profession with a French label and may perform a télésoin, once the booking declares it
feasible by video; no other profession may; nurses bill TMI under the 20 % cap;
physiotherapists keep their own rules."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from telesante.accounts.models import Profession
from telesante.acts.models import Act
from telesante.teleconsultation import services, telesoin
from telesante.teleconsultation.models import ActivityDeclaration
from tests.conftest import api_client, make_user
from tests.rooms.conftest import TC, booking, in_call

# REGULATORY.md's list, in its order, with the French label each account shows.
RULES = {
    "pharmacists": ("pharmacien", "Pharmacien·ne"),
    "nurses": ("infirmier", "Infirmier·ère"),
    "advanced practice nurses": ("ipa", "Infirmier·ère en pratique avancée"),
    "physiotherapists": ("kinesitherapeute", "Masseur-kinésithérapeute"),
    "podiatrists": ("pedicure_podologue", "Pédicure-podologue"),
    "occupational therapists": ("ergotherapeute", "Ergothérapeute"),
    "psychomotor therapists": ("psychomotricien", "Psychomotricien·ne"),
    "speech therapists": ("orthophoniste", "Orthophoniste"),
    "orthoptists": ("orthoptiste", "Orthoptiste"),
    "radiographers": ("manipulateur_radio", "Manipulateur·rice d'électroradiologie médicale"),
    "lab technicians": ("technicien_labo", "Technicien·ne de laboratoire médical"),
    "hearing-aid specialists": ("audioprothesiste", "Audioprothésiste"),
    "opticians": ("opticien", "Opticien·ne-lunetier"),
    "prosthetists/orthotists": (
        "orthoprothesiste",
        "Appareilleur·se (orthoprothésiste, podo-orthésiste, orthopédiste-orthésiste, "
        "oculariste, épithésiste)",
    ),
    "dieticians": ("dieteticien", "Diététicien·ne"),
}
PROFESSIONS = [value for value, _label in RULES.values()]
NOT_TELESOIN = ["medecin", "sage_femme", "secretaire", "autre"]


def test_every_listed_profession_is_an_account_profession_with_its_french_label():
    for value, label in RULES.values():
        assert Profession(value).label == label
    assert {str(p) for p in telesoin.PROFESSIONS} == set(PROFESSIONS)


def _new(w, performer, **overrides):
    fields = {"kind": "telesoin", "assistance": "", **overrides}
    if performer.profession == Profession.PHYSIO:
        fields.setdefault("seen_in_person_this_year", True)
    return booking(w, performer, **fields)


@pytest.mark.parametrize("profession", PROFESSIONS)
def test_each_profession_performs_telesoin_once_declared_feasible_by_video(
    tc_world: TC, profession
):
    w = tc_world.w
    performer = make_user(f"{profession}@example.test", structure=w.ehpad_b, profession=profession)
    before = Act.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, _new(w, performer))
    label = Profession(profession).label
    assert exc.value.message_dict == {
        "video_suitable": [
            f"Télésoin ({label}) : confirmez qu'il se fait en vidéo et qu'il ne demande ni "
            "contact physique ni matériel dont le patient ne dispose pas."
        ]
    }
    assert Act.objects.count() == before  # nothing half-saved

    year = timezone.localdate().year
    ActivityDeclaration.objects.create(professional=performer, year=year, total_acts=4)
    tc = services.create(None, w.nurse_a, _new(w, performer, video_suitable=True))
    assert tc.video_suitable is True
    in_call(tc, performer)
    done = services.save_report(None, performer, tc, "Séance réalisée en vidéo.", finish=True)
    codes = list(done.act.billing_codes.all())
    if profession in {"infirmier", "ipa"}:
        # TMI, and one remote act out of four declared is past the 20 % cap.
        assert [c.code for c in codes] == ["TMI"]
        assert codes[0].warnings == [
            f"Plafond dépassé : 25.0 % de l'activité {year} à distance (plafond 20 %)."
        ]
    else:
        assert codes == []
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(done.act.report.read())).pages)
    assert "Réalisable en vidéo" in text and "sans contact ni matériel manquant" in text


@pytest.mark.parametrize("profession", NOT_TELESOIN)
def test_other_professions_may_not_perform_telesoin(tc_world: TC, profession):
    w = tc_world.w
    other = make_user(f"{profession}@example.test", structure=w.ehpad_b, profession=profession)
    with pytest.raises(ValidationError) as exc:
        services.create(None, w.nurse_a, _new(w, other, video_suitable=True))
    assert exc.value.message_dict["performer"] == [
        "Le télésoin est réservé aux pharmaciens et aux auxiliaires médicaux."
    ]


def test_a_teleconsultation_keeps_no_telesoin_declaration(tc_world: TC):
    w = tc_world.w
    new = booking(w, tc_world.cardiologist, video_suitable=True)
    assert services.create(None, w.nurse_a, new).video_suitable is False


def test_the_booking_page_asks_the_declaration_in_french(tc_world: TC, client):
    w = tc_world.w
    speech = make_user("ortho@example.test", structure=w.ehpad_b, profession="orthophoniste")
    client.force_login(w.nurse_a)
    form = {
        "patient": w.patient_a.pk,
        "structure": w.ehpad_a.pk,
        "kind": "telesoin",
        "performer": speech.pk,
        "scheduled_at": "2099-01-05T10:00",
        "reason": "Rééducation de la déglutition",
        "information_given": "on",
        "decision": "consent",
    }
    refused = client.post(reverse("teleconsultation_create"), form)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Télésoin (Orthophoniste) : confirmez qu&#x27;il se fait en vidéo" in page
    assert 'id="video_suitable"' in page
    done = client.post(reverse("teleconsultation_create"), {**form, "video_suitable": "on"})
    assert done.status_code == 302
    act = Act.objects.get(performers=speech)
    assert act.teleconsultation.video_suitable is True
    detail = client.get(done.url).content.decode()
    assert "Déclaré réalisable en vidéo, sans contact physique ni matériel manquant." in detail


def test_the_api_books_a_telesoin_with_the_declaration(tc_world: TC):
    w = tc_world.w
    optician = make_user("optique@example.test", structure=w.ehpad_b, profession="opticien")
    body = {
        "patient_id": w.patient_a.pk,
        "structure_id": w.ehpad_a.pk,
        "kind": "telesoin",
        "performer_id": optician.pk,
        "scheduled_at": "2099-01-05T10:00:00+01:00",
        "reason": "Adaptation des verres",
        "information_given": True,
        "decision": "consent",
    }
    client = api_client(w.nurse_a)
    refused = client.post("/api/v1/teleconsultations", body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["video_suitable"][0].startswith("Télésoin (Opticien·ne-")
    booked = client.post(
        "/api/v1/teleconsultations",
        {**body, "video_suitable": True},
        content_type="application/json",
    )
    assert booked.status_code == 201 and booked.json()["video_suitable"] is True


def test_a_physiotherapy_patient_is_a_minor_until_the_eighteenth_birthday():
    today = datetime.date.today()
    eighteen = today.replace(year=today.year - 18)  # born 18 years ago today (not on 29/02)
    adult = telesoin.physio_rules(eighteen, False, True, adult_present=False)
    assert adult == {}
    minor = telesoin.physio_rules(eighteen + datetime.timedelta(days=1), False, True, False)
    assert minor == {"adult_present": ["Un patient mineur est accompagné d'un adulte."]}
