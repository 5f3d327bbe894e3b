"""Who gets what: every page and API operation, for the right user, anonymous, the wrong role
and another structure. `test_every_route_is_in_the_matrix` fails when a route has no case."""

import contextlib
import copy
import datetime
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from telesante.accounts.models import Membership, MembershipRole, Profession
from telesante.api import api
from telesante.core import policy
from telesante.fhir.api import fhir_api
from telesante.structures.models import Team
from telesante.teleexpertise import services
from tests.conftest import (
    TEST_SETTINGS,
    World,
    api_client,
    kept_rows,
    logged_in,
    make_territory,
    make_user,
    make_world,
)
from tests.regulation.conftest import RG, make_regul, regul  # noqa: F401
from tests.rooms import conftest as rooms_conftest
from tests.rooms.conftest import TC, in_call, make_tc_world, tc_world  # noqa: F401
from tests.teleexpertise.conftest import TE, jpeg, make_te_world, te_world, wound_request  # noqa: F401
from tests.telesurveillance.conftest import NOW, TSV, make_tsv, tsv  # noqa: F401
from tests.telesurveillance.test_rules import send

# Whole URL trees whose access rules live in the library that serves them, tested elsewhere.
EXEMPT_PREFIXES = {
    "compte/": "allauth login pages: public by design, tested in tests/accounts/test_login.py",
    "i18n/": "language switch: public, no data",
    "admin/": "Django admin requires is_staff for every page; admin:index is in the matrix",
    "healthz": "liveness and readiness probes: public, answer only whether the process and its "
    "database, Redis and broker are up (tests/core/test_observability.py)",
    "metrics": "Prometheus: by network, not by user; the monitoring network only, others 404 "
    "(tests/core/test_observability.py)",
    "api/v1/": "API operations are listed from the OpenAPI schema below",
    "fhir/r4/": "FHIR operations are listed from the FHIR facade's OpenAPI schema below",
}
API_PUBLIC = {
    "GET /api/v1/openapi.json",
    "GET /api/v1/docs",
    "GET /fhir/r4/openapi.json",
    "GET /fhir/r4/docs",
}


@dataclass
class Case:
    method: str
    url: Callable[[World], str]
    # role name -> expected status; roles: anonymous, and attribute names of World.
    expect: dict[str, int]
    data: Callable[[World], dict] = field(default=lambda w: {})
    api: bool = False
    # Needs the télé-expertise objects of the `te_objects` fixture (w.te, w.te_claimed, ...).
    te: bool = False
    # Needs the télésurveillance objects of the `tsv_objects` fixture (w.enrolment, w.alert...).
    tsv: bool = False
    multipart: bool = False
    # Needs the téléconsultation objects of the `tc_objects` fixture (w.tc, w.tc_done, ...).
    tc: bool = False
    # Needs the télérégulation objects of the `rg_objects` fixture (w.record, w.regulator...).
    rg: bool = False


def patient_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[w.patient_a.pk])


def te_url(name: str, which: str) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[getattr(w, which).pk])


