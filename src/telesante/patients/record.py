"""The patient's page as a professional sees it: the acts of every kind they may see (through
`policy.visible_acts` only), their reports, the monitorings, and what the user may do on each.

A patient followed for years has many acts: they come a page at a time, in a fixed number of
queries whatever the page holds, and every act listed is audited.
"""

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse

from telesante.acts.models import Act
from telesante.core import audit, policy
from telesante.core.models import AuditAction
from telesante.patients.models import ActKind, Patient
from telesante.rooms.services import CLOSED_STATUSES
from telesante.telesurveillance import enrolment as monitoring
from telesante.telesurveillance.models import Enrolment

ACTS_PER_PAGE = 20
# Acts with a video room (a téléassistance act joins the room of the act it assists).
ROOM_KINDS = {ActKind.TELECONSULTATION, ActKind.TELESOIN, ActKind.TELEASSISTANCE}


@dataclass
class ActRow:
    act: Act
    when: datetime.datetime
    summary: str  # the reason, the filière or the programme
    forfait_month: datetime.date | None  # an opérateur's monthly forfait (télésurveillance)
    open_url: str
    report_url: str
    room_url: str


@dataclass
class MonitoringRow:
    enrolment: Enrolment
    open_url: str
    report_url: str


@dataclass
class PatientRecord:
    page: Page
    acts: list[ActRow]
    monitorings: list[MonitoringRow]


def _visible_acts(user, patient: Patient) -> QuerySet[Act]:
    # Plain pk IN (the wall's query): ordering and joins stay off the wall's DISTINCT.
    return Act.objects.filter(pk__in=policy.visible_acts(user).filter(patient=patient).values("pk"))


def _room_url(act: Act) -> str:
    details = getattr(act, "teleconsultation", None)
    room = details.assists.room if details and details.assists_id else getattr(act, "room", None)
    if room is None or room.closed_at is not None or act.status in CLOSED_STATUSES:
        return ""
    return reverse("room", args=[room.slug])


def _act_row(act: Act, party: set[int], followed: set[int]) -> ActRow:
    """Where the act opens, its report PDF and the room to join, for this user."""
    summary, forfait_month, open_url, report_url, room_url = "", None, "", "", ""
    if act.kind in ROOM_KINDS:
        details = getattr(act, "teleconsultation", None)
        summary = details.reason if details else ""
        open_url = reverse("teleconsultation_detail", args=[act.pk]) if details else ""
        if act.report and details:
            report_url = reverse("teleconsultation_report", args=[act.pk])
        if act.pk in party:
            room_url = _room_url(act)
    elif act.kind == ActKind.TELEEXPERTISE:
        summary = act.filiere.name if act.filiere else ""
        if getattr(act, "teleexpertise", None):
            open_url = reverse("teleexpertise_detail", args=[act.pk])
            if act.report:
                report_url = reverse("teleexpertise_report", args=[act.pk])
    elif act.kind == ActKind.TELESURVEILLANCE:
        enrolment, forfait = getattr(act, "telesurveillance", None), getattr(act, "forfait", None)
        enrolment_id = enrolment.pk if enrolment else (forfait.enrolment_id if forfait else None)
        if enrolment:
            summary = enrolment.programme.name
        if forfait:
            forfait_month = forfait.month
        if enrolment_id in followed:
            open_url = reverse("telesurveillance_patient", args=[enrolment_id])
            if enrolment and act.report:
                report_url = reverse("telesurveillance_report", args=[enrolment_id])
    return ActRow(act, act.when, summary, forfait_month, open_url, report_url, room_url)


def patient_record(request: HttpRequest, user, patient: Patient, page_number) -> PatientRecord:
    """One page of the patient's acts visible to `user`, newest first, and their monitorings;
    every act shown is audited."""
    acts = (
        _visible_acts(user, patient)
        .select_related(
            "filiere",
            "requester",
            "room",
            "teleconsultation__assists__room",
            "teleexpertise",
            "telesurveillance__programme",
            "forfait",
        )
        .prefetch_related("performers")
        .annotate(when=Coalesce("teleconsultation__scheduled_at", "requested_at", "created_at"))
        .order_by("-when", "-pk")
    )
    page = Paginator(acts, ACTS_PER_PAGE).get_page(page_number)
    shown = list(page.object_list)
    enrolments = list(
        Enrolment.objects.filter(act__in=_visible_acts(user, patient))
        .select_related("act", "programme", "team", "operator")
        .order_by("-starts_on", "-pk")
    )
    # Two questions for the whole page: which acts the user is party to (the room is theirs)
    # and which monitorings their team or prescription lets them open.
    party = set(
        policy.party_acts(user).filter(pk__in=[a.pk for a in shown]).values_list("pk", flat=True)
    )
    followed_ids = {e.pk for e in enrolments} | {
        f.enrolment_id for a in shown if (f := getattr(a, "forfait", None))
    }
    followed = set(
        monitoring.visible(user).filter(pk__in=followed_ids).values_list("pk", flat=True)
    )
    listed = {a.pk: a for a in shown} | {e.act.pk: e.act for e in enrolments}
    audit.record(request, user, AuditAction.SEARCH, listed.values(), detail="dossier du patient")
    return PatientRecord(
        page=page,
        acts=[_act_row(a, party, followed) for a in shown],
        monitorings=[
            MonitoringRow(
                e,
                reverse("telesurveillance_patient", args=[e.pk]) if e.pk in followed else "",
                reverse("telesurveillance_report", args=[e.pk])
                if e.pk in followed and e.act.report
                else "",
            )
            for e in enrolments
        ],
    )
