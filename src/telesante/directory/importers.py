"""Imports of the national open-data extracts, idempotent (a re-import updates, never
duplicates), with a progress bar and a summary of what was created, updated and rejected.

FINESS (etalab extract ``etalab-cs1100507-stock-*.csv``): ``;``-separated, no header, a first
line ``finess;etalab;<version>;<date>``, then ``structureet`` lines (and ``geolocalisation``
lines, not used). Columns used, by position in a ``structureet`` line:
1 nofinesset, 2 nofinessej, 3 rs, 4 rslongue, 7 numvoie, 8 typvoie, 9 voie, 11 lieuditbp,
12 commune (3 characters), 13 departement (9A… for the overseas départements),
15 ligneacheminement (postal code then town), 18 categetab.

RPPS (Annuaire Santé ``PS_LibreAcces_Personne_activite_*.txt``): ``|``-separated with a header
line, one line per professional and place of work. Columns used, by header:
« Type d'identifiant PP », « Identifiant PP », « Nom d'exercice », « Prénom d'exercice »,
« Code profession », « Libellé savoir-faire », « Numéro SIRET site », « Numéro FINESS site »,
« Raison sociale site », « Enseigne commerciale site », « Code postal (coord. structure) »,
« Code commune (coord. structure) », « Téléphone (coord. structure) ».

The RPPS extract is also the reference for accounts (`refresh_accounts`): an account with a RPPS
gets its profession, specialty, savoir-faire and sites (FINESS) from it; an account whose RPPS is
missing from it is flagged and its structure's administrators told.
"""

import csv
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from telesante.accounts.models import Membership, MembershipRole, Profession, Specialty, User
from telesante.core.i18n import product_language
from telesante.core.identifiers import validate_finess, validate_rpps
from telesante.directory.models import Practice, Practitioner
from telesante.notifications import services as notifications
from telesante.structures.models import Commune, Structure, StructureKind

# FINESS categories (categetab) the platform lists, and the structure type each becomes.
FINESS_KINDS = {
    "500": StructureKind.EHPAD,  # EHPAD
    "101": StructureKind.CHU,  # Centre hospitalier régional (CHR/CHU)
    "355": StructureKind.CH,  # Centre hospitalier
    "106": StructureKind.CH,  # Centre hospitalier, ex hôpital local
    "603": StructureKind.MSP,  # Maison de santé (L.6223-3)
    "124": StructureKind.CDS,  # Centre de santé
    "620": StructureKind.PHARMACY,  # Pharmacie d'officine
    "437": StructureKind.FAM_MAS,  # Foyer d'accueil médicalisé
    "255": StructureKind.FAM_MAS,  # Maison d'accueil spécialisée
}
# FINESS writes the overseas départements 9A (971) to 9F (976).
OVERSEAS = {"9A": "971", "9B": "972", "9C": "973", "9D": "974", "9E": "975", "9F": "976"}

