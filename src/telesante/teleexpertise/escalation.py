"""Deadlines: widen unclaimed requests, remind the pool when overdue, then alert the
filière's coordinator. Run by `telesante worker` every minute; idempotent. Each step marks the
request with one conditional UPDATE of its own column: two workers never send the same notice,
and a concurrent change of the request (an expert claiming it) is never written over."""

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.notifications.services import notify
from telesante.teleexpertise import pools
from telesante.teleexpertise.models import OPEN_STATES, State, TeleExpertise


def run(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    done = {"widened": 0, "reminded": 0, "coordinator": 0}
    base = TeleExpertise.objects.select_related("act__filiere", "act__requesting_structure")
    for te in base.filter(state=State.POOLED, widened_at__isnull=True):
        hours = datetime.timedelta(hours=te.act.filiere.widen_after_hours)
        if te.act.requested_at + hours <= now:
            with transaction.atomic():
                if _mark(te, "widened_at", now):
                    notify(
                        pools.pool_experts(te),
                        _(
                            "Demande de télé-expertise sans preneur "
                            "(%(f)s) : ouverte aux experts de recours."
                        )
                        % {"f": te.act.filiere.name},
                        act=te.act,
                        url=_url(te),
                    )
                    done["widened"] += 1
    for te in base.filter(state__in=OPEN_STATES, act__due_at__lte=now, reminded_at__isnull=True):
        with transaction.atomic():
            if _mark(te, "reminded_at", now):
                targets = [te.claimed_by] if te.claimed_by_id else pools.pool_experts(te)
                notify(
                    targets,
                    _("Rappel : la télé-expertise #%(n)d a dépassé son échéance.") % {"n": te.pk},
                    act=te.act,
                    url=_url(te),
                )
                done["reminded"] += 1
    for te in base.filter(
        state__in=OPEN_STATES,
        reminded_at__isnull=False,
        coordinator_alerted_at__isnull=True,
        act__filiere__coordinator__isnull=False,
    ):
        late = datetime.timedelta(hours=te.act.filiere.coordinator_after_hours)
        if te.act.due_at + late <= now:
            with transaction.atomic():
                if _mark(te, "coordinator_alerted_at", now):
                    notify(
                        [te.act.filiere.coordinator],
                        _(
                            "Télé-expertise #%(n)d en retard : intervention du coordinateur "
                            "demandée."
                        )
                        % {"n": te.pk},
                        act=te.act,
                        url=_url(te),
                    )
                    done["coordinator"] += 1
    return done


def _mark(te: TeleExpertise, column: str, now: datetime.datetime) -> bool:
    """Sets `column` if it is still empty (on `te` too: the pool widens with it); False when
    another worker did it first."""
    marked = TeleExpertise.objects.filter(pk=te.pk, **{f"{column}__isnull": True}).update(
        **{column: now}
    )
    if marked:
        setattr(te, column, now)
    return bool(marked)


def _url(te: TeleExpertise) -> str:
    return reverse("teleexpertise_detail", args=[te.pk])
