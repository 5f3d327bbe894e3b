"""Level-1 CDA R2 document carrying a report's PDF, with the French header (CI-SIS volet
structuration minimale; INTEROP.md § Documents).

The PDF goes base64 in `nonXMLBody`; the header says who the patient is (the INS only for a
qualified identity, as the RNIV says; otherwise only the platform's local id), who wrote the
report (IDNPS, the structure's FINESS), who keeps it, and when the act happened.

`errors()` checks a document against the CDA R2 schema as the ANS publishes it for the CI-SIS
(CDA_extended.xsd: POCD_MT000040 with the SDTC, IHE LAB, pharmacy and DICOM extensions French
documents may carry), vendored under `schemas/cda/` (README there: origin and refresh).
"""

import base64
import datetime
import functools
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from lxml import etree

from telesante.acts.models import Act
from telesante.patients.models import ActKind

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LOINC = "2.16.840.1.113883.6.1"
IDNPS_ROOT = "1.2.250.1.71.4.2.1"
IDNST_ROOT = "1.2.250.1.71.4.2.2"
TEMPLATES = (
    "2.16.840.1.113883.2.8.2.1",  # HL7 France
    "1.2.250.1.213.1.1.1.1",  # CI-SIS, structuration minimale
    "1.3.6.1.4.1.19376.1.2.20",  # IHE XDS-SD (scanned document: a PDF in nonXMLBody)
)
FORMAT_CODE = "urn:ihe:iti:xds-sd:pdf:2008"
SCHEMA = Path(__file__).parent / "schemas" / "cda" / "CDA_extended.xsd"


@dataclass(frozen=True)
class DocType:
    code: str
    label: str


# LOINC of each kind's report, from the CI-SIS list of document types the DMP files
# (JDV_J07_XdsTypeCode_CISIS, the XDS typeCode): a consult note for the exchanges with a remote
# professional, the telemedicine report for the monitoring's reports (LOINC's telehealth summary,
# 75498-6, is not on the list: the DMP would refuse it).
CONSULT = DocType("11488-4", "Compte rendu de consultation")
TELEMEDICINE = DocType("85208-7", "CR de télémédecine")
DOC_TYPES = {ActKind.TELESURVEILLANCE: TELEMEDICINE}
TITLES = {
    ActKind.TELEEXPERTISE: "Compte rendu de télé-expertise",
    ActKind.TELECONSULTATION: "Compte rendu de téléconsultation",
    ActKind.TELESOIN: "Compte rendu de télésoin",
    ActKind.TELEASSISTANCE: "Compte rendu de téléassistance",
    ActKind.TELESURVEILLANCE: "Compte rendu de télésurveillance",
}


def doc_type(act: Act) -> DocType:
    return DOC_TYPES.get(act.kind, CONSULT)


def title(act: Act) -> str:
    return TITLES.get(act.kind, "Compte rendu")


def document_oid(act: Act) -> str:
    """The document's unique id (an OID: XDS uniqueId and CDA id): the platform's documents
    branch, then the act."""
    return f"{settings.TELESANTE_OID}.1.{act.pk}"


def local_patient_root() -> str:
    return f"{settings.TELESANTE_OID}.2"


def author_of(act: Act):
    """The professional who answers for the report: the first performer, else the requester."""
    return act.performers.order_by("pk").first() or act.requester


def ts(moment: datetime.datetime | datetime.date) -> str:
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(moment).strftime("%Y%m%d%H%M%S%z")
    return moment.strftime("%Y%m%d")


def _el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    node = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        node.text = text
    return node


def _person_id(parent, tag: str, user) -> None:
    if user.idnps:
        _el(parent, tag, root=IDNPS_ROOT, extension=user.idnps)
    else:  # no RPPS: the platform's own account id, never a made-up national one
        _el(parent, tag, root=f"{settings.TELESANTE_OID}.3", extension=str(user.pk))


def _person_name(parent, user) -> None:
    name = _el(_el(parent, "assignedPerson"), "name")
    _el(name, "given", user.first_name)
    _el(name, "family", user.last_name.upper())


def _organization(parent, tag: str, structure, id_required: bool = False) -> None:
    """The structure by its IDNST (`1`+FINESS). The CI-SIS admits no other identifier of an
    organisation in the header: one without FINESS goes by its name, with an unknown id where the
    CDA schema requires one (the custodian)."""
    org = _el(parent, tag)
    if structure.idnst:
        _el(org, "id", root=IDNST_ROOT, extension=structure.idnst)
    elif id_required:
        _el(org, "id", nullFlavor="UNK")
    _el(org, "name", structure.name)


