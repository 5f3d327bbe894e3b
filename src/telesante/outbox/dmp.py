"""The DMP (Mon espace santé) through the FHIR route: an IHE MHD ITI-65 « Provide Document
Bundle » (ANS PDSm) transaction Bundle: the SubmissionSet (List), the DocumentReference and the
Binary holding the CDA document. A file backend for development and the demo.

The XDS.b route (SOAP, SAML assertion signed with the structure's IGC-Santé certificate) needs
the national homologation: docs/architecture.md says what it takes; it is not built.
"""

import base64
import json
import urllib.error
import urllib.request
import uuid

from django.conf import settings

from telesante.outbox import cda, xdm
from telesante.outbox.services import DeliveryError, Package

MHD_PROFILE = (
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle"
)
SUBMISSION_SET = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _patient_identifier(patient) -> dict:
    # The DMP is fed only for a qualified identity (services.plan): the INS.
    return {"system": patient.matricule_oid, "value": patient.shareable_matricule}


def _custodian(structure) -> dict:
    # The structure by its IDNST; without FINESS, by its name alone (as in the CDA).
    reference = {"display": structure.name}
    if structure.idnst:
        reference["identifier"] = {"system": f"urn:oid:{cda.IDNST_ROOT}", "value": structure.idnst}
    return reference


def bundle(package: Package) -> dict:
    act, entry = package.act, package.entry
    patient = act.patient
    author = cda.author_of(act)
    structure = act.performing_structure or act.requesting_structure
    binary, document, listing = _urn(), _urn(), _urn()
    subject = {"identifier": _patient_identifier(patient)}
    author_ref = {
        "identifier": {"system": f"urn:oid:{cda.IDNPS_ROOT}", "value": author.idnps},
        "display": author.display_name,
    }
    doc_ref = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{entry.unique_id}"},
        "identifier": [{"use": "official", "system": "urn:ietf:rfc:3986", "value": document}],
        "status": "current",
        "type": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": entry.type_code.code,
                    "display": entry.type_code.label,
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": f"urn:oid:{xdm.CLASS_CODE[1]}",
                        "code": xdm.CLASS_CODE[0],
                        "display": xdm.CLASS_CODE[2],
                    }
                ]
            }
        ],
        "subject": subject,
        "date": act.done_at.isoformat() if act.done_at else None,
        "author": [author_ref],
        "custodian": _custodian(structure),
        "description": entry.title,
        "securityLabel": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                        "code": "N",
                    }
                ]
            }
        ],
        "content": [
            {
                "attachment": {
                    "contentType": "text/xml",
                    "language": "fr-FR",
                    "url": binary,
                    "size": entry.size,
                    "hash": base64.b64encode(bytes.fromhex(entry.hash)).decode(),
                    "title": entry.title,
                },
                "format": {
                    "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                    "code": cda.FORMAT_CODE,
                },
            }
        ],
    }
    submission = {
        "resourceType": "List",
        "meta": {
            "profile": [
                "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.SubmissionSet"
            ]
        },
        "identifier": [
            {
                "use": "official",
                "system": "urn:ietf:rfc:3986",
                "value": f"urn:oid:{entry.set_unique_id}",
            },
            {"use": "usual", "system": "urn:ietf:rfc:3986", "value": listing},
        ],
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": SUBMISSION_SET, "code": "submissionset"}]},
        "subject": subject,
        "date": act.done_at.isoformat() if act.done_at else None,
        "source": author_ref,
        "entry": [{"item": {"reference": document}}],
    }
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [MHD_PROFILE]},
        "type": "transaction",
        "entry": [
            {
                "fullUrl": listing,
                "resource": submission,
                "request": {"method": "POST", "url": "List"},
            },
            {
                "fullUrl": document,
                "resource": doc_ref,
                "request": {"method": "POST", "url": "DocumentReference"},
            },
            {
                "fullUrl": binary,
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "text/xml",
                    "data": base64.b64encode(package.document).decode(),
                },
                "request": {"method": "POST", "url": "Binary"},
            },
        ],
    }


def _outcome(body: bytes) -> str:
    try:
        issues = json.loads(body).get("issue", [])
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
    return " ; ".join(i.get("diagnostics", i.get("code", "")) for i in issues)


class MHDBackend:
    """POSTs the Bundle to the MHD Document Recipient (TELESANTE_DMP_MHD_URL); every entry must
    come back created."""

    def send(self, line, package: Package) -> None:
        if not settings.TELESANTE_DMP_MHD_URL.startswith(("https://", "http://")):
            raise DeliveryError("Point d'accès DMP (TELESANTE_DMP_MHD_URL) non configuré.")
        headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
        if settings.TELESANTE_DMP_MHD_TOKEN:
            headers["Authorization"] = f"Bearer {settings.TELESANTE_DMP_MHD_TOKEN}"
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked above
            settings.TELESANTE_DMP_MHD_URL,
            data=json.dumps(bundle(package)).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - configured URL
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"DMP : refus {exc.code} — {_outcome(exc.read())}") from exc
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"DMP injoignable : {exc}") from exc
        statuses = [e.get("response", {}).get("status", "") for e in answer.get("entry", [])]
        if (
            answer.get("type") != "transaction-response"
            or not statuses
            or not all(s.startswith(("200", "201")) for s in statuses)
        ):
            raise DeliveryError(f"DMP : réponse inattendue ({', '.join(statuses) or 'vide'}).")


class FileBackend:
    """Development and demo: each Bundle as JSON under TELESANTE_OUTBOX_DIR/dmp."""

    def send(self, line, package: Package) -> None:
        folder = settings.TELESANTE_OUTBOX_DIR / "dmp"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"envoi-{line.pk}.json").write_text(json.dumps(bundle(package), indent=1))