def te_api(which: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/teleexpertise/{getattr(w, which).pk}{suffix}"


def tc_url(name: str, which: str = "tc") -> Callable[[World], str]:
    return lambda w: reverse(name, args=[getattr(w, which).pk])


def tc_api(which: str = "tc", suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/teleconsultations/{getattr(w, which).pk}{suffix}"


# Téléconsultation w.tc: patient_a, booked by nurse_a (EHPAD A) with w.cardiologist (CH);
# doctor_a belongs to EHPAD A (sees the act through the structure) but is not a party to it.
TC_DETAIL = {
    "anonymous": 302,
    "nurse_a": 200,
    "cardiologist": 200,
    "doctor_a": 200,
    "nurse_b": 404,
    "observer": 404,
}
# Changes any party to the act may make (doctor_a sees the act but is no party: 403).
PARTIES_ACT = {
    "anonymous": 302,
    "nurse_a": 302,
    "cardiologist": 302,
    "doctor_a": 403,
    "nurse_b": 404,
    "observer": 404,
}
ROOM = {
    "anonymous": 302,
    "nurse_a": 200,
    "cardiologist": 200,
    "doctor_a": 404,
    "nurse_b": 404,
    "observer": 404,
}

# What only the opérateur team changes on w.enrolment: the prescriber (doctor_a) reads it (403).
TSV_TEAM_CHANGE = {
    "anonymous": 302,
    "operator": 302,
    "doctor_a": 403,
    "other_operator": 404,
    "observer": 404,
}
TSV_TEAM_CHANGE_API = {**TSV_TEAM_CHANGE, "anonymous": 401, "operator": 200}
TSV_READ_API = {
    "anonymous": 401,
    "operator": 200,
    "doctor_a": 200,
    "nurse_a": 404,
    "other_operator": 404,
    "observer": 404,
}


# Measurements, searched or read one by one, through the patient's wall (as the batch API's
# list of a patient's measurements).
FHIR_MEASUREMENTS = {
    "anonymous": 401,
    "operator": 200,
    "doctor_a": 200,
    "nurse_a": 200,
    "other_operator": 404,
    "nurse_b": 404,
    "observer": 403,
}


def enrolment_api(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/telesurveillance/enrolments/{w.enrolment.pk}{suffix}"


REGIONAL_ONLY = {"anonymous": 302, "observer": 200, "regional_admin": 200, "nurse_a": 403}

STAFF_PAGE = {"anonymous": 302, "admin_a": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404}
STAFF_API = {"anonymous": 401, "admin_a": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404}


# In SAMU 53 (fixture rg_objects): its administrator w.samu_admin; w.regulator is a member.
STAFF_REGULATION = {
    "anonymous": 302,
    "regulator": 403,
    "regulator_b": 404,
    "admin_a": 404,
    "observer": 404,
}


def staff_api(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/structures/{w.ehpad_a.pk}{suffix}"


# Télérégulation (fixture rg_objects): regulators of the record's SAMU only.
REGUL_READ = {
    "anonymous": 302,
    "regulator": 200,
    "assistant": 404,
    "regulator_b": 404,
    "nurse_a": 404,
    "observer": 404,
}
REGUL_CHANGE = {**REGUL_READ, "regulator": 302}
REGUL_LIST = {"anonymous": 302, "regulator": 200, "assistant": 403, "nurse_a": 403}
REGUL_LIST_API = {**REGUL_LIST, "anonymous": 401}
CALLER_ONLY = {"anonymous": 403, "regulator": 403}


def rg_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[w.record.pk])


def rg_api(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/regulation/{w.record.pk}{suffix}"


PAGES: dict[str, Case] = {
    "home": Case(
        "GET", lambda w: reverse("home"), {"anonymous": 302, "nurse_a": 200, "observer": 200}
    ),
    # Each user's own work list (no object in the address): the fragment the home page refreshes.
    "worklist": Case(
        "GET",
        lambda w: reverse("worklist"),
        {"anonymous": 302, "nurse_a": 200, "nurse_b": 200, "observer": 200, "regional_admin": 200},
    ),
    "patient_list": Case(
        "GET",
        lambda w: reverse("patient_list"),
        {"anonymous": 302, "nurse_a": 200, "observer": 403, "regional_admin": 200},
    ),
    "patient_create": Case(
        "GET",
        lambda w: reverse("patient_create"),
        {"anonymous": 302, "nurse_a": 200, "observer": 403},
    ),
    "patient_detail": Case(
        "GET",
        patient_url("patient_detail"),
        {
            "anonymous": 302,
            "nurse_a": 200,
            "doctor_a": 200,
            "nurse_b": 404,
            "observer": 404,
            "regional_admin": 404,
        },
    ),
    "patient_status": Case(
        "POST",
        patient_url("patient_status"),
        {"anonymous": 302, "nurse_a": 302, "nurse_b": 404, "observer": 404},
        data=lambda w: {"new_status": "VALI", "evidence": "passport"},
    ),
    "patient_insi": Case(
        "POST",
        patient_url("patient_insi"),
        {"anonymous": 302, "nurse_a": 302, "nurse_b": 404, "observer": 404},
        data=lambda w: {"evidence": "id_card"},
    ),
    "patient_consent": Case(
        "POST",
        patient_url("patient_consent"),
        {"anonymous": 302, "nurse_a": 302, "nurse_b": 404, "observer": 404},
        data=lambda w: {
            "act_kind": "teleexpertise",
            "information_given": "on",
            "decision": "consent",
        },
    ),
    "patient_objections": Case(
        "POST",
        patient_url("patient_objections"),
        {"anonymous": 302, "nurse_a": 302, "nurse_b": 404, "observer": 404},
        data=lambda w: {"dmp_objection": "on"},
    ),
    # Pickers' searches: patients through the wall (nurse_b gets an empty page, tested in
    # tests/core/test_pickers.py), professionals for clinicians, the referential for anyone.
    "patient_search": Case(
        "GET",
        lambda w: reverse("patient_search") + "?q=dorvane",
        {"anonymous": 302, "nurse_a": 200, "nurse_b": 200, "observer": 403},
    ),
    "search_professionals": Case(
        "GET",
        lambda w: reverse("search_professionals", args=["teleconsultation"]) + "?q=a",
        {"anonymous": 302, "nurse_a": 200, "observer": 403},
    ),
    "search_birthplaces": Case(
        "GET",
        lambda w: reverse("search_birthplaces") + "?q=laval",
        {"anonymous": 302, "nurse_a": 200, "observer": 200},
    ),
    "structure_detail": Case(
        "GET",
        lambda w: reverse("structure_detail", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "nurse_a": 200, "nurse_b": 404, "observer": 200},
    ),
    "my_activity": Case(
        "GET",
        lambda w: reverse("my_activity"),
        {"anonymous": 302, "nurse_a": 200, "observer": 403},
    ),
    "staff_activity": Case(
        "GET",
        lambda w: reverse("staff_activity", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "admin_a": 200, "nurse_a": 404, "nurse_b": 404, "observer": 404},
    ),
    # The staff page: the structure's administrators (its members 403, others 404).
    "structure_staff": Case(
        "GET",
        lambda w: reverse("structure_staff", args=[w.ehpad_a.pk]),
        STAFF_PAGE,
    ),
    "structure_staff_invite": Case(
        "POST",
        lambda w: reverse("structure_staff_invite", args=[w.ehpad_a.pk]),
        {**STAFF_PAGE, "admin_a": 302},
        data=lambda w: {
            "email": "matrice@example.test",
            "profession": "infirmier",
            "team": Team.default_for(w.ehpad_a.pk).pk,
            "role": "member",
        },
    ),
    "structure_staff_member": Case(
        "POST",
        lambda w: reverse("structure_staff_member", args=[w.ehpad_a.pk, w.doctor_a.pk]),
        {**STAFF_PAGE, "admin_a": 302},
        data=lambda w: {"action": "role", "role": "admin"},
    ),
    # The regulation right: the SAMU's administrators (its members 403, others 404).
    "structure_staff_regulation": Case(
        "POST",
        lambda w: reverse("structure_staff_regulation", args=[w.samu.pk, w.assistant.pk]),
        {**STAFF_REGULATION, "samu_admin": 302},
        data=lambda w: {"granted": "1"},
        rg=True,
    ),
    "structure_team_create": Case(
        "POST",
        lambda w: reverse("structure_team_create", args=[w.ehpad_a.pk]),
        {**STAFF_PAGE, "admin_a": 302},
        data=lambda w: {"name": "Unité de nuit"},
    ),
    "structure_audit": Case(
        "GET",
        lambda w: reverse("structure_audit", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "admin_a": 200, "nurse_a": 404, "nurse_b": 404, "observer": 404},
    ),
    "structure_psc_self_enrolment": Case(
        "POST",
        lambda w: reverse("structure_psc_self_enrolment", args=[w.ehpad_a.pk]),
        {
            "anonymous": 302,
            "admin_a": 302,
            "nurse_a": 404,
            "nurse_b": 404,
            "observer": 404,
            "regional_admin": 404,
        },
        data=lambda w: {"enabled": "1"},
    ),
    "admin:index": Case(
        "GET",
        lambda w: reverse("admin:index"),
        {"anonymous": 302, "regional_admin": 200, "nurse_a": 302},
    ),
    # Télé-expertise: w.te is pooled, w.te_claimed taken by w.wound_expert, w.te_answered
    # answered by him; all three for patient_a, sent by nurse_a (see `te_objects`).
    "teleexpertise_list": Case(
        "GET",
        lambda w: reverse("teleexpertise_list"),
        {"anonymous": 302, "nurse_a": 200, "wound_expert": 200, "observer": 403},
        te=True,
    ),
    "teleexpertise_create": Case(
        "GET",
        lambda w: reverse("teleexpertise_create"),
        {"anonymous": 302, "nurse_a": 200, "pharmacist_a": 403, "observer": 403},
        te=True,
    ),
    "teleexpertise_detail": Case(
        "GET",
        te_url("teleexpertise_detail", "te"),
        {
            "anonymous": 302,
            "nurse_a": 200,
            "doctor_a": 200,
            "wound_expert": 200,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        te=True,
    ),
    "teleexpertise_claim": Case(
        "POST",
        te_url("teleexpertise_claim", "te"),
        {"anonymous": 302, "wound_expert": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        te=True,
    ),
    "teleexpertise_message": Case(
        "POST",
        te_url("teleexpertise_message", "te_claimed"),
        {
            "anonymous": 302,
            "nurse_a": 302,
            "wound_expert": 302,
            "derm_expert": 403,
            "nurse_b": 404,
            "observer": 404,
        },
        data=lambda w: {"body": "Bonjour"},
        te=True,
    ),
    "teleexpertise_answer": Case(
        "POST",
        te_url("teleexpertise_answer", "te_claimed"),
        {"anonymous": 302, "wound_expert": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"opinion": "Avis", "consultation_need": "none"},
        te=True,
    ),
    "teleexpertise_decline": Case(
        "POST",
        te_url("teleexpertise_decline", "te_claimed"),
        {"anonymous": 302, "wound_expert": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"reason": "Absent"},
        te=True,
    ),
    # Only the requester corrects or withdraws, until an expert takes the request.
    "teleexpertise_correct": Case(
        "GET",
        te_url("teleexpertise_correct", "te"),
        {
            "anonymous": 302,
            "nurse_a": 200,
            "doctor_a": 403,
            "wound_expert": 403,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        te=True,
    ),
    "teleexpertise_withdraw": Case(
        "POST",
        te_url("teleexpertise_withdraw", "te"),
        {
            "anonymous": 302,
            "nurse_a": 302,
            "doctor_a": 403,
            "wound_expert": 403,
            "nurse_b": 404,
            "observer": 404,
        },
        data=lambda w: {"reason": "Patient hospitalisé"},
        te=True,
    ),
    "teleexpertise_report": Case(
        "GET",
        te_url("teleexpertise_report", "te_answered"),
        {"anonymous": 302, "nurse_a": 200, "wound_expert": 200, "nurse_b": 404, "observer": 404},
        te=True,
    ),
    "attachment": Case(
        "GET",
        lambda w: reverse("attachment", args=[w.photo.pk]),
        {
            "anonymous": 302,
            "nurse_a": 200,
            "wound_expert": 200,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        te=True,
    ),
    "attachment_thumbnail": Case(
        "GET",
        lambda w: reverse("attachment_thumbnail", args=[w.photo.pk]),
        {
            "anonymous": 302,
            "nurse_a": 200,
            "wound_expert": 200,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        te=True,
    ),
    # Indicators: aggregates for the regional roles only.
    "indicators": Case("GET", lambda w: reverse("indicators"), REGIONAL_ONLY),
    "indicators_csv": Case("GET", lambda w: reverse("indicators_csv"), REGIONAL_ONLY),
    "indicators_xlsx": Case("GET", lambda w: reverse("indicators_xlsx"), REGIONAL_ONLY),
    "indicators_pdf": Case("GET", lambda w: reverse("indicators_pdf"), REGIONAL_ONLY),
    # Billing: one's own codes; the regional administration may export anyone's.
    "indicators_billing": Case(
        "GET",
        lambda w: reverse("indicators_billing"),
        {"anonymous": 302, "nurse_a": 200, "regional_admin": 200, "observer": 403},
    ),
    "deployment_overview": Case("GET", lambda w: reverse("deployment_overview"), REGIONAL_ONLY),
    "deployment_site": Case(
        "GET", lambda w: reverse("deployment_site", args=[w.ehpad_a.pk]), REGIONAL_ONLY
    ),
    "deployment_milestone": Case(
        "POST",
        lambda w: reverse("deployment_milestone", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "regional_admin": 302, "observer": 403, "nurse_a": 403},
        data=lambda w: {"step": "needs", "done_on": "2022-01-10"},
    ),
    "deployment_follow_up": Case(
        "POST",
        lambda w: reverse("deployment_follow_up", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "regional_admin": 302, "observer": 403, "nurse_a": 403},
        data=lambda w: {"officer": w.regional_admin.pk, "filieres": ["geriatrie"]},
    ),
    "deployment_stop": Case(
        "POST",
        lambda w: reverse("deployment_stop", args=[w.ehpad_a.pk]),
        {"anonymous": 302, "regional_admin": 302, "observer": 403, "nurse_a": 403},
        data=lambda w: {"commune": "53130", "place": "Mairie"},
    ),
    # The directory is public.
    "directory": Case("GET", lambda w: reverse("directory"), {"anonymous": 200, "nurse_a": 200}),
    # The accessibility statement and legal notices: public, the same for everyone.
    "accessibility": Case(
        "GET", lambda w: reverse("accessibility"), {"anonymous": 200, "nurse_a": 200}
    ),
    # The browser scripts' strings: interface text only, needed by guests' video rooms.
    "javascript_catalog": Case(
        "GET", lambda w: reverse("javascript_catalog"), {"anonymous": 200, "nurse_a": 200}
    ),
    # Télésurveillance: w.enrolment of patient_a, monitored by w.operator's team, prescribed by
    # doctor_a; w.other_operator belongs to another team; w.alert is open (see `tsv_objects`).
    "telesurveillance_board": Case(
        "GET",
        lambda w: reverse("telesurveillance_board"),
        {"anonymous": 302, "operator": 200, "nurse_b": 200, "observer": 403},
        tsv=True,
    ),
    "telesurveillance_enrol": Case(
        "GET",
        lambda w: reverse("telesurveillance_enrol"),
        {"anonymous": 302, "operator": 200, "observer": 403},
        tsv=True,
    ),
    "telesurveillance_patient": Case(
        "GET",
        lambda w: reverse("telesurveillance_patient", args=[w.enrolment.pk]),
        {
            "anonymous": 302,
            "operator": 200,
            "doctor_a": 200,
            "nurse_a": 404,
            "other_operator": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        tsv=True,
    ),
    "telesurveillance_end": Case(
        "POST",
        lambda w: reverse("telesurveillance_end", args=[w.enrolment.pk]),
        {
            "anonymous": 302,
            "operator": 302,
            "doctor_a": 403,
            "other_operator": 404,
            "observer": 404,
        },
        data=lambda w: {"state": "ended"},
        tsv=True,
    ),
    "telesurveillance_report": Case(
        "GET",
        lambda w: reverse("telesurveillance_report", args=[w.enrolment.pk]),
        {
            "anonymous": 302,
            "operator": 200,
            "doctor_a": 200,
            "other_operator": 404,
            "observer": 404,
        },
        tsv=True,
    ),
    "telesurveillance_acknowledge": Case(
        "POST",
        lambda w: reverse("telesurveillance_acknowledge", args=[w.alert.pk]),
        {
            "anonymous": 302,
            "operator": 302,
            "doctor_a": 404,
            "other_operator": 404,
            "observer": 404,
        },
        tsv=True,
    ),
    "telesurveillance_resolve": Case(
        "POST",
        lambda w: reverse("telesurveillance_resolve", args=[w.alert.pk]),
        {
            "anonymous": 302,
            "operator": 302,
            "doctor_a": 404,
            "other_operator": 404,
            "observer": 404,
        },
        data=lambda w: {"note": "Rappelé"},
        tsv=True,
    ),
    "telesurveillance_thresholds": Case(
        "GET",
        lambda w: reverse("telesurveillance_thresholds", args=[w.enrolment.pk]),
        TSV_TEAM_CHANGE | {"operator": 200, "nurse_b": 404},
        tsv=True,
    ),
    "telesurveillance_thresholds_reset": Case(
        "POST",
        lambda w: reverse("telesurveillance_thresholds_reset", args=[w.enrolment.pk]),
        TSV_TEAM_CHANGE,
        tsv=True,
    ),
    "teleconsultation_list": Case(
        "GET",
        lambda w: reverse("teleconsultation_list"),
        {"anonymous": 302, "nurse_a": 200, "cardiologist": 200, "observer": 403},
        tc=True,
    ),
    "teleconsultation_create": Case(
        "GET",
        lambda w: reverse("teleconsultation_create"),
        {"anonymous": 302, "nurse_a": 200, "observer": 403, "regional_admin": 403},
    ),
    "teleconsultation_detail": Case("GET", tc_url("teleconsultation_detail"), TC_DETAIL, tc=True),
    "teleconsultation_report_save": Case(
        "POST",
        tc_url("teleconsultation_report_save"),
        {"anonymous": 302, "cardiologist": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"report_text": "Examen rassurant."},
        tc=True,
    ),
    "teleconsultation_report": Case(
        "GET",
        tc_url("teleconsultation_report", "tc_done"),
        {"anonymous": 302, "nurse_a": 200, "cardiologist": 200, "nurse_b": 404, "observer": 404},
        tc=True,
    ),
    # Closing an act « non réalisé »: its performer only.
    "teleconsultation_not_done": Case(
        "POST",
        tc_url("teleconsultation_not_done"),
        {"anonymous": 302, "cardiologist": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"reason": "Patient absent"},
        tc=True,
    ),
    "teleconsultation_incident": Case(
        "POST",
        tc_url("teleconsultation_incident"),
        PARTIES_ACT,
        data=lambda w: {"description": "Son haché"},
        tc=True,
    ),
    "teleconsultation_invite": Case(
        "POST",
        tc_url("teleconsultation_invite"),
        PARTIES_ACT,
        data=lambda w: {"label": "Fille de la patiente", "relation": "famille", "hours": "2"},
        tc=True,
    ),
    "teleconsultation_revoke_guest": Case(
        "POST",
        lambda w: reverse("teleconsultation_revoke_guest", args=[w.tc.pk, w.guest.pk]),
        PARTIES_ACT,
        tc=True,
    ),
    "teleconsultation_send_guest": Case(
        "POST",
        lambda w: reverse("teleconsultation_send_guest", args=[w.tc.pk, w.guest.pk]),
        PARTIES_ACT,
        data=lambda w: {"contact": "06 12 34 56 78"},
        tc=True,
    ),
    "teleconsultation_assist": Case(
        "POST",
        tc_url("teleconsultation_assist"),
        {"anonymous": 302, "cardiologist": 302, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"expert": str(w.doctor_a.pk)},
        tc=True,
    ),
    "teleconsultation_availability": Case(
        "GET",
        lambda w: reverse("teleconsultation_availability"),
        {"anonymous": 302, "nurse_a": 200, "cardiologist": 200, "observer": 403},
        tc=True,
    ),
    # The agenda feed's signed address is its own key (calendar applications have no session).
    "teleconsultation_feed": Case(
        "GET",
        lambda w: reverse("teleconsultation_feed", args=[w.feed_token]),
        {"anonymous": 200, "nurse_b": 200},
        tc=True,
    ),
    "teleconsultation_cancel": Case(
        "POST",
        tc_url("teleconsultation_cancel"),
        PARTIES_ACT,
        data=lambda w: {"reason": "Patiente hospitalisée"},
        tc=True,
    ),
    "teleconsultation_move": Case(
        "POST",
        tc_url("teleconsultation_move"),
        PARTIES_ACT,
        data=lambda w: {"scheduled_at": "2099-03-02T15:00"},
        tc=True,
    ),
    "room": Case("GET", lambda w: reverse("room", args=[w.room_slug]), ROOM, tc=True),
    "room_share": Case(
        "POST",
        lambda w: reverse("room_share", args=[w.room_slug]),
        {**ROOM, "nurse_a": 201, "cardiologist": 201},
        data=lambda w: {"file": jpeg("cliche.jpg")},
        tc=True,
    ),
    "room_token": Case("GET", lambda w: reverse("room_token", args=[w.room_slug]), ROOM, tc=True),
    # A guest link is its own credential: whoever holds it enters (as that guest only).
    "room_guest": Case(
        "GET",
        lambda w: reverse("room_guest", args=[w.guest_value]),
        {"anonymous": 200, "nurse_b": 200},
        tc=True,
    ),
    "connection_test": Case(
        "GET",
        lambda w: reverse("connection_test"),
        {"anonymous": 302, "nurse_a": 200, "observer": 403},
    ),
    "notifications": Case(
        "GET",
        lambda w: reverse("notifications"),
        {"anonymous": 302, "nurse_a": 200, "observer": 200},
    ),
    "notifications_read": Case(
        "POST",
        lambda w: reverse("notifications_read"),
        {"anonymous": 302, "nurse_a": 302, "observer": 302},
    ),
    # Télérégulation: the SAMU 53 regulator's record (w.record); SAMU 72's regulator and the
    # SAMU 53 assistant without the regulation right get 404; a member of no SAMU gets 403.
    "regulation_list": Case("GET", lambda w: reverse("regulation_list"), REGUL_LIST, rg=True),
    "regulation_create": Case(
        "POST",
        lambda w: reverse("regulation_create"),
        {**REGUL_LIST, "regulator": 302},
        data=lambda w: {"caller_number": "06 11 22 33 44", "reason": "Malaise"},
        rg=True,
    ),
    "regulation_detail": Case("GET", rg_url("regulation_detail"), REGUL_READ, rg=True),
    "regulation_update": Case(
        "POST",
        rg_url("regulation_update"),
        REGUL_CHANGE,
        data=lambda w: {"decision": "conseil"},
        rg=True,
    ),
    "regulation_patient": Case(
        "POST",
        rg_url("regulation_patient"),
        REGUL_CHANGE,
        data=lambda w: {"patient": w.patient_a.pk},
        rg=True,
    ),
    "regulation_send_link": Case("POST", rg_url("regulation_send_link"), REGUL_CHANGE, rg=True),
    "regulation_revoke_link": Case(
        "POST",
        lambda w: reverse("regulation_revoke_link", args=[w.record.pk, w.link.pk]),
        REGUL_CHANGE,
        rg=True,
    ),
    "regulation_video": Case("GET", rg_url("regulation_video"), REGUL_READ, rg=True),
    "regulation_position": Case("GET", rg_url("regulation_position"), REGUL_READ, rg=True),
    "regulation_snapshot": Case(
        "POST",
        rg_url("regulation_snapshot"),
        {**REGUL_CHANGE, "regulator": 201},
        data=lambda w: {"file": jpeg()},
        rg=True,
    ),
    "regulation_end": Case(
        "POST",
        rg_url("regulation_end"),
        REGUL_CHANGE,
        data=lambda w: {"seen": "Plaie", "quality": "bonne"},
        rg=True,
    ),
    "regulation_media": Case(
        "GET", lambda w: reverse("regulation_media", args=[w.media.pk]), REGUL_READ, rg=True
    ),
    # The caller's SMS link is its own credential (once); their pages hold only with it.
    "regulation_caller_open": Case(
        "GET",
        lambda w: reverse("regulation_caller_open", args=[w.link_value]),
        {"anonymous": 200, "regulator_b": 200},
        rg=True,
    ),
    "regulation_caller": Case("GET", lambda w: reverse("regulation_caller"), CALLER_ONLY, rg=True),
    "regulation_caller_token": Case(
        "GET", lambda w: reverse("regulation_caller_token"), CALLER_ONLY, rg=True
    ),
    "regulation_caller_consent": Case(
        "POST",
        lambda w: reverse("regulation_caller_consent"),
        CALLER_ONLY,
        data=lambda w: {"answer": "yes"},
        rg=True,
    ),
    "regulation_caller_position": Case(
        "POST",
        lambda w: reverse("regulation_caller_position"),
        CALLER_ONLY,
        data=lambda w: {"latitude": "48", "longitude": "0"},
        rg=True,
    ),
    "regulation_caller_photo": Case(
        "POST",
        lambda w: reverse("regulation_caller_photo"),
        CALLER_ONLY,
        data=lambda w: {"file": jpeg()},
        rg=True,
    ),
}

API: dict[str, Case] = {
    "GET /api/v1/patients": Case(
        "GET",
        lambda w: "/api/v1/patients?q=dorvane",
        {"anonymous": 401, "nurse_a": 200, "observer": 403},
        api=True,
    ),
    "POST /api/v1/patients": Case(
        "POST",
        lambda w: "/api/v1/patients",
        {"anonymous": 401, "nurse_a": 201, "observer": 403, "nurse_b": 404},
        data=lambda w: {
            "birth_name": "Quenorel",
            "first_names": "Ilda",
            "birth_date": "1931-05-04",
            "sex": "F",
            "birthplace_code": "53130",
            "structure_id": w.ehpad_a.pk,
        },
        api=True,
    ),
    "GET /api/v1/patients/{patient_id}": Case(
        "GET",
        lambda w: f"/api/v1/patients/{w.patient_a.pk}",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 403},
        api=True,
    ),
    "PATCH /api/v1/patients/{patient_id}": Case(
        "PATCH",
        lambda w: f"/api/v1/patients/{w.patient_a.pk}",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 403},
        data=lambda w: {"used_name": "Martin"},
        api=True,
    ),
    "POST /api/v1/patients/{patient_id}/insi": Case(
        "POST",
        lambda w: f"/api/v1/patients/{w.patient_a.pk}/insi",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 403},
        data=lambda w: {"evidence": "id_card"},
        api=True,
    ),
    "PUT /api/v1/patients/{patient_id}/objections": Case(
        "PUT",
        lambda w: f"/api/v1/patients/{w.patient_a.pk}/objections",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 403},
        data=lambda w: {"dmp_objection": True, "mssante_objection": False},
        api=True,
    ),
    "POST /api/v1/patients/{patient_id}/consents": Case(
        "POST",
        lambda w: f"/api/v1/patients/{w.patient_a.pk}/consents",
        {"anonymous": 401, "nurse_a": 201, "nurse_b": 404, "observer": 403},
        data=lambda w: {
            "act_kind": "teleexpertise",
            "information_given": True,
            "decision": "consent",
        },
        api=True,
    ),
    "GET /api/v1/me": Case(
        "GET",
        lambda w: "/api/v1/me",
        {"anonymous": 401, "nurse_a": 200, "observer": 200},
        api=True,
    ),
    "GET /api/v1/professionals": Case(
        "GET",
        lambda w: "/api/v1/professionals?q=test",
        {"anonymous": 401, "nurse_a": 200, "observer": 200},
        api=True,
    ),
    "GET /api/v1/filieres": Case(
        "GET",
        lambda w: "/api/v1/filieres",
        {"anonymous": 401, "nurse_a": 200, "observer": 200},
        api=True,
    ),
    "POST /api/v1/teleexpertise/multipart": Case(
        "POST",
        lambda w: "/api/v1/teleexpertise/multipart",
        {"anonymous": 401, "nurse_a": 201, "pharmacist_a": 403, "observer": 403, "nurse_b": 404},
        data=lambda w: {
            "data": json.dumps(
                {
                    "patient_id": w.patient_a.pk,
                    "structure_id": w.ehpad_a.pk,
                    "filiere": "dermatologie",
                    "question": "Lésion du dos ?",
                    "information_given": True,
                    "decision": "consent",
                    "form": {"lesion_site": "Dos", "duration": "1 à 6 mois", "evolution": "Stable"},
                }
            ),
            "photos": jpeg(),
        },
        api=True,
        te=True,
        multipart=True,
    ),
    "GET /api/v1/teleexpertise": Case(
        "GET",
        lambda w: "/api/v1/teleexpertise?box=outbox",
        {"anonymous": 401, "nurse_a": 200, "wound_expert": 200, "observer": 403},
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise": Case(
        "POST",
        lambda w: "/api/v1/teleexpertise",
        {"anonymous": 401, "nurse_a": 201, "pharmacist_a": 403, "observer": 403, "nurse_b": 404},
        data=lambda w: {
            "patient_id": w.patient_a.pk,
            "structure_id": w.ehpad_a.pk,
            "filiere": "geriatrie",
            "question": "Chutes répétées ?",
            "information_given": True,
            "decision": "consent",
            "form": {"reason": "Chutes", "treatment": "Aucun"},
        },
        api=True,
        te=True,
    ),
    "GET /api/v1/teleexpertise/{te_id}": Case(
        "GET",
        te_api("te"),
        {
            "anonymous": 401,
            "nurse_a": 200,
            "wound_expert": 200,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/attachments": Case(
        "POST",
        te_api("te_claimed", "/attachments"),
        {
            "anonymous": 401,
            "nurse_a": 201,
            "wound_expert": 201,
            "doctor_a": 403,
            "nurse_b": 404,
            "observer": 404,
        },
        data=lambda w: {"file": jpeg()},
        api=True,
        te=True,
        multipart=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/messages": Case(
        "POST",
        te_api("te_claimed", "/messages"),
        {
            "anonymous": 401,
            "nurse_a": 201,
            "wound_expert": 201,
            "derm_expert": 403,
            "nurse_b": 404,
            "observer": 404,
        },
        data=lambda w: {"body": "Bonjour"},
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/claim": Case(
        "POST",
        te_api("te", "/claim"),
        {"anonymous": 401, "wound_expert": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/answer": Case(
        "POST",
        te_api("te_claimed", "/answer"),
        {"anonymous": 401, "wound_expert": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"opinion": "Avis", "consultation_need": "none"},
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/decline": Case(
        "POST",
        te_api("te_claimed", "/decline"),
        {"anonymous": 401, "wound_expert": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"reason": "Absent"},
        api=True,
        te=True,
    ),
    "PUT /api/v1/teleexpertise/{te_id}": Case(
        "PUT",
        te_api("te"),
        {
            "anonymous": 401,
            "nurse_a": 200,
            "doctor_a": 403,
            "wound_expert": 403,
            "nurse_b": 404,
            "observer": 404,
        },
        data=lambda w: {
            "question": "Plaie du talon, corrigée",
            "form": {
                "wound_type": "Escarre",
                "location": "Talon",
                "length_cm": "3,5",
                "width_cm": 2,
                "stage": "Stade 3",
            },
        },
        api=True,
        te=True,
    ),
    "POST /api/v1/teleexpertise/{te_id}/withdraw": Case(
        "POST",
        te_api("te", "/withdraw"),
        {"anonymous": 401, "nurse_a": 200, "wound_expert": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"reason": "Patient hospitalisé"},
        api=True,
        te=True,
    ),
    "GET /api/v1/teleexpertise/{te_id}/report.pdf": Case(
        "GET",
        te_api("te_answered", "/report.pdf"),
        {"anonymous": 401, "nurse_a": 200, "wound_expert": 200, "nurse_b": 404, "observer": 404},
        api=True,
        te=True,
    ),
    "GET /api/v1/indicators": Case(
        "GET",
        lambda w: "/api/v1/indicators?territory=53&period=2022-S1",
        {"anonymous": 401, "nurse_a": 403, "observer": 200, "regional_admin": 200},
        api=True,
    ),
    "GET /api/v1/directory": Case(
        "GET",
        lambda w: "/api/v1/directory?territory=53",
        {"anonymous": 200, "nurse_a": 200},
        api=True,
    ),
    # Device tokens only (tests/telesurveillance/test_ingest.py): a personal token is refused.
    "POST /api/v1/telesurveillance/measurements": Case(
        "POST",
        lambda w: "/api/v1/telesurveillance/measurements",
        {"anonymous": 401, "operator": 401, "nurse_a": 401},
        data=lambda w: {"measurements": []},
        api=True,
        tsv=True,
    ),
    "GET /api/v1/telesurveillance/alerts": Case(
        "GET",
        lambda w: "/api/v1/telesurveillance/alerts",
        {"anonymous": 401, "operator": 200, "doctor_a": 200, "observer": 403},
        api=True,
        tsv=True,
    ),
    "POST /api/v1/telesurveillance/alerts/{alert_id}/acknowledge": Case(
        "POST",
        lambda w: f"/api/v1/telesurveillance/alerts/{w.alert.pk}/acknowledge",
        {
            "anonymous": 401,
            "operator": 200,
            "doctor_a": 404,
            "other_operator": 404,
            "observer": 404,
        },
        api=True,
        tsv=True,
    ),
    "POST /api/v1/telesurveillance/alerts/{alert_id}/resolve": Case(
        "POST",
        lambda w: f"/api/v1/telesurveillance/alerts/{w.alert.pk}/resolve",
        {
            "anonymous": 401,
            "operator": 200,
            "doctor_a": 404,
            "other_operator": 404,
            "observer": 404,
        },
        data=lambda w: {"note": "Rappelé"},
        api=True,
        tsv=True,
    ),
    "GET /api/v1/telesurveillance/patients/{patient_id}/measurements": Case(
        "GET",
        lambda w: f"/api/v1/telesurveillance/patients/{w.patient_a.pk}/measurements?type=spo2",
        {
            "anonymous": 401,
            "operator": 200,
            "nurse_a": 200,
            "other_operator": 404,
            "nurse_b": 404,
            "observer": 403,
        },
        api=True,
        tsv=True,
    ),
    "GET /api/v1/telesurveillance/enrolments": Case(
        "GET",
        lambda w: "/api/v1/telesurveillance/enrolments",
        {"anonymous": 401, "operator": 200, "doctor_a": 200, "nurse_a": 200, "observer": 403},
        api=True,
        tsv=True,
    ),
    "POST /api/v1/telesurveillance/enrolments": Case(
        "POST",
        lambda w: "/api/v1/telesurveillance/enrolments",
        {"anonymous": 401, "operator": 201, "observer": 403, "other_operator": 404},
        data=lambda w: {
            "patient_id": w.patient_a.pk,
            "team_id": w.enrolment.team_id,
            "programme": "diabete",
            "prescriber_id": w.doctor_a.pk,
            "operator_id": w.enrolment.operator_id,
            "prescribed_on": "2026-02-01",
            "information_given": True,
            "act_consent": True,
            "data_consent": True,
            "exploitant": "GlucoSuivi",
            "devices": ["GL-7001"],
            "starts_on": "2026-02-02",
            "ends_on": "2026-08-01",
        },
        api=True,
        tsv=True,
    ),
    "GET /api/v1/telesurveillance/enrolments/{enrolment_id}": Case(
        "GET", enrolment_api(), TSV_READ_API, api=True, tsv=True
    ),
    "POST /api/v1/telesurveillance/enrolments/{enrolment_id}/end": Case(
        "POST",
        enrolment_api("/end"),
        TSV_TEAM_CHANGE_API,
        data=lambda w: {"state": "ended"},
        api=True,
        tsv=True,
    ),
    "GET /api/v1/telesurveillance/enrolments/{enrolment_id}/thresholds": Case(
        "GET", enrolment_api("/thresholds"), TSV_READ_API, api=True, tsv=True
    ),
    "PUT /api/v1/telesurveillance/enrolments/{enrolment_id}/thresholds": Case(
        "PUT",
        enrolment_api("/thresholds"),
        TSV_TEAM_CHANGE_API,
        data=lambda w: {"thresholds": [{"kind": "missing", "hours": 24, "severity": 3}]},
        api=True,
        tsv=True,
    ),
    "POST /api/v1/telesurveillance/enrolments/{enrolment_id}/thresholds/reset": Case(
        "POST", enrolment_api("/thresholds/reset"), TSV_TEAM_CHANGE_API, api=True, tsv=True
    ),
    "POST /api/v1/rooms/test": Case(
        "POST",
        lambda w: "/api/v1/rooms/test",
        {"anonymous": 401, "nurse_a": 201, "observer": 403},
        api=True,
    ),
    "POST /api/v1/rooms/{slug}/token": Case(
        "POST",
        lambda w: f"/api/v1/rooms/{w.room_slug}/token",
        {"anonymous": 401, "nurse_a": 200, "cardiologist": 200, "nurse_b": 404, "observer": 404},
        api=True,
        tc=True,
    ),
    "GET /api/v1/teleconsultations": Case(
        "GET",
        lambda w: "/api/v1/teleconsultations",
        {"anonymous": 401, "nurse_a": 200, "cardiologist": 200, "observer": 403},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations": Case(
        "POST",
        lambda w: "/api/v1/teleconsultations",
        {"anonymous": 401, "nurse_a": 201, "observer": 403, "nurse_b": 404},
        data=lambda w: {
            "patient_id": w.patient_a.pk,
            "structure_id": w.ehpad_a.pk,
            "kind": "teleconsultation",
            "performer_id": w.doctor_a.pk,
            "scheduled_at": "2099-01-05T10:00:00+01:00",
            "reason": "Suivi",
            "information_given": True,
            "decision": "consent",
        },
        api=True,
    ),
    "GET /api/v1/teleconsultations/{act_id}": Case(
        "GET", tc_api(), {**TC_DETAIL, "anonymous": 401}, api=True, tc=True
    ),
    "POST /api/v1/teleconsultations/{act_id}/report": Case(
        "POST",
        tc_api("tc", "/report"),
        {"anonymous": 401, "cardiologist": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"report_text": "Examen rassurant."},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/not-done": Case(
        "POST",
        tc_api("tc", "/not-done"),
        {"anonymous": 401, "cardiologist": 200, "nurse_a": 403, "nurse_b": 404, "observer": 404},
        data=lambda w: {"reason": "Patient absent"},
        api=True,
        tc=True,
    ),
    # The yearly activity declaration: a professional's own, a structure admin for its staff.
    "GET /api/v1/activity": Case(
        "GET",
        lambda w: "/api/v1/activity",
        {"anonymous": 401, "nurse_a": 200, "observer": 403},
        api=True,
    ),
    "PUT /api/v1/activity/{year}": Case(
        "PUT",
        lambda w: f"/api/v1/activity/{timezone.localdate().year}",
        {"anonymous": 401, "nurse_a": 200, "observer": 403},
        data=lambda w: {"total_acts": "1 250"},
        api=True,
    ),
    "PUT /api/v1/activity/professionals/{user_id}/{year}": Case(
        "PUT",
        lambda w: f"/api/v1/activity/professionals/{w.doctor_a.pk}/{timezone.localdate().year}",
        {"anonymous": 401, "admin_a": 200, "nurse_a": 404, "nurse_b": 404, "observer": 404},
        data=lambda w: {"total_acts": 900},
        api=True,
    ),
    # A structure's staff and teams: its administrators (members 403, other structures 404).
    "GET /api/v1/structures/{structure_id}/staff": Case(
        "GET", staff_api("/staff"), STAFF_API, api=True
    ),
    "POST /api/v1/structures/{structure_id}/staff": Case(
        "POST",
        staff_api("/staff"),
        {**STAFF_API, "admin_a": 201},
        data=lambda w: {
            "email": "matrice@example.test",
            "team_id": Team.default_for(w.ehpad_a.pk).pk,
        },
        api=True,
    ),
    "PATCH /api/v1/structures/{structure_id}/staff/{user_id}": Case(
        "PATCH",
        lambda w: f"/api/v1/structures/{w.ehpad_a.pk}/staff/{w.doctor_a.pk}",
        STAFF_API,
        data=lambda w: {"role": "admin"},
        api=True,
    ),
    "POST /api/v1/structures/{structure_id}/staff/{user_id}/teams": Case(
        "POST",
        lambda w: f"/api/v1/structures/{w.ehpad_a.pk}/staff/{w.doctor_a.pk}/teams",
        STAFF_API,
        data=lambda w: {
            "team_id": Team.objects.create(structure=w.ehpad_a, name="Unité de nuit").pk
        },
        api=True,
    ),
    "DELETE /api/v1/structures/{structure_id}/staff/{user_id}/teams/{team_id}": Case(
        "DELETE",
        lambda w: (
            f"/api/v1/structures/{w.ehpad_a.pk}/staff/{w.doctor_a.pk}"
            f"/teams/{Team.default_for(w.ehpad_a.pk).pk}"
        ),
        {**STAFF_API, "admin_a": 204},
        api=True,
    ),
    "PUT /api/v1/structures/{structure_id}/staff/{user_id}/regulation": Case(
        "PUT",
        lambda w: f"/api/v1/structures/{w.samu.pk}/staff/{w.assistant.pk}/regulation",
        {**STAFF_REGULATION, "anonymous": 401, "samu_admin": 200},
        data=lambda w: {"regulation_access": True},
        api=True,
        rg=True,
    ),
    "POST /api/v1/structures/{structure_id}/teams": Case(
        "POST",
        staff_api("/teams"),
        {**STAFF_API, "admin_a": 201},
        data=lambda w: {"name": "Unité de nuit"},
        api=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/incidents": Case(
        "POST",
        tc_api("tc", "/incidents"),
        {"anonymous": 401, "nurse_a": 201, "cardiologist": 201, "nurse_b": 404, "observer": 404},
        data=lambda w: {"description": "Image figée"},
        api=True,
        tc=True,
    ),
    # Booking: one's own availabilities; any professional's free slots (bookers of every
    # structure choose among them); a slot booked for a patient of one's structure.
    "GET /api/v1/teleconsultations/availabilities": Case(
        "GET",
        lambda w: "/api/v1/teleconsultations/availabilities",
        {"anonymous": 401, "cardiologist": 200, "nurse_b": 200, "observer": 403},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/availabilities": Case(
        "POST",
        lambda w: "/api/v1/teleconsultations/availabilities",
        # nurse_b names a structure she does not belong to: a field error.
        {"anonymous": 401, "cardiologist": 201, "nurse_b": 400, "observer": 403},
        data=lambda w: {"structure_id": w.ch.pk, "weekday": 1, "start": "09:00", "end": "10:00"},
        api=True,
        tc=True,
    ),
    "DELETE /api/v1/teleconsultations/availabilities/{availability_id}": Case(
        "DELETE",
        lambda w: f"/api/v1/teleconsultations/availabilities/{w.availability.pk}",
        {"anonymous": 401, "cardiologist": 204, "nurse_a": 404, "nurse_b": 404, "observer": 403},
        api=True,
        tc=True,
    ),
    "GET /api/v1/teleconsultations/slots": Case(
        "GET",
        lambda w: f"/api/v1/teleconsultations/slots?performer_id={w.cardiologist.pk}",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 200, "observer": 403},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/bookings": Case(
        "POST",
        lambda w: "/api/v1/teleconsultations/bookings",
        {"anonymous": 401, "nurse_a": 201, "nurse_b": 404, "observer": 403},
        data=lambda w: {
            "patient_id": w.patient_a.pk,
            "structure_id": w.ehpad_a.pk,
            "kind": "teleconsultation",
            "performer_id": w.cardiologist.pk,
            "scheduled_at": w.slot_start.isoformat(),
            "reason": "Suivi",
            "information_given": True,
            "decision": "consent",
        },
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/cancel": Case(
        "POST",
        tc_api("tc", "/cancel"),
        {**PARTIES_ACT, "anonymous": 401, "nurse_a": 200, "cardiologist": 200},
        data=lambda w: {"reason": "Patiente hospitalisée"},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/move": Case(
        "POST",
        tc_api("tc", "/move"),
        {**PARTIES_ACT, "anonymous": 401, "nurse_a": 200, "cardiologist": 200},
        data=lambda w: {"scheduled_at": "2099-03-02T15:00:00+01:00"},
        api=True,
        tc=True,
    ),
    "GET /api/v1/teleconsultations/{act_id}/guests": Case(
        "GET", tc_api("tc", "/guests"), {**TC_DETAIL, "anonymous": 401}, api=True, tc=True
    ),
    "POST /api/v1/teleconsultations/{act_id}/guests": Case(
        "POST",
        tc_api("tc", "/guests"),
        {**PARTIES_ACT, "anonymous": 401, "nurse_a": 201, "cardiologist": 201},
        data=lambda w: {"label": "Fille de la patiente", "relation": "famille", "hours": 2},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/guests/{guest_id}/revoke": Case(
        "POST",
        lambda w: f"/api/v1/teleconsultations/{w.tc.pk}/guests/{w.guest.pk}/revoke",
        {**PARTIES_ACT, "anonymous": 401, "nurse_a": 200, "cardiologist": 200},
        api=True,
        tc=True,
    ),
    "POST /api/v1/teleconsultations/{act_id}/guests/{guest_id}/send": Case(
        "POST",
        lambda w: f"/api/v1/teleconsultations/{w.tc.pk}/guests/{w.guest.pk}/send",
        {**PARTIES_ACT, "anonymous": 401, "nurse_a": 200, "cardiologist": 200},
        data=lambda w: {"contact": "fille@example.test"},
        api=True,
        tc=True,
    ),
    "GET /api/v1/teleconsultations/{act_id}/report.pdf": Case(
        "GET",
        tc_api("tc_done", "/report.pdf"),
        {"anonymous": 401, "nurse_a": 200, "cardiologist": 200, "nurse_b": 404, "observer": 404},
        api=True,
        tc=True,
    ),
    "GET /api/v1/regulation": Case(
        "GET", lambda w: "/api/v1/regulation", REGUL_LIST_API, api=True, rg=True
    ),
    "POST /api/v1/regulation": Case(
        "POST",
        lambda w: "/api/v1/regulation",
        {**REGUL_LIST_API, "regulator": 201},
        data=lambda w: {"caller_number": "0611223344", "reason": "Malaise"},
        api=True,
        rg=True,
    ),
    "GET /api/v1/regulation/{record_id}": Case(
        "GET", rg_api(), {**REGUL_READ, "anonymous": 401}, api=True, rg=True
    ),
    "PATCH /api/v1/regulation/{record_id}": Case(
        "PATCH",
        rg_api(),
        {**REGUL_READ, "anonymous": 401},
        data=lambda w: {"notes": "Rappel à 10 min"},
        api=True,
        rg=True,
    ),
    "POST /api/v1/regulation/{record_id}/video-link": Case(
        "POST",
        rg_api("/video-link"),
        {**REGUL_READ, "anonymous": 401, "regulator": 201},
        api=True,
        rg=True,
    ),
    "POST /api/v1/regulation/{record_id}/video-link/{link_id}/revoke": Case(
        "POST",
        lambda w: f"/api/v1/regulation/{w.record.pk}/video-link/{w.link.pk}/revoke",
        {**REGUL_READ, "anonymous": 401},
        api=True,
        rg=True,
    ),
}


# The FHIR facade (/fhir/r4/): the same wall as /api/v1/, refusals as OperationOutcomes.
FHIR_SEARCH = {"anonymous": 401, "nurse_a": 200, "nurse_b": 200, "observer": 403}
FHIR_DIRECTORY = {"anonymous": 401, "nurse_a": 200, "nurse_b": 200, "observer": 200}
FHIR_REPORT = {
    "anonymous": 401,
    "nurse_a": 200,
    "cardiologist": 200,
    "nurse_b": 404,
    "observer": 404,
}
FHIR_CONSENT = {
    "resourceType": "Consent",
    "id": "c",
    "status": "active",
    "scope": {"text": "treatment"},
    "category": [{"text": "consentement"}],
    "verification": [{"verified": True}],
}


def fhir(path: str) -> Callable[[World], str]:
    return lambda w: "/fhir/r4/" + path.format(w=w)


def fhir_case(path: str, expect: dict[str, int], **flags) -> Case:
    return Case("GET", fhir(path), expect, api=True, **flags)


def fhir_expertise(w: World) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "contained": [
            {
                "resourceType": "QuestionnaireResponse",
                "id": "form",
                "status": "completed",
                "item": [
                    {"linkId": "reason", "answer": [{"valueString": "Chutes"}]},
                    {"linkId": "treatment", "answer": [{"valueString": "Aucun"}]},
                ],
            },
            FHIR_CONSENT,
        ],
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"code": "geriatrie"}]},
        "subject": {"reference": f"Patient/{w.patient_a.pk}"},
        "reasonCode": [{"text": "Chutes répétées ?"}],
        "supportingInfo": [{"reference": "#form"}, {"reference": "#c"}],
    }


def fhir_appointment(w: World) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "contained": [FHIR_CONSENT],
        "start": w.slot_start.isoformat(),
        "description": "Essoufflement",
        "participant": [
            {"actor": {"reference": f"Patient/{w.patient_a.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{w.cardiologist.pk}"}, "status": "accepted"},
        ],
        "supportingInformation": [{"reference": "#c"}],
    }


def _measurement_id(w: World) -> int:
    from telesante.telesurveillance.models import Measurement

    return Measurement.objects.get(enrolment=w.enrolment).pk


FHIR_API: dict[str, Case] = {
    "GET /fhir/r4/metadata": fhir_case("metadata", {"anonymous": 200, "nurse_a": 200}),
    "POST /fhir/r4": Case(
        "POST",
        fhir(""),
        # a gateway's device token only (tests/fhir/test_observations.py)
        {"anonymous": 401, "operator": 401, "nurse_a": 401},
        data=lambda w: {"resourceType": "Bundle", "type": "transaction", "entry": []},
        api=True,
        tsv=True,
    ),
    "GET /fhir/r4/Patient": fhir_case("Patient?name=dorvane", FHIR_SEARCH),
    "GET /fhir/r4/Patient/{pk}": fhir_case(
        "Patient/{w.patient_a.pk}",
        {"anonymous": 401, "nurse_a": 200, "doctor_a": 200, "nurse_b": 404, "observer": 404},
    ),
    "GET /fhir/r4/Practitioner": fhir_case("Practitioner?name=nurse", FHIR_DIRECTORY),
    "GET /fhir/r4/Practitioner/{pk}": fhir_case("Practitioner/{w.nurse_a.pk}", FHIR_DIRECTORY),
    "GET /fhir/r4/PractitionerRole": fhir_case(
        "PractitionerRole?organization={w.ehpad_a.pk}", FHIR_DIRECTORY
    ),
    "GET /fhir/r4/PractitionerRole/{pk}": Case(
        "GET",
        lambda w: f"/fhir/r4/PractitionerRole/{w.nurse_a.memberships.get().pk}",
        FHIR_DIRECTORY,
        api=True,
    ),
    "GET /fhir/r4/Organization": fhir_case("Organization?name=tilleuls", FHIR_DIRECTORY),
    "GET /fhir/r4/Organization/{pk}": fhir_case("Organization/{w.ehpad_a.pk}", FHIR_DIRECTORY),
    "GET /fhir/r4/Observation": fhir_case(
        "Observation?patient={w.patient_a.pk}", FHIR_MEASUREMENTS, tsv=True
    ),
    "GET /fhir/r4/Observation/{pk}": Case(
        "GET",
        lambda w: f"/fhir/r4/Observation/{_measurement_id(w)}",
        FHIR_MEASUREMENTS,
        api=True,
        tsv=True,
    ),
    "GET /fhir/r4/ServiceRequest": fhir_case("ServiceRequest", FHIR_SEARCH, te=True),
    "POST /fhir/r4/ServiceRequest": Case(
        "POST",
        fhir("ServiceRequest"),
        {"anonymous": 401, "nurse_a": 201, "pharmacist_a": 403, "observer": 403, "nurse_b": 404},
        data=fhir_expertise,
        api=True,
        te=True,
    ),
    "GET /fhir/r4/ServiceRequest/{pk}": fhir_case(
        "ServiceRequest/{w.te.pk}",
        {
            "anonymous": 401,
            "nurse_a": 200,
            "wound_expert": 200,
            "derm_expert": 404,
            "nurse_b": 404,
            "observer": 404,
        },
        te=True,
    ),
    "GET /fhir/r4/Task": fhir_case("Task", FHIR_SEARCH, te=True),
    "GET /fhir/r4/Task/{pk}": fhir_case(
        "Task/{w.te_answered.pk}",
        {"anonymous": 401, "nurse_a": 200, "wound_expert": 200, "nurse_b": 404, "observer": 404},
        te=True,
    ),
    "GET /fhir/r4/Appointment": fhir_case("Appointment", FHIR_SEARCH, tc=True),
    "POST /fhir/r4/Appointment": Case(
        "POST",
        fhir("Appointment"),
        {"anonymous": 401, "nurse_a": 201, "nurse_b": 404, "observer": 403},
        data=fhir_appointment,
        api=True,
        tc=True,
    ),
    "GET /fhir/r4/Appointment/{pk}": fhir_case(
        "Appointment/{w.tc.pk}", {**TC_DETAIL, "anonymous": 401}, tc=True
    ),
    "GET /fhir/r4/DocumentReference": fhir_case("DocumentReference", FHIR_SEARCH, tc=True),
    "GET /fhir/r4/DocumentReference/{pk}": fhir_case(
        "DocumentReference/{w.tc_done.pk}", FHIR_REPORT, tc=True
    ),
    "GET /fhir/r4/Binary/{pk}": fhir_case("Binary/{w.tc_done.pk}", FHIR_REPORT, tc=True),
    "GET /fhir/r4/Consent": fhir_case(
        "Consent?patient=Patient/{w.patient_a.pk}",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 403},
    ),
    "GET /fhir/r4/Consent/{pk}": fhir_case(
        "Consent/{w.te.act.consent_id}",
        {"anonymous": 401, "nurse_a": 200, "nurse_b": 404, "observer": 404},
        te=True,
    ),
}
API |= FHIR_API


def add_tsv_objects(tsv: TSV) -> World:  # noqa: F811
    """patient_a monitored by w.operator's team on doctor_a's prescription, with an open alert."""
    w = tsv.w
    w.operator, w.other_operator, w.enrolment = tsv.operator, tsv.other_operator, tsv.enrolment
    send(tsv, ("m1", "spo2", 85, NOW))
    w.alert = tsv.enrolment.alerts.get()
    return w


def add_tc_objects(tc_world: TC) -> World:  # noqa: F811
    """A booked téléconsultation (w.tc), a finished one with its PDF (w.tc_done), a guest link
    (w.guest), the cardiologist's availability at the CH (w.availability, w.ch) and his first
    free slot (w.slot_start)."""
    from telesante.rooms import services as rooms
    from telesante.rooms.tokens import guest_value
    from telesante.teleconsultation import booking as tc_booking
    from telesante.teleconsultation import services as tc_services
    from telesante.teleconsultation.booking import feed_token
    from tests.rooms.conftest import booking

    w = tc_world.w
    w.cardiologist, w.tc, w.room_slug = (
        tc_world.cardiologist,
        tc_world.consultation,
        tc_world.room.slug,
    )
    done = tc_services.create(None, w.nurse_a, booking(w, tc_world.cardiologist))
    in_call(done, tc_world.cardiologist)
    w.tc_done = tc_services.save_report(None, tc_world.cardiologist, done, "RAS", finish=True)
    guest = rooms.create_guest_link(None, tc_world.cardiologist, tc_world.room, "Fille", "famille")
    w.guest, w.guest_value = guest, guest_value(guest.pk)
    w.feed_token = feed_token(tc_world.cardiologist)
    w.ch = tc_world.cardiologist.memberships.get().structure
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).weekday()
    w.availability = tc_booking.add_availability(
        None, tc_world.cardiologist, w.ch.pk, tomorrow, datetime.time(9), datetime.time(12)
    )
    w.slot_start = tc_booking.free_slots(tc_world.cardiologist)[0].start
    return w


