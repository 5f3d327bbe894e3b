"""The audit trail: one append-only table for every read or change of patient data."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from telesante.core import loading


class AuditAction(models.TextChoices):
    READ = "read", pgettext_lazy("audit", "Consultation")  # of a record, not a medical act
    SEARCH = "search", _("Recherche")
    CREATE = "create", _("Création")
    UPDATE = "update", _("Modification")
    STATUS = "status", _("Changement de statut d'identité")
    CONSENT = "consent", _("Recueil du consentement")
    EXPORT = "export", _("Export")
    DENIED = "denied", _("Accès refusé")
    INSI = "insi", _("Appel au téléservice INSi")


class AuditEntry(loading.Model):
    # Plain ids, no foreign keys: the trail must outlive what it names and never be updated.
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_label = models.CharField(max_length=250)
    structure_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50, blank=True)
    # Indexed by (patient_id, -at) alone: a second index on the column was one more write for
    # each of the entries a page of 50 rows adds, for reads the pair serves.
    patient_id = models.BigIntegerField(null=True)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    via = models.CharField(max_length=10, default="web")

    class Meta:
        verbose_name = _("entrée du journal d'accès")
        verbose_name_plural = _("journal d'accès")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"
