"""Patient identity services: search, duplicates, creation, RNIV status changes, consent."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from telesante.core.models import AuditAction, AuditEntry
from telesante.patients import services
from telesante.patients.models import (
    ActKind,
    AttachmentKind,
    Consent,
    ConsentDecision,
    EvidenceKind,
    IdentityStatus,
    IdentityStatusChange,
    Patient,
    PatientAttachment,
)
from telesante.structures.models import Country
from tests.conftest import make_patient

# 2 40 03 53 130 001, key 28: a woman born in March 1940 in Mayenne (see test_identifiers).
NIR_WOMAN = "240035313000128"


@pytest.fixture
def rf_request():
    return RequestFactory().post(
        "/patients/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Navigateur-Test/1.0"
    )


def new_patient(**fields) -> Patient:
    values = {
        "birth_name": "Quenorel",
        "first_names": "Ilda  Marie",
        "birth_date": datetime.date(1931, 5, 4),
        "sex": "F",
        "birthplace_code": "53130",
        **fields,
    }
    return Patient(**values)


# Search.


def test_search_matches_every_word_of_the_name_ignoring_accents_and_case(world):
    found = services.search(None, world.nurse_a, "dôrvàne ALIX")
    assert found == [world.patient_a]


def test_search_requires_every_word_to_match(world):
    assert services.search(None, world.nurse_a, "dorvane basile") == []


def test_search_finds_used_names_too(world):
    married = make_patient(world.ehpad_a, "LEROUX", "Jeanne", used_name="Martin-Dupré")
    assert services.search(None, world.nurse_a, "dupre") == [married]


def test_search_treats_ligatures_and_typographic_apostrophes_as_typed_letters(world):
    lecoeur = make_patient(world.ehpad_a, "LECŒUR", "Lætitia")
    dartagnan = make_patient(world.ehpad_a, "D'ARTAGNAN", "Charles", sex="M")
    assert services.search(None, world.nurse_a, "lecoeur laetitia") == [lecoeur]
    assert services.search(None, world.nurse_a, "Lecœur") == [lecoeur]
    assert services.search(None, world.nurse_a, "d’artagnan") == [dartagnan]


def test_search_by_birth_date_in_french_format(world):
    other = make_patient(world.ehpad_a, "AUBRAC", "Noé", birth_date="1951-12-24", sex="M")
    assert services.search(None, world.nurse_a, "02/03/1940") == [world.patient_a]
    assert services.search(None, world.nurse_a, "24/12/1951") == [other]
    assert services.search(None, world.nurse_a, "1951-12-24") == [other]
    assert services.search(None, world.nurse_a, "aubrac 02/03/1940") == []


def test_search_never_returns_another_structures_patients(world):
    assert services.search(None, world.nurse_a, "valmorin") == []
    assert services.search(None, world.nurse_b, "valmorin") == [world.patient_b]


def test_search_is_ordered_by_name_and_limited(world):
    for name in ["ZOLA", "BERNARD", "ALLARD"]:
        make_patient(world.ehpad_a, name, "Jean", birth_date="1950-01-01")
    names = [p.birth_name for p in services.search(None, world.nurse_a, "jean")]
    assert names == ["ALLARD", "BERNARD", "ZOLA"]
    assert len(services.search(None, world.nurse_a, "", limit=2)) == 2


def test_search_writes_one_audit_entry_per_patient_found(world, rf_request):
    services.search(rf_request, world.nurse_a, "dorvane")
    entry = AuditEntry.objects.get(action=AuditAction.SEARCH)
    assert entry.patient_id == world.patient_a.pk
    assert entry.actor_id == world.nurse_a.pk
    assert entry.detail == "dorvane"


def test_parse_date_accepts_french_and_iso_and_rejects_the_rest():
    assert services.parse_date("02/03/1940") == datetime.date(1940, 3, 2)
    assert services.parse_date("1940-03-02") == datetime.date(1940, 3, 2)
    assert services.parse_date("31/02/1940") is None
    assert services.parse_date("dorvane") is None


# Duplicate detection (RNIV: the search starts from the birth date).


def test_same_birth_date_and_close_name_is_a_candidate_and_nothing_is_saved(world):
    before = Patient.objects.count()
    twin = new_patient(
        birth_name="Dorvanne", first_names="Alice", birth_date=datetime.date(1940, 3, 2)
    )
    patient, duplicates = services.create(None, world.nurse_a, twin, world.ehpad_a)
    assert patient is None
    assert duplicates.visible == [world.patient_a]
    assert duplicates.hidden_count == 0
    assert duplicates.any
    assert Patient.objects.count() == before
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


def test_showing_visible_candidates_is_audited_as_a_search(world, rf_request):
    twin = new_patient(
        birth_name="Dorvane", first_names="Alix", birth_date=datetime.date(1940, 3, 2)
    )
    services.create(rf_request, world.nurse_a, twin, world.ehpad_a)
    entry = AuditEntry.objects.get(action=AuditAction.SEARCH)
    assert entry.patient_id == world.patient_a.pk
    assert entry.detail == "doublons potentiels"


def test_same_first_name_and_date_is_a_candidate_even_with_another_birth_name(world):
    married = new_patient(
        birth_name="Martin", first_names="Alix", birth_date=datetime.date(1940, 3, 2)
    )
    duplicates = services.likely_duplicates(world.nurse_a, married)
    assert duplicates.visible == [world.patient_a]


def test_close_name_with_another_birth_date_is_not_a_candidate(world):
    other_date = new_patient(
        birth_name="Dorvane", first_names="Alix", birth_date=datetime.date(1940, 3, 3)
    )
    assert not services.likely_duplicates(world.nurse_a, other_date).any


def test_confirm_not_duplicate_creates_the_identity_despite_candidates(world):
    twin = new_patient(
        birth_name="Dorvane", first_names="Alix", birth_date=datetime.date(1940, 3, 2)
    )
    patient, duplicates = services.create(
        None, world.nurse_a, twin, world.ehpad_a, confirm_not_duplicate=True
    )
    assert patient is not None and patient.pk
    assert duplicates.visible == [world.patient_a]
    assert Patient.objects.filter(birth_name="DORVANE").count() == 2


def test_candidates_of_another_structure_are_only_counted(world):
    # VALMORIN Basile (patient_b) belongs to EHPAD B: nurse A must not learn who it is.
    lookalike = new_patient(
        birth_name="Valmorin", first_names="Basile", sex="M", birth_date=datetime.date(1940, 3, 2)
    )
    patient, duplicates = services.create(None, world.nurse_a, lookalike, world.ehpad_a)
    assert patient is None
    assert duplicates.visible == []
    assert duplicates.hidden_count == 1
    assert not Patient.objects.filter(birth_name="VALMORIN").exclude(pk=world.patient_b.pk)


def test_editing_a_patient_does_not_list_itself_as_duplicate(world):
    assert not services.likely_duplicates(world.nurse_a, world.patient_a).any


# Creation.


def test_creation_attaches_to_the_structure_and_records_status_and_audit(world, rf_request):
    patient, duplicates = services.create(
        rf_request, world.nurse_a, new_patient(), world.ehpad_a, AttachmentKind.RESIDENT
    )
    assert not duplicates.any
    patient.refresh_from_db()
    assert patient.birth_name == "QUENOREL"
    assert patient.first_names == "Ilda Marie"
    assert patient.identity_status == IdentityStatus.PROVISIONAL
    assert patient.created_by == world.nurse_a
    assert patient.search_key == "QUENOREL ILDA MARIE"
    attachment = PatientAttachment.objects.get(patient=patient)
    assert (attachment.structure, attachment.kind) == (world.ehpad_a, AttachmentKind.RESIDENT)
    change = IdentityStatusChange.objects.get(patient=patient)
    assert change.old_status == ""
    assert change.new_status == IdentityStatus.PROVISIONAL
    assert change.evidence == EvidenceKind.NONE
    assert change.changed_by == world.nurse_a
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert entry.patient_id == patient.pk
    assert entry.structure_id == world.ehpad_a.pk
    assert (entry.ip, entry.user_agent, entry.via) == ("192.0.2.7", "Navigateur-Test/1.0", "web")


def test_creation_history_reads_from_nothing_to_provisional(world):
    patient, _dup = services.create(None, world.nurse_a, new_patient(), world.ehpad_a)
    assert str(patient.status_changes.get()) == "∅ → PROV"
    assert str(patient) == "QUENOREL Ilda Marie"
    assert patient.first_first_name == "Ilda"
    attachment = patient.attachments.get()
    assert str(attachment) == f"{patient.pk} @ {world.ehpad_a.pk} (patient)"


def test_creation_ignores_a_status_or_matricule_given_by_the_caller(world):
    forged = new_patient(identity_status=IdentityStatus.QUALIFIED, matricule=NIR_WOMAN)
    patient, _dup = services.create(None, world.nurse_a, forged, world.ehpad_a)
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.PROVISIONAL
    assert patient.matricule == ""


def test_creation_with_a_foreign_birthplace_is_accepted(world):
    patient, _dup = services.create(
        None, world.nurse_a, new_patient(birthplace_code="99134"), world.ehpad_a
    )
    assert patient.pk
    assert str(Country.objects.get(code=patient.birthplace_code)) == "Espagne (99134)"


def test_creation_in_a_structure_the_user_is_not_member_of_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.create(None, world.nurse_a, new_patient(), world.ehpad_b)
    with pytest.raises(PermissionDenied):
        services.create(None, world.observer, new_patient(), world.ehpad_a)
    assert not Patient.objects.filter(birth_name="QUENOREL").exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"birth_date": timezone.localdate() + datetime.timedelta(days=1)},
            "birth_date",
            "ne peut pas être dans le futur",
        ),
        ({"birth_date": datetime.date(1850, 1, 1)}, "birth_date", "invraisemblable"),
        ({"birthplace_code": "53999"}, "birthplace_code", "commune inconnu : 53999"),
        ({"birthplace_code": "99999"}, "birthplace_code", "pays INSEE inconnu : 99999"),
    ],
)
def test_invalid_traits_raise_a_validation_error_naming_the_field(world, fields, field, message):
    before = (Patient.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.create(None, world.nurse_a, new_patient(**fields), world.ehpad_a)
    assert list(exc.value.message_dict) == [field]
    assert message in exc.value.message_dict[field][0]
    assert (Patient.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize("field", ["birth_name", "first_names"])
def test_blank_names_are_refused(world, field):
    with pytest.raises(ValidationError) as exc:
        services.create(None, world.nurse_a, new_patient(**{field: "   "}), world.ehpad_a)
    assert exc.value.message_dict == {field: ["Ce champ est obligatoire."]}
    assert not Patient.objects.filter(first_names="Ilda Marie").exists()


@pytest.mark.parametrize("field", ["birth_name", "used_first_name", "birthplace_code"])
def test_nul_characters_are_refused_before_reaching_the_database(world, field):
    value = "5313\x00" if field == "birthplace_code" else "A\x00B"
    with pytest.raises(ValidationError) as exc:
        services.create(None, world.nurse_a, new_patient(**{field: value}), world.ehpad_a)
    assert exc.value.message_dict == {field: ["Caractère nul interdit."]}


def test_search_ignores_nul_characters(world):
    assert services.search(None, world.nurse_a, "dorv\x00ane") == [world.patient_a]


def test_every_invalid_trait_is_reported_at_once(world):
    patient = new_patient(
        birth_date=timezone.localdate() + datetime.timedelta(days=3), birthplace_code="53999"
    )
    with pytest.raises(ValidationError) as exc:
        services.create(None, world.nurse_a, patient, world.ehpad_a)
    assert set(exc.value.message_dict) == {"birth_date", "birthplace_code"}


# Identity status changes (RNIV).


def test_validated_identity_rests_on_a_high_trust_document(world, rf_request):
    patient = world.patient_a
    change = services.change_status(
        rf_request, world.nurse_a, patient, IdentityStatus.VALIDATED, EvidenceKind.ID_CARD
    )
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.VALIDATED
    assert (change.old_status, change.new_status) == ("PROV", "VALI")
    assert change.evidence == EvidenceKind.ID_CARD
    entry = AuditEntry.objects.get(action=AuditAction.STATUS)
    assert entry.detail == "PROV → VALI (id_card)"
    assert entry.patient_id == patient.pk
    assert entry.ip == "192.0.2.7"


@pytest.mark.parametrize(
    "evidence", [EvidenceKind.PASSPORT, EvidenceKind.ID_CARD, EvidenceKind.RESIDENCE_PERMIT]
)
def test_each_high_trust_document_validates_an_adult(world, evidence):
    # REGULATORY.md: passport, national ID card, residence permit.
    services.change_status(None, world.nurse_a, world.patient_a, IdentityStatus.VALIDATED, evidence)
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.VALIDATED


@pytest.mark.parametrize("evidence", [EvidenceKind.NONE, EvidenceKind.INSI])
def test_validated_identity_without_a_high_trust_document_is_refused(world, evidence):
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None, world.nurse_a, world.patient_a, IdentityStatus.VALIDATED, evidence
        )
    assert exc.value.message_dict["evidence"] == [
        "Une identité validée exige une pièce d'identité à haut niveau de confiance."
    ]
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.PROVISIONAL
    assert not IdentityStatusChange.objects.filter(patient=world.patient_a).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.STATUS).exists()


def test_retrieved_identity_needs_insi(world):
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None,
            world.nurse_a,
            world.patient_a,
            IdentityStatus.RETRIEVED,
            EvidenceKind.PASSPORT,
            via_insi=True,
        )
    assert exc.value.message_dict["evidence"] == [
        "Une identité récupérée provient du téléservice INSi."
    ]
    services.change_status(
        None,
        world.nurse_a,
        world.patient_a,
        IdentityStatus.RETRIEVED,
        EvidenceKind.INSI,
        via_insi=True,
    )
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.RETRIEVED


def test_qualified_identity_keeps_the_matricule_and_shares_it(world):
    patient = world.patient_a
    services.change_status(
        None,
        world.nurse_a,
        patient,
        IdentityStatus.QUALIFIED,
        EvidenceKind.PASSPORT,
        matricule="2 40 03 53 130 001 28",
        note="Carte Vitale et passeport vérifiés",
        via_insi=True,
    )
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.QUALIFIED
    assert patient.matricule == NIR_WOMAN
    assert patient.matricule_kind == "NIR"
    assert patient.shareable_matricule == NIR_WOMAN
    assert patient.matricule_oid == "urn:oid:1.2.250.1.213.1.4.8"
    change = patient.status_changes.first()
    assert change.note == "Carte Vitale et passeport vérifiés"
    assert AuditEntry.objects.get(action=AuditAction.STATUS).detail == "PROV → QUAL (passport)"


def test_qualification_needs_a_high_trust_document(world):
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None,
            world.nurse_a,
            world.patient_a,
            IdentityStatus.QUALIFIED,
            EvidenceKind.INSI,
            matricule=NIR_WOMAN,
            via_insi=True,
        )
    assert exc.value.message_dict["evidence"] == [
        "La qualification exige une pièce d'identité à haut niveau de confiance, vérifiée."
    ]


@pytest.mark.parametrize(
    ("matricule", "message"),
    [
        ("", "La qualification exige le matricule INS renvoyé par INSi."),
        ("240035313000129", "La clé du matricule INS est incorrecte."),
        ("24003531300", "Le matricule INS (NIR ou NIA) compte 15 caractères, clé comprise."),
    ],
)
def test_qualification_needs_a_valid_matricule(world, matricule, message):
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None,
            world.nurse_a,
            world.patient_a,
            IdentityStatus.QUALIFIED,
            EvidenceKind.ID_CARD,
            matricule=matricule,
            via_insi=True,
        )
    assert exc.value.message_dict["matricule"] == [message]
    world.patient_a.refresh_from_db()
    assert world.patient_a.matricule == ""
    assert world.patient_a.identity_status == IdentityStatus.PROVISIONAL


def test_qualification_refuses_a_matricule_of_the_other_sex(world):
    # patient_b is a man; NIR_WOMAN starts with 2.
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None,
            world.nurse_b,
            world.patient_b,
            IdentityStatus.QUALIFIED,
            EvidenceKind.ID_CARD,
            matricule=NIR_WOMAN,
            via_insi=True,
        )
    assert exc.value.message_dict["matricule"] == [
        "Le premier chiffre du matricule ne correspond pas au sexe."
    ]


def test_leaving_qual_clears_the_matricule(world):
    patient = world.patient_a
    services.change_status(
        None,
        world.nurse_a,
        patient,
        "QUAL",
        EvidenceKind.ID_CARD,
        matricule=NIR_WOMAN,
        via_insi=True,
    )
    services.change_status(None, world.nurse_a, patient, "VALI", EvidenceKind.ID_CARD)
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.VALIDATED
    assert (patient.matricule, patient.matricule_kind) == ("", "")
    assert patient.shareable_matricule == ""
    assert [c.new_status for c in patient.status_changes.order_by("pk")] == ["QUAL", "VALI"]
    details = list(
        AuditEntry.objects.filter(action=AuditAction.STATUS)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["PROV → QUAL (id_card)", "QUAL → VALI (id_card)"]


def test_shareable_matricule_is_empty_unless_qualified():
    patient = Patient(matricule=NIR_WOMAN, matricule_kind="NIR")
    for status in ["PROV", "RECUP", "VALI"]:
        patient.identity_status = status
        assert patient.shareable_matricule == ""
        assert patient.matricule_oid == ""
    patient.identity_status = "QUAL"
    assert patient.shareable_matricule == NIR_WOMAN


def test_qualification_with_a_nia_keeps_its_kind_and_oid(world):
    services.change_status(
        None,
        world.nurse_a,
        world.patient_a,
        "QUAL",
        EvidenceKind.PASSPORT,
        matricule=NIR_WOMAN,
        matricule_kind="NIA",
        via_insi=True,
    )
    world.patient_a.refresh_from_db()
    assert world.patient_a.matricule_kind == "NIA"
    assert world.patient_a.matricule_oid == "urn:oid:1.2.250.1.213.1.4.9"


# Consent.


def test_consent_after_information_is_recorded_with_structure_and_audited(world, rf_request):
    consent = services.record_consent(
        rf_request,
        world.nurse_a,
        Consent(
            patient=world.patient_a,
            act_kind=ActKind.TELEEXPERTISE,
            information_given=True,
            decision=ConsentDecision.CONSENT,
        ),
    )
    consent.refresh_from_db()
    assert consent.collected_by == world.nurse_a
    assert consent.structure == world.ehpad_a
    entry = AuditEntry.objects.get(action=AuditAction.CONSENT)
    assert entry.patient_id == world.patient_a.pk
    assert entry.object_type == "consent"
    assert entry.object_id == str(consent.pk)
    assert entry.detail == "teleexpertise: consent"


def test_refusal_is_recorded_too(world):
    services.record_consent(
        None,
        world.nurse_a,
        Consent(
            patient=world.patient_a,
            act_kind=ActKind.TELECONSULTATION,
            information_given=True,
            decision=ConsentDecision.REFUSAL,
        ),
    )
    consent = Consent.objects.get(patient=world.patient_a)
    assert consent.decision == ConsentDecision.REFUSAL
    assert str(consent) == "teleconsultation: refusal"
    assert AuditEntry.objects.get(action=AuditAction.CONSENT).detail == "teleconsultation: refusal"


@pytest.mark.parametrize("decision", [ConsentDecision.CONSENT, ConsentDecision.REFUSAL])
def test_consent_or_refusal_without_information_is_refused(world, decision):
    with pytest.raises(ValidationError) as exc:
        services.record_consent(
            None,
            world.nurse_a,
            Consent(
                patient=world.patient_a,
                act_kind=ActKind.TELEEXPERTISE,
                information_given=False,
                decision=decision,
            ),
        )
    assert "informé" in exc.value.message_dict["information_given"][0]
    assert not Consent.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CONSENT).exists()


# RNIV: QUAL only through INSi; substitutes for minors and EHPAD residents only.


@pytest.mark.parametrize("status", [IdentityStatus.QUALIFIED, IdentityStatus.RETRIEVED])
def test_qualified_or_retrieved_by_hand_is_refused_even_with_a_matricule(world, status):
    with pytest.raises(ValidationError) as exc:
        services.change_status(
            None, world.nurse_a, world.patient_a, status, EvidenceKind.PASSPORT, NIR_WOMAN
        )
    assert exc.value.message_dict["new_status"] == [
        "Les statuts « récupérée » et « qualifiée » s'obtiennent par le téléservice INSi, pas à "
        "la main : validez l'identité (VALI) sur une pièce d'identité."
    ]
    world.patient_a.refresh_from_db()
    assert (world.patient_a.identity_status, world.patient_a.matricule) == ("PROV", "")
    assert not IdentityStatusChange.objects.exists()


@pytest.mark.parametrize("evidence", [EvidenceKind.FAMILY_BOOK, EvidenceKind.BIRTH_CERTIFICATE])
def test_minor_documents_are_refused_for_an_ordinary_adult(world, evidence):
    world.patient_a.refresh_from_db()  # born in 1940
    with pytest.raises(ValidationError) as exc:
        services.change_status(None, world.nurse_a, world.patient_a, "VALI", evidence)
    assert exc.value.message_dict["evidence"] == [
        "Le livret de famille ou l'extrait d'acte de naissance ne valent que pour un mineur : "
        "pour un adulte, vérifiez un passeport, une carte d'identité ou un titre de séjour."
    ]
    world.patient_a.refresh_from_db()
    assert world.patient_a.identity_status == IdentityStatus.PROVISIONAL


@pytest.mark.parametrize("evidence", [EvidenceKind.FAMILY_BOOK, EvidenceKind.BIRTH_CERTIFICATE])
def test_minor_documents_validate_a_minor(world, evidence):
    child = make_patient(
        world.ehpad_a,
        birth_name="MOREVAL",
        first_names="Lino",
        birth_date=timezone.localdate() - datetime.timedelta(days=365 * 10),
    )
    services.change_status(None, world.nurse_a, child, "VALI", evidence)
    child.refresh_from_db()
    assert child.identity_status == IdentityStatus.VALIDATED


def test_ehpad_attestation_only_for_a_resident_of_an_ehpad(world):
    patient = world.patient_a  # followed by the EHPAD, not living there
    with pytest.raises(ValidationError) as exc:
        services.change_status(None, world.nurse_a, patient, "VALI", EvidenceKind.EHPAD_ATTESTATION)
    assert "ne vaut que pour un résident" in exc.value.message_dict["evidence"][0]
    PatientAttachment.objects.filter(patient=patient).update(kind=AttachmentKind.RESIDENT)
    services.change_status(None, world.nurse_a, patient, "VALI", EvidenceKind.EHPAD_ATTESTATION)
    patient.refresh_from_db()
    assert patient.identity_status == IdentityStatus.VALIDATED


def test_age_turns_on_the_birthday():
    born = datetime.date(2008, 6, 15)
    assert services.age(born, on=datetime.date(2026, 6, 14)) == 17
    assert services.age(born, on=datetime.date(2026, 6, 15)) == 18
    assert services.age(born, on=datetime.date(2026, 12, 31)) == 18