def add_rg_objects(regul: RG) -> World:  # noqa: F811
    """SAMU 53's record (w.record) with a video link opened and consented (w.link) and a snapshot
    (w.media); a second record's link not yet opened (w.link_value); patient_a followed by the
    SAMU (the regulator may link them)."""
    from telesante.patients.models import PatientAttachment
    from telesante.regulation import services as regulation
    from tests.regulation.conftest import new_record

    w = regul.w
    w.regulator, w.regulator_b, w.assistant = regul.regulator, regul.regulator_b, regul.assistant
    w.record, w.samu = regul.record, regul.samu
    w.samu_admin = make_user(
        "admin.samu@example.test", structure=regul.samu, role=MembershipRole.ADMIN
    )
    PatientAttachment.objects.create(patient=w.patient_a, structure=regul.samu)
    _sent, value = regulation.send_video_link(None, regul.regulator, regul.record)
    w.link, _reason = regulation.open_link(value)
    regulation.answer_consent(w.link, True, "fr")
    w.media = regulation.file_media(None, w.link, jpeg(), "cliche", regul.regulator)
    _other, w.link_value = regulation.send_video_link(
        None, regul.regulator, new_record(w.regulator)
    )
    return w


def add_te_objects(te_world: TE) -> World:  # noqa: F811
    """Télé-expertise requests of patient_a by nurse_a, in three states, and extra roles."""
    t, w = te_world, te_world.w
    w.wound_expert, w.derm_expert = t.wound_expert, t.derm_expert
    w.pharmacist_a = make_user(
        "pharma.a@example.test", structure=w.ehpad_a, profession=Profession.PHARMACIST
    )
    w.te = services.create(None, w.nurse_a, wound_request(t))
    w.photo = w.te.act.attachments.get()
    w.te_claimed = services.claim(
        None, t.wound_expert, services.create(None, w.nurse_a, wound_request(t))
    )
    answered = services.claim(
        None, t.wound_expert, services.create(None, w.nurse_a, wound_request(t))
    )
    w.te_answered = services.answer(None, t.wound_expert, answered, "Avis", "", "none")
    return w


