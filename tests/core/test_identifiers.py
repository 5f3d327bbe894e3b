"""National identifiers checked where they enter: RPPS, FINESS, INS matricule, IDNPS, IDNST."""

import pytest
from django.core.exceptions import ValidationError

from telesante.accounts.models import User
from telesante.core.identifiers import (
    IDNPS_OID,
    IDNST_OID,
    luhn_complete,
    luhn_ok,
    nir_key,
    validate_finess,
    validate_matricule,
    validate_rpps,
)
from telesante.structures.models import Structure

# Keys computed by hand (independently of the code under test):
# Luhn: 1000000000 → 9; 1234567890 → 3.
# NIR key = 97 − (number mod 97), Corsica 2A → 19, 2B → 18:
#   2 40 03 53 130 001 → 28 ; 1 85 02 2A 056 012 → 14 ; 2 85 02 2B 123 456 → 59.
VALID_RPPS = "10000000009"
OTHER_VALID_RPPS = "12345678903"
NIR_WOMAN = "240035313000128"
NIR_CORSICA_2A = "185022A05601214"
NIR_CORSICA_2B = "285022B12345659"


def code_of(exc_info) -> str:
    return exc_info.value.error_list[0].code


# RPPS: 11 digits, Luhn key.


@pytest.mark.parametrize("rpps", [VALID_RPPS, OTHER_VALID_RPPS])
def test_rpps_with_a_correct_luhn_key_is_accepted(rpps):
    validate_rpps(rpps)  # no exception
    assert luhn_ok(rpps)


@pytest.mark.parametrize("rpps", ["10000000008", "12345678901", "12345678930"])
def test_rpps_with_a_wrong_luhn_key_is_refused_in_french(rpps):
    with pytest.raises(ValidationError) as exc:
        validate_rpps(rpps)
    assert code_of(exc) == "rpps_key"
    assert exc.value.messages == [f"Le numéro RPPS {rpps} est invalide (clé de Luhn incorrecte)."]


@pytest.mark.parametrize("rpps", ["", "1000000009", "100000000090", "1000000000A", "1000 000009"])
def test_rpps_of_wrong_length_or_with_letters_is_refused(rpps):
    with pytest.raises(ValidationError) as exc:
        validate_rpps(rpps)
    assert code_of(exc) == "rpps_format"
    assert exc.value.messages == ["Le numéro RPPS compte 11 chiffres."]


# Reference numbers, not built with luhn_complete: the textbook example of the Luhn algorithm
# (ISO/IEC 7812) and one with a doubled 5 (10 → 1), computed by hand: from the right,
# 8 0 0 0 0 0 5 0 0 0 1 → kept 8+0+0+0+0+1 = 9, doubled 0+0+1+0+0 = 1, total 10.
@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("79927398713", True),
        ("79927398710", False),
        ("79927398731", False),  # the last two digits swapped
        ("10000500008", True),
        ("10000500007", False),
        ("10005000008", False),  # the 5 not doubled
        ("18", True),  # a doubled 1 (2) and an 8
        ("81", False),
    ],
)
def test_luhn_ok_against_reference_numbers(number, valid):
    assert luhn_ok(number) is valid


def test_every_doubled_digit_of_an_rpps_is_reduced_the_luhn_way():
    # 1000000000 then one digit d doubled (position 2 from the right) and the key: the key
    # makes 1 + (2d, its digits added) + key a multiple of 10.
    for d, reduced in zip("0123456789", [0, 2, 4, 6, 8, 1, 3, 5, 7, 9], strict=True):
        key = (10 - (1 + reduced) % 10) % 10
        rpps = f"100000000{d}{key}"
        validate_rpps(rpps)
        assert not luhn_ok(f"100000000{d}{(key + 1) % 10}")


def test_luhn_complete_appends_the_only_digit_that_makes_the_number_valid():
    assert luhn_complete("1000000000") == VALID_RPPS
    assert luhn_complete("1234567890") == OTHER_VALID_RPPS
    assert [luhn_ok("1000000000" + d) for d in "0123456789"].count(True) == 1


def test_user_model_validates_rpps_on_full_clean(db):
    user = User(email="a@example.test", rpps="10000000008")
    with pytest.raises(ValidationError) as exc:
        user.full_clean(exclude=["password"])
    assert "rpps" in exc.value.message_dict


# FINESS: 9 characters, département first (2A/2B in Corsica).


@pytest.mark.parametrize(
    "finess", ["530000011", "720000012", "2A0000018", "2B0000017", "970000015"]
)
def test_finess_of_nine_characters_with_a_departement_is_accepted(finess):
    validate_finess(finess)


