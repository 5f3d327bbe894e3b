"""The platform's records as FHIR R4 resources, with the FR Core profiles where one exists
(HL7 France, `shared/INTEROP.md`). Pure functions of rows already read through the wall."""

import base64
import datetime

from django.utils import timezone

from telesante.accounts.models import Membership, User
from telesante.acts.models import Act, ActStatus
from telesante.core.identifiers import IDNPS_OID, IDNST_OID
from telesante.outbox.cda import doc_type
from telesante.patients.models import Consent, ConsentDecision, Patient
from telesante.structures.models import Structure
from telesante.teleconsultation.models import TeleConsultation
from telesante.teleexpertise.models import State, TeleExpertise, Urgency
from telesante.telesurveillance import catalog
from telesante.telesurveillance.models import Measurement

FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition/"
PROFILES = {
    "Patient": FR_CORE + "fr-core-patient",
    "PatientINS": FR_CORE + "fr-core-patient-ins",
    "Practitioner": FR_CORE + "fr-core-practitioner",
    "PractitionerRole": FR_CORE + "fr-core-practitioner-role",
    "Organization": FR_CORE + "fr-core-organization",
    "Appointment": FR_CORE + "fr-core-appointment",
    "vitalsigns": "http://hl7.org/fhir/StructureDefinition/vitalsigns",
}
IDENTITY_RELIABILITY = FR_CORE + "fr-core-identity-reliability"
IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"
BIRTH_LIST_GIVEN_NAME = FR_CORE + "fr-core-birth-list-given-name"
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE = FR_CORE + "fr-core-address-insee-code"
INSEE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
FINESS_SYSTEM = "https://finess.esante.gouv.fr"
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# The platform's own codes, for what no national terminology names.
MEASURE_SYSTEM = "urn:telesante:mesure"
FILIERE_SYSTEM = "urn:telesante:filiere"
PROFESSION_SYSTEM = "urn:telesante:profession"
SPECIALTY_SYSTEM = "urn:telesante:specialite"
DEVICE_SYSTEM = "urn:telesante:dispositif"
MESSAGE_SYSTEM = "urn:telesante:message-dispositif"
# LOINC codes of the vital signs the R4 vital-signs profile lists.
VITAL_SIGNS = {"29463-7", "8867-4", "59408-5", "8310-5", "9279-1"}
# FR Core's vital-sign profiles (HL7's bodyweight, heartrate, bodytemp and resprate, French
# references), by the LOINC code they fix. SpO2 keeps the base profile: FR Core's
# fr-core-observation-saturation-oxygen derives from HL7's oxygensat, which requires LOINC 2708-6
# where the devices send 59408-5 (by pulse oximetry).
FR_CORE_VITAL_SIGNS = {
    "29463-7": FR_CORE + "fr-core-observation-body-weight",
    "8867-4": FR_CORE + "fr-core-observation-heartrate",
    "8310-5": FR_CORE + "fr-core-observation-body-temperature",
    "9279-1": FR_CORE + "fr-core-observation-resp-rate",
}


def ref(kind: str, pk) -> dict:
    return {"reference": f"{kind}/{pk}"}


def _meta(profile: str | None, updated: datetime.datetime | None = None) -> dict:
    meta: dict = {}
    if profile:
        meta["profile"] = [profile]
    if updated:
        meta["lastUpdated"] = updated.isoformat()
    return meta


