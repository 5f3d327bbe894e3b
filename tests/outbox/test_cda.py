"""The CDA R2 header rules (CI-SIS, INTEROP.md), checked element by element.

The CDA R2 XSD (POCD_MT000040.xsd) ships in no PyPI or npm package found here, so it is not
run: these tests encode the header's rules and the schema's order of the ClinicalDocument's
children instead."""

import base64

import pytest
from lxml import etree

from telesante.outbox import cda
from telesante.patients.models import IdentityStatus
from tests.teleexpertise.conftest import TE, answered, immediate_tasks, te_world  # noqa: F401

pytestmark = pytest.mark.django_db
H = {"h": "urn:hl7-org:v3"}
# POCD_MT000040.ClinicalDocument's sequence (CDA R2 schema).
SEQUENCE = [
    "realmCode",
    "typeId",
    "templateId",
    "id",
    "code",
    "title",
    "effectiveTime",
    "confidentialityCode",
    "languageCode",
    "setId",
    "versionNumber",
    "copyTime",
    "recordTarget",
    "author",
    "dataEnterer",
    "informant",
    "custodian",
    "informationRecipient",
    "legalAuthenticator",
    "authenticator",
    "participant",
    "inFulfillmentOf",
    "documentationOf",
    "relatedDocument",
    "authorization",
    "componentOf",
    "component",
]
PDF = b"%PDF-1.4 compte rendu"


@pytest.fixture
def act(te_world: TE):  # noqa: F811
    te_world.wound_expert.rpps = "10001234567"
    te_world.wound_expert.save()
    return answered(te_world).act


def doc(act) -> etree._Element:
    return etree.fromstring(cda.build(act, PDF, now=act.done_at))


def test_header_of_a_qualified_identity(act):
    patient = act.patient
    patient.identity_status, patient.matricule, patient.matricule_kind = (
        IdentityStatus.QUALIFIED,
        "240035313000123",
        "NIR",
    )
    root = doc(act)
    names = [etree.QName(child).localname for child in root]
    assert names == sorted(names, key=SEQUENCE.index)  # the schema's order
    assert root.find("h:realmCode", H).get("code") == "FR"
    type_id = root.find("h:typeId", H)
    assert (type_id.get("root"), type_id.get("extension")) == (
        "2.16.840.1.113883.1.3",
        "POCD_HD000040",
    )
    assert [t.get("root") for t in root.findall("h:templateId", H)] == [
        "2.16.840.1.113883.2.8.2.1",
        "1.2.250.1.213.1.1.1.1",
        "1.3.6.1.4.1.19376.1.2.20",
    ]
    assert root.find("h:id", H).get("root") == f"1.2.250.1.999.1.1.{act.pk}"
    code = root.find("h:code", H)
    assert (code.get("code"), code.get("codeSystem")) == ("11488-4", "2.16.840.1.113883.6.1")
    assert root.find("h:title", H).text == "Compte rendu de télé-expertise"
    assert root.find("h:confidentialityCode", H).get("code") == "N"
    assert root.find("h:languageCode", H).get("code") == "fr-FR"
    assert root.find("h:setId", H).get("root") == root.find("h:id", H).get("root")
    assert root.find("h:versionNumber", H).get("value") == "1"
    ids = root.findall("h:recordTarget/h:patientRole/h:id", H)
    assert [(i.get("root"), i.get("extension")) for i in ids] == [
        ("1.2.250.1.213.1.4.8", "240035313000123"),
        ("1.2.250.1.999.1.2", str(patient.pk)),
    ]
    person = root.find("h:recordTarget/h:patientRole/h:patient", H)
    assert person.find("h:name/h:family[@qualifier='BR']", H).text == "DORVANE"
    assert person.find("h:name/h:given[@qualifier='BR']", H).text == "Alix"
    assert person.find("h:administrativeGenderCode", H).get("code") == "F"
    assert person.find("h:birthTime", H).get("value") == "19400302"
    assert person.find("h:birthplace/h:place/h:addr/h:county", H).text == "53130"
    author = root.find("h:author/h:assignedAuthor", H)
    assert (author.find("h:id", H).get("root"), author.find("h:id", H).get("extension")) == (
        "1.2.250.1.71.4.2.1",
        "810001234567",
    )
    org = author.find("h:representedOrganization/h:id", H)
    assert (org.get("root"), org.get("extension")) == ("1.2.250.1.71.4.2.2", "1530000021")
    custodian = root.find(".//h:representedCustodianOrganization/h:id", H)
    assert custodian.get("extension") == "1530000021"
    assert root.find("h:legalAuthenticator/h:assignedEntity/h:id", H).get("extension") == (
        "810001234567"
    )
    assert root.find("h:documentationOf/h:serviceEvent/h:effectiveTime/h:low", H) is not None
    assert root.find("h:componentOf/h:encompassingEncounter/h:effectiveTime/h:high", H) is not None
    text = root.find("h:component/h:nonXMLBody/h:text", H)
    assert (text.get("mediaType"), text.get("representation")) == ("application/pdf", "B64")
    assert base64.b64decode(text.text) == PDF


def test_no_ins_for_an_identity_not_qualified(act):
    act.patient.matricule, act.patient.matricule_kind = "240035313000123", "NIR"
    act.patient.identity_status = IdentityStatus.VALIDATED
    ids = doc(act).findall("h:recordTarget/h:patientRole/h:id", H)
    assert [i.get("root") for i in ids] == ["1.2.250.1.999.1.2"]
    assert b"240035313000123" not in cda.build(act, PDF)


def test_an_author_without_rpps_keeps_a_local_id(act):
    author = cda.author_of(act)
    type(author).objects.filter(pk=author.pk).update(rpps=None)
    node = etree.fromstring(cda.build(act, PDF)).find("h:author/h:assignedAuthor/h:id", H)
    assert (node.get("root"), node.get("extension")) == ("1.2.250.1.999.1.3", str(author.pk))


def test_telesurveillance_reports_are_telehealth_summaries(act):
    act.kind = "telesurveillance"
    root = doc(act)
    assert root.find("h:code", H).get("code") == "75498-6"
    assert root.find("h:title", H).text == "Compte rendu de télésurveillance"
