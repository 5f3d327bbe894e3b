"""Deployment of each site: milestones, the support officer in charge, the filières opened,
and the schedule of stops of the mobile teleconsultation units."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading


class Step(models.TextChoices):
    """The phases the regional e-health operators follow, in order."""

    NEEDS = "needs", _("Analyse du besoin")
    FRAMING = "framing", _("Cadrage")
    EQUIPMENT = "equipment", _("Équipement installé")
    TRAINING = "training", _("Professionnels formés")
    FIRST_ACT = "first_act", _("Premier acte")
    REGULAR_USE = "regular_use", _("Usage régulier")


class SiteDeployment(loading.Model):
    structure = models.OneToOneField(
        "structures.Structure",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="site_deployment",
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_sites",
        verbose_name=_("chargé·e d'appui"),
    )
    filieres = models.ManyToManyField(
        "acts.Filiere", blank=True, related_name="sites", verbose_name=_("filières ouvertes")
    )
    acts = loading.JSONField(_("actes proposés"), default=list, blank=True)
    # How to ask for an act at this site (shown in the public directory).
    contact = models.CharField(_("comment solliciter"), max_length=300, blank=True)
    availability = models.CharField(_("disponibilités"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("déploiement d'un site")
        verbose_name_plural = _("déploiements des sites")

    def __str__(self) -> str:
        return str(self.structure)


class Milestone(loading.Model):
    site = models.ForeignKey(SiteDeployment, on_delete=models.CASCADE, related_name="milestones")
    step = models.CharField(_("étape"), max_length=20, choices=Step.choices)
    planned_on = models.DateField(_("prévue le"), null=True, blank=True)
    done_on = models.DateField(_("réalisée le"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("jalon")
        constraints = [
            models.UniqueConstraint(fields=["site", "step"], name="one_milestone_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.site} — {self.get_step_display()}"


class Stop(loading.Model):
    """A scheduled stop of a mobile teleconsultation unit (a structure of that type)."""

    unit = models.ForeignKey("structures.Structure", on_delete=models.CASCADE, related_name="stops")
    commune = models.ForeignKey(
        "structures.Commune", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune")
    )
    place = models.CharField(_("lieu"), max_length=200)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))

    class Meta:
        verbose_name = _("étape de l'unité mobile")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["unit", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.place} ({self.starts_at:%d/%m/%Y})"
