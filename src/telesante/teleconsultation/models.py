"""Téléconsultation, télésoin and téléassistance details, one-to-one with the act record."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.acts.models import Act
from telesante.core import loading


class Assistance(models.TextChoices):
    """Who is at the patient's side, and where: it decides the assisting professional's code."""

    NONE = "", _("Sans accompagnement")
    NURSE_VISIT = "nurse_visit", _("Infirmier·ère, lors d'un soin prévu (TLS)")
    NURSE_SITE = "nurse_site", _("Infirmier·ère, dans un lieu dédié (TLL)")
    NURSE_HOME = "nurse_home", _("Infirmier·ère, visite organisée à domicile (TLD)")
    PHARMACY = "pharmacy", _("Pharmacien·ne, en officine (TLM)")


class TeleConsultation(loading.Model):
    act = models.OneToOneField(
        Act, on_delete=models.CASCADE, primary_key=True, related_name="teleconsultation"
    )
    reason = models.CharField(_("motif"), max_length=300)
    scheduled_at = models.DateTimeField(_("prévue le"), db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=20)
    assistance = models.CharField(
        _("accompagnement"), max_length=15, choices=Assistance.choices, blank=True
    )
    # The assisted act records the teleconsulting doctor as prescriber (REGULATORY.md).
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescripteur"),
    )
    # Télésoin: the booking professional declared it feasible by video (no physical contact, no
    # equipment the patient lacks), as every profession's rule asks.
    video_suitable = models.BooleanField(_("réalisable en vidéo (déclaré)"), default=False)
    # Téléassistance: the colleague's act this one assists (they share its room).
    assists = models.ForeignKey(
        Act,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assisted_by",
        verbose_name=_("acte assisté"),
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # Time the performer and the patient's side were in the call together, measured at closing.
    video_seconds = models.PositiveIntegerField(_("durée en vidéo (secondes)"), default=0)
    # Why the act closed « non réalisé » (nothing billed).
    not_done_reason = models.CharField(_("motif de non-réalisation"), max_length=300, blank=True)
    # Where the patient gets the reminders (and, joining from home, the link to the room).
    patient_email = models.EmailField(_("e-mail du patient"), blank=True)
    patient_phone = models.CharField(_("téléphone mobile du patient"), max_length=16, blank=True)
    report_text = models.TextField(_("compte rendu"), blank=True)
    prescriptions = models.TextField(_("prescriptions"), blank=True)

    class Meta:
        verbose_name = _("téléconsultation")

    def __str__(self) -> str:
        return f"{self.act.get_kind_display()} #{self.act_id}"


class ActivityDeclaration(loading.Model):
    """A professional's whole activity of a year (acts in person and remote): the 20 % cap of
    remote activity is measured against it."""

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_declarations"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    total_acts = models.PositiveIntegerField(_("actes de l'année (tous modes)"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["professional", "year"], name="one_declaration_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.year}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class Availability(loading.Model):
    """A recurring weekly opening of a professional for remote acts, at one site, for one
    filière (or any): cut into slots of `slot_minutes` separated by `buffer_minutes`."""

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availabilities"
    )
    structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="+", verbose_name=_("site")
    )
    filiere = models.ForeignKey(
        "acts.Filiere",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filière"),
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    start = models.TimeField(_("début"))
    end = models.TimeField(_("fin"))
    slot_minutes = models.PositiveSmallIntegerField(_("durée d'un créneau (minutes)"), default=20)
    buffer_minutes = models.PositiveSmallIntegerField(_("battement (minutes)"), default=5)

    class Meta:
        verbose_name = _("disponibilité")
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class ReminderKind(models.TextChoices):
    DAY = "day", _("la veille")
    HOUR = "hour", _("une heure avant")


class Reminder(loading.Model):
    """A reminder sent to one recipient for one appointment time: the unique constraint makes
    it once, whichever worker gets there first (a moved act is reminded again)."""

    teleconsultation = models.ForeignKey(
        TeleConsultation, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=4, choices=ReminderKind.choices)
    scheduled_at = models.DateTimeField()
    # "u:<user id>" for a professional; the address or number for the patient and guests.
    recipient = models.CharField(max_length=254)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["teleconsultation", "kind", "scheduled_at", "recipient"],
                name="one_reminder_per_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.teleconsultation_id} {self.kind} {self.recipient}"
