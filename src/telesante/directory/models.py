"""Reference data imported from the national open-data extracts (RPPS professionals)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import Profession, Specialty
from telesante.core import loading


class Practitioner(loading.Model):
    """A professional of the Annuaire Santé extract (PS_LibreAcces), keyed on the RPPS."""

    rpps = models.CharField(_("RPPS"), max_length=11, unique=True)
    last_name = models.CharField(_("nom d'exercice"), max_length=100)
    first_name = models.CharField(_("prénom d'exercice"), max_length=100, blank=True)
    profession = models.CharField(
        _("profession"), max_length=30, choices=Profession.choices, db_index=True
    )
    specialty = models.CharField(
        _("spécialité"), max_length=30, choices=Specialty.choices, blank=True, db_index=True
    )
    specialty_label = models.CharField(_("savoir-faire"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("professionnel de l'annuaire")
        verbose_name_plural = _("professionnels de l'annuaire")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Practice(loading.Model):
    """One place where a practitioner works (a row of the extract)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="practices"
    )
    # FINESS of the site, else its SIRET, else "commune:<code>": what makes the row unique.
    site_key = models.CharField(max_length=30)
    site_name = models.CharField(_("site"), max_length=200, blank=True)
    structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practices",
    )
    commune = models.ForeignKey(
        "structures.Commune", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    postal_code = models.CharField(max_length=5, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("lieu d'exercice")
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner", "site_key"], name="one_practice_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} — {self.site_name}"
