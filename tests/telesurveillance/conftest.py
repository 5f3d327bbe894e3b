"""Télésurveillance fixtures: an opérateur team at the CH (a nurse and a cardiologist, the
médecin opérateur), a heart-failure patient with a scale and an oximeter, and a controlled clock
(every service takes `now`)."""

import datetime
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from telesante.accounts.models import Profession, User
from telesante.patients.models import PatientAttachment
from telesante.structures.models import Structure, StructureKind, Team
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance import programmes
from telesante.telesurveillance.models import DeviceToken, Enrolment
from tests.conftest import World, make_structure, make_user

PARIS = ZoneInfo("Europe/Paris")
# A Tuesday, within the default reading hours (8 h - 18 h, Monday to Friday).
NOW = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=PARIS)
START = datetime.date(2026, 1, 5)
ALWAYS = {"reading_start": datetime.time(0), "reading_end": datetime.time(23, 59, 59)}


@dataclass
class TSV:
    w: World
    team: Structure  # the opérateur team's structure
    care_team: Team  # its one care team, the enrolments' opérateur team
    operator: User  # member of the opérateur team (a nurse)
    team_doctor: User  # doctor of the opérateur team: the enrolment's médecin opérateur
    other_operator: User  # member of another team
    enrolment: Enrolment
    scale_token: str  # device token of the scale SC-0001


def new_enrolment(w: World, team: Structure, doctor: User, **overrides) -> enrolments.NewEnrolment:
    """Patient A in the heart-failure programme of `team`'s care team under `doctor`, on
    doctor_a's prescription."""
    fields = {
        "patient_id": w.patient_a.pk,
        "team_id": Team.default_for(team.pk).pk,
        "programme": "insuffisance_cardiaque",
        "prescriber_id": w.doctor_a.pk,
        "operator_id": doctor.pk,
        "prescribed_on": START,
        "act_consent": True,
        "data_consent": True,
        "information_given": True,
        "exploitant": "CardioSuivi SAS",
        "devices": ["SC-0001", "OX-0001"],
        "starts_on": START,
        "ends_on": START + datetime.timedelta(days=180),
        "reading_weekdays": [1, 2, 3, 4, 5, 6, 7],
        **ALWAYS,
        **overrides,
    }
    return enrolments.NewEnrolment(**fields)


def make_tsv(world: World) -> TSV:
    programmes.load()  # a transactional test before this one flushed the migration's rows
    team = make_structure(
        "CH de Laval — télésurveillance", kind=StructureKind.CH, finess="530000039"
    )
    other = make_structure("CH du Mans — télésurveillance", kind=StructureKind.CH, commune="72181")
    operator = make_user("operateur@example.test", structure=team, profession=Profession.NURSE)
    doctor = make_user(
        "cardiologue@example.test",
        structure=team,
        profession=Profession.DOCTOR,
        specialty="cardiologie",
    )
    PatientAttachment.objects.create(patient=world.patient_a, structure=team)
    enrolment = enrolments.enrol(None, operator, new_enrolment(world, team, doctor))
    _token, raw = DeviceToken.issue(device=enrolment.devices.get(serial="SC-0001"))
    return TSV(
        w=world,
        team=team,
        care_team=Team.default_for(team.pk),
        operator=operator,
        team_doctor=doctor,
        other_operator=make_user("operateur.mans@example.test", structure=other),
        enrolment=enrolment,
        scale_token=raw,
    )


@pytest.fixture
def tsv(world) -> TSV:
    return make_tsv(world)


def item(n: int | str, type_: str = "weight", value: float = 80.0, at=NOW, **extra) -> dict:
    unit = {"weight": "kg", "spo2": "%", "heart_rate": "/min"}.get(type_, "kg")
    at = at.isoformat() if isinstance(at, datetime.datetime) else at
    return {
        "id": str(n),
        "device": "SC-0001",
        "type": type_,
        "value": value,
        "unit": unit,
        "at": at,
        **extra,
    }


def post(token: str, items: list | dict) -> Client:
    body = items if isinstance(items, dict) else {"measurements": items}
    return Client(headers={"Authorization": f"Bearer {token}"}).post(
        "/api/v1/telesurveillance/measurements", json.dumps(body), content_type="application/json"
    )