# Annuaire Santé profession codes (TRE_G15) the platform distinguishes.
RPPS_PROFESSIONS = {
    "10": Profession.DOCTOR,
    "21": Profession.PHARMACIST,
    "26": Profession.HEARING,
    "28": Profession.OPTICIAN,
    "50": Profession.MIDWIFE,
    "60": Profession.NURSE,
    "69": Profession.NURSE,
    "70": Profession.PHYSIO,
    "80": Profession.PODIATRIST,
    "81": Profession.ORTHOTIST,
    "82": Profession.ORTHOTIST,
    "83": Profession.ORTHOTIST,
    "84": Profession.ORTHOTIST,
    "85": Profession.ORTHOTIST,
    "86": Profession.LAB_TECH,
    "91": Profession.SPEECH,
    "92": Profession.ORTHOPTIST,
    "94": Profession.OCCUPATIONAL,
    "95": Profession.DIETICIAN,
    "96": Profession.PSYCHOMOTOR,
    "98": Profession.RADIOGRAPHER,
}
# Words of the « Libellé savoir-faire » that name a specialty of the platform.
SPECIALTY_WORDS = [
    ("MEDECINE GENERALE", Specialty.GENERAL),
    ("CARDIOLOGIE", Specialty.CARDIOLOGY),
    ("GERIATRIE", Specialty.GERIATRICS),
    ("DERMATOLOGIE", Specialty.DERMATOLOGY),
    ("PSYCHIATRIE", Specialty.PSYCHIATRY),
    ("NEPHROLOGIE", Specialty.NEPHROLOGY),
    ("DIABETOLOGIE", Specialty.DIABETOLOGY),
    ("PHYSIQUE ET DE READAPTATION", Specialty.MPR),
    ("MEDECINE D'URGENCE", Specialty.EMERGENCY),
    ("SOINS PALLIATIFS", Specialty.PALLIATIVE),
]


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Counter = field(default_factory=Counter)

    def lines(self, what: str) -> list[str]:
        out = [
            f"{what} : {self.created} créé(s), {self.updated} mis à jour, "
            f"{self.unchanged} inchangé(s), {sum(self.rejected.values())} ligne(s) rejetée(s)."
        ]
        out += [f"  rejet : {reason} ({n})" for reason, n in self.rejected.most_common()]
        return out


