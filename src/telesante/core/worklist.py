"""The work list of the home page: what each person has to do now, computed from the data.

Each section reads through the wall (`core.policy`) and the services of its app; a section
appears when the user has something in it. The whole list costs a constant number of queries
(each section shows its first SECTION_SIZE lines and links to its full, paged list) and every
patient listed is audited."""

import datetime
import functools
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from telesante.accounts.models import User
from telesante.acts.models import Act, ActKind, ActStatus
from telesante.core import audit, policy, prepared
from telesante.core.models import AuditAction
from telesante.deployment import services as deployment
from telesante.deployment.models import Milestone, SiteDeployment
from telesante.notifications.models import Notification
from telesante.patients.models import Patient
from telesante.rooms import services as rooms
from telesante.teleconsultation import services as teleconsultation
from telesante.teleconsultation.models import TeleConsultation
from telesante.teleexpertise import services as teleexpertise
from telesante.teleexpertise.models import Decline, Message, State, TeleExpertise, Urgency
from telesante.telesurveillance import alerts as tsv_alerts
from telesante.telesurveillance.models import Alert, Enrolment, Severity

Reads = dict[str, prepared.Read]  # a section's statements, by name

SECTION_SIZE = 10
ENDING_DAYS = 14  # a monitoring ending within two weeks: renew it or write the final report
EXCERPT = 140


@dataclass
class Line:
    """One thing to do; the line opens it."""

    url: str
    title: str
    note: str = ""
    patient: object = None
    when: datetime.datetime | datetime.date | None = None
    when_label: str = ""
    tone: str = ""  # "critical", "urgent" or "" (the line's mark)
    action: str = ""  # a button beside the line (join the room)
    action_url: str = ""
    audited: object = None  # the object read (an act, an alert): its patient goes to the trail

    @property
    def when_text(self) -> str:
        """A date and time, or a date, the local way."""
        if isinstance(self.when, datetime.datetime):
            return date_format(timezone.localtime(self.when), "SHORT_DATETIME_FORMAT")
        return date_format(self.when, "SHORT_DATE_FORMAT") if self.when else ""


@dataclass
class Section:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)
    more: bool = False  # more lines than shown: the full list is at all_url
    all_url: str = ""


def _cut(section: Section, lines: list[Line]) -> Section:
    section.lines, section.more = lines[:SECTION_SIZE], len(lines) > SECTION_SIZE
    return section


def _local_time(when: datetime.datetime) -> str:
    return time_format(timezone.localtime(when), "H:i")


# A key no URL holds otherwise: reversed once, it shows where each line's key goes. The
# script prefix and the URLconf, which reverse() reads itself, key the caches below.
_STAND_IN = 918273645


