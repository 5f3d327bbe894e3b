"""The outbox: one line per document, recipient and channel, sent by `telesante worker`."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading


class Channel(models.TextChoices):
    MSSANTE = "mssante", _("MSSanté")
    DMP = "dmp", _("DMP (Mon espace santé)")


class State(models.TextChoices):
    PENDING = "pending", _("En attente d'envoi")
    SENT = "sent", _("Envoyé")
    # Failed, tried again at `next_attempt_at` (back-off).
    FAILED = "failed", _("Échec, nouvel essai prévu")
    # Failed MAX_ATTEMPTS times: nobody retries it any more.
    ABANDONED = "abandoned", _("Échec définitif")


class Document(models.TextChoices):
    REPORT = "report", _("Compte rendu")


class Delivery(loading.Model):
    act = models.ForeignKey("acts.Act", on_delete=models.CASCADE, related_name="deliveries")
    document = models.CharField(max_length=20, choices=Document.choices, default=Document.REPORT)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # An MSSanté address, or "dmp" for the patient's shared record.
    recipient = models.CharField(max_length=254)
    # Who the recipient is to the patient: médecin traitant, prescriber, the patient.
    role = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("envoi")
        ordering = ["pk"]
        constraints = [
            # Never sent twice: a document goes once to a recipient by a channel.
            models.UniqueConstraint(
                fields=["act", "document", "channel", "recipient"], name="delivery_once"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"
