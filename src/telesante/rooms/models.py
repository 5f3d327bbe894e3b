"""Video rooms: the server relays signaling and keeps presence; it never carries media."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telesante.core import loading

MAX_PEERS = 4


def new_slug() -> str:
    # 144 random bits: the room URL cannot be guessed.
    return secrets.token_urlsafe(18)


class Room(loading.Model):
    slug = models.CharField(max_length=32, unique=True, default=new_slug, editable=False)
    # A room belongs to an act; a test room (connection check, probe-call) has an owner only.
    act = models.OneToOneField(
        "acts.Act", on_delete=models.CASCADE, null=True, blank=True, related_name="room"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_rooms"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("salle vidéo")

    def __str__(self) -> str:
        return f"Salle {self.pk}"

    @property
    def is_test(self) -> bool:
        return self.act_id is None


class GuestRelation(models.TextChoices):
    PATIENT = "patient", _("Patient (à domicile)")
    FAMILY = "famille", _("Famille, aidant")
    INTERPRETER = "interprete", _("Interprète")
    SPECIALIST = "specialiste", _("Second spécialiste")


class GuestLink(loading.Model):
    """A patient at home or an invited third party: no account, a signed link for one act."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="guest_links")
    label = models.CharField(_("nom affiché"), max_length=80)
    relation = models.CharField(
        _("qualité"), max_length=40, choices=GuestRelation.choices, default=GuestRelation.PATIENT
    )
    expires_at = models.DateTimeField(_("expire le"))
    # Optional second proof: a code sent apart from the link (e-mail or SMS), kept hashed.
    contact = models.CharField(_("envoi du code à"), max_length=120, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    failed_codes = models.PositiveSmallIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # None: the platform minted it for the patient's reminders (`patient_link`).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lien invité")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.label


class Admission(loading.Model):
    """A party the host let in: a reconnection does not go back to the waiting room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="admissions")
    party = models.CharField(max_length=40)
    admitted_at = models.DateTimeField(auto_now_add=True)
    # Set when the party's connection dropped during the call; cleared on reconnection.
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "party"], name="one_admission")]

    def __str__(self) -> str:
        return self.party


class Presence(loading.Model):
    """One open WebSocket in a room (shared by every server process through the database).

    Its process refreshes `seen_at` while the socket lives; a row left unrefreshed past
    TELESANTE_PRESENCE_SECONDS belongs to a process that stopped without closing it."""

    peer_id = models.CharField(max_length=24, primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="presences")
    party = models.CharField(max_length=40)
    label = models.CharField(max_length=120)
    role = models.CharField(max_length=40, blank=True, default="")  # tokens.Claim.role
    host = models.BooleanField(default=False)
    channel = models.CharField(max_length=200)
    joined_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Order of admission: the later peer makes the first offer (aiortc cannot roll back).
    admitted_rank = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return self.label


class CallSpan(loading.Model):
    """One connection's time in the call (from its admission to its leaving), kept after the
    presence goes: the act is billed only when the patient's side and the performer were in the
    call together (REGULATORY.md § Téléconsultation, video required)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="call_spans")
    peer_id = models.CharField(max_length=24, unique=True)
    party = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["room", "started_at"], name="callspan_room")]

    def __str__(self) -> str:
        return f"{self.party} {self.started_at:%H:%M:%S}"


class ChatMessage(loading.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=120)
    party = models.CharField(max_length=40)
    body = models.CharField(_("message"), max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:50]
