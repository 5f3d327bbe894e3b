"""Every report the platform sends (télé-expertise, téléconsultation, télésoin, télésurveillance
monthly and end-of-monitoring) is a CDA R2 document the CDA schema accepts (the ANS's
CDA_extended.xsd, vendored in outbox/schemas/cda/), and the French header's values are checked
element by element (the schema checks structure and datatypes, not values)."""

import base64
import datetime

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from telesante.accounts.models import Profession
from telesante.outbox import cda, dmp, services, xdm
from telesante.patients.models import IdentityStatus
from telesante.teleconsultation import services as consultations
from telesante.teleconsultation.models import ActivityDeclaration
from tests.conftest import make_user
from tests.rooms.conftest import TC, booking, in_call, tc_world  # noqa: F401
from tests.teleexpertise.conftest import TE, answered, immediate_tasks, te_world  # noqa: F401
from tests.telesurveillance.conftest import TSV, tsv  # noqa: F401

pytestmark = pytest.mark.django_db
H = {"h": "urn:hl7-org:v3"}
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
    assert cda.errors(cda.build(act, PDF, now=act.done_at)) == []
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
    assert cda.errors(cda.build(act, PDF)) == []


def test_an_author_without_rpps_keeps_a_local_id(act):
    author = cda.author_of(act)
    type(author).objects.filter(pk=author.pk).update(rpps=None)
    node = etree.fromstring(cda.build(act, PDF)).find("h:author/h:assignedAuthor/h:id", H)
    assert (node.get("root"), node.get("extension")) == ("1.2.250.1.999.1.3", str(author.pk))
    assert cda.errors(cda.build(act, PDF)) == []


def test_telesurveillance_reports_are_telemedicine_reports(act):
    act.kind = "telesurveillance"
    root = doc(act)
    # LOINC 85208-7 is on JDV_J07_XdsTypeCode_CISIS, the CI-SIS list the DMP files by.
    code = root.find("h:code", H)
    assert (code.get("code"), code.get("displayName")) == ("85208-7", "CR de télémédecine")
    assert root.find("h:title", H).text == "Compte rendu de télésurveillance"


def test_a_structure_without_finess_goes_by_its_name(act):
    # The CI-SIS admits only the IDNST as an organisation's id in the header.
    structure = act.performing_structure
    with_finess = xdm.entry(act, cda.build(act, PDF)).author_institution
    assert with_finess == f"{structure.name}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1530000021"
    type(structure).objects.filter(pk=structure.pk).update(finess=None)
    act.performing_structure.refresh_from_db()
    document = cda.build(act, PDF)
    root = etree.fromstring(document)
    author_org = root.find("h:author/h:assignedAuthor/h:representedOrganization", H)
    assert author_org.find("h:id", H) is None
    assert author_org.find("h:name", H).text == structure.name
    (custodian_id,) = root.findall(".//h:representedCustodianOrganization/h:id", H)
    assert dict(custodian_id.attrib) == {"nullFlavor": "UNK"}
    assert cda.errors(document) == []
    # The XDS metadata and the DMP's DocumentReference name it the same way: no empty IDNST.
    entry = xdm.entry(act, document)
    assert entry.author_institution == structure.name
    reference = dmp.bundle(services.Package(act, PDF, document, entry))["entry"][1]["resource"]
    assert reference["custodian"] == {"display": structure.name}


def report_document(act) -> bytes:
    """The CDA the outbox builds for the act's report, its real PDF inside."""
    act.report.open("rb")
    try:
        pdf = act.report.read()
    finally:
        act.report.close()
    return cda.build(act, pdf, now=act.done_at)


def valid(document: bytes) -> None:
    """The schema accepts it, and it uses none of the extensions the French schema allows
    (SDTC, IHE, pharmacy, DICOM): every element is HL7 v3's, so plain CDA R2 reads it too."""
    assert cda.errors(document) == []
    namespaces = {etree.QName(node).namespace for node in etree.fromstring(document).iter()}
    assert namespaces == {cda.NS}


def qualify(patient) -> None:
    patient.identity_status = IdentityStatus.QUALIFIED
    patient.matricule, patient.matricule_kind = "240035313000123", "NIR"
    patient.save()


def test_a_tele_expertise_report_is_a_valid_cda(te_world: TE):  # noqa: F811
    act = answered(te_world).act
    assert act.kind == "teleexpertise"
    valid(report_document(act))


def test_a_teleconsultation_report_is_a_valid_cda(tc_world: TC):  # noqa: F811
    tc = tc_world.consultation
    in_call(tc, tc_world.cardiologist)
    done = consultations.save_report(
        None, tc_world.cardiologist, tc, "Souffle systolique, échographie à prévoir.", finish=True
    )
    assert done.act.kind == "teleconsultation"
    valid(report_document(done.act))


