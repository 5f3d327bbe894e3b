"""The act record shared by every kind of telehealth act (ARCHITECTURE.md: one act record).

Each kind adds its own details in its own app, one-to-one with `Act`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import Specialty
from telesante.core import loading
from telesante.patients.models import ActKind

ANSWER_DAYS_MAX = 7


class Filiere(loading.Model):
    """A specialty track. Its request form is data, so a region adds one without code."""

    code = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(_("nom"), max_length=100)
    specialty = models.CharField(
        _("spécialité des experts"), max_length=30, choices=Specialty.choices
    )
    # REGULATORY.md § Télé-expertise: « The expert answers within 7 days »; a filière may ask
    # sooner, never later (checked by the form and by the database).
    answer_days = models.PositiveSmallIntegerField(
        _("délai de réponse (jours)"),
        default=ANSWER_DAYS_MAX,
        validators=[
            MinValueValidator(1, _("Le délai de réponse est d'au moins 1 jour.")),
            MaxValueValidator(
                ANSWER_DAYS_MAX,
                _("Le délai de réponse d'une télé-expertise est de 7 jours au plus."),
            ),
        ],
    )
    widen_after_hours = models.PositiveSmallIntegerField(
        _("élargir aux experts de recours après (heures)"), default=48
    )
    coordinator_after_hours = models.PositiveSmallIntegerField(
        _("alerter le coordinateur après l'échéance (heures)"), default=24
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordinated_filieres",
        verbose_name=_("coordinateur"),
    )
    form = loading.JSONField(_("formulaire"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("filière")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer_days__gte=1, answer_days__lte=ANSWER_DAYS_MAX),
                name="answer_within_seven_days",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ActStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    REQUESTED = "requested", _("Demandé")
    SCHEDULED = "scheduled", _("Planifié")
    IN_PROGRESS = "in_progress", _("En cours")
    WAITING_INFO = "waiting_info", _("En attente d'informations")
    DONE = "done", _("Réalisé")
    # Closed without the act having happened (no video session): nothing is billed.
    NOT_DONE = "not_done", _("Non réalisé")
    CANCELLED = "cancelled", _("Annulé")


# A télé-expertise's act while the request is open (its state mirrors them).
TE_OPEN_STATUSES = [ActStatus.REQUESTED, ActStatus.IN_PROGRESS, ActStatus.WAITING_INFO]


class Act(loading.Model):
    kind = models.CharField(_("type d'acte"), max_length=20, choices=ActKind.choices)
    filiere = models.ForeignKey(
        Filiere,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acts",
        verbose_name=_("filière"),
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="acts")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_acts"
    )
    requesting_structure = models.ForeignKey(
        "structures.Structure", on_delete=models.PROTECT, related_name="requested_acts"
    )
    performing_structure = models.ForeignKey(
        "structures.Structure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="performed_acts",
    )
    performers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="performed_acts"
    )
    # Care teams (need-to-know inside a structure): their members see the act (core/policy.py).
    requesting_team = models.ForeignKey(
        "structures.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_acts",
        verbose_name=_("équipe demandeuse"),
    )
    performing_team = models.ForeignKey(
        "structures.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="performed_acts",
        verbose_name=_("équipe requise"),
    )
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=ActStatus.choices,
        default=ActStatus.DRAFT,
        db_index=True,
    )
    consent = models.ForeignKey(
        "patients.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="acts"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    requested_at = models.DateTimeField(_("demandé le"), null=True, blank=True)
    due_at = models.DateTimeField(_("échéance"), null=True, blank=True, db_index=True)
    done_at = models.DateTimeField(_("réalisé le"), null=True, blank=True)
    report = models.FileField(_("compte rendu"), upload_to="reports/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("acte")
        # A structure's open requests, and its history newest first (boxes, worklists).
        indexes = [
            models.Index(fields=["requesting_structure", "status"], name="act_structure_status"),
            models.Index(fields=["requesting_structure", "id"], name="act_structure_history"),
            # A care team's open requests and history (boxes, worklists, the wall).
            models.Index(fields=["requesting_team", "status"], name="act_team_status"),
            models.Index(fields=["requesting_team", "id"], name="act_team_history"),
            models.Index(fields=["performing_team", "id"], name="act_performing_team"),
            # The wall of one capability's list (core.policy, `kinds`): each owner's acts of a
            # kind, newest first; with the patient (PostgreSQL), the patient wall reads the
            # index alone.
            models.Index(
                fields=["requester", "kind", "id"], include=["patient"], name="act_requester_kind"
            ),
            models.Index(
                fields=["requesting_team", "kind", "id"], include=["patient"], name="act_team_kind"
            ),
            models.Index(
                fields=["performing_team", "kind", "id"],
                include=["patient"],
                name="act_performing_team_kind",
            ),
            # The médecin traitant's branch: their patients' done acts of a kind, from the
            # patients, or from the acts when the kind's done acts are the fewer (the planner
            # chooses by the statistics).
            models.Index(fields=["patient", "status", "kind"], name="act_patient_status_kind"),
            models.Index(fields=["kind", "status", "patient"], name="act_kind_status_patient"),
            # The indicators' monthly roll-up reads acts month by month (indicators/rollup.py).
            models.Index(fields=["requested_at"], name="act_requested_at"),
            # A requester's open acts, a few among a million (the télé-expertise outbox; their
            # teams' are act_team_status).
            models.Index(
                fields=["requester"],
                condition=models.Q(status__in=TE_OPEN_STATUSES),
                name="act_requester_open",
            ),
            # The télé-expertises waiting in a pool (teleexpertise.pools), about a thousand among
            # a million acts, by filière and requesting structure: an expert's pool is read here
            # alone (PostgreSQL), not each pooled request's act.
            models.Index(
                fields=["filiere", "requesting_structure"],
                include=["id"],
                condition=models.Q(kind=ActKind.TELEEXPERTISE, status=ActStatus.REQUESTED),
                name="act_te_pool",
            ),
            # The open télé-expertises, a few thousand among a million acts: an inbox sorts its
            # few hundred by deadline from here alone (PostgreSQL), not from each act's row.
            models.Index(
                fields=["id"],
                include=["due_at", "requester"],
                condition=models.Q(kind=ActKind.TELEEXPERTISE, status__in=TE_OPEN_STATUSES),
                name="act_te_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        # The requesting team is the requester's team in the requesting structure unless given;
        # a team given names its structure.
        from telesante.structures.models import Team

        if self.requesting_team_id is None and self.requesting_structure_id:
            self.requesting_team = Team.of(self.requester_id, self.requesting_structure_id)
        if self.requesting_team_id:
            self.requesting_structure_id = self.requesting_team.structure_id
        if self.performing_team_id:
            self.performing_structure_id = self.performing_team.structure_id
        super().save(*args, **kwargs)


class TeamPatient(loading.Model):
    """A patient of a care team's acts (requested or performed by the team), with how many acts
    link them: the patient wall reads these pairs instead of every act of the team (an EHPAD
    team's 12,000 acts are about 1,300 patients). Written by the database alone, by triggers
    on the acts (migration acts.0009), whatever writes them: the ORM, a bulk insert, COPY or an
    UPDATE."""

    team = models.ForeignKey(
        "structures.Team",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    acts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # A team's patients read from this index alone (the wall); the triggers' upsert key.
            models.UniqueConstraint(fields=["team", "patient"], name="one_team_patient")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} @ {self.team_id} ({self.acts})"


class Incident(loading.Model):
    """Technical incident of an act, kept in the record (R.6316-4)."""

    act = models.ForeignKey(Act, on_delete=models.CASCADE, related_name="incidents")
    occurred_at = models.DateTimeField(auto_now_add=True)
    description = models.CharField(_("description"), max_length=500)
    automatic = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return self.description


class BillingCode(loading.Model):
    act = models.ForeignKey(Act, on_delete=models.CASCADE, related_name="billing_codes")
    code = models.CharField(max_length=10)
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_codes"
    )
    billable = models.BooleanField(default=True)
    # French explanations of the rule checks that apply (caps, exclusions).
    warnings = loading.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["professional", "code", "created_at"])]

    def __str__(self) -> str:
        return f"{self.code} {self.professional_id}"