def _record_target(root, patient) -> None:
    role = _el(_el(root, "recordTarget"), "patientRole")
    if patient.is_qualified:
        # The INS travels only for a qualified identity (RNIV); its OID says NIR, NIA or test.
        _el(
            role,
            "id",
            root=patient.matricule_oid.removeprefix("urn:oid:"),
            extension=patient.shareable_matricule,
        )
    _el(role, "id", root=local_patient_root(), extension=str(patient.pk))
    person = _el(role, "patient")
    name = _el(person, "name")
    for given in patient.first_names.split():
        _el(name, "given", given, qualifier="BR")
    _el(name, "family", patient.birth_name.upper(), qualifier="BR")
    if patient.used_name:
        _el(name, "family", patient.used_name.upper(), qualifier="SP")
    _el(person, "administrativeGenderCode", code=patient.sex, codeSystem="2.16.840.1.113883.5.1")
    _el(person, "birthTime", value=ts(patient.birth_date))
    if patient.birthplace_code:
        place = _el(_el(person, "birthplace"), "place")
        _el(_el(place, "addr"), "county", patient.birthplace_code)


def build(act: Act, pdf: bytes, now: datetime.datetime | None = None) -> bytes:
    """The CDA document of the act's report (`pdf`), as UTF-8 XML bytes."""
    now = now or timezone.now()
    author = author_of(act)
    structure = act.performing_structure or act.requesting_structure
    kind = doc_type(act)
    root = etree.Element(f"{{{NS}}}ClinicalDocument", nsmap={None: NS, "xsi": XSI})
    _el(root, "realmCode", code="FR")
    _el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for template in TEMPLATES:
        _el(root, "templateId", root=template)
    _el(root, "id", root=document_oid(act))
    _el(
        root,
        "code",
        code=kind.code,
        codeSystem=LOINC,
        codeSystemName="LOINC",
        displayName=kind.label,
    )
    _el(root, "title", title(act))
    _el(root, "effectiveTime", value=ts(now))
    _el(root, "confidentialityCode", code="N", codeSystem="2.16.840.1.113883.5.25")
    _el(root, "languageCode", code="fr-FR")
    _el(root, "setId", root=document_oid(act))
    _el(root, "versionNumber", value="1")
    _record_target(root, act.patient)
    author_node = _el(root, "author")
    _el(author_node, "time", value=ts(act.done_at or now))
    assigned = _el(author_node, "assignedAuthor")
    _person_id(assigned, "id", author)
    _person_name(assigned, author)
    _organization(assigned, "representedOrganization", structure)
    custodian = _el(_el(root, "custodian"), "assignedCustodian")
    _organization(custodian, "representedCustodianOrganization", structure, id_required=True)
    legal = _el(root, "legalAuthenticator")
    _el(legal, "time", value=ts(act.done_at or now))
    _el(legal, "signatureCode", code="S")
    entity = _el(legal, "assignedEntity")
    _person_id(entity, "id", author)
    _person_name(entity, author)
    start, end = act.requested_at or act.created_at, act.done_at or now
    event = _el(_el(root, "documentationOf"), "serviceEvent")
    period = _el(event, "effectiveTime")
    _el(period, "low", value=ts(start))
    _el(period, "high", value=ts(end))
    encounter = _el(_el(root, "componentOf"), "encompassingEncounter")
    _el(encounter, "id", root=f"{settings.TELESANTE_OID}.5", extension=str(act.pk))
    period = _el(encounter, "effectiveTime")
    _el(period, "low", value=ts(start))
    _el(period, "high", value=ts(end))
    body = _el(_el(root, "component"), "nonXMLBody")
    _el(
        body,
        "text",
        base64.b64encode(pdf).decode(),
        mediaType="application/pdf",
        representation="B64",
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@functools.cache
def schema() -> etree.XMLSchema:
    """The CDA schema, compiled once per process (it is some 400 kB of XSD)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def errors(document: bytes) -> list[str]:
    """What the CDA schema refuses in `document` (none when it is valid), one line per fault
    with the path of the element at fault; a document that is not even XML gets the parser's
    message."""
    try:
        root = etree.fromstring(document)
    except etree.XMLSyntaxError as exc:
        return [f"XML illisible : {exc}"]
    checker = schema()
    if checker.validate(root):
        return []
    return [f"{_where(root, e.path)} : {e.message}" for e in checker.error_log]


def _where(root: etree._Element, path: str | None) -> str:
    """The faulty element as a reader names it (/ClinicalDocument/recordTarget/…): libxml2 gives
    positional wildcards (/*/*[14]) in a document with a default namespace."""
    found = root.xpath(path) if path else []
    if not found or not isinstance(found[0], etree._Element):
        return path or "/"
    names = [etree.QName(node).localname for node in (found[0], *found[0].iterancestors())]
    return "/" + "/".join(reversed(names))
