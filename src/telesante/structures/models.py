"""Territories (région › département › commune) and structures with their FINESS."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading
from telesante.core.identifiers import IDNST_OID, validate_finess


class Region(loading.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(_("nom"), max_length=100)

    class Meta:
        verbose_name = _("région")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Departement(loading.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(_("nom"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departements")

    class Meta:
        verbose_name = _("département")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Commune(loading.Model):
    code = models.CharField(_("code INSEE"), max_length=5, primary_key=True)
    name = models.CharField(_("nom"), max_length=100, db_index=True)
    departement = models.ForeignKey(
        Departement, on_delete=models.PROTECT, related_name="communes", null=True
    )
    population = models.PositiveIntegerField(null=True, blank=True)
    postal_codes = models.CharField(max_length=200, blank=True)
    # Current commune, or a delegated/associated former commune (still valid as a birthplace).
    current = models.BooleanField(default=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("commune")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Country(loading.Model):
    """INSEE COG country code (99xxx), the birthplace code of people born abroad."""

    code = models.CharField(max_length=5, primary_key=True)
    name = models.CharField(_("nom"), max_length=100)

    class Meta:
        verbose_name = _("pays")
        verbose_name_plural = _("pays")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class StructureKind(models.TextChoices):
    EHPAD = "ehpad", _("EHPAD")
    CH = "ch", _("Centre hospitalier")
    CHU = "chu", _("CHU")
    MSP = "msp", _("Maison de santé pluriprofessionnelle")
    CDS = "cds", _("Centre de santé")
    CABINET = "cabinet", _("Cabinet libéral")
    FAM_MAS = "fam_mas", _("FAM / MAS")
    PHARMACY = "pharmacie", _("Pharmacie")
    SAMU = "samu", _("SAMU – centre 15")
    SAS = "sas", _("SAS – service d'accès aux soins")
    CPTS = "cpts", _("CPTS")
    MOBILE = "unite_mobile", _("Unité mobile de téléconsultation")
    OTHER = "autre", _("Autre")


class DeploymentStatus(models.TextChoices):
    PLANNED = "planned", _("Prévu")
    IN_PROGRESS = "in_progress", _("En cours de déploiement")
    DEPLOYED = "deployed", _("Déployé")
    SUSPENDED = "suspended", _("Suspendu")


class Equipment(models.TextChoices):
    CART = "chariot", _("Chariot de télémédecine")
    STETHOSCOPE = "stethoscope", _("Stéthoscope connecté")
    OTOSCOPE = "otoscope", _("Otoscope connecté")
    DERMATOSCOPE = "dermatoscope", _("Dermatoscope")
    ECG = "ecg", _("ECG connecté")
    OXIMETER = "oxymetre", _("Oxymètre")
    BP = "tensiometre", _("Tensiomètre")
    CAMERA = "camera", _("Caméra mobile")


class Structure(loading.Model):
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=StructureKind.choices)
    finess = models.CharField(
        _("FINESS (établissement)"),
        max_length=9,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_finess],
    )
    finess_ej = models.CharField(
        _("FINESS (entité juridique)"), max_length=9, blank=True, validators=[validate_finess]
    )
    address = models.CharField(_("adresse"), max_length=250, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, related_name="structures", verbose_name=_("commune")
    )
    departement = models.ForeignKey(
        Departement, on_delete=models.PROTECT, related_name="structures", editable=False
    )
    rural = models.BooleanField(_("zone rurale"), default=False)
    apl = models.DecimalField(
        _("APL (consultations/an/habitant)"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
    )
    underserved = models.BooleanField(_("zone sous-dense"), default=False, editable=False)
    deployment_status = models.CharField(
        _("déploiement"),
        max_length=20,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.PLANNED,
        db_index=True,
    )
    deployment_planned_on = models.DateField(_("prévu le"), null=True, blank=True)
    deployment_started_on = models.DateField(_("déploiement commencé le"), null=True, blank=True)
    deployed_on = models.DateField(_("déployé le"), null=True, blank=True)
    suspended_on = models.DateField(_("suspendu le"), null=True, blank=True)
    equipment = loading.JSONField(_("équipement de télésanté"), default=list, blank=True)
    # A professional working here (PSC's SubjectRefPro: this FINESS) who logs in with Pro Santé
    # Connect for the first time gets an account in the structure's first team.
    psc_self_enrolment = models.BooleanField(
        _("inscription par Pro Santé Connect"),
        default=False,
        help_text=_(
            "Les professionnels exerçant dans la structure (selon Pro Santé Connect) créent "
            "eux-mêmes leur compte à leur première connexion."
        ),
    )

    idnst_system = IDNST_OID

    class Meta:
        verbose_name = _("structure")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.departement_id = self.commune.departement_id
        self.underserved = self.apl is not None and self.apl <= settings.TELESANTE_APL_UNDERSERVED
        super().save(*args, **kwargs)

    @property
    def idnst(self) -> str:
        return f"1{self.finess}" if self.finess else ""

    def equipment_labels(self) -> list[str]:
        return [str(Equipment(e).label) for e in self.equipment if e in Equipment.values]


class Team(loading.Model):
    """A care team of a structure (a service of a hospital; the one team of an EHPAD or MSP).
    Memberships, patients and acts belong to teams: need-to-know inside a structure."""

    DEFAULT_NAME = "Équipe de la structure"

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="teams", verbose_name=_("structure")
    )
    name = models.CharField(_("nom"), max_length=150)

    class Meta:
        verbose_name = _("équipe de soins")
        verbose_name_plural = _("équipes de soins")
        ordering = ["structure_id", "name"]
        constraints = [models.UniqueConstraint(fields=["structure", "name"], name="one_team_name")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def of(cls, user, structure_id: int) -> "Team":
        """The user's (first) team in the structure, else the structure's first team."""
        team = cls.objects.filter(memberships__user=user, structure_id=structure_id)
        return team.order_by("pk").first() or cls.default_for(structure_id)

    @classmethod
    def default_for(cls, structure_id: int) -> "Team":
        """The structure's first team, created when it has none (a structure always has one)."""
        team = cls.objects.filter(structure_id=structure_id).order_by("pk").first()
        if team is None:
            team, _created = cls.objects.get_or_create(
                structure_id=structure_id, name=cls.DEFAULT_NAME
            )
        return team