def _instant(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _clean(resource: dict) -> dict:
    """FHIR has no empty values: keys without one go."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def patient(p: Patient) -> dict:
    """fr-core-patient, or fr-core-patient-ins for a qualified identity: only then the INS
    matricule goes out (RNIV), with its OID."""
    identifiers = []
    if p.is_qualified and p.shareable_matricule:
        identifiers.append(
            {
                "use": "official",
                "type": {"coding": [{"system": FR_V2_0203, "code": "INS-NIR"}]},
                "system": p.matricule_oid,
                "value": p.shareable_matricule,
            }
        )
    given = p.first_names.split()
    names = [
        {
            "use": "official",
            "family": p.birth_name,
            "given": given[:1],
            "extension": [{"url": BIRTH_LIST_GIVEN_NAME, "valueString": p.first_names}],
        }
    ]
    if p.used_name or p.used_first_name:
        names.append(
            _clean(
                {
                    "use": "usual",
                    "family": p.used_name or p.birth_name,
                    "given": [p.used_first_name] if p.used_first_name else given[:1],
                }
            )
        )
    return _clean(
        {
            "resourceType": "Patient",
            "id": str(p.pk),
            "meta": _meta(
                PROFILES["PatientINS" if identifiers else "Patient"], getattr(p, "updated_at", None)
            ),
            "extension": [
                {
                    "url": IDENTITY_RELIABILITY,
                    "extension": [
                        {
                            "url": "identityStatus",
                            "valueCoding": {
                                "system": IDENTITY_STATUS_SYSTEM,
                                "code": p.identity_status,
                                "display": str(p.get_identity_status_display()),
                            },
                        }
                    ],
                },
                {
                    "url": BIRTH_PLACE,
                    "valueAddress": {
                        "extension": [
                            {
                                "url": INSEE_CODE,
                                "valueCoding": {"system": INSEE_SYSTEM, "code": p.birthplace_code},
                            }
                        ]
                    },
                },
            ],
            "identifier": identifiers,
            "name": names,
            "gender": {"F": "female", "M": "male"}.get(p.sex, "unknown"),
            "birthDate": p.birth_date.isoformat(),
            "generalPractitioner": [ref("Practitioner", p.gp_id)] if p.gp_id else [],
        }
    )


def _practitioner_identifiers(u: User) -> list[dict]:
    if not u.rpps:
        return []
    return [
        {
            "use": "official",
            "type": {"coding": [{"system": FR_V2_0203, "code": "IDNPS"}]},
            "system": IDNPS_OID,
            "value": u.idnps,
        },
        {
            "use": "secondary",
            "type": {"coding": [{"system": FR_V2_0203, "code": "RPPS"}]},
            "system": RPPS_SYSTEM,
            "value": u.rpps,
        },
    ]


def _profession(u: User) -> dict:
    return {
        "coding": [
            {
                "system": PROFESSION_SYSTEM,
                "code": u.profession,
                "display": str(u.get_profession_display()),
            }
        ]
    }


def practitioner(u: User) -> dict:
    """fr-core-practitioner: IDNPS (8 + RPPS) and RPPS identifiers, name, profession."""
    return _clean(
        {
            "resourceType": "Practitioner",
            "id": str(u.pk),
            "meta": _meta(PROFILES["Practitioner"]),
            "identifier": _practitioner_identifiers(u),
            "active": u.is_active,
            "name": [_clean({"use": "usual", "family": u.last_name, "given": [u.first_name]})],
            "qualification": [{"code": _profession(u)}],
        }
    )


def practitioner_role(m: Membership) -> dict:
    """A membership: the professional, the structure, profession and specialty."""
    u = m.user
    codes = [_profession(u)]
    specialty = []
    if u.specialty:
        specialty = [
            {
                "coding": [
                    {
                        "system": SPECIALTY_SYSTEM,
                        "code": u.specialty,
                        "display": str(u.get_specialty_display()),
                    }
                ]
            }
        ]
    return _clean(
        {
            "resourceType": "PractitionerRole",
            "id": str(m.pk),
            "meta": _meta(PROFILES["PractitionerRole"]),
            "active": u.is_active,
            "practitioner": {**ref("Practitioner", u.pk), "display": u.display_name},
            "organization": {**ref("Organization", m.structure_id), "display": m.structure.name},
            "code": codes,
            "specialty": specialty,
        }
    )


def organization(s: Structure) -> dict:
    """fr-core-organization: idNatSt (1 + FINESS) and the FINESS itself (géographique, and
    juridique when known)."""
    identifiers = []
    if s.finess:
        identifiers += [
            {
                "use": "official",
                "type": {"coding": [{"system": FR_V2_0203, "code": "IDNST"}]},
                "system": IDNST_OID,
                "value": f"1{s.finess}",
            },
            {
                "type": {"coding": [{"system": FR_V2_0203, "code": "FINEG"}]},
                "system": FINESS_SYSTEM,
                "value": s.finess,
            },
        ]
    if s.finess_ej:
        identifiers.append(
            {
                "type": {"coding": [{"system": FR_V2_0203, "code": "FINEJ"}]},
                "system": FINESS_SYSTEM,
                "value": s.finess_ej,
            }
        )
    address = _clean(
        {
            "line": [s.address] if s.address else [],
            "postalCode": s.postal_code,
            "city": s.commune.name if s.commune_id else "",
            "country": "FR",
        }
    )
    return _clean(
        {
            "resourceType": "Organization",
            "id": str(s.pk),
            "meta": _meta(PROFILES["Organization"]),
            "identifier": identifiers,
            "active": True,
            "type": [{"text": str(s.get_kind_display())}],
            "name": s.name,
            "address": [address],
        }
    )


def observation(m: Measurement, patient_id: int) -> dict:
    """A télésurveillance measurement: LOINC code (and the platform's), UCUM quantity."""
    kind = catalog.TYPES[m.type]
    coding = [{"system": MEASURE_SYSTEM, "code": kind.code, "display": str(kind.label)}]
    if kind.loinc[:1].isdigit():
        coding.insert(0, {"system": LOINC, "code": kind.loinc, "display": str(kind.label)})
    vital = kind.loinc in VITAL_SIGNS
    return _clean(
        {
            "resourceType": "Observation",
            "id": str(m.pk),
            "meta": _meta(
                FR_CORE_VITAL_SIGNS.get(kind.loinc, PROFILES["vitalsigns"]) if vital else None
            ),
            "identifier": [{"system": MESSAGE_SYSTEM, "value": m.message_id}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY,
                            "code": "vital-signs" if vital else "survey",
                        }
                    ]
                }
            ],
            "code": {"coding": coding, "text": str(kind.label)},
            "subject": ref("Patient", patient_id),
            "effectiveDateTime": _instant(m.at),
            "issued": _instant(m.received_at),
            "valueQuantity": {
                "value": m.value,
                "unit": str(kind.shown_unit),
                "system": UCUM,
                "code": m.unit,
            },
            "device": {"identifier": {"system": DEVICE_SYSTEM, "value": m.device.serial}},
        }
    )