# The same objects built in each test (tests/e2e/test_axe.py: a live server needs them committed).
@pytest.fixture
def tsv_objects(tsv: TSV) -> World:  # noqa: F811
    return add_tsv_objects(tsv)


@pytest.fixture
def tc_objects(tc_world: TC) -> World:  # noqa: F811
    return add_tc_objects(tc_world)


@pytest.fixture
def rg_objects(regul: RG) -> World:  # noqa: F811
    return add_rg_objects(regul)


@pytest.fixture
def te_objects(te_world: TE) -> World:  # noqa: F811
    return add_te_objects(te_world)


# Each group of objects, in the order the cases' flags name them, with what builds it.
GROUPS = {
    "te": lambda w: add_te_objects(make_te_world(w)),
    "tsv": lambda w: add_tsv_objects(make_tsv(w)),
    "tc": lambda w: add_tc_objects(make_tc_world(w)),
    "rg": lambda w: add_rg_objects(make_regul(w)),
}


def needs(case: Case) -> tuple[str, ...]:
    return tuple(name for name in GROUPS if getattr(case, name))


class Rows:
    """The world and the objects of one group of cases, made once and kept (kept_rows) while
    the next tests need the same groups: ~1,000 cases would otherwise each make them again.
    Each test starts from these rows as they were made (its own savepoint, rolled back) and
    from its own copy of the World."""

    def __init__(self, django_db_blocker, media: Path) -> None:
        self.blocker, self.media = django_db_blocker, media
        self.groups: tuple[str, ...] | None = None
        self.kept: contextlib.ExitStack | None = None

    def world_for(self, groups: tuple[str, ...], monkeypatch, settings) -> World:
        if groups != self.groups:
            self.drop()
            self.kept = contextlib.ExitStack()
            self.kept.enter_context(kept_rows(self.blocker))
            # Bookings take the half hours after those of the kept rows (tests.rooms.conftest).
            slots = itertools.count(1)
            with (
                self.blocker.unblock(),
                override_settings(MEDIA_ROOT=self.media, **TEST_SETTINGS),
                pytest.MonkeyPatch.context() as patch,
            ):
                patch.setattr(rooms_conftest, "SLOTS", slots)
                make_territory()
                self.world = make_world()
                for name in groups:
                    GROUPS[name](self.world)
            self.groups, self.next_slot = groups, next(slots)
        monkeypatch.setattr(rooms_conftest, "SLOTS", itertools.count(self.next_slot))
        settings.MEDIA_ROOT = self.media
        return copy.deepcopy(self.world)

    def drop(self) -> None:
        if self.kept is not None:
            self.kept.close()
        self.groups = self.kept = None


