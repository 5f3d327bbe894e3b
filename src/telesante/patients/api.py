import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from telesante.core import api_rows, paging, policy
from telesante.core.bounds import Id
from telesante.core.models import AuditAction
from telesante.patients import services
from telesante.patients.models import (
    ActKind,
    AttachmentKind,
    Consent,
    ConsentDecision,
    EvidenceKind,
    Patient,
    Sex,
)

router = Router(tags=["patients"])


class PatientOut(Schema):
    id: int
    birth_name: str
    first_names: str
    used_name: str
    used_first_name: str
    birth_date: datetime.date
    sex: str
    birthplace_code: str
    identity_status: str
    insi_checked_at: datetime.datetime | None
    validation_mode: str
    ins_matricule: str = Field("", alias="shareable_matricule")
    ins_system: str = Field("", alias="matricule_oid")


class PatientIn(Schema):
    birth_name: str = Field(min_length=1, max_length=100)
    first_names: str = Field(min_length=1, max_length=150)
    used_name: str = Field("", max_length=100)
    used_first_name: str = Field("", max_length=100)
    birth_date: datetime.date
    sex: Sex
    birthplace_code: str = Field(min_length=5, max_length=5)
    structure_id: int
    attachment_kind: AttachmentKind = AttachmentKind.PATIENT
    confirm_not_duplicate: bool = False


class PatientUpdateIn(Schema):
    """Only the traits sent change; the others stay as they are."""

    birth_name: str = Field(None, min_length=1, max_length=100)
    first_names: str = Field(None, min_length=1, max_length=150)
    used_name: str = Field(None, max_length=100)
    used_first_name: str = Field(None, max_length=100)
    birth_date: datetime.date = None
    sex: Sex = None
    birthplace_code: str = Field(None, min_length=5, max_length=5)


class ConsentIn(Schema):
    act_kind: ActKind
    information_given: bool
    decision: ConsentDecision
    note: str = Field("", max_length=250)


class ConsentOut(Schema):
    id: int
    patient_id: int
    act_kind: str
    information_given: bool
    decision: str
    note: str
    collected_by_id: int
    structure_id: int | None
    collected_at: datetime.datetime


class DuplicatesOut(Schema):
    detail: str
    candidates: list[PatientOut]
    other_structures: int


class InsiIn(Schema):
    """The high-trust document seen with the patient ("none": a validated identity's own, or
    none) and the matricule read from the carte Vitale (empty: a search by traits)."""

    evidence: EvidenceKind = EvidenceKind.NONE
    matricule: str = Field("", max_length=21)


class TraitDifferenceOut(Schema):
    trait: str
    label: str
    local: str
    insi: str


class InsiOut(Schema):
    operation: str
    code: str
    result: str
    detail: str
    differences: list[TraitDifferenceOut]
    patient: PatientOut


class Message(Schema):
    detail: str


def _clinician(request: HttpRequest):
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Les observateurs régionaux n'ont pas accès aux données patients.")
    return request.user


@router.get("", response=list[PatientOut], summary="Rechercher des patients")
def list_patients(
    request: HttpRequest,
    response: HttpResponse,
    q: str = "",
    limit: int = services.SEARCH_LIMIT,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """`limit` (at most 200) from `offset`, in name order; the total in X-Total-Count."""
    user = _clinician(request)
    found = paging.api_page(
        request, response, services.matched(user, q), offset, max(1, min(limit, 200)), cursor
    )
    services.audit_listed(request, user, q, found)
    return api_rows.respond(request, response, PatientOut, found)


@router.post("", response={201: PatientOut, 409: DuplicatesOut}, summary="Créer un patient")
def create_patient(request: HttpRequest, payload: PatientIn):
    user = _clinician(request)
    structure = policy.member_structures(user).filter(pk=payload.structure_id).first()
    if structure is None:
        raise Http404
    data = payload.dict(exclude={"structure_id", "attachment_kind", "confirm_not_duplicate"})
    patient, duplicates = services.create(
        request,
        user,
        Patient(**data),
        structure,
        payload.attachment_kind,
        payload.confirm_not_duplicate,
    )
    if patient is None:
        return Status(
            409,
            {
                "detail": "Identités proches trouvées : vérifiez puis renvoyez avec "
                "confirm_not_duplicate=true.",
                "candidates": duplicates.visible,
                "other_structures": duplicates.hidden_count,
            },
        )
    return Status(201, patient)


@router.get("/{patient_id}", response=PatientOut, summary="Lire un patient")
def get_patient(request: HttpRequest, patient_id: Id):
    user = _clinician(request)
    return policy.get_patient(request, user, patient_id, AuditAction.READ)


@router.patch("/{patient_id}", response=PatientOut, summary="Modifier l'identité d'un patient")
def update_patient(request: HttpRequest, patient_id: Id, payload: PatientUpdateIn):
    """Traits of a retrieved or qualified identity come from INSi (400); a validated identity
    whose strict traits change returns to provisional."""
    user = _clinician(request)
    patient = policy.get_patient(request, user, patient_id, AuditAction.READ)
    changes = payload.dict(exclude_unset=True)
    return services.update(request, user, patient, changes)


class ObjectionsIO(Schema):
    dmp_objection: bool
    mssante_objection: bool


@router.put(
    "/{patient_id}/objections",
    response=ObjectionsIO,
    summary="Enregistrer l'opposition du patient au DMP et à MSSanté",
)
def set_objections(request: HttpRequest, patient_id: Id, payload: ObjectionsIO):
    user = _clinician(request)
    patient = policy.get_patient(request, user, patient_id, AuditAction.READ)
    return services.set_objections(
        request, user, patient, dmp=payload.dmp_objection, mssante=payload.mssante_objection
    )


@router.post(
    "/{patient_id}/consents",
    response={201: ConsentOut},
    summary="Recueillir l'information et le consentement (ou le refus)",
)
def record_consent(request: HttpRequest, patient_id: Id, payload: ConsentIn):
    user = _clinician(request)
    patient = policy.get_patient(request, user, patient_id, AuditAction.READ)
    consent = Consent(patient=patient, **payload.dict())
    return Status(201, services.record_consent(request, user, consent))


@router.post(
    "/{patient_id}/insi",
    response={200: InsiOut, 503: Message},
    summary="Rechercher l'INS (téléservice INSi) et qualifier l'identité",
)
def insi_lookup(request: HttpRequest, patient_id: Id, payload: InsiIn):
    """`result`: qualified (a document seen), retrieved (none), mismatch (`differences` names the
    traits), not_found or several; 503 when the teleservice cannot be called."""
    user = _clinician(request)
    patient = policy.get_patient(request, user, patient_id, AuditAction.READ)
    try:
        outcome = services.insi_lookup(request, user, patient, payload.evidence, payload.matricule)
    except ValidationError as exc:
        if "insi" in exc.message_dict:
            return Status(503, {"detail": " ".join(exc.message_dict["insi"])})
        raise
    return {**outcome.__dict__, "patient": patient}
