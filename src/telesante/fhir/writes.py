"""Writes integrators need: a télé-expertise request (ServiceRequest, its form as a contained
QuestionnaireResponse, its files as contained Binary, the patient's consent as a contained
Consent) and a téléconsultation booked on a published slot (Appointment). Each goes through
the service the pages and /api/v1/ use: same checks, same wall, same audit."""

import base64
import binascii
import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest

from telesante.core import policy
from telesante.fhir import resources
from telesante.patients.models import ActKind, ConsentDecision
from telesante.teleconsultation import booking
from telesante.teleconsultation import services as tc_services
from telesante.teleexpertise import services as te_services
from telesante.teleexpertise.models import Urgency

URGENT_PRIORITIES = {"urgent", "asap", "stat"}


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _ref_id(value, resource_type: str, field: str) -> int:
    """The id of a reference `Type/12`."""
    reference = value.get("reference", "") if isinstance(value, dict) else ""
    kind, _sep, pk = str(reference).rpartition("/")
    if kind.rsplit("/", 1)[-1] != resource_type or not pk.isdigit() or len(pk) > 18:
        raise _invalid(field, f"Référence {resource_type}/<id> attendue.")
    return int(pk)


def _contained(resource: dict) -> dict[str, dict]:
    found = resource.get("contained") or []
    if not isinstance(found, list):
        raise _invalid("contained", "Liste de ressources contenues attendue.")
    return {f"#{r.get('id')}": r for r in found if isinstance(r, dict) and r.get("id")}


def _supporting(resource: dict, field: str, resource_type: str) -> dict | None:
    """The contained resource of `resource_type` that `field` points to (#id)."""
    contained = _contained(resource)
    for pointer in resource.get(field) or []:
        target = contained.get(pointer.get("reference", "") if isinstance(pointer, dict) else "")
        if target and target.get("resourceType") == resource_type:
            return target
    return None


def _consent(resource: dict, field: str) -> tuple[bool, str]:
    """(information given, decision) from the contained Consent: active is a consent,
    rejected a refusal; verification.verified says the patient was informed."""
    consent = _supporting(resource, field, "Consent")
    if consent is None:
        raise _invalid(field, "Consentement du patient attendu (Consent contenu, référencé).")
    decision = {"active": ConsentDecision.CONSENT, "rejected": ConsentDecision.REFUSAL}.get(
        consent.get("status"), ""
    )
    verification = consent.get("verification") or [{}]
    informed = isinstance(verification, list) and all(
        isinstance(v, dict) and v.get("verified") is True for v in verification
    )
    return informed, decision


def _structure(user, reference: dict | None, field: str) -> int:
    """The structure the user acts for: the one named, or their only one. Without any, the
    service answers (a role without patients: 403)."""
    if reference:
        return _ref_id(reference, "Organization", field)
    mine = list(policy.member_structures(user).values_list("pk", flat=True)[:2])
    if len(mine) > 1:
        raise _invalid(field, "Précisez la structure demandeuse (Organization/<id>).")
    return mine[0] if mine else 0


def _file(answer: dict, contained: dict[str, dict], name: str) -> SimpleUploadedFile:
    if "valueAttachment" in answer:
        source = answer["valueAttachment"]
    else:
        source = contained.get(answer.get("valueReference", {}).get("reference", ""), {})
        if source.get("resourceType") != "Binary":
            raise _invalid(name, "Binary contenu attendu pour ce fichier.")
    try:
        data = base64.b64decode(source.get("data", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        data = b""
    if not data:
        raise _invalid(name, "Fichier vide ou mal encodé (base64 attendu).")
    title = source.get("title") or f"{name}.bin"
    return SimpleUploadedFile(title, data, source.get("contentType", ""))


ANSWER_VALUES = ("valueString", "valueDecimal", "valueInteger", "valueDate", "valueBoolean")


def _form(resource: dict) -> tuple[dict, dict]:
    """The filière form's answers and files, from the contained QuestionnaireResponse."""
    response = _supporting(resource, "supportingInfo", "QuestionnaireResponse")
    form: dict = {}
    files: dict[str, list] = {}
    if response is None:
        return form, files
    contained = _contained(resource)
    for entry in response.get("item") or []:
        name = str(entry.get("linkId", "")) if isinstance(entry, dict) else ""
        values = []
        for answer in entry.get("answer") or [] if name else []:
            if "valueAttachment" in answer or "valueReference" in answer:
                files.setdefault(name, []).append((_file(answer, contained, name), None))
            elif "valueCoding" in answer:
                values.append(str(answer["valueCoding"].get("code", "")))
            else:
                values += [str(answer[k]) for k in ANSWER_VALUES if k in answer]
        if values:
            form[name] = values if len(values) > 1 else values[0]
    return form, files


def _text(resource: dict) -> str:
    for field in ("reasonCode", "note"):
        for item in resource.get(field) or []:
            if isinstance(item, dict) and item.get("text"):
                return str(item["text"])
    return ""


def request_expertise(request: HttpRequest, sr: dict) -> dict:
    user = request.user
    coding = (sr.get("code") or {}).get("coding") or [{}]
    named = sr.get("performer") or []
    form, files = _form(sr)
    informed, decision = _consent(sr, "supportingInfo")
    new = te_services.NewRequest(
        patient_id=_ref_id(sr.get("subject"), "Patient", "subject"),
        structure_id=_structure(user, sr.get("requester"), "requester"),
        filiere_code=str(coding[0].get("code", "")),
        question=_text(sr),
        urgency=Urgency.URGENT if sr.get("priority") in URGENT_PRIORITIES else Urgency.NORMAL,
        information_given=informed,
        decision=decision,
        form_data=form,
        named_expert_id=_ref_id(named[0], "Practitioner", "performer") if named else None,
        files=files,
    )
    te = te_services.create(request, user, new)
    return resources.service_request(te)


def _start(appointment: dict) -> datetime.datetime:
    try:
        start = datetime.datetime.fromisoformat(str(appointment.get("start", "")))
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise _invalid("start", "Date et heure avec fuseau attendues (2026-03-02T14:30:00+01:00).")
    return start


def book(request: HttpRequest, appointment: dict) -> dict:
    """A published free slot of the practitioner named among the participants."""
    user = request.user
    actors = [p.get("actor") for p in appointment.get("participant") or [] if isinstance(p, dict)]
    references = [a.get("reference", "") for a in actors if isinstance(a, dict)]
    patient = [{"reference": r} for r in references if r.startswith("Patient/")]
    performer = [{"reference": r} for r in references if r.startswith("Practitioner/")]
    if not patient or not performer:
        raise _invalid("participant", "Un participant Patient et un participant Practitioner.")
    service = (appointment.get("serviceType") or [{}])[0].get("coding") or [{}]
    kind = service[0].get("code") or ActKind.TELECONSULTATION
    informed, decision = _consent(appointment, "supportingInformation")
    organisation = [
        s
        for s in appointment.get("supportingInformation") or []
        if isinstance(s, dict) and str(s.get("reference", "")).startswith("Organization/")
    ]
    new = tc_services.NewConsultation(
        patient_id=_ref_id(patient[0], "Patient", "participant"),
        structure_id=_structure(
            user, organisation[0] if organisation else None, "supportingInformation"
        ),
        kind=kind,
        performer_id=_ref_id(performer[0], "Practitioner", "participant"),
        scheduled_at=_start(appointment),
        reason=str(appointment.get("description") or _text(appointment)),
        information_given=informed,
        decision=decision,
    )
    tc = booking.book_slot(request, user, new)
    return resources.appointment(tc)