# The act's status as a FHIR request status and an appointment status.
REQUEST_STATUS = {
    ActStatus.DRAFT: "draft",
    ActStatus.DONE: "completed",
    ActStatus.NOT_DONE: "revoked",
    ActStatus.CANCELLED: "revoked",
}
TASK_STATUS = {
    State.POOLED: "requested",
    State.CLAIMED: "in-progress",
    State.WAITING_INFO: "on-hold",
    State.ANSWERED: "completed",
    State.CANCELLED: "cancelled",
}
APPOINTMENT_STATUS = {
    ActStatus.SCHEDULED: "booked",
    ActStatus.IN_PROGRESS: "arrived",
    ActStatus.DONE: "fulfilled",
    ActStatus.NOT_DONE: "noshow",
    ActStatus.CANCELLED: "cancelled",
}


def _performers(act: Act) -> list[dict]:
    return [{**ref("Practitioner", u.pk), "display": u.display_name} for u in act.performers.all()]


def service_request(te: TeleExpertise) -> dict:
    """A télé-expertise request: the filière, the question, its urgency, its files."""
    act = te.act
    return _clean(
        {
            "resourceType": "ServiceRequest",
            "id": str(act.pk),
            "status": REQUEST_STATUS.get(act.status, "active"),
            "intent": "order",
            "priority": "urgent" if te.urgency == Urgency.URGENT else "routine",
            "category": [{"text": "Télé-expertise"}],
            "code": {
                "coding": [
                    {
                        "system": FILIERE_SYSTEM,
                        "code": act.filiere_id,
                        "display": act.filiere.name if act.filiere_id else "",
                    }
                ]
            },
            "subject": ref("Patient", act.patient_id),
            "authoredOn": _instant(act.requested_at or act.created_at),
            "requester": ref("Practitioner", act.requester_id),
            "performer": [ref("Practitioner", te.named_expert_id)] if te.named_expert_id else [],
            "reasonCode": [{"text": te.question}],
            "occurrenceDateTime": _instant(act.due_at),
        }
    )


