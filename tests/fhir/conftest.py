"""FHIR fixtures: a client speaking application/fhir+json with a personal token, and the check
every emitted resource passes: the R4B models of `fhir.resources`, then the FR Core rules as
FHIRPath (identifier systems, required extensions, invariants)."""

import json

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate

from telesante.accounts.models import ApiToken
from telesante.fhir import resources
from tests.rooms.conftest import tc_world  # noqa: F401  (fixtures shared with these tests)
from tests.teleexpertise.conftest import te_world  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401

FHIR_JSON = "application/fhir+json"
IDENTITY = resources.IDENTITY_RELIABILITY
# FR Core rules, each a FHIRPath expression that must be true of every resource of its type.
FR_CORE_RULES = {
    "Patient": [
        f"meta.profile.where($this.startsWith('{resources.FR_CORE}fr-core-patient')).exists()",
        # required: the identity-reliability extension with a code of the RNIV's four
        f"extension.where(url = '{IDENTITY}').extension.where(url = 'identityStatus')"
        ".valueCoding.code.single() in ('PROV' | 'RECUP' | 'VALI' | 'QUAL')",
        # the INS (NIR, NIA or test NIR) only for a qualified identity
        "identifier.where(system.startsWith('urn:oid:1.2.250.1.213.1.4.')).empty() or "
        f"extension.where(url = '{IDENTITY}').extension.valueCoding.code = 'QUAL'",
        "identifier.where(system.startsWith('urn:oid:1.2.250.1.213.1.4.')).all("
        "value.matches('^[0-9]{13}$') or value.matches('^[12][0-9]{4}2[AB][0-9]{6}$'))",
        # birthplace with its INSEE code (5 characters)
        f"extension.where(url = '{resources.BIRTH_PLACE}').valueAddress.extension"
        f".where(url = '{resources.INSEE_CODE}').valueCoding.code"
        ".matches('^[0-9][0-9AB][0-9]{3}$')",
        "name.where(use = 'official').family.exists() and "
        "name.where(use = 'official').given.count() = 1",
        f"name.where(use = 'official').extension.where(url = '{resources.BIRTH_LIST_GIVEN_NAME}')"
        ".valueString.exists()",
        "gender.exists() and birthDate.exists()",
    ],
    "Practitioner": [
        "identifier.where(system = 'urn:oid:1.2.250.1.71.4.2.1')"
        ".all(value.matches('^8[0-9]{11}$'))",
        "identifier.where(system = 'https://rpps.esante.gouv.fr').all(value.matches('^[0-9]{11}$'))",
        "identifier.where(type.coding.code = 'IDNPS').all(system = 'urn:oid:1.2.250.1.71.4.2.1')",
    ],
    "Organization": [
        "identifier.where(system = 'urn:oid:1.2.250.1.71.4.2.2')"
        ".all(value.matches('^1[0-9AB]{9}$'))",
        "identifier.where(system = 'https://finess.esante.gouv.fr').all("
        "value.matches('^[0-9][0-9AB][0-9]{7}$') and type.coding.code in ('FINEG' | 'FINEJ'))",
    ],
    "Appointment": [
        f"meta.profile = '{resources.FR_CORE}fr-core-appointment'",
    ],
    "Observation": [
        "valueQuantity.system = 'http://unitsofmeasure.org' and valueQuantity.code.exists()",
        "code.coding.where(system = 'http://loinc.org').exists() or "
        "code.coding.where(system = 'urn:telesante:mesure').exists()",
        "subject.reference.startsWith('Patient/')",
        # vital-signs profile: its category
        "meta.profile.empty() or category.coding.where(code = 'vital-signs').exists()",
        # an FR Core vital-sign profile: the LOINC code and the UCUM units HL7's profile fixes
        *(
            f"meta.profile.where($this = '{resources.FR_CORE}{profile}').empty() or ("
            f"code.coding.where(system = 'http://loinc.org' and code = '{loinc}').exists()"
            f" and valueQuantity.code in ({units}))"
            for profile, loinc, units in [
                ("fr-core-observation-body-weight", "29463-7", "'kg' | 'g' | '[lb_av]'"),
                ("fr-core-observation-heartrate", "8867-4", "'/min'"),
                ("fr-core-observation-body-temperature", "8310-5", "'Cel' | '[degF]'"),
                ("fr-core-observation-resp-rate", "9279-1", "'/min'"),
            ]
        ),
    ],
}


def check(resource: dict) -> dict:
    """Validate one resource (and each of a Bundle's): R4B model, then the FR Core rules."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for rule in FR_CORE_RULES.get(resource["resourceType"], []):
        assert evaluate(resource, rule) == [True], (rule, resource)
    for entry in resource.get("entry", []):
        if "resource" in entry:
            check(entry["resource"])
    return resource


def fhir_client(user=None, token: str = "") -> Client:
    if user is not None:
        _token, token = ApiToken.issue(user)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(headers=headers)


def get(client: Client, url: str, status: int = 200) -> dict:
    """GET a FHIR URL; the answer is FHIR JSON, valid, with the expected status."""
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(FHIR_JSON)
    return check(response.json())


def post(client: Client, url: str, resource: dict, status: int = 201) -> dict:
    response = client.post(url, json.dumps(resource), content_type=FHIR_JSON)
    assert response.status_code == status, response.content[:800]
    return check(response.json())


def french_outcome(body: dict, code: str) -> str:
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    return " ".join(i.get("diagnostics", "") for i in body["issue"])


@pytest.fixture
def fhir(world):
    """nurse_a's FHIR client."""
    return fhir_client(world.nurse_a)