@pytest.mark.parametrize(
    "finess",
    [
        "53000001",
        "5300000111",
        "2C0000018",
        "A20000018",
        "53000001X",
        "2a0000018",
        "",
        "53A000012",  # a letter after the département
        "5A0000018",
        "1A0000018",
        "2AA000018",
        "53 000001",
    ],
)
def test_malformed_finess_is_refused_in_french(finess):
    with pytest.raises(ValidationError) as exc:
        validate_finess(finess)
    assert code_of(exc) == "finess_format"
    assert exc.value.messages == [
        "Le numéro FINESS compte 9 caractères (département puis chiffres)."
    ]


# INS matricule (NIR or NIA): 13 characters and a 2-digit key.


def test_nir_key_matches_hand_computed_values():
    assert nir_key("2400353130001") == 28
    assert nir_key("1850222056012") != nir_key("185022A056012")


def test_corsica_2a_counts_as_19_and_2b_as_18_in_the_key():
    assert nir_key("185022A056012") == nir_key("1850219056012") == 14
    assert nir_key("285022B123456") == nir_key("2850218123456") == 59


@pytest.mark.parametrize(
    ("matricule", "sex"),
    [
        (NIR_WOMAN, "F"),
        ("2 40 03 53 130 001 28", "F"),  # spaces as printed on the card are tolerated
        (NIR_CORSICA_2A, "M"),
        (NIR_CORSICA_2B, "F"),
        (NIR_WOMAN, None),
    ],
)
def test_matricule_with_the_right_key_is_accepted(matricule, sex):
    validate_matricule(matricule, sex)


@pytest.mark.parametrize(
    "matricule", [NIR_WOMAN[:-2] + "29", NIR_CORSICA_2A[:-2] + "15", "185022A05601284"]
)
def test_matricule_with_a_wrong_key_is_refused(matricule):
    with pytest.raises(ValidationError) as exc:
        validate_matricule(matricule)
    assert code_of(exc) == "ins_key"
    assert exc.value.messages == ["La clé du matricule INS est incorrecte."]


@pytest.mark.parametrize(
    "matricule",
    [
        NIR_WOMAN[:-1],  # 14 characters
        NIR_WOMAN + "0",  # 16 characters
        "24003531300X128",  # a letter in the body
        "2400353130001AB",  # letters in the key
        "2C0035313000128",
        "",
        "24003A3130001 28",  # a letter at the département's first place, not Corsica
        "240035A130001 28",  # a letter at its second place
        "2400353A30001 28",  # a letter just after the département
        "A40035313000128",  # a letter at the sex
    ],
)
def test_malformed_matricule_is_refused_in_french(matricule):
    with pytest.raises(ValidationError) as exc:
        validate_matricule(matricule)
    assert code_of(exc) == "ins_format"
    assert exc.value.messages == [
        "Le matricule INS (NIR ou NIA) compte 15 caractères, clé comprise."
    ]


def test_2a_outside_the_departement_position_is_a_format_error():
    # "2A" in the year position: the key is computed as if it were 19 — still not a matricule.
    body = "12A0353130001"
    key = f"{nir_key(body):02d}"
    with pytest.raises(ValidationError) as exc:
        validate_matricule(body + key)
    assert code_of(exc) == "ins_format"


@pytest.mark.parametrize(("matricule", "sex"), [(NIR_WOMAN, "M"), (NIR_CORSICA_2A, "F")])
def test_first_digit_must_match_the_sex(matricule, sex):
    with pytest.raises(ValidationError) as exc:
        validate_matricule(matricule, sex)
    assert code_of(exc) == "ins_sex"
    assert exc.value.messages == ["Le premier chiffre du matricule ne correspond pas au sexe."]


def test_nia_starting_with_7_is_not_checked_against_the_sex():
    body = "7400353130001"
    validate_matricule(body + f"{nir_key(body):02d}", "M")


# National ids built from RPPS and FINESS.


def test_idnps_is_8_followed_by_the_rpps():
    user = User(email="doc@example.test", rpps=VALID_RPPS)
    assert user.idnps == "8" + VALID_RPPS
    assert user.idnps_system == IDNPS_OID == "urn:oid:1.2.250.1.71.4.2.1"


def test_idnps_is_empty_without_rpps():
    assert User(email="sec@example.test", rpps=None).idnps == ""


def test_structure_idnst_is_1_followed_by_the_finess(world):
    assert world.ehpad_a.idnst == "1530000011"
    assert world.ehpad_a.idnst_system == IDNST_OID == "urn:oid:1.2.250.1.71.4.2.2"


def test_structure_without_finess_has_no_idnst():
    assert Structure(name="Cabinet", finess=None).idnst == ""


def test_structure_model_validates_finess_on_full_clean(world):
    world.ehpad_a.finess = "5300"
    with pytest.raises(ValidationError) as exc:
        world.ehpad_a.full_clean()
    assert "finess" in exc.value.message_dict