def read_text(path: Path) -> str:
    """The extracts have been published in UTF-8 and in Windows-1252."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _ascii_upper(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


def _save_changes(obj, values: dict, summary: Summary, created: bool) -> None:
    if created:
        summary.created += 1
        return
    changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
    if not changed:
        summary.unchanged += 1
        return
    for k, v in changed.items():
        setattr(obj, k, v)
    obj.save()
    summary.updated += 1


def finess_commune_code(departement: str, commune: str) -> str:
    dep = OVERSEAS.get(departement, departement)
    return dep[:2] + commune if len(dep) == 3 else dep + commune


def _finess_values(cols: list[str], communes: set[str]) -> dict:
    finess = cols[1].strip()
    try:
        validate_finess(finess)
    except ValidationError:
        raise ValueError("numéro FINESS invalide") from None
    kind = FINESS_KINDS.get(cols[18].strip())
    if kind is None:
        raise ValueError(f"catégorie {cols[18].strip() or '(vide)'} hors du périmètre")
    code = finess_commune_code(cols[13].strip(), cols[12].strip())
    if code not in communes:
        raise ValueError("commune inconnue")
    name = (cols[4] or cols[3]).strip()
    if not name:
        raise ValueError("raison sociale absente")
    address = " ".join(p.strip() for p in (cols[7], cols[8], cols[9]) if p.strip())
    postal = cols[15].strip()[:5]
    ej = cols[2].strip()
    return {
        "finess": finess,
        "name": name[:200],
        "kind": kind,
        "finess_ej": ej if len(ej) == 9 else "",
        "address": (address or cols[11].strip())[:250],
        "postal_code": postal if postal.isdigit() else "",
        "commune_id": code,
    }


@transaction.atomic
def import_finess(path: Path, progress: bool = False) -> Summary:
    summary = Summary()
    lines = read_text(path).splitlines()
    communes = set(Commune.objects.values_list("code", flat=True))
    existing = {s.finess: s for s in Structure.objects.filter(finess__isnull=False)}
    for line in tqdm(lines, desc="FINESS", unit=" lignes", disable=not progress):
        cols = next(csv.reader([line], delimiter=";"), [])
        if not cols or cols[0] != "structureet":
            continue  # the header line and the geolocalisation lines
        if len(cols) < 19:
            summary.rejected["ligne incomplète"] += 1
            continue
        try:
            values = _finess_values(cols, communes)
        except ValueError as err:
            summary.rejected[str(err)] += 1
            continue
        structure = existing.get(values["finess"])
        if structure is None:
            existing[values["finess"]] = Structure.objects.create(**values)
            summary.created += 1
        else:
            _save_changes(structure, values, summary, created=False)
    return summary


def _specialty(label: str) -> str:
    upper = _ascii_upper(label)
    return next((value for word, value in SPECIALTY_WORDS if word in upper), "")


@dataclass
class National:
    """What the extract says of one RPPS, over all its lines."""

    profession: str = ""
    specialty: str = ""
    savoir_faire: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)

    def add(self, values: dict, row: dict) -> None:
        self.profession = self.profession or values["profession"]
        self.specialty = self.specialty or values["specialty"]
        if values["specialty_label"]:
            self.savoir_faire.add(values["specialty_label"])
        if row.get("Numéro FINESS site"):
            self.sites.add(row["Numéro FINESS site"])


@dataclass
class AccountChanges:
    """The accounts refreshed from the extract: one line per account changed, those flagged
    (their RPPS missing) and those whose RPPS came back."""

    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    flagged: list[User] = field(default_factory=list)
    back: list[User] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"Comptes : {len(self.changed)} mis à jour, {self.unchanged} inchangé(s), "
            f"{len(self.flagged)} RPPS absent(s) de l'extraction signalé(s), "
            f"{len(self.back)} RPPS revenu(s)."
        ]
        out += [f"  {line}" for line in self.changed]
        out += [f"  absent : {u.rpps} {u.display_name}" for u in self.flagged]
        out += [f"  revenu : {u.rpps} {u.display_name}" for u in self.back]
        return out


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value else "—"


def _describe(user: User, new: dict) -> str:
    parts = []
    if new.get("profession", user.profession) != user.profession:
        old, now = _label(Profession, user.profession), _label(Profession, new["profession"])
        parts.append(f"profession {old} → {now}")
    if new.get("specialty", user.specialty) != user.specialty:
        old, now = _label(Specialty, user.specialty), _label(Specialty, new["specialty"])
        parts.append(f"spécialité {old} → {now}")
    if "savoir_faire" in new:
        parts.append(f"savoir-faire : {', '.join(new['savoir_faire']) or '—'}")
    if "directory_sites" in new:
        added = sorted(set(new["directory_sites"]) - set(user.directory_sites))
        gone = sorted(set(user.directory_sites) - set(new["directory_sites"]))
        parts.append("sites " + " ".join([*(f"+{s}" for s in added), *(f"−{s}" for s in gone)]))
    return f"{user.rpps} {user.display_name} : " + " ; ".join(parts)


def _tell_administrators(user: User) -> None:
    """Each structure of the account: its administrators get a notification that leads to the
    staff page (the e-mail that goes with it names nobody)."""
    structures = set(Membership.objects.filter(user=user).values_list("structure_id", flat=True))
    for structure_id in sorted(structures):
        admins = User.objects.filter(
            memberships__structure_id=structure_id, memberships__role=MembershipRole.ADMIN
        ).distinct()
        with product_language():
            text = _(
                "Le RPPS %(rpps)s de %(name)s n'apparaît plus dans l'Annuaire Santé : vérifiez "
                "son droit d'exercice et son compte."
            ) % {"rpps": user.rpps, "name": user.display_name}
        notifications.notify(admins, text, url=reverse("structure_staff", args=[structure_id]))


def refresh_accounts(national: dict[str, National], progress: bool = False) -> AccountChanges:
    """Accounts with a RPPS take their profession, specialty, savoir-faire and sites from the
    extract; an active account whose RPPS is missing is flagged once, its administrators told."""
    changes = AccountChanges()
    today = timezone.localdate()
    accounts = User.objects.filter(rpps__isnull=False).order_by("pk")
    for user in tqdm(accounts, desc="Comptes", unit=" comptes", disable=not progress):
        found = national.get(user.rpps)
        if found is None:
            if user.is_active and user.rpps_missing_since is None:
                user.rpps_missing_since = today
                user.save(update_fields=["rpps_missing_since"])
                changes.flagged.append(user)
                _tell_administrators(user)
            else:
                changes.unchanged += 1
            continue
        values = {
            "profession": found.profession,
            "specialty": found.specialty,
            "savoir_faire": sorted(found.savoir_faire),
            "directory_sites": sorted(found.sites),
        }
        new = {k: v for k, v in values.items() if getattr(user, k) != v}
        if user.rpps_missing_since is not None:
            changes.back.append(user)
            new["rpps_missing_since"] = None
        if not new:
            changes.unchanged += 1
            continue
        if set(new) - {"rpps_missing_since"}:
            changes.changed.append(_describe(user, new))
        for key, value in new.items():
            setattr(user, key, value)
        user.save(update_fields=list(new))
    return changes


@transaction.atomic
def import_rpps(path: Path, progress: bool = False) -> tuple[Summary, Summary, AccountChanges]:
    """Practitioners and their places of work, then the accounts refreshed from them; returns
    the (practitioners, places) summaries and the accounts' changes."""
    people, places = Summary(), Summary()
    national: dict[str, National] = {}
    reader = csv.DictReader(io.StringIO(read_text(path)), delimiter="|")
    missing = {"Identifiant PP", "Nom d'exercice", "Code profession"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(
            f"Fichier non reconnu : colonnes absentes ({', '.join(sorted(missing))})."
        )
    communes = set(Commune.objects.values_list("code", flat=True))
    structures = dict(Structure.objects.filter(finess__isnull=False).values_list("finess", "pk"))
    seen: dict[str, Practitioner] = {}
    for row in tqdm(list(reader), desc="RPPS", unit=" lignes", disable=not progress):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        rpps = row["Identifiant PP"]
        if row.get("Type d'identifiant PP", "8") != "8":
            people.rejected["identifiant autre que RPPS (ADELI)"] += 1
            continue
        try:
            validate_rpps(rpps)
        except ValidationError:
            people.rejected["numéro RPPS invalide"] += 1
            continue
        if not row["Nom d'exercice"]:
            people.rejected["nom d'exercice absent"] += 1
            continue
        label = row.get("Libellé savoir-faire", "")
        values = {
            "last_name": row["Nom d'exercice"][:100],
            "first_name": row.get("Prénom d'exercice", "")[:100],
            "profession": RPPS_PROFESSIONS.get(row["Code profession"], Profession.OTHER),
            "specialty": _specialty(label),
            "specialty_label": label[:200],
        }
        national.setdefault(rpps, National()).add(values, row)
        person = seen.get(rpps)
        if person is None:
            person, created = Practitioner.objects.get_or_create(rpps=rpps, defaults=values)
            _save_changes(person, values, people, created)
            seen[rpps] = person
        elif values["specialty"] and not person.specialty:
            # Several lines per person: a later one may carry the specialty.
            Practitioner.objects.filter(pk=person.pk).update(
                specialty=values["specialty"], specialty_label=values["specialty_label"]
            )
        _import_practice(person, row, communes, structures, places)
    return people, places, refresh_accounts(national, progress)


def _import_practice(person, row: dict, communes: set, structures: dict, places: Summary):
    finess = row.get("Numéro FINESS site", "")
    siret = row.get("Numéro SIRET site", "")
    commune = row.get("Code commune (coord. structure)", "")
    commune = commune if commune in communes else None
    key = finess or siret or (f"commune:{commune}" if commune else "")
    if not key:
        places.rejected["lieu d'exercice sans FINESS, SIRET ni commune"] += 1
        return
    postal = row.get("Code postal (coord. structure)", "")[:5]
    values = {
        "site_name": (row.get("Raison sociale site") or row.get("Enseigne commerciale site", ""))[
            :200
        ],
        "structure_id": structures.get(finess),
        "commune_id": commune,
        "postal_code": postal if postal.isdigit() else "",
        "phone": row.get("Téléphone (coord. structure)", "")[:20],
    }
    practice, created = Practice.objects.get_or_create(
        practitioner=person, site_key=key, defaults=values
    )
    _save_changes(practice, values, places, created)