def test_a_telesoin_report_is_a_valid_cda(tc_world: TC):  # noqa: F811
    w = tc_world.w
    nurse = make_user("ide@example.test", structure=w.ehpad_b, profession=Profession.NURSE)
    ActivityDeclaration.objects.create(
        professional=nurse, year=datetime.date.today().year, total_acts=40
    )
    new = booking(w, nurse, kind="telesoin", assistance="", video_suitable=True)
    tc = consultations.create(None, w.nurse_a, new)
    in_call(tc, nurse)
    done = consultations.save_report(None, nurse, tc, "Séance réalisée en vidéo.", finish=True)
    assert done.act.kind == "telesoin"
    valid(report_document(done.act))


def test_monthly_and_end_of_monitoring_reports_are_valid_cda(tsv: TSV):  # noqa: F811
    from telesante.telesurveillance import enrolment as enrolments
    from telesante.telesurveillance import forfaits
    from telesante.telesurveillance.models import Enrolment, EnrolmentState

    qualify(tsv.w.patient_a)  # the INS travels in the header too
    enrolment = Enrolment.objects.get(pk=tsv.enrolment.pk)
    (forfait,) = forfaits.bill(enrolment.starts_on + datetime.timedelta(days=40))[:1]
    enrolments.end(None, tsv.operator, enrolment, EnrolmentState.ENDED)
    enrolment.act.refresh_from_db()
    for act in (forfait.act, enrolment.act):
        document = report_document(act)
        assert b"1.2.250.1.213.1.4.8" in document
        valid(document)


def _without(tag: str):
    def breaks(root) -> None:
        root.remove(root.find(f"h:{tag}", H))

    return breaks


def _title_last(root) -> None:
    root.find("h:effectiveTime", H).addnext(root.find("h:title", H))


def _attribute(path: str, name: str, value: str):
    def breaks(root) -> None:
        root.find(path, H).set(name, value)

    return breaks


def _stranger(root) -> None:
    etree.SubElement(root.find("h:recordTarget/h:patientRole", H), f"{{{cda.NS}}}pseudonyme")


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        (_without("typeId"), "typeId"),
        (_without("author"), "author"),
        (_title_last, "title"),
        (_attribute("h:effectiveTime", "value", "2026-12-06"), "value"),
        (_attribute("h:component/h:nonXMLBody/h:text", "representation", "BASE64"), "BASE64"),
        (_attribute("h:typeId", "root", "2.16.840.1.113883.1.4"), "typeId"),
        (_stranger, "pseudonyme"),
    ],
    ids=["sans-typeId", "sans-auteur", "ordre", "date", "encodage", "typeId-fixe", "inconnu"],
)
def test_the_schema_refuses_a_broken_document(act, breakage, named):
    root = etree.fromstring(report_document(act))
    breakage(root)
    problems = cda.errors(etree.tostring(root))
    assert problems
    assert any(named in problem for problem in problems), problems
    assert all(problem.startswith("/ClinicalDocument") for problem in problems), problems


def test_what_is_not_xml_is_refused_in_french():
    (problem,) = cda.errors(b"%PDF-1.4 pas du XML")
    assert problem.startswith("XML illisible : ")


def test_a_document_the_schema_refuses_is_not_sent(act, settings):
    # A platform OID with a leading zero is no OID: every id root of the document is refused.
    settings.TELESANTE_OID = "1.2.250.01.999"
    with pytest.raises(services.DeliveryError) as exc:
        services.package(act)
    assert str(exc.value).startswith(
        "Le document CDA ne respecte pas le schéma CDA R2 : /ClinicalDocument/"
    )


def test_check_cda_command_says_which_documents_the_schema_refuses(act, tmp_path, capsys):
    good, bad = tmp_path / "bon.xml", tmp_path / "abime.xml"
    good.write_bytes(report_document(act))
    root = etree.fromstring(good.read_bytes())
    _without("typeId")(root)
    bad.write_bytes(etree.tostring(root))
    call_command("check_cda", str(good))
    assert capsys.readouterr().out == f"{good} : conforme au schéma CDA\n"
    with pytest.raises(CommandError, match=r"1 document\(s\) sur 2 refusé\(s\)\."):
        call_command("check_cda", str(good), str(bad))
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"{good} : conforme au schéma CDA", f"{bad} : refusé par le schéma CDA"]
    assert "typeId" in out[2]
    with pytest.raises(CommandError, match="lecture impossible"):
        call_command("check_cda", str(tmp_path / "absent.xml"))