@pytest.fixture(scope="module")
def kept(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Rows]:
    rows = Rows(django_db_blocker, tmp_path_factory.mktemp("matrix-media"))
    yield rows
    rows.drop()


@pytest.fixture
def kept_world(kept: Rows, request, monkeypatch, settings) -> World:
    """The kept rows of the groups the case needs (made before the test's savepoint)."""
    key = request.node.callspec.params["key"] if hasattr(request.node, "callspec") else None
    return kept.world_for(needs({**PAGES, **API}[key]) if key else (), monkeypatch, settings)


@pytest.fixture
def world(kept_world: World, db) -> World:
    return kept_world


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def _api_operations() -> set[str]:
    return {
        f"{method.upper()} {path}".rstrip("/")
        for ninja_api in (api, fhir_api)
        for path, ops in ninja_api.get_openapi_schema()["paths"].items()
        for method in ops
    }


def test_every_route_is_in_the_matrix():
    missing = []
    for route, name in _walk(get_resolver().url_patterns):
        if any(route.startswith(p) for p in EXEMPT_PREFIXES):
            continue
        if name not in PAGES:
            missing.append(route)
    missing += sorted(_api_operations() - set(API) - API_PUBLIC)
    assert not missing, f"routes without an access test: {missing}"


def test_the_matrix_names_only_real_routes():
    names = {name for _route, name in _walk(get_resolver().url_patterns)}
    assert set(PAGES) - names - {"admin:index"} == set()
    assert set(API) <= _api_operations()


