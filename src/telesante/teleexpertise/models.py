"""Télé-expertise details, one-to-one with the act record."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.acts.models import Act
from telesante.core import loading


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normale")
    URGENT = "urgent", _("Urgente (sous 48 h)")


class State(models.TextChoices):
    POOLED = "pooled", _("En attente d'un expert")
    CLAIMED = "claimed", _("Prise en charge")
    WAITING_INFO = "waiting_info", _("Informations demandées")
    ANSWERED = "answered", _("Répondue")
    CANCELLED = "cancelled", _("Annulée")


OPEN_STATES = [State.POOLED, State.CLAIMED, State.WAITING_INFO]


class ConsultationNeed(models.TextChoices):
    NONE = "none", _("Pas de consultation nécessaire")
    ROUTINE = "routine", _("Consultation à programmer")
    SOON = "soon", _("Consultation rapide (sous 15 jours)")
    URGENT = "urgent", _("Consultation urgente")


class TeleExpertise(loading.Model):
    act = models.OneToOneField(
        Act, on_delete=models.CASCADE, primary_key=True, related_name="teleexpertise"
    )
    question = models.TextField(_("question posée"))
    urgency = models.CharField(
        _("urgence"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    form_data = loading.JSONField(_("formulaire de la filière"), default=dict, blank=True)
    state = models.CharField(
        _("état"), max_length=15, choices=State.choices, default=State.POOLED, db_index=True
    )
    named_expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="named_teleexpertises",
        verbose_name=_("expert sollicité"),
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_teleexpertises",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set when nobody took the request in time: reference experts outside the territory join.
    widened_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    coordinator_alerted_at = models.DateTimeField(null=True, blank=True)
    opinion = models.TextField(_("avis"), blank=True)
    recommendations = models.TextField(_("recommandations"), blank=True)
    consultation_need = models.CharField(
        _("consultation nécessaire"), max_length=10, choices=ConsultationNeed.choices, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # A request withdrawn by its requester before anyone took it (state CANCELLED).
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("motif du retrait"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("télé-expertise")
        indexes = [
            # An expert's history, newest first (their inbox keeps every answered request).
            models.Index(fields=["claimed_by", "act"], name="te_claimed_history"),
            # The requests an expert took and still has open: a few among thousands answered,
            # their keys read from the index alone (PostgreSQL).
            models.Index(fields=["claimed_by", "state"], include=["act"], name="te_claimed_open"),
            # The requests waiting for the expert they name: a few among the thousands that
            # named them once.
            models.Index(fields=["named_expert", "state"], name="te_named_open"),
            # The requests waiting in a pool, about a thousand among a million: the pool rules
            # read their keys here instead of each pooled row through the state index.
            models.Index(
                fields=["act"],
                condition=models.Q(state=State.POOLED, named_expert=None),
                name="te_pool_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"Télé-expertise #{self.act_id}"


class Message(loading.Model):
    teleexpertise = models.ForeignKey(
        TeleExpertise, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:50]


class Decline(loading.Model):
    teleexpertise = models.ForeignKey(
        TeleExpertise, on_delete=models.CASCADE, related_name="declines"
    )
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("motif"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.reason