@functools.lru_cache(maxsize=64)
def _around_key(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    before, after = reverse(name, args=[_STAND_IN], urlconf=urlconf).split(str(_STAND_IN))
    return before, after


@functools.lru_cache(maxsize=64)
def _reversed(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, urlconf=urlconf)


def _url(name: str, key: int | str | None = None) -> str:
    """`reverse(name, args=[key])` for a key of digits or a slug: Django matches the name's
    patterns on every call (24 µs, 0.3 ms for a page of lines); here once a process and
    name, the lines' keys written where the stand-in's stood."""
    where = (name, get_script_prefix(), get_urlconf())
    if key is None:
        return _reversed(*where)
    before, after = _around_key(*where)
    return f"{before}{key}{after}"


def _excerpt(text: str) -> str:
    # Truncator reads the text character by character (11 µs a line): a short one needs none.
    return text if len(text) <= EXCERPT else Truncator(text).chars(EXCERPT)


def _te_url(pk: int) -> str:
    return _url("teleexpertise_detail", pk)


# The patient and the act of a row (its "act__…" columns): shown, and sent to the audit trail.
PATIENT_COLUMNS = ("act__patient_id", "act__patient__birth_name", "act__patient__first_names")


def _patient(row: dict, prefix: str = "act__") -> Patient:
    # from_db: a row's few columns, the others deferred (the constructor filled every field's
    # default, 30-50 µs an instance).
    return Patient.from_db(
        None,
        ["id", "birth_name", "first_names"],
        [
            row[f"{prefix}{column}"]
            for column in ("patient_id", "patient__birth_name", "patient__first_names")
        ],
    )


def _act(pk: int, row: dict) -> Act:
    return Act.from_db(None, ["id", "patient_id"], [pk, row["act__patient_id"]])


def _claimed_by(row: dict) -> User:
    return User(
        first_name=row["claimed_by__first_name"],
        last_name=row["claimed_by__last_name"],
        email=row["claimed_by__email"],
    )


def _latest(model, column: str) -> Subquery:
    """A column of the latest row of a request's thread (Message) or declines (Decline)."""
    return Subquery(
        model.objects.filter(teleexpertise=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values(column)[:1]
    )


# Urgent first, then by deadline.
_EXPERT_ORDER = (
    Case(When(urgency=Urgency.URGENT, then=0), default=1),
    F("act__due_at").asc(nulls_last=True),
    "pk",
)


def _expert_rows(v: SimpleNamespace) -> QuerySet:
    # The keys of the section's lines through the inbox (its UNION), as an array read first
    # (`prepared.any_of`), then their rows: with the inbox as a subquery PostgreSQL joined every
    # request to its act before meeting the UNION (1-2 s for the wound-care expert), and with
    # the open requests as the array, their 389 rows with their joins before sorting them.
    keys = (
        teleexpertise.open_requests(v.ids, v.me)
        .exclude(state=State.WAITING_INFO)
        .order_by(*_EXPERT_ORDER)
        .values("pk")[: SECTION_SIZE + 1]
    )
    return (
        TeleExpertise.objects.filter(prepared.any_of("pk", keys))
        .annotate(last_author=_latest(Message, "author"))
        .order_by(*_EXPERT_ORDER)
        .values(
            "pk",
            "state",
            "urgency",
            "last_author",
            "act__due_at",
            "act__filiere__name",
            "act__requesting_structure__name",
            *PATIENT_COLUMNS,
        )
    )


def expert_reads(user) -> Reads:
    if not user.specialty:
        return {}
    ids = teleexpertise.open_inbox_ids(user)
    return {"expert": prepared.Read(_expert_rows, {"ids": ids, "me": user.pk})}


def expert_section(user, rows: list[dict]) -> Section:
    """Open requests addressed to the expert or their pool, urgent first, then by deadline; a
    request whose requester answered the expert's question says so. A question still waiting
    for the requester is not the expert's to do."""
    section = Section(
        "expert",
        _("Demandes de télé-expertise à traiter"),
        all_url=_url("teleexpertise_list") + "?box=inbox",
    )
    now = timezone.now()
    lines = []
    for row in rows:
        urgent, due = row["urgency"] == Urgency.URGENT, row["act__due_at"]
        if row["state"] == State.POOLED and urgent:
            title = _("Nouvelle demande urgente")
        elif row["state"] == State.POOLED:
            title = _("Nouvelle demande")
        elif row["last_author"] not in (None, user.pk):
            title = _("Le demandeur a répondu à votre question")
        else:
            title = _("Avis à rendre")
        overdue = due is not None and due < now
        lines.append(
            Line(
                url=_te_url(row["pk"]),
                title=title,
                note=f"{row['act__filiere__name']} · {row['act__requesting_structure__name']}",
                patient=_patient(row),
                when=due,
                when_label=_("en retard, échéance") if overdue else _("échéance"),
                tone="urgent" if urgent or overdue else "",
                audited=_act(row["pk"], row),
            )
        )
    return _cut(section, lines)


def _waiting_requests(v: SimpleNamespace) -> QuerySet:
    # The user's own requests (in their outbox by definition) that wait for them, found by
    # three index-driven arms (by state, or by the unread notifications): an OR would have the
    # planner walk every act by deadline to keep the user's few.
    unread_acts = Notification.objects.filter(user_id=v.me, read_at__isnull=True).values("act")
    declined = Exists(Decline.objects.filter(teleexpertise=OuterRef("pk")))
    mine = TeleExpertise.objects.filter(act__requester_id=v.me)
    return (
        # The act's status mirrors the state: the requester's open acts are an index range
        # (acts.act_requester_open) where the state alone joined all of their requests.
        mine.filter(state=State.WAITING_INFO, act__status=ActStatus.WAITING_INFO)
        .values("pk")
        .union(
            mine.filter(declined, state=State.POOLED).values("pk"),
            mine.filter(state=State.ANSWERED, act__in=unread_acts).values("pk"),
        )
    )


def _requester_rows(v: SimpleNamespace) -> QuerySet:
    # The UNION's few keys as an array read first (`prepared.any_of`): as a subquery it would be
    # joined last, after every request (join_collapse_limit keeps the joins in their order).
    return (
        TeleExpertise.objects.filter(prepared.any_of("pk", _waiting_requests(v)))
        .annotate(
            last_message=_latest(Message, "body"),
            last_decline=_latest(Decline, "reason"),
        )
        .values(
            "pk",
            "state",
            "last_message",
            "last_decline",
            "act__filiere__name",
            "claimed_by",
            "claimed_by__first_name",
            "claimed_by__last_name",
            "claimed_by__email",
            *PATIENT_COLUMNS,
        )
        .order_by(  # the expert's questions first, then the declines, then the answers
            Case(
                When(state=State.WAITING_INFO, then=0), When(state=State.POOLED, then=1), default=2
            ),
            "act__due_at",
            "pk",
        )[: SECTION_SIZE + 1]
    )


def requester_reads(user) -> Reads:
    if not teleexpertise.may_request(user):
        return {}
    return {"requests": prepared.Read(_requester_rows, {"me": user.pk})}


def requester_section(user, rows: list[dict]) -> Section:
    """The user's own requests that need them: a question from the expert, an answer they have
    not read yet (its notification is unread), a decline with its reason."""
    section = Section(
        "requests",
        _("Mes demandes de télé-expertise"),
        all_url=_url("teleexpertise_list") + "?box=outbox",
    )
    lines = []
    for row in rows:
        if row["state"] == State.WAITING_INFO:
            title, note = _("Question de l'expert"), row["last_message"] or ""
        elif row["state"] == State.POOLED:
            title = _("Demande déclinée, retournée au groupe d'experts")
            note = _("Motif : %(reason)s") % {"reason": row["last_decline"]}
        else:
            title = _("Nouvelle réponse de l'expert")
            note = str(_claimed_by(row)) if row["claimed_by"] is not None else ""
        lines.append(
            Line(
                url=_te_url(row["pk"]),
                title=title,
                note=" — ".join(filter(None, [row["act__filiere__name"], _excerpt(note)])),
                patient=_patient(row),
                tone="urgent" if row["state"] == State.WAITING_INFO else "",
                audited=_act(row["pk"], row),
            )
        )
    return _cut(section, lines)


def _room_state(presences: list) -> tuple[str, str]:
    """What the room says now: who waits and since when, or the call in progress."""
    waiting = [p for p in presences if p.admitted_rank is None]
    if waiting:
        first = waiting[0]
        text = _("%(who)s en attente depuis %(time)s") % {
            "who": first.label,
            "time": _local_time(first.joined_at),
        }
        if len(waiting) > 1:
            text += " " + _("(et %(n)d autre(s))") % {"n": len(waiting) - 1}
        return text, "urgent"
    if presences:
        return _("Appel en cours (%(n)d connecté(s))") % {"n": len(presences)}, ""
    return _("Salle vide"), ""


def _consultation_rows(v: SimpleNamespace) -> QuerySet:
    return (
        TeleConsultation.objects.filter(
            act__in=Act.objects.filter(pk__in=v.acts).values("pk"),  # the wall's shape
            scheduled_at__gte=v.start,
            scheduled_at__lt=v.end,
        )
        .exclude(act__status__in=[ActStatus.DONE, ActStatus.NOT_DONE, ActStatus.CANCELLED])
        .values(
            "pk",
            "scheduled_at",
            "assists",
            "act__kind",
            "act__room__pk",
            "act__room__slug",
            "assists__room__pk",
            "assists__room__slug",
            *PATIENT_COLUMNS,
        )
        .order_by("scheduled_at", "pk")[: SECTION_SIZE + 1]
    )


def _room(row: dict) -> tuple[int, str]:
    """The room of the act (a téléassistance act joins the room of the act it assists)."""
    prefix = "assists__" if row["assists"] is not None else "act__"
    if row[f"{prefix}room__pk"] is None:  # a room is made when first needed
        room = rooms.room_for_act(Act.objects.get(pk=row["assists"] or row["pk"]))
        return room.pk, room.slug
    return row[f"{prefix}room__pk"], row[f"{prefix}room__slug"]


def consultation_reads(user) -> Reads:
    if not policy.may_handle_patients(user):
        return {}
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time()))
    # Acts of colleagues of the same structure stay on the act list: here, the user's own.
    acts = policy.party_act_ids(user, teleconsultation.KINDS)
    values = {"acts": acts, "start": start, "end": start + datetime.timedelta(days=2)}
    return {"consultations": prepared.Read(_consultation_rows, values)}