def by_groups() -> list[tuple[str, Case]]:
    """The cases, those needing the same groups of objects next to each other (Rows)."""
    return sorted({**PAGES, **API}.items(), key=lambda item: needs(item[1]))


def _cases():
    for key, case in by_groups():
        for role, status in case.expect.items():
            yield pytest.param(key, role, status, id=f"{key}-{role}")


@pytest.mark.parametrize(("key", "role", "expected"), list(_cases()))
def test_access(world, key, role, expected):
    case = {**PAGES, **API}[key]
    user = None if role == "anonymous" else getattr(world, role)
    client = api_client(user) if case.api else logged_in(user)
    url = case.url(world)
    if case.method == "GET":
        response = client.get(url)
    elif case.method == "DELETE":
        response = client.delete(url)
    elif case.method in ("PUT", "PATCH"):
        send = client.put if case.method == "PUT" else client.patch
        response = send(url, case.data(world), content_type="application/json")
    elif case.api and not case.multipart:
        response = client.post(url, case.data(world), content_type="application/json")
    else:
        response = client.post(url, case.data(world))
    assert response.status_code == expected, response.content[:300]
    if role == "anonymous" and not case.api and expected == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):  # the admin's login hands over to ours
            location = client.get(location)["Location"]
        assert location.startswith("/compte/login/")


