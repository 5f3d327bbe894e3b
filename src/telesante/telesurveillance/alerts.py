"""Alert delivery (team board over the WebSocket, e-mail; outside reading hours they wait)
and the lifecycle open → acknowledged → resolved with a note, audited."""

import datetime
from types import SimpleNamespace

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import User
from telesante.acts.models import Act, ActKind
from telesante.core import audit, paging, policy
from telesante.core.actions import Conflict
from telesante.core.i18n import product_language
from telesante.core.models import AuditAction
from telesante.notifications.services import notify
from telesante.telesurveillance.models import Alert, AlertState, Enrolment, EnrolmentState

LIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


def board_group(team_id: int) -> str:
    return f"tsv.board.{team_id}"


def in_reading_hours(enrolment: Enrolment, now: datetime.datetime) -> bool:
    local = timezone.localtime(now)
    days = {int(d) for d in enrolment.reading_weekdays.split(",") if d}
    return (
        local.isoweekday() in days
        and enrolment.reading_start <= local.time() < enrolment.reading_end
    )


def payload(alert: Alert) -> dict:
    return {
        "type": "alert",
        "id": alert.pk,
        "enrolment": alert.enrolment_id,
        "severity": alert.severity,
        "severity_label": alert.get_severity_display(),
        "message": alert.message,
        "state": alert.state,
        "opened_at": alert.opened_at.isoformat(),
    }


def _deliver(alert_ids: list[int], now: datetime.datetime | None = None) -> int:
    """Push and e-mail the alerts whose team is reading now; the others keep waiting."""
    now = now or timezone.now()
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids, delivered_at__isnull=True, state__in=LIVE)
        .select_related("enrolment__team", "patient")
        .order_by("-severity")
    )
    due = [a for a in alerts if in_reading_hours(a.enrolment, now)]
    if not due:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in due]).update(delivered_at=now)
    layer = get_channel_layer()
    by_team: dict[int, list[Alert]] = {}
    for alert in due:
        by_team.setdefault(alert.enrolment.team_id, []).append(alert)
    for team_id, team_alerts in by_team.items():
        members = User.objects.filter(memberships__team_id=team_id, is_active=True)
        for alert in team_alerts:
            async_to_sync(layer.group_send)(board_group(team_id), payload(alert))
        worst = team_alerts[0]
        with product_language():
            notify(
                members,
                _("Télésurveillance : %(n)s alerte(s), la plus grave %(s)s — %(m)s")
                % {
                    "n": len(team_alerts),
                    "s": worst.get_severity_display().lower(),
                    "m": worst.message,
                },
                act=worst.enrolment.act,
                url=reverse("telesurveillance_patient", args=[worst.enrolment_id]),
            )
    return len(due)


def deliver_after_commit(alerts: list[Alert]) -> None:
    if alerts:
        ids = [a.pk for a in alerts]
        transaction.on_commit(lambda: _deliver(ids))


def deliver_waiting(now: datetime.datetime) -> int:
    """Worker tick: alerts that waited for the reading hours go out once they begin."""
    waiting = Alert.objects.filter(delivered_at__isnull=True, state__in=LIVE).values_list(
        "pk", flat=True
    )
    return _deliver(list(waiting[:5000]), now)


def visible(user: User) -> QuerySet[Alert]:
    """Alerts of the patients monitored by the user's teams or prescribed by the user."""
    if not policy.may_handle_patients(user):
        return Alert.objects.none()
    # The monitoring's act carries the rule: its opérateur team and its prescriber see it.
    return Alert.objects.filter(
        enrolment_id__in=policy.visible_acts(user, [ActKind.TELESURVEILLANCE]).values("pk")
    )


def listed(user: User, state: str = "") -> paging.Listing:
    """The alerts `visible` to a user who may handle patients, of one state when given, worst
    first."""

    def build(values: SimpleNamespace) -> QuerySet[Alert]:
        acts = Act.objects.filter(pk__in=values.acts).values("pk")
        items = Alert.objects.filter(enrolment_id__in=acts)
        if state:
            items = items.filter(state=values.state)
        return items.order_by("-severity", "-opened_at", "-pk")

    values = {"acts": policy.visible_act_ids(user, [ActKind.TELESURVEILLANCE])}
    return paging.Listing(
        ("alerts", bool(state)), build, values | ({"state": state} if state else {})
    )


def get(request: HttpRequest | None, user: User, pk: int) -> Alert:
    alert = visible(user).filter(pk=pk).select_related("enrolment").first()
    if alert is None:
        audit.record_refusal(request, user, AuditAction.READ, "telesurveillance.Alert", pk)
        raise Http404(_("Alerte introuvable."))
    audit.record(request, user, AuditAction.READ, [alert])
    return alert


def _team_member(user: User, alert: Alert) -> None:
    if alert.enrolment.team_id not in policy.member_team_ids(user):
        raise Http404(_("Alerte introuvable."))


def acknowledge(request: HttpRequest | None, user: User, alert: Alert) -> Alert:
    _team_member(user, alert)
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now()
        )
        if not updated:
            raise Conflict(_("Cette alerte n'est plus ouverte."))
        alert.refresh_from_db()
        audit.record(request, user, AuditAction.UPDATE, [alert], detail="alerte prise en compte")
        _push_change(alert)
    return alert


def resolve(request: HttpRequest | None, user: User, alert: Alert, note: str) -> Alert:
    _team_member(user, alert)
    if not note.strip():
        raise ValidationError({"note": [_("Indiquez ce qui a été fait (note de résolution).")]})
    now = timezone.now()
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, state__in=LIVE).update(
            state=AlertState.RESOLVED,
            resolved_by=user,
            resolved_at=now,
            resolution_note=note.strip()[:2000],
        )
        if not updated:
            raise Conflict(_("Cette alerte est déjà résolue."))
        Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now
        )
        alert.refresh_from_db()
        audit.record(request, user, AuditAction.UPDATE, [alert], detail="alerte résolue")
        _push_change(alert)
    return alert


def _push_change(alert: Alert) -> None:
    team_id, data = alert.enrolment.team_id, payload(alert)
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(board_group(team_id), data))


def team_enrolments(user: User) -> QuerySet[Enrolment]:
    """The active enrolments of the user's teams (their board's, the work list's)."""
    mine = policy.member_teams(user).values("pk")
    return Enrolment.objects.filter(team__in=mine, state=EnrolmentState.ACTIVE)


def board(user: User) -> QuerySet[Enrolment]:
    """The team board: active enrolments of the user's teams, worst live alert first."""
    live = Q(alerts__state__in=LIVE)
    return (
        team_enrolments(user)
        .annotate(worst=Max("alerts__severity", filter=live), live=Count("alerts", filter=live))
        .select_related("act__patient", "programme", "team")
        .order_by(F("worst").desc(nulls_last=True), "-live", "act__patient__birth_name", "pk")
    )