def task(te: TeleExpertise) -> dict:
    """The state of a télé-expertise request: who holds it, the answer once given."""
    act = te.act
    output = []
    if te.opinion:
        output.append({"type": {"text": "Avis"}, "valueString": te.opinion})
    if act.report:
        output.append({"type": {"text": "Compte rendu"}, "valueReference": ref("Binary", act.pk)})
    return _clean(
        {
            "resourceType": "Task",
            "id": str(act.pk),
            "status": TASK_STATUS[te.state],
            "businessStatus": {"text": str(te.get_state_display())},
            "intent": "order",
            "focus": ref("ServiceRequest", act.pk),
            "for": ref("Patient", act.patient_id),
            "authoredOn": _instant(act.requested_at or act.created_at),
            "lastModified": _instant(te.answered_at or te.claimed_at),
            "requester": ref("Practitioner", act.requester_id),
            "owner": ref("Practitioner", te.claimed_by_id) if te.claimed_by_id else None,
            "restriction": {"period": {"end": _instant(act.due_at)}} if act.due_at else None,
            "output": output,
        }
    )


def appointment(tc: TeleConsultation) -> dict:
    """A booked téléconsultation (or télésoin): when, who, why."""
    act = tc.act
    end = tc.scheduled_at + datetime.timedelta(minutes=tc.duration_minutes)
    participants = [
        {"actor": {**ref("Patient", act.patient_id)}, "status": "accepted"},
        *({"actor": p, "status": "accepted", "required": "required"} for p in _performers(act)),
    ]
    return _clean(
        {
            "resourceType": "Appointment",
            "id": str(act.pk),
            "meta": _meta(PROFILES["Appointment"]),
            "status": APPOINTMENT_STATUS.get(act.status, "booked"),
            "serviceType": [{"text": str(act.get_kind_display())}],
            "appointmentType": {"text": "Vidéo"},
            "description": tc.reason,
            "start": _instant(tc.scheduled_at),
            "end": _instant(end),
            "minutesDuration": tc.duration_minutes,
            "created": _instant(act.created_at),
            "participant": participants,
        }
    )


def document_reference(act: Act) -> dict:
    """The report of an act: its PDF is the Binary of the same id; typed as the document the DMP
    receives (the CI-SIS type of the act's report)."""
    kind = doc_type(act)
    return _clean(
        {
            "resourceType": "DocumentReference",
            "id": str(act.pk),
            "status": "current",
            "type": {"coding": [{"system": LOINC, "code": kind.code, "display": kind.label}]},
            "category": [{"text": str(act.get_kind_display())}],
            "subject": ref("Patient", act.patient_id),
            "date": _instant(act.done_at or act.created_at),
            "author": _performers(act),
            "description": f"Compte rendu — {act.get_kind_display()}",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "url": f"Binary/{act.pk}",
                        "title": "compte-rendu.pdf",
                    },
                    "format": {
                        "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                        "code": "urn:ihe:iti:xds-sd:pdf:2008",
                    },
                }
            ],
            "context": {"period": {"start": _instant(act.requested_at or act.created_at)}},
        }
    )


def binary(act: Act) -> dict:
    with act.report.open("rb") as report:
        data = report.read()
    return {
        "resourceType": "Binary",
        "id": str(act.pk),
        "contentType": "application/pdf",
        "data": base64.b64encode(data).decode(),
    }


def consent(c: Consent) -> dict:
    """The patient's consent to (or refusal of) a kind of act, as collected."""
    return _clean(
        {
            "resourceType": "Consent",
            "id": str(c.pk),
            "status": "active" if c.decision == ConsentDecision.CONSENT else "rejected",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "treatment",
                    }
                ]
            },
            "category": [{"text": str(c.get_act_kind_display())}],
            "patient": ref("Patient", c.patient_id),
            "dateTime": _instant(c.collected_at),
            "performer": [ref("Practitioner", c.collected_by_id)],
            "organization": [ref("Organization", c.structure_id)] if c.structure_id else [],
            "policyRule": {"text": "Code de la santé publique, art. R. 6316-2"},
            "verification": [{"verified": c.information_given}],
            "provision": {"type": "permit" if c.decision == ConsentDecision.CONSENT else "deny"},
        }
    )
