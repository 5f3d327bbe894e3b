"""Patient identity (INS strict traits and RNIV status), attachments to structures, consent."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telesante.core import loading
from telesante.core.identifiers import INS_NIA_OID, INS_NIR_OID, INS_TEST_NIR_OID


class Sex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")


class IdentityStatus(models.TextChoices):
    PROVISIONAL = "PROV", _("Identité provisoire")
    RETRIEVED = "RECUP", _("Identité récupérée")
    VALIDATED = "VALI", _("Identité validée")
    QUALIFIED = "QUAL", _("Identité qualifiée")


class MatriculeKind(models.TextChoices):
    NIR = "NIR", _("NIR")
    NIA = "NIA", _("NIA")
    TEST_NIR = "TEST", _("NIR de test")


MATRICULE_OIDS = {
    MatriculeKind.NIR: INS_NIR_OID,
    MatriculeKind.NIA: INS_NIA_OID,
    MatriculeKind.TEST_NIR: INS_TEST_NIR_OID,
}


class EvidenceKind(models.TextChoices):
    """What an identity status change rests on (RNIV)."""

    PASSPORT = "passport", _("Passeport")
    ID_CARD = "id_card", _("Carte nationale d'identité")
    RESIDENCE_PERMIT = "residence_permit", _("Titre de séjour")
    FAMILY_BOOK = "family_book", _("Livret de famille (mineur)")
    BIRTH_CERTIFICATE = "birth_certificate", _("Extrait d'acte de naissance (mineur)")
    EHPAD_ATTESTATION = "ehpad_attestation", _("Attestation d'identité de l'EHPAD (résident)")
    INSI = "insi", _("Téléservice INSi")
    NONE = "none", _("Aucune pièce")

    @classmethod
    def high_trust(cls) -> set[str]:
        return {
            cls.PASSPORT,
            cls.ID_CARD,
            cls.RESIDENCE_PERMIT,
            cls.FAMILY_BOOK,
            cls.BIRTH_CERTIFICATE,
            cls.EHPAD_ATTESTATION,
        }


class Patient(loading.Model):
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    first_names = models.CharField(_("prénom(s) de naissance"), max_length=150)
    used_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    used_first_name = models.CharField(_("prénom utilisé"), max_length=100, blank=True)
    birth_date = models.DateField(_("date de naissance"), db_index=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birthplace_code = models.CharField(
        _("lieu de naissance (code INSEE)"),
        max_length=5,
        help_text=_(
            "Code INSEE de la commune de naissance, ou du pays (99xxx) si né à l'étranger."
        ),
    )
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=5,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PROVISIONAL,
    )
    # Kept empty unless the identity is qualified (RNIV).
    matricule = models.CharField(_("matricule INS"), max_length=15, blank=True)
    matricule_kind = models.CharField(max_length=4, choices=MatriculeKind.choices, blank=True)
    # When the INSi teleservice last returned this identity's INS, and the high-trust document
    # it was checked against (FR Core: the INSi query date and the validation mode).
    insi_checked_at = models.DateTimeField(_("interrogation INSi"), null=True, blank=True)
    validation_mode = models.CharField(
        _("mode de validation"), max_length=20, choices=EvidenceKind.choices, blank=True
    )
    # Upper-case accent-free copy of the names, for search on every database.
    search_key = models.CharField(max_length=400, db_index=True, editable=False)
    gp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gp_patients",
        verbose_name=_("médecin traitant"),
    )
    # The patient's objection to sharing their documents (CSP L.1111-15 and L.1470-5): no
    # report goes to their DMP, or by MSSanté (their Mon espace santé mailbox and their
    # professionals' boxes), while it stands. The outbox reads them when it plans a document.
    dmp_objection = models.BooleanField(
        _("opposition à l'alimentation du DMP"), default=False, db_default=False
    )
    mssante_objection = models.BooleanField(
        _("opposition aux envois par MSSanté"), default=False, db_default=False
    )
    structures = models.ManyToManyField(
        "structures.Structure", through="PatientAttachment", related_name="patients"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient")
        ordering = ["birth_name", "first_names"]
        indexes = [models.Index(fields=["birth_date", "sex"])]

    def __str__(self) -> str:
        return f"{self.birth_name.upper()} {self.first_names}"

    @property
    def first_first_name(self) -> str:
        return self.first_names.split(" ")[0] if self.first_names else ""

    @property
    def is_qualified(self) -> bool:
        return self.identity_status == IdentityStatus.QUALIFIED

    @property
    def shareable_matricule(self) -> str:
        """The INS may be shown and shared only for a qualified identity."""
        return self.matricule if self.is_qualified else ""

    @property
    def matricule_oid(self) -> str:
        return MATRICULE_OIDS.get(self.matricule_kind, "") if self.is_qualified else ""


class AttachmentKind(models.TextChoices):
    RESIDENT = "resident", _("Résident")
    PATIENT = "patient", _("Patient suivi")


class PatientAttachment(loading.Model):
    """A patient followed by a care team (its structure kept on the row, as for memberships)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="attachments")
    structure = models.ForeignKey(
        "structures.Structure", on_delete=models.CASCADE, related_name="patient_attachments"
    )
    team = models.ForeignKey(
        "structures.Team", on_delete=models.CASCADE, related_name="patient_attachments"
    )
    kind = models.CharField(
        max_length=10, choices=AttachmentKind.choices, default=AttachmentKind.PATIENT
    )
    since = models.DateField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "team"], name="one_team_attachment")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} @ {self.structure_id} ({self.kind})"

    def save(self, *args, **kwargs) -> None:
        # Given a structure only, the patient is followed by its first team.
        from telesante.structures.models import Team

        if self.team_id is None:
            self.team = Team.default_for(self.structure_id)
        self.structure_id = self.team.structure_id
        super().save(*args, **kwargs)


class IdentityStatusChange(loading.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=5, choices=IdentityStatus.choices, blank=True)
    new_status = models.CharField(max_length=5, choices=IdentityStatus.choices)
    evidence = models.CharField(_("justificatif"), max_length=20, choices=EvidenceKind.choices)
    note = models.CharField(_("remarque"), max_length=250, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_status or '∅'} → {self.new_status}"


class ActKind(models.TextChoices):
    TELECONSULTATION = "teleconsultation", _("Téléconsultation")
    TELEEXPERTISE = "teleexpertise", _("Télé-expertise")
    TELESOIN = "telesoin", _("Télésoin")
    TELEASSISTANCE = "teleassistance", _("Téléassistance")
    TELEREGULATION = "teleregulation", _("Télérégulation")
    TELESURVEILLANCE = "telesurveillance", _("Télésurveillance")


class ConsentDecision(models.TextChoices):
    CONSENT = "consent", _("Consentement")
    REFUSAL = "refusal", _("Refus")


class Consent(loading.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    act_kind = models.CharField(_("type d'acte"), max_length=20, choices=ActKind.choices)
    information_given = models.BooleanField(_("information délivrée au patient"))
    decision = models.CharField(_("décision"), max_length=10, choices=ConsentDecision.choices)
    note = models.CharField(_("remarque"), max_length=250, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    structure = models.ForeignKey(
        "structures.Structure", on_delete=models.PROTECT, null=True, related_name="+"
    )
    collected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at"]

    def __str__(self) -> str:
        return f"{self.act_kind}: {self.decision}"