def test_other_structure_search_does_not_list_foreign_patients(world):
    page = logged_in(world.nurse_b).get(reverse("patient_list"), {"q": "dorvane"})
    assert page.status_code == 200
    assert "DORVANE" not in page.content.decode()
    api_list = api_client(world.nurse_b).get("/api/v1/patients?q=dorvane").json()
    assert api_list == []
    own = api_client(world.nurse_a).get("/api/v1/patients?q=dorvane").json()
    assert [p["id"] for p in own] == [world.patient_a.pk]


def test_api_schema_and_docs_are_public(db):
    assert api_client(None).get("/api/v1/openapi.json").status_code == 200


# Care teams: every page and API read of one object (act, patient, document, room, enrolment,
# alert) that a member of a structure gets is a 404 for a colleague of the same structure in
# another team. Objects of the structure itself (its page, its journal, its deployment) are not
# patient data and stay the structure's.
STRUCTURE_OBJECTS = {
    "structure_detail",
    "structure_audit",
    "staff_activity",  # the structure's professionals, no patient data
    "structure_staff",  # the same, for its administrators (a member of another team: 403)
    "GET /api/v1/structures/{structure_id}/staff",
    "deployment_site",
    "teleconsultation_feed",  # a professional's own agenda, by its secret token
    "room_guest",  # a guest's signed link, not an account
    "regulation_caller_open",  # the caller's single-use SMS link, not an account
    "search_professionals",  # a search of the directory's professionals, no patient data
    # the directory as FHIR resources: professionals, their memberships, structures
    "GET /fhir/r4/Practitioner/{pk}",
    "GET /fhir/r4/PractitionerRole/{pk}",
    "GET /fhir/r4/Organization/{pk}",
}
OBJECT_ROUTE = ("<int:", "<slug:", "<str:", "{")


