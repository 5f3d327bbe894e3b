"""The work list of the home page: what each person has to do now, computed from the data.

Each section reads through the wall (`core.policy`) and the services of its app; a section
appears when the user has something in it. The whole list costs a constant number of queries
(each section shows its first SECTION_SIZE lines and links to its full, paged list) and every
patient listed is audited."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from telesante.acts.models import ActStatus
from telesante.core import audit, paging, policy
from telesante.core.models import AuditAction
from telesante.deployment import services as deployment
from telesante.deployment.models import SiteDeployment
from telesante.notifications.models import Notification
from telesante.rooms import services as rooms
from telesante.teleconsultation import services as teleconsultation
from telesante.teleexpertise import services as teleexpertise
from telesante.teleexpertise.models import Decline, Message, State, TeleExpertise, Urgency
from telesante.telesurveillance import alerts as tsv_alerts
from telesante.telesurveillance.models import Severity

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


def _te_url(te: TeleExpertise) -> str:
    return reverse("teleexpertise_detail", args=[te.pk])


def _latest(model, column: str) -> Subquery:
    """A column of the latest row of a request's thread (Message) or declines (Decline)."""
    return Subquery(
        model.objects.filter(teleexpertise=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values(column)[:1]
    )


def expert_section(user) -> Section:
    """Open requests addressed to the expert or their pool, urgent first, then by deadline; a
    request whose requester answered the expert's question says so. A question still waiting
    for the requester is not the expert's to do."""
    section = Section(
        "expert",
        _("Demandes de télé-expertise à traiter"),
        all_url=reverse("teleexpertise_list") + "?box=inbox",
    )
    if not user.specialty:
        return section
    urgent_first = Case(When(urgency=Urgency.URGENT, then=0), default=1)
    items = (
        teleexpertise.open_inbox(user)
        .exclude(state=State.WAITING_INFO)
        .annotate(last_author=_latest(Message, "author"))
        .select_related("act__patient", "act__filiere", "act__requesting_structure")
        .order_by(urgent_first, F("act__due_at").asc(nulls_last=True), "pk")
    )
    now = timezone.now()
    lines = []
    for te in items[: SECTION_SIZE + 1]:
        if te.state == State.POOLED and te.urgency == Urgency.URGENT:
            title = _("Nouvelle demande urgente")
        elif te.state == State.POOLED:
            title = _("Nouvelle demande")
        elif te.last_author not in (None, user.pk):
            title = _("Le demandeur a répondu à votre question")
        else:
            title = _("Avis à rendre")
        overdue = te.act.due_at is not None and te.act.due_at < now
        lines.append(
            Line(
                url=_te_url(te),
                title=title,
                note=f"{te.act.filiere.name} · {te.act.requesting_structure.name}",
                patient=te.act.patient,
                when=te.act.due_at,
                when_label=_("en retard, échéance") if overdue else _("échéance"),
                tone="urgent" if te.urgency == Urgency.URGENT or overdue else "",
                audited=te.act,
            )
        )
    return _cut(section, lines)


def requester_section(user) -> Section:
    """The user's own requests that need them: a question from the expert, an answer they have
    not read yet (its notification is unread), a decline with its reason."""
    section = Section(
        "requests",
        _("Mes demandes de télé-expertise"),
        all_url=reverse("teleexpertise_list") + "?box=outbox",
    )
    if not teleexpertise.may_request(user):
        return section
    unread_acts = Notification.objects.filter(user=user, read_at__isnull=True).values("act")
    declined = Exists(Decline.objects.filter(teleexpertise=OuterRef("pk")))
    # The user's own requests (in their outbox by definition) that wait for them, found by
    # three index-driven arms (by state, or by the unread notifications): an OR would have the
    # planner walk every act by deadline to keep the user's few.
    mine = TeleExpertise.objects.filter(act__requester=user)
    waiting = list(
        mine.filter(state=State.WAITING_INFO)
        .values_list("pk", flat=True)
        .union(
            mine.filter(declined, state=State.POOLED).values_list("pk", flat=True),
            mine.filter(state=State.ANSWERED, act__in=unread_acts).values_list("pk", flat=True),
        )
    )
    items = list(
        TeleExpertise.objects.filter(pk__in=waiting)
        .annotate(
            last_message=_latest(Message, "body"),
            last_decline=_latest(Decline, "reason"),
        )
        .select_related("act__patient", "act__filiere", "claimed_by")
        .order_by(  # the expert's questions first, then the declines, then the answers
            Case(
                When(state=State.WAITING_INFO, then=0), When(state=State.POOLED, then=1), default=2
            ),
            "act__due_at",
            "pk",
        )[: SECTION_SIZE + 1]
    )
    lines = []
    for te in items:
        if te.state == State.WAITING_INFO:
            title, note = _("Question de l'expert"), te.last_message or ""
        elif te.state == State.POOLED:
            title = _("Demande déclinée, retournée au groupe d'experts")
            note = _("Motif : %(reason)s") % {"reason": te.last_decline}
        else:
            title = _("Nouvelle réponse de l'expert")
            note = str(te.claimed_by or "")
        lines.append(
            Line(
                url=_te_url(te),
                title=title,
                note=" — ".join(
                    filter(None, [te.act.filiere.name, Truncator(note).chars(EXCERPT)])
                ),
                patient=te.act.patient,
                tone="urgent" if te.state == State.WAITING_INFO else "",
                audited=te.act,
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


def consultation_section(user) -> Section:
    """Today's and tomorrow's acts the user takes part in, with who waits in their room."""
    section = Section(
        "consultations",
        _("Téléconsultations d'aujourd'hui et de demain"),
        all_url=reverse("teleconsultation_list"),
    )
    if not policy.may_handle_patients(user):
        return section
    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    end = start + datetime.timedelta(days=2)
    # Acts of colleagues of the same structure stay on the act list: here, the user's own.
    items = paging.rows_of(  # keys through the wall, then rows with their joins
        teleconsultation.listing(user, party_only=True)
        .filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .exclude(act__status__in=[ActStatus.DONE, ActStatus.NOT_DONE, ActStatus.CANCELLED])
        .order_by("scheduled_at", "pk"),
        0,
        SECTION_SIZE + 1,
    )
    room_of = {tc.pk: teleconsultation.room_of(tc) for tc in items}
    present = rooms.presences([room.pk for room in room_of.values()])
    lines = []
    for tc in items:
        room = room_of[tc.pk]
        state, tone = _room_state(present.get(room.pk, []))
        day = _("aujourd'hui") if timezone.localtime(tc.scheduled_at).date() == today else None
        lines.append(
            Line(
                url=reverse("teleconsultation_detail", args=[tc.pk]),
                title=_("%(kind)s %(day)s à %(time)s")
                % {
                    "kind": tc.act.get_kind_display(),
                    "day": day or _("demain"),
                    "time": _local_time(tc.scheduled_at),
                },
                note=state,
                patient=tc.act.patient,
                tone=tone,
                action=_("Rejoindre la salle"),
                action_url=reverse("room", args=[room.slug]),
                audited=tc.act,
            )
        )
    return _cut(section, lines)


def monitoring_section(user) -> Section:
    """Live alerts of the user's opérateur teams, worst first; then the monitorings ending soon
    or flagged under 50 % adherence."""
    section = Section(
        "monitoring", _("Télésurveillance"), all_url=reverse("telesurveillance_board")
    )
    if not policy.may_handle_patients(user):
        return section
    teams = policy.member_teams(user).values("pk")
    live = list(
        tsv_alerts.visible(user)
        .filter(state__in=tsv_alerts.LIVE, enrolment__team__in=teams)
        .select_related("patient")
        .order_by("-severity", "opened_at", "pk")[: SECTION_SIZE + 1]
    )
    soon = timezone.localdate() + datetime.timedelta(days=ENDING_DAYS)
    flagged = paging.rows_of(
        tsv_alerts.board(user)
        .filter(Q(ends_on__lte=soon) | ~Q(adherence_flag=""))
        .order_by("ends_on", "pk"),
        0,
        SECTION_SIZE + 1,
    )
    lines = [
        Line(
            url=reverse("telesurveillance_patient", args=[alert.enrolment_id]),
            title=_("Alerte %(severity)s") % {"severity": alert.get_severity_display().lower()},
            note=alert.message,
            patient=alert.patient,
            when=alert.opened_at,
            when_label=_("depuis"),
            tone={Severity.CRITICAL: "critical", Severity.HIGH: "urgent"}.get(alert.severity, ""),
            audited=alert,
        )
        for alert in live
    ]
    for enrolment in flagged:
        ending = enrolment.ends_on <= soon
        lines.append(
            Line(
                url=reverse("telesurveillance_patient", args=[enrolment.pk]),
                title=_("Fin du suivi proche") if ending else _("Observance sous 50 %"),
                note=enrolment.programme.name
                + (f" — {enrolment.adherence_flag}" if enrolment.adherence_flag else ""),
                patient=enrolment.act.patient,
                when=enrolment.ends_on if ending else None,
                when_label=_("fin le"),
                audited=enrolment.act,
            )
        )
    return _cut(section, lines)


def deployment_section(user) -> Section:
    """The next milestone of each site the user administers or follows as support officer,
    the nearest planned date first."""
    may_view = deployment.may_view(user)
    section = Section(
        "deployment",
        _("Déploiement de mes sites"),
        all_url=reverse("deployment_overview") if may_view else "",
    )
    mine = Q(officer=user) | Q(structure__in=policy.administered_structures(user).values("pk"))
    sites = SiteDeployment.objects.filter(mine).select_related("structure")
    today = timezone.localdate()
    found = []
    for site in sites.prefetch_related("milestones"):
        todo = [
            (label, m) for _v, label, m in deployment.milestone_map(site) if not m or not m.done_on
        ]
        if not todo:  # every step done: nothing left to plan
            continue
        label, milestone = todo[0]
        planned = milestone.planned_on if milestone else None
        late = planned is not None and planned < today
        url = "deployment_site" if may_view else "structure_detail"
        found.append(
            Line(
                url=reverse(url, args=[site.structure_id]),
                title=site.structure.name,
                note=_("Prochaine étape : %(step)s") % {"step": label},
                when=planned,
                when_label=_("en retard, prévue le") if late else _("prévue le"),
                tone="urgent" if late else "",
            )
        )
    found.sort(key=lambda line: (line.when is None, line.when or today, line.title))
    return _cut(section, found)


SECTIONS = (
    expert_section,
    requester_section,
    consultation_section,
    monitoring_section,
    deployment_section,
)


def build(request: HttpRequest | None, user) -> list[Section]:
    """The user's work list: the sections with something in them, every patient audited."""
    sections = [s for s in (make(user) for make in SECTIONS) if s.lines]
    read = [line.audited for s in sections for line in s.lines if line.audited is not None]
    if read:
        audit.record(request, user, AuditAction.SEARCH, read, detail="liste de travail")
    return sections
