"""Professionals (accounts), their care-team memberships and their API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telesante.core import loading
from telesante.core.identifiers import IDNPS_OID, validate_rpps


class Profession(models.TextChoices):
    DOCTOR = "medecin", _("Médecin")
    NURSE = "infirmier", _("Infirmier·ère")
    IPA = "ipa", _("Infirmier·ère en pratique avancée")
    PHARMACIST = "pharmacien", _("Pharmacien·ne")
    MIDWIFE = "sage_femme", _("Sage-femme")
    PHYSIO = "kinesitherapeute", _("Masseur-kinésithérapeute")
    PODIATRIST = "pedicure_podologue", _("Pédicure-podologue")
    SPEECH = "orthophoniste", _("Orthophoniste")
    ORTHOPTIST = "orthoptiste", _("Orthoptiste")
    OCCUPATIONAL = "ergotherapeute", _("Ergothérapeute")
    PSYCHOMOTOR = "psychomotricien", _("Psychomotricien·ne")
    RADIOGRAPHER = "manipulateur_radio", _("Manipulateur·rice d'électroradiologie médicale")
    LAB_TECH = "technicien_labo", _("Technicien·ne de laboratoire médical")
    HEARING = "audioprothesiste", _("Audioprothésiste")
    OPTICIAN = "opticien", _("Opticien·ne-lunetier")
    # The appareilleurs of the CSP (Annuaire Santé codes 81 to 85).
    ORTHOTIST = (
        "orthoprothesiste",
        _(
            "Appareilleur·se (orthoprothésiste, podo-orthésiste, orthopédiste-orthésiste, "
            "oculariste, épithésiste)"
        ),
    )
    DIETICIAN = "dieteticien", _("Diététicien·ne")
    SECRETARY = "secretaire", _("Secrétaire médical·e")
    OTHER = "autre", _("Autre")


class Specialty(models.TextChoices):
    NONE = "", _("—")
    GENERAL = "medecine_generale", _("Médecine générale")
    CARDIOLOGY = "cardiologie", _("Cardiologie")
    GERIATRICS = "geriatrie", _("Gériatrie")
    DERMATOLOGY = "dermatologie", _("Dermatologie")
    PSYCHIATRY = "psychiatrie", _("Psychiatrie")
    WOUNDS = "plaies_cicatrisation", _("Plaies et cicatrisation")
    NEPHROLOGY = "nephrologie", _("Néphrologie")
    DIABETOLOGY = "diabetologie", _("Diabétologie")
    PALLIATIVE = "soins_palliatifs", _("Soins palliatifs")
    MPR = "mpr", _("Médecine physique et de réadaptation")
    EMERGENCY = "urgences", _("Médecine d'urgence")
    OTHER = "autre", _("Autre")


class RegionalRole(models.TextChoices):
    NONE = "", _("Aucun")
    ADMIN = "admin", _("Administrateur régional")
    OBSERVER = "observer", _("Observateur régional")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True, regional_role=RegionalRole.ADMIN)
        return self.create_user(email, password, **extra)


class User(loading.Model, AbstractUser):
    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    rpps = models.CharField(
        _("RPPS"), max_length=11, unique=True, null=True, blank=True, validators=[validate_rpps]
    )
    profession = models.CharField(
        _("profession"), max_length=30, choices=Profession.choices, default=Profession.OTHER
    )
    specialty = models.CharField(
        _("spécialité"), max_length=30, choices=Specialty.choices, blank=True, db_index=True
    )
    regional_role = models.CharField(
        _("rôle régional"), max_length=10, choices=RegionalRole.choices, blank=True
    )
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    # The professional's MSSanté box: reports about their patients reach it (outbox).
    mssante_address = models.EmailField(_("adresse MSSanté"), blank=True)
    # Right to regulate SAMU/SAS calls: Pro Santé Connect's Acces_Regulation_Medicale claim at
    # each login, or granted by the structure administrator for password accounts.
    regulation_access = models.BooleanField(_("accès à la régulation médicale"), default=False)
    # What the Annuaire Santé's public extract says of this RPPS (`telesante import-rpps` is
    # the reference): its savoir-faire and its sites (FINESS), and since when the RPPS is
    # missing from the extract (its structure's administrators are told).
    savoir_faire = loading.JSONField(_("savoir-faire (Annuaire Santé)"), default=list, blank=True)
    directory_sites = loading.JSONField(
        _("sites d'exercice (FINESS, Annuaire Santé)"), default=list, blank=True
    )
    rpps_missing_since = models.DateField(
        _("RPPS absent de l'Annuaire Santé depuis"), null=True, blank=True
    )
    # Seeded demo account: its second factor may be shown on screen, in demo mode only.
    is_demo = models.BooleanField(default=False, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        verbose_name = _("professionnel")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name.upper()}".strip()
        return name or self.email

    @property
    def idnps(self) -> str:
        """National id used by Pro Santé Connect: "8" + RPPS."""
        return f"8{self.rpps}" if self.rpps else ""

    idnps_system = IDNPS_OID

    @property
    def is_observer(self) -> bool:
        return self.regional_role == RegionalRole.OBSERVER

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.lower()
        if self.rpps == "":
            self.rpps = None
        super().save(*args, **kwargs)


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Membre")
    ADMIN = "admin", _("Administrateur de la structure")


class Membership(loading.Model):
    """A professional's place in a care team. `structure` is the team's, kept on the row so that
    "the user's structures" stays one indexed lookup."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(
        "structures.Team",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("équipe"),
    )
    role = models.CharField(
        _("rôle"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appartenance")
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_team_membership")]

    def __str__(self) -> str:
        return f"{self.user} — {self.structure} ({self.get_role_display()})"

    def save(self, *args, **kwargs) -> None:
        # Given a structure only, the member joins its first team; given a team, its structure.
        from telesante.structures.models import Team

        if self.team_id is None:
            self.team = Team.default_for(self.structure_id)
        self.structure_id = self.team.structure_id
        super().save(*args, **kwargs)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(loading.Model):
    """Personal bearer token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple["ApiToken", str]:
        raw = "ts_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:10], digest=hash_token(raw))
        return token, raw

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class Session(loading.Model, AbstractBaseSession):
    """A session of the site (SESSION_ENGINE `telesante.accounts.sessions`), with the key of the
    user logged in as a column of its own: a page reads the session and its user in one
    statement, where Django's sessions (the user's key inside the session's data) took two."""

    # Deleting a user ends their sessions (Django's cascade). No constraint in the database: a
    # session written while its user is being deleted is left without one, and reads as none.
    user = models.ForeignKey(
        User, null=True, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls) -> type:
        from telesante.accounts.sessions import SessionStore

        return SessionStore
