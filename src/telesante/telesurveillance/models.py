"""Télésurveillance: programmes (as data), enrolments (one-to-one with the act record),
devices and their tokens, measurements and alerts."""

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import hash_token
from telesante.acts.models import Act
from telesante.core import loading


class Programme(loading.Model):
    """A monitoring programme for one indication. Measures, frequency and default thresholds
    are data (data/programmes.json seeds the seven indications)."""

    code = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(_("nom"), max_length=100)
    # [{"type": "weight", "per_week": 7}, ...]
    measures = loading.JSONField(_("mesures attendues"), default=list)
    # [{"type": "spo2", "kind": "below", "value": 90, "severity": 4},
    #  {"type": "weight", "kind": "rise", "value": 2, "days": 3, "severity": 3},
    #  {"kind": "missing", "hours": 48, "severity": 2}]
    thresholds = loading.JSONField(_("seuils par défaut"), default=list)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("programme de télésurveillance")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Severity(models.IntegerChoices):
    LOW = 1, _("Faible")
    MEDIUM = 2, _("Modérée")
    HIGH = 3, _("Élevée")
    CRITICAL = 4, _("Critique")


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", _("En cours")
    ENDED = "ended", _("Terminée")
    STOPPED = "stopped", _("Arrêtée")


# Reading days as stored (1 = Monday) and as said.
WEEKDAYS = [
    (1, _("lundi")),
    (2, _("mardi")),
    (3, _("mercredi")),
    (4, _("jeudi")),
    (5, _("vendredi")),
    (6, _("samedi")),
    (7, _("dimanche")),
]


class Enrolment(loading.Model):
    """A period of télésurveillance: the act (kind télésurveillance; the opérateur team is its
    performing team, its médecin opérateur its performer) and what the regulation asks to
    keep."""

    act = models.OneToOneField(
        Act, on_delete=models.CASCADE, primary_key=True, related_name="telesurveillance"
    )
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="prescribed_monitorings",
        verbose_name=_("médecin prescripteur"),
    )
    prescribed_on = models.DateField(_("date de la prescription"))
    # The act's consent is `act.consent`; the consent to the processing of the data is kept apart.
    data_consent = models.ForeignKey("patients.Consent", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "structures.Team",
        on_delete=models.PROTECT,
        related_name="monitorings",
        verbose_name=_("équipe opérateur"),
    )
    # The doctor of the team who answers for the monitoring and bills its monthly forfait.
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="operated_monitorings",
        verbose_name=_("médecin opérateur"),
    )
    exploitant = models.CharField(_("exploitant (fournisseur du dispositif)"), max_length=150)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
    reading_start = models.TimeField(_("lecture des données à partir de"), default=datetime.time(8))
    reading_end = models.TimeField(_("jusqu'à"), default=datetime.time(18))
    reading_weekdays = models.CharField(
        _("jours de lecture (1 = lundi)"), max_length=13, default="1,2,3,4,5"
    )
    # The programme's thresholds copied at enrolment, adjustable for this patient.
    thresholds = loading.JSONField(_("seuils du patient"), default=list)
    state = models.CharField(
        max_length=10, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE, db_index=True
    )
    # Set when adherence at 1 or 2 months is below half of the expected transmissions.
    adherence_flag = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("inscription en télésurveillance")
        verbose_name_plural = _("inscriptions en télésurveillance")

    def __str__(self) -> str:
        return f"Télésurveillance #{self.act_id}"

    @property
    def patient_id(self) -> int:
        return self.act.patient_id

    @property
    def reading_days(self) -> str:
        """The reading days in words: « tous les jours », or « lundi, mardi »."""
        days = {int(d) for d in self.reading_weekdays.split(",") if d}
        if len(days) == len(WEEKDAYS):
            return str(_("tous les jours"))
        return ", ".join(str(name) for number, name in WEEKDAYS if number in days)

    def expected(self) -> dict[str, int]:
        return {m["type"]: int(m["per_week"]) for m in self.programme.measures}


class Device(loading.Model):
    serial = models.CharField(_("numéro de série"), max_length=64, unique=True)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="devices")
    label = models.CharField(_("modèle"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("dispositif")

    def __str__(self) -> str:
        return self.serial


class DeviceToken(loading.Model):
    """Bearer token of one device, or of a gateway speaking for every device of its exploitant.
    Only its SHA-256 digest is stored."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    exploitant = models.CharField(max_length=150, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.device or self.exploitant})"

    @classmethod
    def issue(
        cls, device: "Device | None" = None, exploitant: str = ""
    ) -> tuple["DeviceToken", str]:
        raw = "dv_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            device=device, exploitant=exploitant, prefix=raw[:10], digest=hash_token(raw)
        )
        return token, raw

    @classmethod
    def find(cls, raw: str) -> "DeviceToken | None":
        return (
            cls.objects.filter(digest=hash_token(raw), revoked_at__isnull=True)
            .select_related("device")
            .first()
        )


class Measurement(loading.Model):
    # Tens of thousands of rows a second: no database foreign keys (their per-row triggers,
    # deferred to the commit, cost more than the insert itself) and no single-column indexes
    # (the unique key and the series index lead with these columns). The ingest resolves the
    # device and its enrolment in the same transaction; deletion cascades in the ORM.
    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="measurements",
        db_constraint=False,
        db_index=False,
    )
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    type = models.CharField(max_length=20)
    value = models.FloatField()  # in the type's canonical UCUM unit (catalog.py)
    unit = models.CharField(max_length=10)
    at = models.DateTimeField()  # time stamped by the device
    received_at = models.DateTimeField()
    message_id = models.CharField(max_length=64)  # the device's id: a resend counts once

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "message_id"], name="one_message_per_device")
        ]
        indexes = [models.Index(fields=["enrolment", "type", "at"], name="tsv_meas_series")]

    def __str__(self) -> str:
        return f"{self.type} {self.value} {self.unit} @ {self.at:%Y-%m-%d %H:%M}"


class AlertState(models.TextChoices):
    OPEN = "open", _("Ouverte")
    ACKNOWLEDGED = "acknowledged", _("Prise en compte")
    RESOLVED = "resolved", _("Résolue")


class Alert(loading.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="alerts")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    # The rule that fired: "spo2:below", "weight:rise", "missing".
    rule = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    message = models.CharField(max_length=300)
    value = models.FloatField(null=True, blank=True)
    measured_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(db_index=True)
    # Null until shown to the team: outside reading hours the alert waits.
    delivered_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=15, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(_("note de résolution"), blank=True)

    class Meta:
        ordering = ["-severity", "-opened_at"]
        indexes = [models.Index(fields=["enrolment", "rule", "state"], name="tsv_alert_rule")]

    def __str__(self) -> str:
        return self.message


class Forfait(loading.Model):
    """The opérateur's monthly forfait, an act of its own: one per enrolment and month of
    monitoring (kind télésurveillance, performed by the opérateur team and its médecin opérateur,
    who bills the `TSF` code on that act). The unique constraint lets several workers bill
    without doubles."""

    act = models.OneToOneField(Act, on_delete=models.CASCADE, related_name="forfait")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="forfaits")
    month = models.DateField(_("mois"))  # first day of the month
    adherence = models.FloatField(_("observance du mois"))

    class Meta:
        verbose_name = _("forfait mensuel de l'opérateur")
        verbose_name_plural = _("forfaits mensuels de l'opérateur")
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "month"], name="one_forfait_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.month:%Y-%m}"