def _object_reads():
    routes = {name: route for route, name in _walk(get_resolver().url_patterns)}
    for key, case in by_groups():
        route = key if case.api else routes.get(key, "")
        if case.method != "GET" or key in STRUCTURE_OBJECTS:
            continue
        if not any(marker in route for marker in OBJECT_ROUTE):
            continue
        for role, status in case.expect.items():
            if status == 200 and role not in {"anonymous", "observer", "regional_admin"}:
                yield pytest.param(key, role, id=f"{key}-{role}")


def other_team_colleague(user):
    """A colleague of `user` in each of their structures, in a team of its own there, with the
    same profession and no specialty (so no filière pool either)."""
    colleague = make_user(f"autre.equipe.{user.pk}@example.test", profession=user.profession)
    for structure in policy.member_structures(user):
        team = Team.objects.create(structure=structure, name=f"Autre équipe {user.pk}")
        Membership.objects.create(user=colleague, team=team)
    return colleague


@pytest.mark.parametrize(("key", "role"), list(_object_reads()))
def test_other_team_of_the_structure_gets_404(world, key, role):
    case = {**PAGES, **API}[key]
    user = getattr(world, role)
    url = case.url(world)
    client = api_client if case.api else logged_in
    assert client(user).get(url).status_code == 200
    colleague = other_team_colleague(user)
    assert policy.member_structures(colleague).exists()
    assert client(colleague).get(url).status_code == 404, url
