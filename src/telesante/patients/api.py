import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from telesante.core import policy
from telesante.core.bounds import Id
from telesante.core.models import AuditAction
from telesante.patients import services
from telesante.patients.models import AttachmentKind, Patient, Sex

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


class DuplicatesOut(Schema):
    detail: str
    candidates: list[PatientOut]
    other_structures: int


class Message(Schema):
    detail: str


def _clinician(request: HttpRequest):
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Les observateurs régionaux n'ont pas accès aux données patients.")
    return request.user


@router.get("", response=list[PatientOut], summary="Rechercher des patients")
def list_patients(request: HttpRequest, q: str = "", limit: int = 50):
    user = _clinician(request)
    return services.search(request, user, q, limit=max(1, min(limit, 200)))


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
