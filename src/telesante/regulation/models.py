"""Télérégulation: the regulation record of a SAMU or SAS call, the caller's single-use video
links, what was seen (snapshots and uploads) and the record's timeline."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading


class Decision(models.TextChoices):
    PENDING = "", _("À décider")
    ADVICE = "conseil", _("Conseil médical")
    DOCTOR = "medecin", _("Médecin (consultation ou visite)")
    AMBULANCE = "ambulance", _("Ambulance (transporteur sanitaire)")
    FIREFIGHTERS = "pompiers", _("Sapeurs-pompiers")
    SMUR = "smur", _("SMUR")
    EMERGENCY = "urgences", _("Orientation vers les urgences")


class RegulationRecord(loading.Model):
    """« Dossier de régulation »: one call to the centre 15 or the SAS. The patient is often
    unknown at first: the record stays anonymous and is linked later, through the patient wall."""

    structure = models.ForeignKey(
        "structures.Structure", on_delete=models.PROTECT, related_name="regulation_records"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    called_at = models.DateTimeField(_("heure de l'appel"))
    caller_number = models.CharField(_("numéro de l'appelant"), max_length=16)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="regulation_records",
    )
    # The act of the record once its patient is known (it counts as télérégulation).
    act = models.OneToOneField(
        "acts.Act", on_delete=models.PROTECT, null=True, blank=True, related_name="regulation"
    )
    reason = models.CharField(_("motif de l'appel"), max_length=300)
    decision = models.CharField(
        _("décision"), max_length=20, choices=Decision.choices, blank=True, default=""
    )
    notes = models.TextField(_("notes"), blank=True)
    # The caller's last position, sent by their phone with its accuracy (the photos keep none).
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(_("précision (m)"), null=True, blank=True)
    located_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dossier de régulation")
        # A structure's records, newest first (the list, the wall).
        indexes = [models.Index(fields=["structure", "-called_at"], name="regulation_by_time")]

    def __str__(self) -> str:
        return _("Dossier de régulation n° %(pk)s") % {"pk": self.pk}


class VideoQuality(models.TextChoices):
    GOOD = "bonne", _("Bonne")
    POOR = "degradee", _("Dégradée")
    NONE = "impossible", _("Vidéo impossible")


class VideoLink(loading.Model):
    """The video link sent by SMS to the caller: opens once, within minutes, unless withdrawn.
    Only the SHA-256 of the signed value is kept. Opening it makes a guest of the link's room
    (`guest`), which the caller's page then uses for the session."""

    record = models.ForeignKey(RegulationRecord, on_delete=models.CASCADE, related_name="links")
    room = models.OneToOneField("rooms.Room", on_delete=models.PROTECT, related_name="regulation")
    guest = models.OneToOneField(
        "rooms.GuestLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The short structured summary that ends the session.
    seen = models.CharField(_("ce qui a été vu"), max_length=500, blank=True)
    quality = models.CharField(
        _("qualité de la vidéo"), max_length=12, choices=VideoQuality.choices, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.record_id}/{self.pk}"


class MediaKind(models.TextChoices):
    SNAPSHOT = "cliche", _("Cliché de la vidéo")
    UPLOAD = "photo", _("Photo envoyée par l'appelant")


class RegulationMedia(loading.Model):
    """What was seen: a snapshot of the video or a photo the caller sent. No recording."""

    record = models.ForeignKey(RegulationRecord, on_delete=models.CASCADE, related_name="media")
    link = models.ForeignKey(VideoLink, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=10, choices=MediaKind.choices)
    file = models.FileField(upload_to="regulation/%Y/%m/")
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # The regulator who took it (or asked for it); None: the caller sent it on their own.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    taken_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def patient_id(self) -> int | None:
        return self.record.patient_id


class EventKind(models.TextChoices):
    CREATED = "created", _("Dossier ouvert")
    UPDATED = "updated", _("Dossier modifié")
    PATIENT = "patient", _("Patient rattaché")
    LINK_SENT = "link_sent", _("Lien vidéo envoyé par SMS")
    LINK_OPENED = "link_opened", _("Lien vidéo ouvert")
    LINK_REFUSED = "link_refused", _("Lien vidéo refusé")
    LINK_REVOKED = "link_revoked", _("Lien vidéo retiré")
    CONSENT = "consent", _("Consentement de l'appelant")
    REFUSAL = "refusal", _("Refus de l'appelant")
    POSITION = "position", _("Position reçue")
    SNAPSHOT = "snapshot", _("Cliché versé")
    UPLOAD = "upload", _("Photo de l'appelant versée")
    ENDED = "ended", _("Vidéo terminée")


class RegulationEvent(loading.Model):
    """One line of the record's timeline."""

    record = models.ForeignKey(RegulationRecord, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.get_kind_display()
