"""The INSi step: the local teleservice backend, traits compared, QUAL only on a match with a
high-trust document seen, every call audited, through the wall (page and API)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from telesante.core.models import AuditAction, AuditEntry
from telesante.patients import insi, services
from telesante.patients.models import EvidenceKind, IdentityStatus, MatriculeKind, Patient
from tests.conftest import api_client, logged_in, make_patient

# The shipped test identity MARTINEAU Claire Hélène (patients/data/insi_test_identities.json).
MARTINEAU = {
    "birth_name": "MARTINEAU",
    "first_names": "Claire Hélène",
    "birth_date": "1948-03-12",
    "sex": "F",
    "birthplace_code": "53130",
}
MARTINEAU_INS = "248035313010121"


@pytest.fixture(autouse=True)
def local_insi(settings):
    settings.TELESANTE_INSI_BACKEND = "telesante.patients.insi.LocalBackend"


def patient_of(structure, **traits) -> Patient:
    patient = make_patient(structure, **{**MARTINEAU, **traits})
    patient.refresh_from_db()
    return patient


def validated(world, patient: Patient, evidence: str = EvidenceKind.ID_CARD) -> Patient:
    services.change_status(None, world.nurse_a, patient, IdentityStatus.VALIDATED, evidence)
    return patient


def insi_entries(patient: Patient) -> list[str]:
    return list(
        AuditEntry.objects.filter(patient_id=patient.pk, action=AuditAction.INSI)
        .order_by("pk")
        .values_list("detail", flat=True)
    )


# The local backend answers like the teleservice.


def test_local_backend_search_finds_the_test_identity_by_traits():
    traits = insi.Traits("Martineau", ("claire",), "F", datetime.date(1948, 3, 12), "53130")
    answer = insi.LocalBackend().search(insi.SearchRequest(traits))
    assert answer.code == insi.ResultCode.FOUND
    assert answer.identity.matricule == MARTINEAU_INS
    assert answer.identity.oid == insi.TEST_NIR_ROOT
    assert answer.identity.traits.first_names == ("Claire", "Hélène")


def test_local_backend_search_reports_homonyms_and_absence():
    homonym = insi.Traits("ROUSSEL", ("Anne",), "F", datetime.date(1960, 2, 29), "75056")
    absent = insi.Traits("PERSONNE", ("Anne",), "F", datetime.date(1960, 2, 29), "75056")
    backend = insi.LocalBackend()
    assert backend.search(insi.SearchRequest(homonym)).code == insi.ResultCode.SEVERAL
    nobody = backend.search(insi.SearchRequest(absent))
    assert (nobody.code, nobody.identity) == (insi.ResultCode.NOT_FOUND, None)


def test_every_shipped_test_identity_has_a_valid_matricule_under_the_test_root():
    from telesante.core.identifiers import validate_matricule

    identities = insi._test_identities()
    assert len(identities) >= 8
    for identity in identities:
        validate_matricule(identity.matricule, identity.traits.sex)
        assert identity.oid == "1.2.250.1.213.1.4.10"


def test_the_real_teleservice_backend_refuses_plainly_until_configured():
    traits = insi.Traits("MARTINEAU", ("Claire",), "F", datetime.date(1948, 3, 12), "53130")
    with pytest.raises(insi.InsiUnavailable, match="convention nationale"):
        insi.TeleserviceBackend().search(insi.SearchRequest(traits))
    with pytest.raises(insi.InsiUnavailable):
        insi.TeleserviceBackend().verify(insi.VerifyRequest(MARTINEAU_INS, "x", traits))


# Match: QUAL with a high-trust document seen, RECUP without.


def test_a_validated_identity_matching_insi_becomes_qualified(world):
    patient = validated(world, patient_of(world.ehpad_a, first_names="claire  hélène"))
    outcome = services.insi_lookup(None, world.nurse_a, patient)
    patient.refresh_from_db()
    assert (outcome.operation, outcome.code, outcome.result) == ("search", "00", "qualified")
    assert patient.identity_status == IdentityStatus.QUALIFIED
    assert patient.shareable_matricule == MARTINEAU_INS
    assert patient.matricule_kind == MatriculeKind.TEST_NIR
    assert patient.matricule_oid == "urn:oid:1.2.250.1.213.1.4.10"
    assert patient.validation_mode == EvidenceKind.ID_CARD
    assert patient.insi_checked_at is not None
    assert patient.first_names == "Claire Hélène"  # the INS's spelling
    change = patient.status_changes.order_by("-pk").first()
    assert (change.old_status, change.new_status, change.evidence) == ("VALI", "QUAL", "id_card")
    assert change.note.startswith("INSi : recherche par traits du ")
    assert insi_entries(patient) == ["search concordant"]


def test_a_provisional_identity_with_a_passport_seen_now_becomes_qualified(world):
    patient = patient_of(world.ehpad_a)
    outcome = services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.PASSPORT)
    patient.refresh_from_db()
    assert outcome.result == "qualified"
    assert (patient.identity_status, patient.validation_mode) == ("QUAL", "passport")


def test_without_a_document_a_match_is_only_retrieved_and_keeps_no_matricule(world):
    patient = patient_of(world.ehpad_a)
    outcome = services.insi_lookup(None, world.nurse_a, patient)
    patient.refresh_from_db()
    assert outcome.result == "retrieved"
    assert "pièce d'identité" in outcome.detail
    assert patient.identity_status == IdentityStatus.RETRIEVED
    assert (patient.shareable_matricule, patient.matricule) == ("", "")
    assert patient.insi_checked_at is not None and patient.validation_mode == ""


def test_a_document_that_is_not_high_trust_is_refused(world):
    patient = patient_of(world.ehpad_a)
    with pytest.raises(ValidationError) as caught:
        services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.INSI)
    assert "haut niveau de confiance" in str(caught.value)
    assert insi_entries(patient) == []


def test_a_minor_document_for_an_adult_is_refused(world):
    patient = patient_of(world.ehpad_a)
    with pytest.raises(ValidationError, match="mineur"):
        services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.FAMILY_BOOK)


def test_a_qualified_identity_is_verified_again_by_its_matricule(world):
    patient = patient_of(world.ehpad_a)
    services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.ID_CARD)
    outcome = services.insi_lookup(None, world.nurse_a, patient)
    patient.refresh_from_db()
    assert (outcome.operation, outcome.result) == ("verify", "qualified")
    assert patient.identity_status == IdentityStatus.QUALIFIED
    assert insi_entries(patient) == ["search concordant", "verify concordant"]


# Mismatch: the status stays, the trait that differs is named in French.


@pytest.mark.parametrize(
    ("traits", "trait", "label"),
    [
        ({"first_names": "Claire"}, "first_names", "prénom(s) de naissance"),
        ({"birthplace_code": "53062"}, "birthplace_code", "lieu de naissance"),
    ],
)
def test_a_search_whose_traits_differ_keeps_the_status_and_names_the_trait(
    world, traits, trait, label
):
    patient = validated(world, patient_of(world.ehpad_a, **traits))
    outcome = services.insi_lookup(None, world.nurse_a, patient)
    patient.refresh_from_db()
    assert outcome.result == "mismatch"
    assert [d.trait for d in outcome.differences] == [trait]
    assert label in outcome.detail and "« Identité validée »" in outcome.detail
    assert patient.identity_status == IdentityStatus.VALIDATED
    assert patient.matricule == "" and patient.insi_checked_at is None
    assert insi_entries(patient) == [f"search écart: {trait}"]


@pytest.mark.parametrize(
    ("traits", "trait", "shown"),
    [
        ({"birth_name": "MARTINOT"}, "birth_name", "INSi « MARTINEAU »"),
        ({"first_names": "Clara Hélène"}, "first_names", "INSi « Claire Hélène »"),
        ({"sex": "M"}, "sex", "INSi « F »"),
        ({"birth_date": "1948-03-13"}, "birth_date", "INSi « 12/03/1948 »"),
        ({"birthplace_code": "72181"}, "birthplace_code", "Laval (53130)"),
    ],
)
def test_a_verification_names_each_trait_that_differs(world, traits, trait, shown):
    patient = patient_of(world.ehpad_a, **traits)
    outcome = services.insi_lookup(
        None, world.nurse_a, patient, EvidenceKind.ID_CARD, "2 48 03 53 130 101 21"
    )
    patient.refresh_from_db()
    assert (outcome.operation, outcome.result) == ("verify", "mismatch")
    assert [d.trait for d in outcome.differences] == [trait]
    assert shown in outcome.detail
    assert patient.identity_status == IdentityStatus.PROVISIONAL
    assert patient.shareable_matricule == ""


def test_a_verification_of_the_right_matricule_qualifies(world):
    patient = patient_of(world.ehpad_a)
    outcome = services.insi_lookup(
        None, world.nurse_a, patient, EvidenceKind.RESIDENCE_PERMIT, MARTINEAU_INS
    )
    patient.refresh_from_db()
    assert (outcome.operation, outcome.result) == ("verify", "qualified")
    assert patient.shareable_matricule == MARTINEAU_INS


def test_a_matricule_with_a_wrong_key_is_refused_before_insi(world):
    patient = patient_of(world.ehpad_a)
    with pytest.raises(ValidationError, match="clé"):
        services.insi_lookup(None, world.nurse_a, patient, matricule="248035313010122")
    assert insi_entries(patient) == []


def test_an_unknown_identity_and_homonyms_are_said_and_audited(world):
    unknown = patient_of(world.ehpad_a, birth_name="INCONNUE")
    homonym = patient_of(
        world.ehpad_a, birth_name="ROUSSEL", first_names="Anne", birth_date="1960-02-29"
    )
    nobody = services.insi_lookup(None, world.nurse_a, unknown, EvidenceKind.ID_CARD)
    several = services.insi_lookup(None, world.nurse_a, homonym, EvidenceKind.ID_CARD)
    assert (nobody.code, nobody.result) == ("01", "not_found")
    assert "Aucune identité trouvée" in nobody.detail
    assert (several.code, several.result) == ("02", "several")
    assert "carte Vitale" in several.detail
    assert insi_entries(unknown) == ["search not_found"]
    assert insi_entries(homonym) == ["search several"]
    unknown.refresh_from_db()
    assert unknown.identity_status == IdentityStatus.PROVISIONAL


def test_an_unconfigured_teleservice_is_said_in_french_and_audited(world, settings):
    settings.TELESANTE_INSI_BACKEND = "telesante.patients.insi.TeleserviceBackend"
    patient = patient_of(world.ehpad_a)
    with pytest.raises(ValidationError) as caught:
        services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.ID_CARD)
    assert "n'est pas raccordé" in caught.value.message_dict["insi"][0]
    assert insi_entries(patient) == ["INSi indisponible"]


def test_observers_may_not_call_insi(world):
    with pytest.raises(PermissionDenied):
        services.insi_lookup(None, world.observer, world.patient_a)


def test_a_status_set_by_hand_back_to_provisional_forgets_the_insi_answer(world):
    patient = patient_of(world.ehpad_a)
    services.insi_lookup(None, world.nurse_a, patient, EvidenceKind.ID_CARD)
    services.change_status(None, world.nurse_a, patient, IdentityStatus.PROVISIONAL, "none")
    patient.refresh_from_db()
    assert (patient.matricule, patient.insi_checked_at, patient.validation_mode) == ("", None, "")


# The page and the API.


def test_the_page_button_qualifies_and_says_so(world):
    patient = validated(world, patient_of(world.ehpad_a))
    client = logged_in(world.nurse_a)
    page = client.get(reverse("patient_detail", args=[patient.pk]))
    assert "Rechercher l&#x27;INS" in page.text or "Rechercher l'INS" in page.text
    response = client.post(reverse("patient_insi", args=[patient.pk]), {"evidence": "none"})
    assert response.status_code == 302
    page = client.get(response.url)
    assert "Identité qualifiée par INSi." in page.text
    assert MARTINEAU_INS in page.text


def test_the_page_names_the_differing_trait(world):
    patient = patient_of(world.ehpad_a, first_names="Claire")
    response = logged_in(world.nurse_a).post(
        reverse("patient_insi", args=[patient.pk]), {"evidence": "id_card"}, follow=True
    )
    assert "prénom(s) de naissance" in response.text
    assert 'class="warning"' in response.text


def test_the_page_says_what_is_wrong_with_the_matricule(world):
    patient = patient_of(world.ehpad_a)
    response = logged_in(world.nurse_a).post(
        reverse("patient_insi", args=[patient.pk]), {"matricule": "12"}, follow=True
    )
    assert "15 caractères" in response.text


def test_the_page_refuses_another_structures_patient(world):
    patient = patient_of(world.ehpad_b)
    response = logged_in(world.nurse_a).post(
        reverse("patient_insi", args=[patient.pk]), {"evidence": "id_card"}
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.PROVISIONAL
    assert insi_entries(patient) == []


def test_the_api_qualifies_and_answers_the_ins(world):
    patient = patient_of(world.ehpad_a)
    response = api_client(world.nurse_a).post(
        f"/api/v1/patients/{patient.pk}/insi",
        {"evidence": "id_card"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["result"], body["code"], body["differences"]) == ("qualified", "00", [])
    assert body["patient"]["identity_status"] == "QUAL"
    assert body["patient"]["ins_matricule"] == MARTINEAU_INS
    assert body["patient"]["validation_mode"] == "id_card"


def test_the_api_names_the_differing_traits(world):
    patient = patient_of(world.ehpad_a, birth_date="1948-03-13")
    response = api_client(world.nurse_a).post(
        f"/api/v1/patients/{patient.pk}/insi",
        {"matricule": MARTINEAU_INS},
        content_type="application/json",
    )
    body = response.json()
    assert body["result"] == "mismatch"
    assert body["differences"] == [
        {
            "trait": "birth_date",
            "label": "date de naissance",
            "local": "13/03/1948",
            "insi": "12/03/1948",
        }
    ]
    assert body["patient"]["ins_matricule"] == ""


def test_the_api_answers_503_when_the_teleservice_is_not_configured(world, settings):
    settings.TELESANTE_INSI_BACKEND = "telesante.patients.insi.TeleserviceBackend"
    response = api_client(world.nurse_a).post(
        f"/api/v1/patients/{world.patient_a.pk}/insi", {}, content_type="application/json"
    )
    assert response.status_code == 503
    assert "convention nationale" in response.json()["detail"]


def test_the_api_refuses_another_structures_patient(world):
    response = api_client(world.nurse_a).post(
        f"/api/v1/patients/{world.patient_b.pk}/insi", {}, content_type="application/json"
    )
    assert response.status_code == 404
    assert insi_entries(world.patient_b) == []