def consultation_section(user, rows: list[dict]) -> Section:
    """Today's and tomorrow's acts the user takes part in, with who waits in their room."""
    section = Section(
        "consultations",
        _("Téléconsultations d'aujourd'hui et de demain"),
        all_url=_url("teleconsultation_list"),
    )
    today = timezone.localdate()
    room_of = {row["pk"]: _room(row) for row in rows}
    present = rooms.presences([pk for pk, _slug in room_of.values()]) if room_of else {}
    lines = []
    for row in rows:
        room_pk, slug = room_of[row["pk"]]
        state, tone = _room_state(present.get(room_pk, []))
        when = row["scheduled_at"]
        day = _("aujourd'hui") if timezone.localtime(when).date() == today else None
        lines.append(
            Line(
                url=_url("teleconsultation_detail", row["pk"]),
                title=_("%(kind)s %(day)s à %(time)s")
                % {
                    "kind": ActKind(row["act__kind"]).label,
                    "day": day or _("demain"),
                    "time": _local_time(when),
                },
                note=state,
                patient=_patient(row),
                tone=tone,
                action=_("Rejoindre la salle"),
                action_url=_url("room", slug),
                audited=_act(row["pk"], row),
            )
        )
    return _cut(section, lines)


def _alert_rows(v: SimpleNamespace) -> QuerySet:
    return (
        Alert.objects.filter(
            enrolment__in=Act.objects.filter(pk__in=v.monitorings).values("pk"),
            state__in=tsv_alerts.LIVE,
            enrolment__team__in=v.teams,
        )
        .values(
            "pk",
            "enrolment",
            "severity",
            "message",
            "opened_at",
            "patient_id",
            "patient__birth_name",
            "patient__first_names",
        )
        .order_by("-severity", "opened_at", "pk")[: SECTION_SIZE + 1]
    )


