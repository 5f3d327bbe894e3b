"""Patient identity services: search, duplicate detection, creation, status changes, consent.

Every function takes the acting user and the request, goes through the wall in
`core.policy` and writes the audit trail through `core.audit`.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telesante.core import audit, paging, policy, prepared
from telesante.core.i18n import product_language
from telesante.core.identifiers import validate_matricule
from telesante.core.models import AuditAction
from telesante.core.text import fold
from telesante.patients import insi
from telesante.patients.models import (
    MATRICULE_OIDS,
    AttachmentKind,
    Consent,
    ConsentDecision,
    EvidenceKind,
    IdentityStatus,
    IdentityStatusChange,
    Patient,
    PatientAttachment,
)
from telesante.structures import places
from telesante.structures.models import Commune, Country, Structure, StructureKind, Team

SEARCH_LIMIT = 50


def search_key(patient: Patient) -> str:
    return fold(
        " ".join(
            [patient.birth_name, patient.used_name, patient.first_names, patient.used_first_name]
        )
    )


def parse_date(text: str) -> datetime.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def age(birth_date: datetime.date, on: datetime.date | None = None) -> int:
    """Age in whole years on a day (today by default, in the platform's time zone)."""
    on = on or timezone.localdate()
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def matched(user, query: str) -> paging.Listing:
    """Visible patients matching every word of `query` (names, or a birth date dd/mm/yyyy),
    in name order. Not audited: whoever lists them audits the rows shown (`audit_listed`)."""
    allowed = policy.may_handle_patients(user)
    words = [  # PostgreSQL refuses NUL in text
        parse_date(word) or fold(word) for word in query.replace("\x00", "").split()
    ]

    def build(values: SimpleNamespace) -> QuerySet[Patient]:
        patients = (
            Patient.objects.filter(prepared.is_among("pk", values.wall))
            if allowed
            else Patient.objects.none()
        )
        for i, word in enumerate(words):
            if isinstance(word, datetime.date):
                patients = patients.filter(birth_date=getattr(values, f"word_{i}"))
            else:
                patients = patients.filter(search_key__contains=getattr(values, f"word_{i}"))
        return patients.order_by("birth_name", "first_names", "pk")

    values = {f"word_{i}": word for i, word in enumerate(words)}
    if allowed:
        values["wall"] = policy.read_first(policy.visible_patient_ids(user))
    shape = ("patients", allowed, *(isinstance(word, datetime.date) for word in words))
    # Planned for each search, the statement cost more to plan than to run (docs/benchmarks.md § 9).
    return paging.Listing(shape, build, values, generic_plan=True)


def matching(user, query: str) -> QuerySet[Patient]:
    """`matched` as a queryset."""
    return matched(user, query).queryset()


def audit_listed(request: HttpRequest, user, query: str, found: Iterable[Patient]) -> None:
    audit.record(request, user, AuditAction.SEARCH, found, detail=query.replace("\x00", "")[:200])


def search(
    request: HttpRequest, user, query: str, limit: int = SEARCH_LIMIT, offset: int = 0
) -> list[Patient]:
    """`limit` matching patients from `offset`, audited."""
    found = paging.window(matched(user, query), offset, offset + limit)
    audit_listed(request, user, query, found)
    return found


def picker_detail(patient: Patient) -> str:
    """What a picker shows beside a patient's name: birth date, sex, identity status."""
    return " · ".join(
        [
            patient.birth_date.strftime("%d/%m/%Y"),
            str(patient.get_sex_display()),
            str(patient.get_identity_status_display()),
        ]
    )


def validate_birthplace(code: str) -> None:
    if code.startswith("99"):
        if not Country.objects.filter(code=code).exists():
            raise ValidationError(
                {"birthplace_code": _("Code pays INSEE inconnu : %(code)s.") % {"code": code}}
            )
    elif not Commune.objects.filter(code=code).exists():
        raise ValidationError(
            {"birthplace_code": _("Code INSEE de commune inconnu : %(code)s.") % {"code": code}}
        )


TEXT_TRAITS = ("birth_name", "first_names", "used_name", "used_first_name", "birthplace_code")


def validate_traits(patient: Patient) -> None:
    errors = {}
    for field in TEXT_TRAITS:
        if "\x00" in getattr(patient, field):
            errors[field] = _("Caractère nul interdit.")
    for field in ("birth_name", "first_names"):
        if field not in errors and not getattr(patient, field).strip():
            errors[field] = _("Ce champ est obligatoire.")
    if patient.birth_date and patient.birth_date > timezone.localdate():
        errors["birth_date"] = _("La date de naissance ne peut pas être dans le futur.")
    if patient.birth_date and patient.birth_date.year < 1890:
        errors["birth_date"] = _("La date de naissance est invraisemblable.")
    if "birthplace_code" not in errors:
        try:
            validate_birthplace(patient.birthplace_code)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@dataclass
class DuplicateCheck:
    visible: list[Patient]
    hidden_count: int

    @property
    def any(self) -> bool:
        return bool(self.visible) or self.hidden_count > 0


def likely_duplicates(user, patient: Patient) -> DuplicateCheck:
    """Identities with the same birth date and a close name (RNIV: search starts from the date)."""
    birth_name = fold(patient.birth_name)
    first = fold(patient.first_names).split(" ")[0] if patient.first_names else ""
    close = Patient.objects.filter(birth_date=patient.birth_date).filter(
        Q(search_key__contains=birth_name[:4])
        | Q(search_key__contains=first)
        | Q(sex=patient.sex, birthplace_code=patient.birthplace_code)
    )
    if patient.pk:
        close = close.exclude(pk=patient.pk)
    visible_ids = set(
        policy.visible_patients(user).filter(pk__in=close).values_list("pk", flat=True)
    )
    candidates = list(close[:20])
    return DuplicateCheck(
        visible=[p for p in candidates if p.pk in visible_ids],
        hidden_count=len([p for p in candidates if p.pk not in visible_ids]),
    )


def create(
    request: HttpRequest,
    user,
    patient: Patient,
    structure: Structure,
    attachment_kind: str = AttachmentKind.PATIENT,
    confirm_not_duplicate: bool = False,
) -> tuple[Patient | None, DuplicateCheck]:
    """Create a provisional identity attached to `structure`, unless it looks like a duplicate.

    Returns (None, duplicates) when candidates exist and the user has not confirmed.
    """
    if not policy.may_create_in(user, structure):
        raise PermissionDenied(_("Vous n'êtes pas membre de cette structure."))
    validate_traits(patient)
    duplicates = likely_duplicates(user, patient)
    if duplicates.any and not confirm_not_duplicate:
        # The candidates are shown to the user: a read of their identity, like a search.
        audit.record(
            request, user, AuditAction.SEARCH, duplicates.visible, detail="doublons potentiels"
        )
        return None, duplicates
    _normalise(patient)
    patient.identity_status = IdentityStatus.PROVISIONAL
    patient.matricule = patient.matricule_kind = ""
    patient.created_by = user
    with transaction.atomic():
        patient.save()
        PatientAttachment.objects.create(
            patient=patient, team=Team.of(user, structure.pk), kind=attachment_kind
        )
        with product_language():
            IdentityStatusChange.objects.create(
                patient=patient,
                new_status=patient.identity_status,
                evidence=EvidenceKind.NONE,
                changed_by=user,
                note=_("Création"),
            )
        audit.record(request, user, AuditAction.CREATE, [patient], structure_id=structure.pk)
    return patient, duplicates


STRICT_TRAITS = ("birth_name", "first_names", "birth_date", "sex", "birthplace_code")
EDITABLE_TRAITS = (*STRICT_TRAITS, "used_name", "used_first_name")
# Identities whose strict traits come from the INSi service: only INSi changes them (RNIV).
INSI_STATUSES = (IdentityStatus.RETRIEVED, IdentityStatus.QUALIFIED)


def _normalise(patient: Patient) -> None:
    """How traits are kept, whoever typed them: birth name in capitals, single spaces."""
    patient.birth_name = patient.birth_name.strip().upper()
    patient.first_names = " ".join(patient.first_names.split())
    patient.search_key = search_key(patient)


def update(request: HttpRequest, user, patient: Patient, changes: dict) -> Patient:
    """Change identity traits with the checks of creation (INS traits, RNIV).

    Strict traits of an identity retrieved from INSi (RECUP, QUAL) are refused: only INSi
    changes them. A validated identity whose strict traits change returns to provisional, its
    document check no longer holding; used names change freely."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied(
            _("Les observateurs régionaux n'ont pas accès aux données patients.")
        )
    unknown = set(changes) - set(EDITABLE_TRAITS)
    if unknown:
        raise ValidationError({f: _("Ce champ ne se modifie pas ici.") for f in sorted(unknown)})
    changed = [f for f, value in changes.items() if getattr(patient, f) != value]
    strict = [f for f in changed if f in STRICT_TRAITS]
    if strict and patient.identity_status in INSI_STATUSES:
        raise ValidationError(
            {
                f: _(
                    "Identité récupérée ou qualifiée : ce trait strict vient du téléservice "
                    "INSi et ne se modifie pas à la main."
                )
                for f in strict
            }
        )
    if not changed:
        return patient
    for field_name in changed:
        setattr(patient, field_name, changes[field_name])
    validate_traits(patient)
    _normalise(patient)
    old_status = patient.identity_status
    with transaction.atomic():
        if strict and old_status != IdentityStatus.PROVISIONAL:
            patient.identity_status = IdentityStatus.PROVISIONAL
            patient.matricule = patient.matricule_kind = ""
            with product_language():
                IdentityStatusChange.objects.create(
                    patient=patient,
                    old_status=old_status,
                    new_status=patient.identity_status,
                    evidence=EvidenceKind.NONE,
                    changed_by=user,
                    note=_("Traits stricts modifiés"),
                )
        patient.save()
        # Which traits changed, not their values: the trail names what was touched.
        audit.record(request, user, AuditAction.UPDATE, [patient], detail=", ".join(changed))
    return patient


# Which evidence each status needs (RNIV): VALI rests on a high-trust document,
# RECUP on the INSi service, QUAL on both.
def _check_status_change(
    patient: Patient, new_status: str, evidence: str, matricule: str, via_insi: bool
) -> None:
    if new_status in INSI_STATUSES and not via_insi:
        # RNIV: RECUP and QUAL rest on the INS read from the INSi teleservice, never on a
        # matricule typed by hand; until that step exists VALI is the highest status by hand.
        raise ValidationError(
            {
                "new_status": _(
                    "Les statuts « récupérée » et « qualifiée » s'obtiennent par le téléservice "
                    "INSi, pas à la main : validez l'identité (VALI) sur une pièce d'identité."
                )
            }
        )
    high = EvidenceKind.high_trust()
    if new_status == IdentityStatus.VALIDATED and evidence not in high:
        raise ValidationError(
            {
                "evidence": _(
                    "Une identité validée exige une pièce d'identité à haut niveau de confiance."
                )
            }
        )
    _check_substitute(patient, evidence)
    if new_status == IdentityStatus.RETRIEVED and evidence != EvidenceKind.INSI:
        raise ValidationError(
            {"evidence": _("Une identité récupérée provient du téléservice INSi.")}
        )
    if new_status == IdentityStatus.QUALIFIED:
        if evidence not in high:
            raise ValidationError(
                {
                    "evidence": _(
                        "La qualification exige une pièce d'identité à haut niveau de "
                        "confiance, vérifiée."
                    )
                }
            )
        if not matricule:
            raise ValidationError(
                {"matricule": _("La qualification exige le matricule INS renvoyé par INSi.")}
            )
        try:
            validate_matricule(matricule, patient.sex)
        except ValidationError as exc:
            raise ValidationError({"matricule": exc.messages}) from exc


MINOR_DOCUMENTS = (EvidenceKind.FAMILY_BOOK, EvidenceKind.BIRTH_CERTIFICATE)


def _check_substitute(patient: Patient, evidence: str) -> None:
    """RNIV (REGULATORY.md § Patient identity, « EHPAD residents and minors have accepted
    substitutes »): the livret de famille or birth certificate for a minor only, the EHPAD's
    identity attestation for a resident of an EHPAD only; an adult shows a passport, an ID card
    or a residence permit."""
    if evidence in MINOR_DOCUMENTS and age(patient.birth_date) >= 18:
        raise ValidationError(
            {
                "evidence": _(
                    "Le livret de famille ou l'extrait d'acte de naissance ne valent que pour un "
                    "mineur : pour un adulte, vérifiez un passeport, une carte d'identité ou un "
                    "titre de séjour."
                )
            }
        )
    if evidence == EvidenceKind.EHPAD_ATTESTATION and not (
        PatientAttachment.objects.filter(
            patient=patient, kind=AttachmentKind.RESIDENT, structure__kind=StructureKind.EHPAD
        ).exists()
    ):
        raise ValidationError(
            {
                "evidence": _(
                    "L'attestation d'identité d'un EHPAD ne vaut que pour un résident de cet "
                    "EHPAD : pour les autres patients, vérifiez un passeport, une carte "
                    "d'identité ou un titre de séjour."
                )
            }
        )


def change_status(
    request: HttpRequest,
    user,
    patient: Patient,
    new_status: str,
    evidence: str,
    matricule: str = "",
    matricule_kind: str = "",
    note: str = "",
    *,
    via_insi: bool = False,
) -> IdentityStatusChange:
    """Change the identity's RNIV status. By hand (pages) up to VALI; RECUP and QUAL only with
    `via_insi`, the INSi teleservice step having read the INS."""
    matricule = matricule.replace(" ", "")
    _check_status_change(patient, new_status, evidence, matricule, via_insi)
    old = patient.identity_status
    with transaction.atomic():
        patient.identity_status = new_status
        if new_status == IdentityStatus.QUALIFIED:
            patient.matricule, patient.matricule_kind = matricule, matricule_kind or "NIR"
        else:
            patient.matricule = patient.matricule_kind = ""
        if new_status not in INSI_STATUSES:
            patient.insi_checked_at, patient.validation_mode = None, ""
        patient.save(
            update_fields=[
                "identity_status",
                "matricule",
                "matricule_kind",
                "insi_checked_at",
                "validation_mode",
                "updated_at",
            ]
        )
        change = IdentityStatusChange.objects.create(
            patient=patient,
            old_status=old,
            new_status=new_status,
            evidence=evidence,
            note=note,
            changed_by=user,
        )
        audit.record(
            request,
            user,
            AuditAction.STATUS,
            [patient],
            detail=f"{old} → {new_status} ({evidence})",
        )
    return change


def consent_to_act(request: HttpRequest | None, user, patient, act_kind: str, structure) -> Consent:
    """The informed patient's consent, recorded with the request of an act."""
    consent = Consent(
        patient=patient,
        act_kind=act_kind,
        information_given=True,
        decision=ConsentDecision.CONSENT,
        structure=structure,
    )
    return record_consent(request, user, consent)


def refusal_of_act(
    request: HttpRequest | None, user, patient, act_kind: str, structure, note: str = ""
) -> Consent:
    """The informed patient's refusal, typed when an act is booked or requested: kept in their
    record though no act is created (REGULATORY.md, « a refusal is recorded too »; CSP
    R.6316-2)."""
    consent = Consent(
        patient=patient,
        act_kind=act_kind,
        information_given=True,
        decision=ConsentDecision.REFUSAL,
        note=note.replace("\x00", "").strip()[:250],
        structure=structure,
    )
    return record_consent(request, user, consent)


def record_consent(request: HttpRequest, user, consent: Consent) -> Consent:
    if "\x00" in consent.note:
        raise ValidationError({"note": _("Caractère nul interdit.")})
    if not consent.information_given:
        raise ValidationError(
            {
                "information_given": _(
                    "Le patient doit avoir été informé avant de consentir ou refuser."
                )
            }
        )
    consent.collected_by = user
    if consent.structure_id is None:
        consent.structure = (
            policy.member_structures(user)
            .filter(patient_attachments__patient=consent.patient)
            .first()
        )
    with transaction.atomic():
        consent.save()
        audit.record(
            request,
            user,
            AuditAction.CONSENT,
            [consent],
            detail=f"{consent.act_kind}: {consent.decision}",
        )
    return consent


# The INSi step (RNIV): the INS read from the teleservice, its traits compared with the
# identity's; a match makes the identity QUAL when a high-trust document was seen, RECUP otherwise.
TRAIT_LABELS = {
    "birth_name": gettext_lazy("nom de naissance"),
    "first_names": gettext_lazy("prénom(s) de naissance"),
    "sex": gettext_lazy("sexe"),
    "birth_date": gettext_lazy("date de naissance"),
    "birthplace_code": gettext_lazy("lieu de naissance"),
}
MATRICULE_KINDS = {oid.removeprefix("urn:oid:"): kind for kind, oid in MATRICULE_OIDS.items()}


@dataclass(frozen=True)
class TraitDifference:
    trait: str
    label: str
    local: str
    insi: str


@dataclass(frozen=True)
class InsiOutcome:
    operation: str  # "search" or "verify"
    code: str
    result: str  # qualified, retrieved, mismatch, not_found, several
    differences: list[TraitDifference]
    detail: str

    @property
    def changed_status(self) -> bool:
        return self.result in {"qualified", "retrieved"}


def _traits(patient: Patient) -> insi.Traits:
    return insi.Traits(
        birth_name=patient.birth_name,
        first_names=tuple(patient.first_names.split()),
        sex=patient.sex,
        birth_date=patient.birth_date,
        birthplace_code=patient.birthplace_code,
    )


def _shown(trait: str, value) -> str:
    if trait == "birth_date":
        return value.strftime("%d/%m/%Y")
    if trait == "first_names":
        return " ".join(value)
    if trait == "birthplace_code":
        return places.label(value)
    return str(value)


def compare_traits(local: insi.Traits, national: insi.Traits) -> list[TraitDifference]:
    """The strict traits that differ, names compared as they are searched (case, accents,
    hyphens and apostrophes aside)."""
    differences = []
    for trait, label in TRAIT_LABELS.items():
        mine, theirs = getattr(local, trait), getattr(national, trait)
        if trait in ("birth_name", "first_names"):
            same = fold(_shown(trait, mine)) == fold(_shown(trait, theirs))
        else:
            same = mine == theirs
        if not same:
            differences.append(
                TraitDifference(trait, str(label), _shown(trait, mine), _shown(trait, theirs))
            )
    return differences


def _document_seen(patient: Patient, evidence: str) -> str:
    """The high-trust document the qualification rests on: the one seen now, or the one a
    validated (RNIV: VALI + INSi = QUAL) or qualified identity rests on. "" when none."""
    if evidence and evidence != EvidenceKind.NONE:
        if evidence not in EvidenceKind.high_trust():
            raise ValidationError(
                {"evidence": _("Choisissez une pièce d'identité à haut niveau de confiance.")}
            )
        _check_substitute(patient, evidence)
        return evidence
    if patient.is_qualified:
        return patient.validation_mode
    if patient.identity_status == IdentityStatus.VALIDATED:
        last = (
            patient.status_changes.filter(new_status=IdentityStatus.VALIDATED)
            .order_by("-changed_at", "-pk")
            .values_list("evidence", flat=True)
            .first()
        )
        return last if last in EvidenceKind.high_trust() else ""
    return ""


def _ask_insi(patient: Patient, matricule: str) -> tuple[str, insi.InsiResponse]:
    """Verification of a matricule read from the carte Vitale, or of the INS a qualified
    identity holds; otherwise a search by traits."""
    client = insi.backend()
    traits = _traits(patient)
    if matricule:
        try:
            # Its sex digit is not checked against the identity's: INSi names the trait.
            validate_matricule(matricule)
        except ValidationError as exc:
            raise ValidationError({"matricule": exc.messages}) from exc
        return "verify", client.verify(insi.VerifyRequest(matricule, client.oid, traits))
    if patient.is_qualified:
        oid = patient.matricule_oid.removeprefix("urn:oid:")
        return "verify", client.verify(insi.VerifyRequest(patient.matricule, oid, traits))
    return "search", client.search(insi.SearchRequest(traits))


def insi_lookup(
    request: HttpRequest | None,
    user,
    patient: Patient,
    evidence: str = EvidenceKind.NONE,
    matricule: str = "",
) -> InsiOutcome:
    """Ask the INSi teleservice for the patient's INS and compare its traits (every call
    audited, the unavailable one too). On a match the identity becomes QUAL with the document
    seen (or RECUP without one), the matricule, its OID, the INSi date and the validation mode
    stored; a difference keeps the status and names the traits that differ."""
    if not policy.may_handle_patients(user):
        raise PermissionDenied(
            _("Les observateurs régionaux n'ont pas accès aux données patients.")
        )
    matricule = matricule.replace(" ", "").replace("\x00", "")
    document = _document_seen(patient, evidence)
    try:
        operation, response = _ask_insi(patient, matricule)
    except insi.InsiUnavailable as exc:
        audit.record(request, user, AuditAction.INSI, [patient], detail="INSi indisponible")
        raise ValidationError({"insi": str(exc)}) from exc
    if response.code != insi.ResultCode.FOUND or response.identity is None:
        result = "several" if response.code == insi.ResultCode.SEVERAL else "not_found"
        audit.record(request, user, AuditAction.INSI, [patient], detail=f"{operation} {result}")
        return InsiOutcome(operation, response.code, result, [], _NOT_MATCHED[result]())
    national = response.identity
    differences = compare_traits(_traits(patient), national.traits)
    if differences:
        names = ", ".join(d.trait for d in differences)
        audit.record(
            request, user, AuditAction.INSI, [patient], detail=f"{operation} écart: {names}"
        )
        detail = _("L'identité reste « %(status)s » : traits différents de l'INS : %(list)s.") % {
            "status": patient.get_identity_status_display(),
            "list": "; ".join(
                _("%(label)s (ici « %(local)s », INSi « %(insi)s »)") % d.__dict__
                for d in differences
            ),
        }
        return InsiOutcome(operation, response.code, "mismatch", differences, detail)
    with transaction.atomic():
        # The INS's own spelling of the names (accents, hyphens) replaces the typed one.
        patient.birth_name = national.traits.birth_name
        patient.first_names = " ".join(national.traits.first_names)
        _normalise(patient)
        patient.save(update_fields=["birth_name", "first_names", "search_key"])
        audit.record(request, user, AuditAction.INSI, [patient], detail=f"{operation} concordant")
        new_status = IdentityStatus.QUALIFIED if document else IdentityStatus.RETRIEVED
        with product_language():
            note = _("INSi : %(op)s du %(at)s") % {
                "op": _("vérification") if operation == "verify" else _("recherche par traits"),
                "at": timezone.localtime(response.answered_at).strftime("%d/%m/%Y %H:%M"),
            }
        change_status(
            request,
            user,
            patient,
            new_status,
            document or EvidenceKind.INSI,
            national.matricule,
            MATRICULE_KINDS.get(national.oid, ""),
            note,
            via_insi=True,
        )
        patient.insi_checked_at = response.answered_at
        patient.validation_mode = document
        patient.save(update_fields=["insi_checked_at", "validation_mode"])
    if document:
        return InsiOutcome(
            operation, response.code, "qualified", [], _("Identité qualifiée par INSi.")
        )
    return InsiOutcome(
        operation,
        response.code,
        "retrieved",
        [],
        _(
            "Identité récupérée par INSi. Vérifiez une pièce d'identité à haut niveau de "
            "confiance pour la qualifier."
        ),
    )


_NOT_MATCHED = {
    "not_found": lambda: _(
        "Aucune identité trouvée par INSi : vérifiez les traits avec le patient et sa pièce "
        "d'identité, ou lisez sa carte Vitale."
    ),
    "several": lambda: _(
        "Plusieurs identités répondent à ces traits : indiquez le matricule lu sur la carte "
        "Vitale pour une vérification."
    ),
}


def set_objections(
    request: HttpRequest | None, user, patient: Patient, dmp: bool, mssante: bool
) -> Patient:
    """The patient's objection to their DMP being fed and to MSSanté sending, as they state it
    (CSP L.1111-15; audited). The outbox honours it for every report planned from then on."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        before = (locked.dmp_objection, locked.mssante_objection)
        locked.dmp_objection, locked.mssante_objection = dmp, mssante
        locked.save(update_fields=["dmp_objection", "mssante_objection", "updated_at"])
        if before != (dmp, mssante):
            detail = "opposition DMP : {}, MSSanté : {}".format(
                "oui" if dmp else "non", "oui" if mssante else "non"
            )
            audit.record(request, user, AuditAction.UPDATE, [locked], detail=detail)
    patient.dmp_objection, patient.mssante_objection = dmp, mssante
    return patient
