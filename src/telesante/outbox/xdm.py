"""The XDS metadata of a report and the IHE XDM archive (IHE_XDM.ZIP) that MSSanté carries.

One document entry and its submission set, in ebRIM 3.0 (IHE ITI TF-3 § 4.2): the archive holds
`INDEX.HTM`, `README.TXT` and `IHE_XDM/SUBSET01/` with `METADATA.XML` and the CDA document. The
MHD Bundle (dmp.py) carries the same codes.
"""

import hashlib
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from lxml import etree

from telesante.acts.models import Act
from telesante.outbox import cda

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
DOCUMENT_NAME = "DOC0001.XML"
# XDS classification schemes and external identifiers (IHE ITI TF-3 Table 4.2.5-1).
ENTRY_OBJECT = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
ENTRY_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
ENTRY_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
ENTRY_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
ENTRY_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
ENTRY_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a8d2f"
ENTRY_PATIENT = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
ENTRY_UNIQUE = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SET_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SET_UNIQUE = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SET_SOURCE = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SET_PATIENT = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
# French class code of a report (CI-SIS JDV_J06-XdsClassCode-CISIS: « Compte rendu »).
CLASS_CODE = ("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
CONFIDENTIALITY = ("N", "2.16.840.1.113883.5.25", "Normal")


@dataclass(frozen=True)
class Entry:
    """What the XDS registry needs to know of one report."""

    unique_id: str
    set_unique_id: str
    patient_id: str  # CX: id^^^&OID&ISO
    title: str
    type_code: cda.DocType
    created: str
    hash: str
    size: int
    author_person: str
    author_institution: str


def patient_cx(patient) -> str:
    """The INS for a qualified identity, else the platform's local id (never shared as INS)."""
    if patient.is_qualified:
        oid = patient.matricule_oid.removeprefix("urn:oid:")
        return f"{patient.shareable_matricule}^^^&{oid}&ISO"
    return f"{patient.pk}^^^&{cda.local_patient_root()}&ISO"


def _institution(structure) -> str:
    """XON: the structure by its IDNST, or by its name alone without FINESS (as in the CDA)."""
    if not structure.idnst:
        return structure.name
    return f"{structure.name}^^^^^&{cda.IDNST_ROOT}&ISO^IDNST^^^{structure.idnst}"


def entry(act: Act, document: bytes) -> Entry:
    author = cda.author_of(act)
    structure = act.performing_structure or act.requesting_structure
    person = (
        f"{author.idnps}^{author.last_name.upper()}^{author.first_name}^^^^^^&{cda.IDNPS_ROOT}&ISO"
    )
    return Entry(
        unique_id=cda.document_oid(act),
        set_unique_id=f"{settings.TELESANTE_OID}.6.{act.pk}.{int(timezone.now().timestamp())}",
        patient_id=patient_cx(act.patient),
        title=cda.title(act),
        type_code=cda.doc_type(act),
        created=timezone.now().strftime("%Y%m%d%H%M%S"),
        hash=hashlib.sha1(document).hexdigest(),  # noqa: S324 - XDS defines the hash as SHA-1
        size=len(document),
        author_person=person,
        author_institution=_institution(structure),
    )


def _rim(parent, tag: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, f"{{{RIM}}}{tag}", attrs)


def _slot(parent, name: str, *values: str) -> None:
    listing = _rim(_rim(parent, "Slot", name=name), "ValueList")
    for value in values:
        _rim(listing, "Value").text = value


def _name(parent, text: str) -> None:
    _rim(_rim(parent, "Name"), "LocalizedString", value=text)


def _classification(parent, scheme: str, owner: str, representation: str, n: int):
    return _rim(
        parent,
        "Classification",
        id=f"cl{n:02d}",
        classificationScheme=scheme,
        classifiedObject=owner,
        nodeRepresentation=representation,
    )


def _code(parent, scheme: str, owner: str, code: str, system: str, label: str, n: int) -> None:
    node = _classification(parent, scheme, owner, code, n)
    _slot(node, "codingScheme", system)
    _name(node, label)


def _identifier(parent, scheme: str, owner: str, value: str, label: str, n: int) -> None:
    node = _rim(
        parent,
        "ExternalIdentifier",
        id=f"ei{n:02d}",
        identificationScheme=scheme,
        registryObject=owner,
        value=value,
    )
    _name(node, label)


def _author(parent, scheme: str, owner: str, e: Entry, n: int) -> None:
    node = _classification(parent, scheme, owner, "", n)
    _slot(node, "authorPerson", e.author_person)
    _slot(node, "authorInstitution", e.author_institution)


def metadata(e: Entry) -> bytes:
    """METADATA.XML: the submission set, its document entry, and their association."""
    request = etree.Element(f"{{{LCM}}}SubmitObjectsRequest", nsmap={"lcm": LCM, "rim": RIM})
    objects = _rim(request, "RegistryObjectList")
    doc = _rim(
        objects, "ExtrinsicObject", id="Document01", mimeType="text/xml", objectType=ENTRY_OBJECT
    )
    _slot(doc, "creationTime", e.created)
    _slot(doc, "hash", e.hash)
    _slot(doc, "size", str(e.size))
    _slot(doc, "languageCode", "fr-FR")
    _slot(doc, "sourcePatientId", e.patient_id)
    _slot(doc, "URI", DOCUMENT_NAME)
    _name(doc, e.title)
    _author(doc, ENTRY_AUTHOR, "Document01", e, 1)
    _code(doc, ENTRY_CLASS, "Document01", *CLASS_CODE, 2)
    _code(doc, ENTRY_CONFIDENTIALITY, "Document01", *CONFIDENTIALITY, 3)
    _code(doc, ENTRY_FORMAT, "Document01", cda.FORMAT_CODE, "1.3.6.1.4.1.19376.1.2.3", "PDF", 4)
    _code(doc, ENTRY_TYPE, "Document01", e.type_code.code, cda.LOINC, e.type_code.label, 5)
    _identifier(doc, ENTRY_PATIENT, "Document01", e.patient_id, "XDSDocumentEntry.patientId", 1)
    _identifier(doc, ENTRY_UNIQUE, "Document01", e.unique_id, "XDSDocumentEntry.uniqueId", 2)
    package = _rim(objects, "RegistryPackage", id="SubmissionSet01")
    _slot(package, "submissionTime", e.created)
    _name(package, e.title)
    _author(package, "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d", "SubmissionSet01", e, 6)
    _code(package, SET_CONTENT_TYPE, "SubmissionSet01", *CLASS_CODE, 7)
    _identifier(
        package, SET_UNIQUE, "SubmissionSet01", e.set_unique_id, "XDSSubmissionSet.uniqueId", 3
    )
    _identifier(
        package,
        SET_SOURCE,
        "SubmissionSet01",
        settings.TELESANTE_OID,
        "XDSSubmissionSet.sourceId",
        4,
    )
    _identifier(
        package, SET_PATIENT, "SubmissionSet01", e.patient_id, "XDSSubmissionSet.patientId", 5
    )
    _rim(
        objects,
        "Classification",
        id="cl08",
        classifiedObject="SubmissionSet01",
        classificationNode=SET_NODE,
    )
    link = _rim(
        objects,
        "Association",
        id="as01",
        associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
        sourceObject="SubmissionSet01",
        targetObject="Document01",
    )
    _slot(link, "SubmissionSetStatus", "Original")
    return etree.tostring(request, xml_declaration=True, encoding="UTF-8")


INDEX = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p>Contenu : <a href="IHE_XDM/SUBSET01/{doc}">{doc}</a> (document CDA R2 contenant le compte
rendu en PDF) et ses métadonnées <a href="IHE_XDM/SUBSET01/METADATA.XML">METADATA.XML</a>.</p>
</body></html>
"""
README = """Télésanté — archive IHE XDM
Émetteur : plateforme régionale de télésanté ({sender})
Contenu : IHE_XDM/SUBSET01/{doc} (CDA R2 niveau 1, compte rendu PDF) et METADATA.XML.
Lisible par tout logiciel conforme IHE XDM ; INDEX.HTM l'ouvre dans un navigateur.
"""


def archive(e: Entry, document: bytes) -> bytes:
    """IHE_XDM.ZIP for one document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("INDEX.HTM", INDEX.format(title=e.title, doc=DOCUMENT_NAME))
        z.writestr(
            "README.TXT", README.format(sender=settings.TELESANTE_MSSANTE_FROM, doc=DOCUMENT_NAME)
        )
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata(e))
        z.writestr(f"IHE_XDM/SUBSET01/{DOCUMENT_NAME}", document)
    return buffer.getvalue()