def _flagged_rows(v: SimpleNamespace) -> QuerySet:
    return (
        Enrolment.objects.filter(pk__in=v.enrolments)
        .filter(Q(ends_on__lte=v.soon) | ~Q(adherence_flag=""))
        .values("pk", "ends_on", "adherence_flag", "programme__name", *PATIENT_COLUMNS)
        .order_by("ends_on", "pk")[: SECTION_SIZE + 1]
    )


def _soon() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=ENDING_DAYS)


def monitoring_reads(user) -> Reads:
    if not policy.may_handle_patients(user):
        return {}
    monitorings = policy.visible_act_ids(user, [ActKind.TELESURVEILLANCE])
    teams = policy.compiled(user, ("teams",), lambda who: policy.member_teams(who).values("pk"))
    enrolments = policy.compiled(
        user, ("team enrolments",), lambda who: tsv_alerts.team_enrolments(who).values("pk")
    )
    return {
        "alerts": prepared.Read(_alert_rows, {"monitorings": monitorings, "teams": teams}),
        "flagged": prepared.Read(_flagged_rows, {"enrolments": enrolments, "soon": _soon()}),
    }


def monitoring_section(user, live: list[dict], flagged: list[dict]) -> Section:
    """Live alerts of the user's opérateur teams, worst first; then the monitorings ending soon
    or flagged under 50 % adherence."""
    section = Section("monitoring", _("Télésurveillance"), all_url=_url("telesurveillance_board"))
    soon = _soon()
    lines = [
        Line(
            url=_url("telesurveillance_patient", alert["enrolment"]),
            title=_("Alerte %(severity)s")
            % {"severity": Severity(alert["severity"]).label.lower()},
            note=alert["message"],
            patient=_patient(alert, ""),
            when=alert["opened_at"],
            when_label=_("depuis"),
            tone={Severity.CRITICAL: "critical", Severity.HIGH: "urgent"}.get(
                alert["severity"], ""
            ),
            audited=Alert.from_db(None, ["id", "patient_id"], [alert["pk"], alert["patient_id"]]),
        )
        for alert in live
    ]
    for row in flagged:
        ending = row["ends_on"] <= soon
        flag = row["adherence_flag"]
        lines.append(
            Line(
                url=_url("telesurveillance_patient", row["pk"]),
                title=_("Fin du suivi proche") if ending else _("Observance sous 50 %"),
                note=row["programme__name"] + (f" — {flag}" if flag else ""),
                patient=_patient(row),
                when=row["ends_on"] if ending else None,
                when_label=_("fin le"),
                audited=_act(row["pk"], row),
            )
        )
    return _cut(section, lines)


