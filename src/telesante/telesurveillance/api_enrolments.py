"""/api/v1/telesurveillance/enrolments: enrol (the form's service), list and read the
enrolments of the user's teams (and those the user prescribed), end or stop one, read and change
the patient's thresholds. Handlers stay thin: enrolment.py and thresholds.py decide."""

import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from telesante.core import api_rows, audit, paging, policy
from telesante.core.bounds import Day, Id, WallTime
from telesante.core.models import AuditAction
from telesante.telesurveillance import enrolment, forfaits, thresholds
from telesante.telesurveillance.models import Enrolment, EnrolmentState

router = Router(tags=["télésurveillance"])


class EnrolmentIn(Schema):
    patient_id: int
    team_id: int = Field(description="l'équipe opérateur (une équipe de soins dont on est membre)")
    programme: str = Field(description="code du programme, ex. insuffisance_cardiaque")
    prescriber_id: int
    operator_id: int = Field(description="le médecin opérateur (un médecin membre de l'équipe)")
    prescribed_on: Day
    information_given: bool = Field(description="patient informé (dont : urgence, appeler le 15)")
    act_consent: bool = Field(description="consentement à la télésurveillance")
    data_consent: bool = Field(description="consentement au traitement des données")
    exploitant: str
    devices: list[str] = Field(description="numéros de série des dispositifs")
    device_label: str = ""
    starts_on: Day
    ends_on: Day
    reading_start: WallTime = datetime.time(8)
    reading_end: WallTime = datetime.time(18)
    reading_weekdays: list[int] = Field(default=[1, 2, 3, 4, 5], description="1 = lundi")


class DeviceOut(Schema):
    serial: str
    label: str


class EnrolmentOut(Schema):
    id: int = Field(alias="act_id")
    patient_id: int = Field(alias="act.patient_id")
    programme: str = Field(alias="programme_id")
    team_id: int
    prescriber_id: int
    operator_id: int
    prescribed_on: datetime.date
    exploitant: str
    starts_on: datetime.date
    ends_on: datetime.date
    reading_start: datetime.time
    reading_end: datetime.time
    reading_weekdays: list[int]
    state: str
    adherence_flag: str
    devices: list[DeviceOut]

    @staticmethod
    def resolve_reading_weekdays(obj: Enrolment) -> list[int]:
        return [int(d) for d in obj.reading_weekdays.split(",") if d]

    @staticmethod
    def resolve_devices(obj: Enrolment) -> list:
        return enrolment.devices_of(obj)


class ThresholdIn(Schema):
    kind: Literal["below", "above", "rise", "fall", "missing"]
    type: str | None = Field(default=None, description="mesure (absente pour « missing »)")
    value: float | None = Field(default=None, description="seuil, ou variation (rise, fall)")
    days: int | None = Field(default=None, description="fenêtre d'une variation, en jours")
    hours: int | None = Field(default=None, description="durée sans données (missing)")
    severity: int = Field(description="1 (faible) à 4 (critique)")


class ForfaitOut(Schema):
    act_id: int
    month: datetime.date
    adherence: float
    code: str
    warnings: list[str]

    @staticmethod
    def resolve_code(obj) -> str:
        return ",".join(c.code for c in obj.act.billing_codes.all())

    @staticmethod
    def resolve_warnings(obj) -> list[str]:
        return [w for c in obj.act.billing_codes.all() for w in c.warnings]


class EnrolmentDetail(EnrolmentOut):
    thresholds: list[ThresholdIn]
    forfaits: list[ForfaitOut]

    @staticmethod
    def resolve_forfaits(obj: Enrolment) -> list:
        return forfaits.of(obj)


class EndIn(Schema):
    state: Literal["ended", "stopped"] = Field(description="ended : terme ; stopped : arrêt")
    patient_contact: str = Field(
        "", description="e-mail ou mobile du patient, prévenu que son compte rendu est prêt"
    )


class ThresholdsIn(Schema):
    thresholds: list[ThresholdIn]


class ThresholdsOut(Schema):
    thresholds: list[ThresholdIn]
    programme_defaults: list[ThresholdIn]
    changes: list[str] = Field(description="ce qui a changé, tel qu'inscrit au journal")


def _thresholds(item: Enrolment, changes: list[str]) -> dict:
    return {
        "thresholds": item.thresholds,
        "programme_defaults": item.programme.thresholds,
        "changes": changes,
    }


# Rules are returned as stored: a field a rule does not use is left out, not null.
@router.post("", response={201: EnrolmentDetail}, summary="Inscrire un patient", exclude_none=True)
def create(request: HttpRequest, payload: EnrolmentIn):
    created = enrolment.enrol(request, request.user, enrolment.NewEnrolment(**payload.dict()))
    return Status(201, created)


@router.get("", response=list[EnrolmentOut], summary="Suivis de mes équipes")
def listing(
    request: HttpRequest,
    response: HttpResponse,
    state: Literal["active", "ended", "stopped"] | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 200,
    offset: paging.Offset = 0,
    cursor: paging.Cursor = None,
):
    """Newest first, `limit` from `offset`; the total in the X-Total-Count header."""
    if not policy.may_handle_patients(request.user):
        raise PermissionDenied("Accès refusé pour ce rôle.")
    listed = enrolment.listed(request.user, state or "")
    found = paging.api_page(request, response, listed, offset, limit, cursor)
    audit.record(request, request.user, AuditAction.SEARCH, [e.act for e in found])
    return api_rows.respond(request, response, EnrolmentOut, found)


@router.get("/{enrolment_id}", response=EnrolmentDetail, summary="Un suivi", exclude_none=True)
def detail(request: HttpRequest, enrolment_id: Id):
    return enrolment.get(request, request.user, enrolment_id)


@router.post(
    "/{enrolment_id}/end",
    response=EnrolmentDetail,
    summary="Terminer ou arrêter",
    exclude_none=True,
)
def end(request: HttpRequest, enrolment_id: Id, payload: EndIn):
    item = enrolment.get(request, request.user, enrolment_id)
    return enrolment.end(
        request,
        request.user,
        item,
        EnrolmentState(payload.state),
        patient_contact=payload.patient_contact,
    )


@router.get(
    "/{enrolment_id}/thresholds",
    response=ThresholdsOut,
    summary="Seuils du patient",
    exclude_none=True,
)
def get_thresholds(request: HttpRequest, enrolment_id: Id):
    return _thresholds(enrolment.get(request, request.user, enrolment_id), [])


@router.put(
    "/{enrolment_id}/thresholds",
    response=ThresholdsOut,
    summary="Changer les seuils du patient",
    exclude_none=True,
    description="Remplace la liste entière ; chaque seuil changé est inscrit au journal.",
)
def put_thresholds(request: HttpRequest, enrolment_id: Id, payload: ThresholdsIn):
    item = enrolment.get(request, request.user, enrolment_id)
    rules = [rule.dict(exclude_none=True) for rule in payload.thresholds]
    return _thresholds(item, thresholds.change(request, request.user, item, rules))


@router.post(
    "/{enrolment_id}/thresholds/reset",
    response=ThresholdsOut,
    summary="Revenir aux seuils du programme",
    exclude_none=True,
)
def reset_thresholds(request: HttpRequest, enrolment_id: Id):
    item = enrolment.get(request, request.user, enrolment_id)
    return _thresholds(item, thresholds.reset(request, request.user, item))