def _site_rows(v: SimpleNamespace) -> QuerySet:
    mine = Q(officer_id=v.me) | Q(structure__in=v.administered)
    return (
        SiteDeployment.objects.filter(mine)
        .values(
            "pk",
            "structure__name",
            "milestones__step",
            "milestones__planned_on",
            "milestones__done_on",
        )
        .order_by("pk")
    )


def deployment_reads(user) -> Reads:
    administered = policy.compiled(
        user,
        ("administered",),
        lambda who: policy.administered_structures(who).order_by().values("pk"),
    )
    return {"sites": prepared.Read(_site_rows, {"me": user.pk, "administered": administered})}


def deployment_section(user, rows: list[dict]) -> Section:
    """The next milestone of each site the user administers or follows as support officer,
    the nearest planned date first."""
    section = Section("deployment", _("Déploiement de mes sites"))
    sites: dict[int, tuple[str, list[Milestone]]] = {}
    for row in rows:
        _name, milestones = sites.setdefault(row["pk"], (row["structure__name"], []))
        if row["milestones__step"] is not None:
            milestones.append(
                Milestone(
                    step=row["milestones__step"],
                    planned_on=row["milestones__planned_on"],
                    done_on=row["milestones__done_on"],
                )
            )
    if not sites:  # no section: whether the user may see the overview needs no query
        return section
    may_view = deployment.may_view(user)
    section.all_url = _url("deployment_overview") if may_view else ""
    today = timezone.localdate()
    found = []
    for structure_id, (name, milestones) in sites.items():
        todo = [
            (label, m) for _v, label, m in deployment.steps_of(milestones) if not m or not m.done_on
        ]
        if not todo:  # every step done: nothing left to plan
            continue
        label, milestone = todo[0]
        planned = milestone.planned_on if milestone else None
        late = planned is not None and planned < today
        url = "deployment_site" if may_view else "structure_detail"
        found.append(
            Line(
                url=_url(url, structure_id),
                title=name,
                note=_("Prochaine étape : %(step)s") % {"step": label},
                when=planned,
                when_label=_("en retard, prévue le") if late else _("prévue le"),
                tone="urgent" if late else "",
            )
        )
    found.sort(key=lambda line: (line.when is None, line.when or today, line.title))
    return _cut(section, found)


# Each section: what it reads for the user (none: not theirs), and its lines from those rows.
SECTIONS = (
    (expert_reads, expert_section),
    (requester_reads, requester_section),
    (consultation_reads, consultation_section),
    (monitoring_reads, monitoring_section),
    (deployment_reads, deployment_section),
)


def build(request: HttpRequest | None, user) -> list[Section]:
    """The user's work list: the sections with something in them, every patient audited. The
    sections' rows are read by one statement (`prepared.together`)."""
    reads_of = [(reads(user), make) for reads, make in SECTIONS]
    everything = {name: read for reads, _make in reads_of for name, read in reads.items()}
    rows = prepared.together(("worklist",), everything, generic_plan=True)
    sections = [make(user, *(rows[name] for name in reads)) for reads, make in reads_of if reads]
    sections = [s for s in sections if s.lines]
    read = [line.audited for s in sections for line in s.lines if line.audited is not None]
    if read:
        audit.record(request, user, AuditAction.SEARCH, read, detail="liste de travail")
    return sections
