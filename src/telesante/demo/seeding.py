"""The demo region: the Mayenne (53) and Pays du Mans (72) telehealth projects.

Figures follow the public reports of the two projects: in Mayenne the CH de Laval, du
Nord-Mayenne, du Haut-Anjou and the Pôle d'expertises du CH d'Ernée, 60 EHPAD (50 deployed,
9 in progress, 1 planned), five priority filières; in Sarthe the CH du Mans with 8 EHPAD,
3 MSP, 1 cabinet, 2 centres de santé and 1 FAM; CHU d'Angers and CHU de Nantes as reference
sites out of the territory. Structures sit in real communes; FINESS, RPPS, names and patients
are invented. The same seed gives the same region (dates are relative to today).

Everything is bulk-inserted in one transaction, without per-row queries, so that
`--scale 50` (about 100,000 patients) stays fast on SQLite and PostgreSQL.
"""

import datetime
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Count, Max, Model
from django.utils import timezone
from tqdm import tqdm

from telesante.accounts.models import (
    Membership,
    MembershipRole,
    Profession,
    RegionalRole,
    Specialty,
    User,
)
from telesante.acts.models import Filiere
from telesante.core.identifiers import luhn_complete, nir_key
from telesante.demo import history, monitoring, names
from telesante.deployment.models import Milestone, SiteDeployment, Step
from telesante.indicators import rollup
from telesante.patients.models import (
    ActKind,
    AttachmentKind,
    EvidenceKind,
    IdentityStatus,
    IdentityStatusChange,
    MatriculeKind,
    Patient,
    PatientAttachment,
)
from telesante.patients.services import search_key
from telesante.regulation.models import EventKind, RegulationEvent, RegulationRecord
from telesante.structures.models import (
    Commune,
    Country,
    Departement,
    DeploymentStatus,
    Equipment,
    Structure,
    StructureKind,
    Team,
)
from telesante.teleexpertise.models import OPEN_STATES, TeleExpertise

DEMO_DOMAIN = "demo.telesante.test"
# Shared by every named demo login; `telesante demo-accounts` prints them.
DEMO_PASSWORD = "Demo-Telesante-2026"
DEMO_TOTP_SECRET = "DEMOTELESANTEPAYSDELALOIRE234567"  # base32, 20 bytes
DEFAULT_SEED = 2022
BATCH_SIZE = 2000
BASE_EHPAD_RESIDENTS = 2000
BASE_FAM_RESIDENTS = 40
BASE_OFFICE_PATIENTS = 300  # followed in MSP, centres de santé and the cabinet

FILIERES = [
    Specialty.CARDIOLOGY,
    Specialty.GERIATRICS,
    Specialty.DERMATOLOGY,
    Specialty.PSYCHIATRY,
    Specialty.WOUNDS,
]
GP = Specialty.GENERAL
DEPLOYED, IN_PROGRESS, PLANNED = (
    DeploymentStatus.DEPLOYED,
    DeploymentStatus.IN_PROGRESS,
    DeploymentStatus.PLANNED,
)

# Birthplaces of residents: their département, then these neighbours (and Paris).
NEIGHBOURS = {
    "53": ["35", "61", "72", "49", "50", "14", "44", "75"],
    "72": ["53", "61", "28", "41", "37", "49", "27", "75"],
}
ABROAD = ["99109", "99127", "99131", "99132", "99134", "99139", "99350", "99351", "99352"]
EHPAD_DEVICES = [
    Equipment.STETHOSCOPE,
    Equipment.OTOSCOPE,
    Equipment.ECG,
    Equipment.OXIMETER,
    Equipment.BP,
]
HOME_KINDS = (StructureKind.EHPAD, StructureKind.FAM_MAS)
# Hospitals are many care teams: one per priority filière, the télésurveillance opérateur team
# and a general team (first: the default for patients and staff without a specialty).
HOSPITAL_KINDS = (StructureKind.CH, StructureKind.CHU)
GENERAL_TEAM = "Médecine polyvalente"
MONITORING_TEAM = "Télésurveillance"
FILIERE_TEAMS = {
    Specialty.CARDIOLOGY: "Cardiologie",
    Specialty.GERIATRICS: "Gériatrie",
    Specialty.DERMATOLOGY: "Dermatologie",
    Specialty.PSYCHIATRY: "Psychiatrie",
    Specialty.WOUNDS: "Plaies et cicatrisation",
}
OFFICE_KINDS = (StructureKind.MSP, StructureKind.CDS, StructureKind.CABINET)


DEMO_CONSULTATIONS = 3
CONSULTATION_REASONS = [
    "Dyspnée d'effort et œdèmes des membres inférieurs",
    "Suivi d'insuffisance cardiaque après hospitalisation",
    "Palpitations nocturnes",
]


@dataclass(frozen=True)
class DemoLogin:
    """A named account of the demo, with the password and TOTP secret above."""

    local: str  # e-mail local part
    role: str
    label: str
    first_name: str
    last_name: str
    profession: str = Profession.OTHER
    specialty: str = ""
    site: str | None = None  # key of its structure (see `Seeder.sites`)
    membership_role: str = MembershipRole.MEMBER
    also: tuple[str, ...] = ()  # further structures (member)
    teams: tuple[str, ...] = ()  # its teams at `site` when not the one of its specialty
    regional_role: str = ""
    staff: bool = False
    rpps: bool = True

    @property
    def email(self) -> str:
        return f"{self.local}@{DEMO_DOMAIN}"


DEMO_LOGINS = [
    DemoLogin("infirmiere", "nurse", "Infirmière en EHPAD (Mayenne)", "Camille", "Dorvanel",
              Profession.NURSE, site="ehpad_demo"),
    DemoLogin("admin.ehpad", "structure_admin", "Administratrice d'EHPAD (IDEC)", "Hélène",
              "Quenoubert", Profession.NURSE, site="ehpad_demo",
              membership_role=MembershipRole.ADMIN),
    DemoLogin("medecin.generaliste", "gp", "Médecin généraliste (MSP, médecin traitant)",
              "Julien", "Faloulin", Profession.DOCTOR, GP, site="msp_demo",
              also=("ehpad_demo",)),
    DemoLogin("expert.cardiologie", "expert", "Experte en cardiologie (CH de Laval)", "Claire",
              "Valarac", Profession.DOCTOR, Specialty.CARDIOLOGY, site="ch_laval",
              teams=(FILIERE_TEAMS[Specialty.CARDIOLOGY], MONITORING_TEAM)),
    DemoLogin("expert.geriatrie", "expert", "Expert en gériatrie (CH de Laval)", "Olivier",
              "Kerabert", Profession.DOCTOR, Specialty.GERIATRICS, site="ch_laval"),
    DemoLogin("expert.dermatologie", "expert", "Experte en dermatologie (CH de Laval)", "Inès",
              "Morillec", Profession.DOCTOR, Specialty.DERMATOLOGY, site="ch_laval"),
    DemoLogin("expert.psychiatrie", "expert", "Expert en psychiatrie (CH de Laval)", "Yann",
              "Lanochon", Profession.DOCTOR, Specialty.PSYCHIATRY, site="ch_laval"),
    DemoLogin("expert.plaies", "expert", "Experte plaies et cicatrisation (CH de Laval)",
              "Mathilde", "Salounel", Profession.DOCTOR, Specialty.WOUNDS, site="ch_laval"),
    DemoLogin("pharmacien", "pharmacist", "Pharmacien d'officine (Mayenne)", "Karim",
              "Gouravel", Profession.PHARMACIST, site="pharmacie_demo"),
    DemoLogin("infirmier.sarthe", "nurse", "Infirmier en EHPAD (Sarthe)", "Erwan", "Tericquet",
              Profession.NURSE, site="ehpad_sarthe_demo"),
    DemoLogin("operateur.telesurveillance", "monitoring_operator",
              "Infirmière de télésurveillance (CH de Laval, équipe opérateur)", "Sophie",
              "Marelin", Profession.NURSE, site="ch_laval", teams=(MONITORING_TEAM,)),
    DemoLogin("regulateur", "regulator", "Médecin régulateur (SAMU 53 – Centre 15)", "Lucie",
              "Ravenaud", Profession.DOCTOR, Specialty.EMERGENCY, site="samu_53"),
    DemoLogin("observateur", "observer", "Observatrice régionale (ARS)", "Nathalie", "Verasset",
              regional_role=RegionalRole.OBSERVER, rpps=False),
    DemoLogin("admin.region", "regional_admin", "Administrateur régional (GRADeS)", "Thomas",
              "Balizet", regional_role=RegionalRole.ADMIN, staff=True, rpps=False),
]  # fmt: skip


# Synthetic test identities of the local INSi backend (patients/data/insi_test_identities.json):
# « Rechercher l'INS » qualifies the validated one and names the missing first name of the other.
INSI_DEMO = [
    ("MARTINEAU", "Claire Hélène", "1948-03-12", "F", "53130", IdentityStatus.VALIDATED,
     EvidenceKind.ID_CARD),
    ("BERTHELOT", "Gaston", "1944-01-30", "M", "72181", IdentityStatus.PROVISIONAL,
     EvidenceKind.NONE),
]  # fmt: skip


# Calls to the SAMU 53 today: minutes ago, reason, decision ("" still to decide).
REGULATION_CALLS = [
    (12, "Chute d'une personne âgée à domicile, plaie du cuir chevelu", ""),
    (47, "Enfant de 3 ans, fièvre et gêne respiratoire", "medecin"),
    (95, "Brûlure de la main en cuisinant", "conseil"),
]


@dataclass
class Site:
    key: str
    name: str
    kind: str
    dept: str
    commune: str  # INSEE code
    status: str = DEPLOYED
    experts: int = 0  # per priority filière
    staff: list[tuple[str, str, int]] = field(default_factory=list)  # profession, specialty, n
    admin: bool = False  # an IDEC administers it
    structure: Structure | None = None
    teams: dict[str, Team] = field(default_factory=dict)  # by name, the default first

    @property
    def default_team(self) -> Team:
        return next(iter(self.teams.values()))


@dataclass
class Person:
    first_name: str
    last_name: str
    profession: str
    specialty: str = ""
    sites: list[tuple[str, str]] = field(default_factory=list)  # (site key, membership role)
    regional_role: str = ""
    login: DemoLogin | None = None
    rpps: bool = True


@dataclass
class CommuneRow:
    code: str
    name: str
    population: int
    postal_code: str


def is_seeded() -> bool:
    return User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists()


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in plain).strip("-")


def _pick_weighted(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, weighted, in a deterministic order (Efraimidis-Spirakis)."""
    keyed = sorted(((rng.random() ** (1 / w), i) for i, w in enumerate(weights)), reverse=True)
    return [items[i] for _key, i in keyed[:k]]


@dataclass(slots=True)
class Names:
    """What `patients.services.search_key` reads of a patient."""

    birth_name: str
    first_names: str
    used_name: str
    used_first_name: str


PATIENT_FIELDS = [
    "id", "birth_name", "first_names", "used_name", "used_first_name", "birth_date", "sex",
    "birthplace_code", "identity_status", "matricule", "matricule_kind", "insi_checked_at",
    "validation_mode", "search_key", "gp", "created_by", "created_at", "updated_at",
]  # fmt: skip
ATTACHMENT_FIELDS = ["patient", "structure", "team", "kind", "since"]
STATUS_CHANGE_FIELDS = [
    "patient", "old_status", "new_status", "evidence", "note", "changed_by", "changed_at",
]  # fmt: skip


def insert_rows(cursor, model: type[Model], fields: list[str], rows: list[tuple]) -> None:
    """Plain inserts: COPY on PostgreSQL, executemany elsewhere (SQLite loops in C)."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in fields)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    values = ", ".join(["%s"] * len(fields))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)  # noqa: S608


class Seeder:
    def __init__(self, seed: int, scale: int, progress: bool) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
        # Its own generator: deployment follow-up never shifts the people and patients drawn.
        self.deployment_rng = random.Random(seed + 1)  # noqa: S311
        self.ops = connection.ops
        self.scale = scale
        self.progress = progress
        self.today = timezone.localdate()
        self.insi_date = self.ops.adapt_datetimefield_value(timezone.now())
        self.surnames = names.surnames()
        self.sites: dict[str, Site] = {}
        self.finess_seq: Counter[str] = Counter()
        self.rpps_seq = 0
        self.emails: set[str] = set()
        self.nurses_by_site: dict[str, list[int]] = defaultdict(list)
        self.gps_by_site: dict[str, list[int]] = defaultdict(list)
        self.gps_by_dept: dict[str, list[int]] = defaultdict(list)
        self.patients_by_site: dict[str, list[int]] = defaultdict(list)

    # --- territory -----------------------------------------------------------------------

    def load_communes(self) -> None:
        depts = {"53", "72", "44", "49"} | {d for n in NEIGHBOURS.values() for d in n}
        self.communes: dict[str, list[CommuneRow]] = defaultdict(list)
        self.birthplaces: dict[str, list[str]] = defaultdict(list)
        self.former: dict[str, list[str]] = defaultdict(list)
        rows = (
            Commune.objects.filter(departement_id__in=depts)
            .order_by("code")
            .values_list("code", "name", "departement_id", "population", "postal_codes", "current")
        )
        for code, name, dept, population, postal_codes, current in rows:
            if current:
                postal = postal_codes.split(",")[0] if postal_codes else ""
                self.communes[dept].append(CommuneRow(code, name, population or 0, postal))
                self.birthplaces[dept].append(code)
            else:
                self.former[dept].append(code)
        self.commune_by_code = {c.code: c for rows in self.communes.values() for c in rows}
        self.abroad = list(
            Country.objects.filter(code__in=ABROAD).order_by("code").values_list("code", flat=True)
        )
        missing = {"53", "72"} - {d for d, rows in self.communes.items() if rows}
        if missing:
            raise RuntimeError(f"Communes absentes pour les départements {sorted(missing)}.")

    def pick_communes(self, dept: str, k: int, exclude: tuple[str, ...] = ()) -> list[CommuneRow]:
        """k communes of `dept`, rather populous ones; large towns may come up to 4 times."""
        slots, weights = [], []
        for c in self.communes[dept]:
            if c.code in exclude:
                continue
            for n in range(min(4, 1 + c.population // 12000)):
                slots.append(c)
                weights.append(max(c.population, 50) ** 0.6 / (n + 1))
        return _pick_weighted(self.rng, slots, weights, k)

    # --- structures ----------------------------------------------------------------------

    def define_sites(self) -> None:
        nurse, doctor, pharmacist = Profession.NURSE, Profession.DOCTOR, Profession.PHARMACIST
        fixed = [
            Site("ch_laval", "Centre hospitalier de Laval", StructureKind.CH, "53", "53130",
                 experts=4, staff=[(nurse, "", 10), (pharmacist, "", 2)]),
            Site("ch_nord_mayenne", "Centre hospitalier du Nord-Mayenne", StructureKind.CH, "53",
                 "53147", experts=2, staff=[(nurse, "", 5), (pharmacist, "", 1)]),
            Site("ch_haut_anjou", "Centre hospitalier du Haut-Anjou", StructureKind.CH, "53",
                 "53062", experts=2, staff=[(nurse, "", 5), (pharmacist, "", 1)]),
            Site("ch_ernee", "Pôle d'expertises du CH d'Ernée", StructureKind.CH, "53", "53096",
                 experts=2, staff=[(nurse, "", 3)]),
            Site("samu_53", "SAMU 53 – Centre 15", StructureKind.SAMU, "53", "53130",
                 staff=[(doctor, Specialty.EMERGENCY, 8)]),
            Site("ch_le_mans", "Centre hospitalier du Mans", StructureKind.CH, "72", "72181",
                 experts=3, staff=[(nurse, "", 8), (pharmacist, "", 1)]),
            Site("chu_angers", "CHU d'Angers", StructureKind.CHU, "49", "49007", experts=3),
            Site("chu_nantes", "CHU de Nantes", StructureKind.CHU, "44", "44109", experts=3),
        ]  # fmt: skip
        for site in fixed:
            self.add_site(site)

        # Mayenne: 60 EHPAD, 50 deployed, 9 in progress, 1 planned (the demo one is deployed).
        statuses = [IN_PROGRESS] * 9 + [PLANNED] + [DEPLOYED] * 49
        self.rng.shuffle(statuses)
        statuses.insert(0, DEPLOYED)
        ehpad_names = list(names.EHPAD_NAMES)
        self.rng.shuffle(ehpad_names)
        for i, (commune, status) in enumerate(
            zip(self.pick_communes("53", 60), statuses, strict=True)
        ):
            key = "ehpad_demo" if i == 0 else f"ehpad_53_{i}"
            self.add_ehpad(key, ehpad_names, commune, "53", status, i)
        msp = self.pick_communes("53", 6, exclude=("53130",))
        for i, commune in enumerate(msp):
            self.add_site(
                Site(
                    "msp_demo" if i == 0 else f"msp_53_{i}",
                    f"MSP de {commune.name}",
                    StructureKind.MSP,
                    "53",
                    commune.code,
                    status=IN_PROGRESS if i >= 4 else DEPLOYED,
                    staff=[(doctor, GP, 4), (nurse, "", 2), (Profession.PHYSIO, "", 1)],
                )
            )
        self.add_site(
            Site(
                "pharmacie_demo",
                "Pharmacie du Centre",
                StructureKind.PHARMACY,
                "53",
                msp[0].code,
                staff=[(pharmacist, "", 2)],
            )
        )

        # Sarthe: the Pays du Mans project around the CH du Mans.
        for i, commune in enumerate(self.pick_communes("72", 8)):
            key = "ehpad_sarthe_demo" if i == 0 else f"ehpad_72_{i}"
            self.add_ehpad(key, ehpad_names, commune, "72", DEPLOYED, i)
        others = self.pick_communes("72", 7)
        for i, commune in enumerate(others[:3]):
            self.add_site(
                Site(
                    f"msp_72_{i}",
                    f"MSP de {commune.name}",
                    StructureKind.MSP,
                    "72",
                    commune.code,
                    staff=[(doctor, GP, 4), (nurse, "", 2)],
                )
            )
        self.add_site(
            Site(
                "cabinet_72",
                f"Cabinet médical {self.street()}",
                StructureKind.CABINET,
                "72",
                others[3].code,
                staff=[(doctor, GP, 2)],
            )
        )
        for i, commune in enumerate(others[4:6]):
            self.add_site(
                Site(
                    f"cds_72_{i}",
                    f"Centre de santé communal de {commune.name}",
                    StructureKind.CDS,
                    "72",
                    commune.code,
                    staff=[(doctor, GP, 3), (nurse, "", 1)],
                )
            )
        self.add_site(
            Site(
                "fam_72",
                "Foyer d'accueil médicalisé Le Petit Bois",
                StructureKind.FAM_MAS,
                "72",
                others[6].code,
                admin=True,
                staff=[(nurse, "", 3), (doctor, GP, 1)],
            )
        )

    def add_ehpad(
        self, key: str, pool: list[str], commune: CommuneRow, dept: str, status: str, i: int
    ) -> None:
        name = f"EHPAD {pool.pop()}" if pool else f"EHPAD de {commune.name}"
        staff = [] if status == PLANNED else [(Profession.NURSE, "", 4 + i % 2)]
        if status != PLANNED and i % 4 != 3:  # médecin coordonnateur, when one is hired
            staff.append((Profession.DOCTOR, GP, 1))
        self.add_site(
            Site(key, name, StructureKind.EHPAD, dept, commune.code, status, 0, staff, admin=True)
        )

    def add_site(self, site: Site) -> None:
        self.sites[site.key] = site

    def street(self) -> str:
        return self.rng.choice(names.STREETS)

    def finess(self, dept: str, range_: str) -> str:
        # Département, "99" (establishments) or "98" (legal entities), sequence, Luhn key.
        self.finess_seq[dept + range_] += 1
        return luhn_complete(f"{dept}{range_}{self.finess_seq[dept + range_]:04d}")

    def dates(self, site: Site) -> dict[str, datetime.date | None]:
        rng, day = self.rng, datetime.timedelta(days=1)
        if site.status == PLANNED:
            return {"deployment_planned_on": self.today + rng.randint(30, 150) * day}
        if site.status == IN_PROGRESS:
            started = self.today - rng.randint(20, 240) * day
            return {
                "deployment_planned_on": started - rng.randint(60, 240) * day,
                "deployment_started_on": started,
            }
        if site.dept == "53" and site.kind == StructureKind.EHPAD:
            # Mayenne EHPAD: equipped between 2019 and the 30 June 2022 milestone.
            first, last = datetime.date(2019, 3, 1), datetime.date(2022, 1, 31)
            cap = datetime.date(2022, 6, 30)
        else:
            first = datetime.date(2018, 9, 1) if site.dept != "53" else datetime.date(2019, 1, 7)
            last, cap = datetime.date(2023, 6, 30), self.today
        started = first + rng.randint(0, (last - first).days) * day
        deployed = min(started + rng.randint(45, 150) * day, cap)
        if site.kind in (StructureKind.CH, StructureKind.CHU):
            started, deployed = first, first + 90 * day  # reference sites came first
        return {
            "deployment_planned_on": started - rng.randint(30, 120) * day,
            "deployment_started_on": started,
            "deployed_on": max(deployed, started + day),
        }

    def equipment(self, site: Site) -> list[str]:
        rng = self.rng
        if site.kind in (StructureKind.EHPAD, StructureKind.FAM_MAS):
            if site.status == PLANNED:
                return []
            if site.status == IN_PROGRESS:
                chosen = {Equipment.CART, *rng.sample(EHPAD_DEVICES, rng.randint(1, 3))}
            else:
                chosen = {Equipment.CART, *EHPAD_DEVICES}
                chosen |= {
                    e for e in (Equipment.DERMATOSCOPE, Equipment.CAMERA) if rng.random() < 0.5
                }
        elif site.kind in (StructureKind.CH, StructureKind.CHU, StructureKind.SAMU):
            chosen = {Equipment.CAMERA} | (
                {Equipment.DERMATOSCOPE} if site.kind != StructureKind.SAMU else set()
            )
        elif site.kind == StructureKind.PHARMACY:
            chosen = {
                Equipment.CAMERA,
                Equipment.STETHOSCOPE,
                Equipment.OTOSCOPE,
                Equipment.BP,
                Equipment.OXIMETER,
            }
        else:
            chosen = {Equipment.CAMERA, Equipment.STETHOSCOPE, Equipment.OTOSCOPE}
            if rng.random() < 0.5:
                chosen.add(Equipment.DERMATOSCOPE)
        return [e.value for e in Equipment if e in chosen]

    def apl(self, commune: CommuneRow, dept: str) -> Decimal:
        if dept not in NEIGHBOURS:  # Angers, Nantes
            low, high = 3.6, 4.6
        elif commune.population >= 20000:
            low, high = 2.8, 3.8
        elif commune.population >= 5000:
            low, high = 2.2, 3.4
        else:
            low, high = 1.3, 3.1
        return Decimal(f"{self.rng.uniform(low, high):.2f}")

    def create_structures(self) -> None:
        threshold = Decimal(str(settings.TELESANTE_APL_UNDERSERVED))
        objs = []
        for site in self.sites.values():
            commune = self.commune_by_code.get(site.commune)
            if commune is None:
                raise RuntimeError(f"Commune {site.commune} introuvable ({site.name}).")
            apl = self.apl(commune, site.dept)
            site.structure = Structure(
                name=site.name,
                kind=site.kind,
                finess=self.finess(site.dept, "99"),
                finess_ej=self.finess(site.dept, "98"),
                address=f"{self.rng.randint(1, 60)} {self.street()}",
                postal_code=commune.postal_code,
                commune_id=commune.code,
                departement_id=site.dept,  # Structure.save() is bypassed by bulk_create
                rural=commune.population < 2000,
                apl=apl,
                underserved=apl <= threshold,
                deployment_status=site.status,
                equipment=self.equipment(site),
                **self.dates(site),
            )
            objs.append(site.structure)
        Structure.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.create_teams()

    def create_teams(self) -> None:
        for site in self.sites.values():
            names = [Team.DEFAULT_NAME]
            if site.kind in HOSPITAL_KINDS:
                names = [GENERAL_TEAM, *FILIERE_TEAMS.values(), MONITORING_TEAM]
            site.teams = {n: Team(structure=site.structure, name=n) for n in names}
        Team.objects.bulk_create(
            [t for site in self.sites.values() for t in site.teams.values()],
            batch_size=BATCH_SIZE,
        )

    def teams_of(self, person: Person, site: Site) -> list[Team]:
        """A hospital's professional joins the team of their specialty (or the teams of their
        demo login); elsewhere, the site's one team."""
        if site.kind not in HOSPITAL_KINDS:
            return [site.default_team]
        login = person.login
        if login and login.teams and login.site == site.key:
            return [site.teams[n] for n in login.teams]
        return [site.teams.get(FILIERE_TEAMS.get(person.specialty, ""), site.default_team)]

    # --- professionals -------------------------------------------------------------------

    def person(self, profession: str, specialty: str = "", female: float = 0.5) -> Person:
        first = names.FEMALE_FIRST_NAMES if self.rng.random() < female else names.MALE_FIRST_NAMES
        return Person(self.rng.choice(first), self.rng.choice(self.surnames), profession, specialty)

    def define_people(self) -> list[Person]:
        people = []
        for login in DEMO_LOGINS:
            p = Person(
                login.first_name,
                login.last_name,
                login.profession,
                login.specialty,
                regional_role=login.regional_role,
                login=login,
                rpps=login.rpps,
            )
            if login.site:
                p.sites.append((login.site, login.membership_role))
            p.sites += [(key, MembershipRole.MEMBER) for key in login.also]
            people.append(p)
        for site in self.sites.values():
            if site.admin:
                admin = self.person(Profession.NURSE, female=0.8)
                admin.sites.append((site.key, MembershipRole.ADMIN))
                people.append(admin)
            for specialty in FILIERES if site.experts else []:
                for _ in range(site.experts):
                    expert = self.person(Profession.DOCTOR, specialty)
                    expert.sites.append((site.key, MembershipRole.MEMBER))
                    people.append(expert)
            for profession, specialty, count in site.staff:
                for _ in range(count):
                    female = 0.85 if profession == Profession.NURSE else 0.55
                    member = self.person(profession, specialty, female)
                    member.sites.append((site.key, MembershipRole.MEMBER))
                    people.append(member)
        # Regional staff without a demo login.
        for _ in range(2):
            people.append(self.person(Profession.OTHER))
            people[-1].regional_role, people[-1].rpps = RegionalRole.OBSERVER, False
        self.link_gps_to_ehpad(people)
        return people

    def link_gps_to_ehpad(self, people: list[Person]) -> None:
        """GPs of MSP, cabinets and centres follow residents: members of a few EHPAD or the FAM."""
        for dept in ("53", "72"):
            homes = [
                s.key
                for s in self.sites.values()
                if s.dept == dept and s.status != PLANNED and s.kind in HOME_KINDS
            ]
            gps = [p for p in people if self.office_gp(p) and self.home_site(p).dept == dept]
            for i, home in enumerate(homes):  # every home has a GP
                gp = gps[i % len(gps)]
                if (home, MembershipRole.MEMBER) not in gp.sites:
                    gp.sites.append((home, MembershipRole.MEMBER))
            for gp in gps:
                for home in self.rng.sample(homes, self.rng.randint(0, 2)):
                    if all(home != key for key, _role in gp.sites):
                        gp.sites.append((home, MembershipRole.MEMBER))

    def home_site(self, person: Person) -> Site:
        return self.sites[person.sites[0][0]]

    def office_gp(self, person: Person) -> bool:
        """A GP of a MSP, centre or cabinet: may be a médecin traitant."""
        return (
            person.specialty == GP
            and bool(person.sites)
            and self.home_site(person).kind in OFFICE_KINDS
        )

    def next_rpps(self) -> str:
        # Synthetic range: "99", an 8-digit sequence, the Luhn key (real RPPS start with 1).
        self.rpps_seq += 1
        return luhn_complete(f"99{self.rpps_seq:08d}")

    def email(self, person: Person) -> str:
        if person.login:
            return person.login.email
        base = f"{_slug(person.first_name)}.{_slug(person.last_name)}"
        local, n = base, 1
        while f"{local}@{DEMO_DOMAIN}" in self.emails:
            n += 1
            local = f"{base}{n}"
        return f"{local}@{DEMO_DOMAIN}"

    @staticmethod
    def mssante_address(email: str, person: Person, n: int) -> str:
        """97 % of the professionals with an RPPS have an MSSanté box (issue #14's figure):
        every one but each 33rd, so that the random draws of the seed stay as they were."""
        if not person.rpps or (n % 33 == 32 and not person.login):
            return ""
        return email.replace(f"@{DEMO_DOMAIN}", "@demo.mssante.fr")

    def create_people(self, people: list[Person]) -> list[User]:
        # One hash for the shared demo password (Argon2 is slow on purpose).
        demo_hash = make_password(DEMO_PASSWORD)
        users = []
        for person in people:
            email = self.email(person)
            self.emails.add(email)
            login = person.login
            users.append(
                User(
                    email=email,
                    # Only the named demo logins may sign in.
                    password=demo_hash if login else make_password(None),
                    first_name=person.first_name,
                    last_name=person.last_name,
                    profession=person.profession,
                    specialty=person.specialty,
                    regional_role=person.regional_role,
                    rpps=self.next_rpps() if person.rpps else None,
                    mssante_address=self.mssante_address(email, person, len(users)),
                    is_demo=login is not None,
                    is_staff=bool(login and login.staff),
                    is_superuser=bool(login and login.staff),
                )
            )
        User.objects.bulk_create(users, batch_size=BATCH_SIZE)
        memberships = []
        for person, user in zip(people, users, strict=True):
            for key, role in person.sites:
                site = self.sites[key]
                memberships += [
                    Membership(user=user, structure=site.structure, team=team, role=role)
                    for team in self.teams_of(person, site)
                ]
                if person.profession == Profession.NURSE and (key, role) == person.sites[0]:
                    self.nurses_by_site[key].append(user.pk)  # they register patients
                if self.office_gp(person):
                    self.gps_by_site[key].append(user.pk)
                    if (key, role) == person.sites[0]:
                        self.gps_by_dept[site.dept].append(user.pk)
        Membership.objects.bulk_create(memberships, batch_size=BATCH_SIZE)
        for person, user in zip(people, users, strict=True):
            if person.login:
                TOTP.activate(user, DEMO_TOTP_SECRET)
        # The demo experts coordinate their filière, unless the region named someone.
        for person, user in zip(people, users, strict=True):
            if person.login and person.login.role == "expert":
                Filiere.objects.filter(specialty=person.specialty, coordinator__isnull=True).update(
                    coordinator=user
                )
        return users

    # --- patients ------------------------------------------------------------------------

    def quotas(self, keys: list[str], total: int) -> dict[str, int]:
        """Split `total` over `keys` with random weights (places of each home, patient lists)."""
        weights = [self.rng.uniform(40, 110) for _ in keys]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        return dict(zip(keys, counts, strict=True))

    def birthplace(self, dept: str) -> str:
        r = self.rng.random()
        if r < 0.04 and self.abroad:
            return self.rng.choice(self.abroad)
        if r < 0.12 and self.former[dept]:  # former communes, merged since
            return self.rng.choice(self.former[dept])
        if r < 0.70:
            return self.rng.choice(self.birthplaces[dept])
        return self.rng.choice(self.birthplaces[self.rng.choice(NEIGHBOURS[dept])])

    def identity(self, kind: str) -> tuple[str, str]:
        r = self.rng.random()
        high = EvidenceKind.EHPAD_ATTESTATION if kind == "ehpad" else EvidenceKind.ID_CARD
        if r < 0.45:
            return IdentityStatus.QUALIFIED, high
        if r < 0.65:
            return IdentityStatus.VALIDATED, high
        if r < 0.75:
            return IdentityStatus.RETRIEVED, EvidenceKind.INSI
        return IdentityStatus.PROVISIONAL, EvidenceKind.NONE

    def patient(self, site: Site, kind: str) -> tuple[tuple, str, str, int | None]:
        """One patient's column values (PATIENT_FIELDS less the id and timestamps)."""
        rng = self.rng
        if kind == "ehpad":
            female, age = rng.random() < 0.74, rng.triangular(70, 103, 89)
        elif kind == "fam":
            female, age = rng.random() < 0.45, rng.uniform(20, 60)
        else:
            female, age = rng.random() < 0.53, rng.triangular(18, 97, 55)
        old = age >= 65
        if female:
            pool = names.OLD_FEMALE_FIRST_NAMES if old else names.FEMALE_FIRST_NAMES
        else:
            pool = names.OLD_MALE_FIRST_NAMES if old else names.MALE_FIRST_NAMES
        first_names = rng.sample(pool, rng.choice((1, 2, 2, 3)))
        birth_date = self.today - datetime.timedelta(days=int(age * 365.25))
        identity = Names(
            birth_name=rng.choice(self.surnames).upper(),
            first_names=" ".join(first_names),
            used_name=rng.choice(self.surnames).upper() if female and rng.random() < 0.5 else "",
            used_first_name=first_names[1] if len(first_names) > 1 and rng.random() < 0.1 else "",
        )
        birthplace = self.birthplace(site.dept)
        status, evidence = self.identity(kind)
        matricule = matricule_kind = ""
        if status == IdentityStatus.QUALIFIED:
            body = (
                f"{2 if female else 1}{birth_date.year % 100:02d}{birth_date.month:02d}"
                f"{birthplace}{rng.randint(1, 999):03d}"
            )
            matricule, matricule_kind = f"{body}{nir_key(body):02d}", MatriculeKind.TEST_NIR.value
        gps = self.gps_by_site[site.key] or self.gps_by_dept[site.dept]
        gp = rng.choice(gps) if gps and rng.random() < 0.92 else None  # some have none
        staff = self.nurses_by_site[site.key] or self.gps_by_site[site.key]
        created_by = staff[0] if staff else None
        row = (
            identity.birth_name,
            identity.first_names,
            identity.used_name,
            identity.used_first_name,
            self.ops.adapt_datefield_value(birth_date),
            "F" if female else "M",
            birthplace,
            status.value,
            matricule,
            matricule_kind,
            # Identities read from INSi (RECUP, QUAL): when, and the document of a QUAL one.
            self.insi_date
            if status in (IdentityStatus.RETRIEVED, IdentityStatus.QUALIFIED)
            else None,
            evidence.value if status == IdentityStatus.QUALIFIED else "",
            search_key(identity),
            gp,
            created_by,
        )
        return row, status.value, evidence.value, created_by

    def plan_patients(self) -> Iterator[tuple[Site, str]]:
        sites = self.sites.values()
        homes = [s.key for s in sites if s.kind == StructureKind.EHPAD and s.status != PLANNED]
        offices = [s.key for s in sites if s.kind in OFFICE_KINDS]
        fams = [s.key for s in sites if s.kind == StructureKind.FAM_MAS]
        for keys, total, kind in (
            (homes, BASE_EHPAD_RESIDENTS, "ehpad"),
            (fams, BASE_FAM_RESIDENTS, "fam"),
            (offices, BASE_OFFICE_PATIENTS, "office"),
        ):
            for key, count in self.quotas(keys, total * self.scale).items():
                for _ in range(count):
                    yield self.sites[key], kind

    def create_patients(self) -> None:
        """Plain inserts with explicit ids (COPY or executemany): the ORM costs too much per row."""
        plan = list(self.plan_patients())
        now = self.ops.adapt_datetimefield_value(timezone.now())
        today = self.ops.adapt_datefield_value(self.today)
        note = "Identité reprise à l'ouverture de la démonstration"
        bar = tqdm(total=len(plan), desc="Patients", unit=" patients", disable=not self.progress)
        with connection.cursor() as cursor, bar:
            if connection.vendor == "postgresql":  # no concurrent insert may take our ids
                table = connection.ops.quote_name(Patient._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            next_id = (Patient.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
            for start in range(0, len(plan), BATCH_SIZE):
                patients, attachments, changes = [], [], []
                for site, kind in plan[start : start + BATCH_SIZE]:
                    row, status, evidence, created_by = self.patient(site, kind)
                    attach = AttachmentKind.PATIENT if kind == "office" else AttachmentKind.RESIDENT
                    patients.append((next_id, *row, now, now))
                    attachments.append(
                        (next_id, site.structure.pk, site.default_team.pk, attach.value, today)
                    )
                    changes.append((next_id, "", status, evidence, note, created_by, now))
                    self.patients_by_site[site.key].append(next_id)
                    next_id += 1
                insert_rows(cursor, Patient, PATIENT_FIELDS, patients)
                insert_rows(cursor, PatientAttachment, ATTACHMENT_FIELDS, attachments)
                insert_rows(cursor, IdentityStatusChange, STATUS_CHANGE_FIELDS, changes)
                bar.update(len(patients))
            for sql in connection.ops.sequence_reset_sql(no_style(), [Patient]):
                cursor.execute(sql)

    def create_insi_patients(self) -> None:
        """Followed by the demo EHPAD, two identities the local INSi backend knows."""
        site = self.sites["ehpad_demo"]
        for name, first, born, sex, place, status, evidence in INSI_DEMO:
            patient = Patient(
                birth_name=name,
                first_names=first,
                birth_date=datetime.date.fromisoformat(born),
                sex=sex,
                birthplace_code=place,
                identity_status=status,
            )
            patient.search_key = search_key(patient)
            patient.save()
            PatientAttachment.objects.create(
                patient=patient, team=site.default_team, kind=AttachmentKind.PATIENT
            )
            IdentityStatusChange.objects.create(
                patient=patient, new_status=status, evidence=evidence, note="Démonstration INSi"
            )

    def create_consultations(self) -> None:
        """Téléconsultations the demo nurse booked with the demo cardiologist (TLS), for
        tomorrow: the room, the waiting room and the report can be tried at once."""
        from telesante.teleconsultation import services as teleconsultation

        nurse = User.objects.get(email=DEMO_LOGINS[0].email)
        cardiologist = User.objects.get(email=f"expert.cardiologie@{DEMO_DOMAIN}")
        residents = Patient.objects.filter(
            attachments__structure=self.sites["ehpad_demo"].structure
        ).order_by("pk")[:DEMO_CONSULTATIONS]
        tomorrow = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
        for i, resident in enumerate(residents):
            teleconsultation.create(
                None,
                nurse,
                teleconsultation.NewConsultation(
                    patient_id=resident.pk,
                    structure_id=self.sites["ehpad_demo"].structure.pk,
                    kind=ActKind.TELECONSULTATION,
                    performer_id=cardiologist.pk,
                    scheduled_at=tomorrow + datetime.timedelta(days=1, minutes=30 * i),
                    reason=CONSULTATION_REASONS[i % len(CONSULTATION_REASONS)],
                    information_given=True,
                    decision="consent",
                    assistance="nurse_visit",
                ),
            )
        # The demo pharmacist's page is not empty: a patient of the MSP, also a customer of the
        # pharmacy, sees the demo GP from the pharmacy the day after tomorrow (TLM).
        pharmacy = self.sites["pharmacie_demo"]
        customer = Patient.objects.filter(
            attachments__structure=self.sites["msp_demo"].structure
        ).earliest("pk")
        PatientAttachment.objects.create(
            patient=customer, structure=pharmacy.structure, team=pharmacy.default_team
        )
        teleconsultation.create(
            None,
            User.objects.get(email=f"pharmacien@{DEMO_DOMAIN}"),
            teleconsultation.NewConsultation(
                patient_id=customer.pk,
                structure_id=pharmacy.structure.pk,
                kind=ActKind.TELECONSULTATION,
                performer_id=User.objects.get(email=f"medecin.generaliste@{DEMO_DOMAIN}").pk,
                scheduled_at=tomorrow + datetime.timedelta(days=2, hours=4),
                reason="Tension élevée au contrôle en officine",
                information_given=True,
                decision="consent",
                assistance="pharmacy",
            ),
        )

    def create_sent_report(self) -> None:
        """A télé-expertise of the demo nurse answered by the demo geriatrician, about a resident
        with a qualified identity whose médecin traitant is the demo GP: its report goes through
        the outbox to the GP's MSSanté box, the patient's Mon espace santé mailbox and the DMP
        (in the demo, `telesante local-receivers`), and its act page shows the deliveries."""
        from telesante.teleexpertise import services as teleexpertise

        site = self.sites["ehpad_demo"]
        nurse = User.objects.get(email=DEMO_LOGINS[0].email)
        expert = User.objects.get(email=f"expert.geriatrie@{DEMO_DOMAIN}")
        resident = (
            Patient.objects.filter(
                attachments__structure=site.structure, identity_status=IdentityStatus.QUALIFIED
            )
            .order_by("pk")
            .first()
        )
        if resident is None:
            return
        resident.gp = User.objects.get(email=f"medecin.generaliste@{DEMO_DOMAIN}")
        resident.save(update_fields=["gp"])
        te = teleexpertise.create(
            None,
            nurse,
            teleexpertise.NewRequest(
                patient_id=resident.pk,
                structure_id=site.structure.pk,
                filiere_code="geriatrie",
                question="Chutes répétées depuis un mois : avis sur le traitement ?",
                information_given=True,
                decision="consent",
                form_data={"reason": "Chutes", "treatment": "Donépézil 10 mg, zopiclone 7,5 mg"},
                named_expert_id=expert.pk,
            ),
        )
        te = teleexpertise.claim(None, expert, te)
        teleexpertise.answer(
            None,
            expert,
            te,
            "Arrêt progressif de la zopiclone ; kinésithérapie de l'équilibre ; "
            "réévaluer à un mois.",
            "",
            "routine",
        )

    def run(self) -> None:
        self.load_communes()
        self.define_sites()
        with transaction.atomic():
            self.create_structures()
            self.create_people(self.define_people())
            self.create_patients()
            self.create_insi_patients()
            self.create_history()
            self.create_monitoring()
            self.create_consultations()
            self.create_sent_report()
            self.create_regulation()
            self.create_deployment()
            # Rows above are bulk-inserted behind the ORM's signals: roll the acts up once.
            rollup.refresh_all()
        if connection.vendor == "postgresql":  # fresh statistics for the planner
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def create_regulation(self) -> None:
        """Télérégulation: the SAMU 53 doctors regulate; a few anonymous calls of today, the
        callers' numbers in the range kept for fiction (06 39 98 xx xx)."""
        samu = self.sites["samu_53"].structure
        doctors = User.objects.filter(memberships__structure=samu, profession=Profession.DOCTOR)
        doctors.update(regulation_access=True)
        regulator = User.objects.get(email=f"regulateur@{DEMO_DOMAIN}")
        now = timezone.now()
        for minutes, reason, decision in REGULATION_CALLS:
            record = RegulationRecord.objects.create(
                structure=samu,
                created_by=regulator,
                called_at=now - datetime.timedelta(minutes=minutes),
                caller_number=f"+336399800{self.rng.randrange(10, 100)}",
                reason=reason,
                decision=decision,
            )
            RegulationEvent.objects.create(record=record, kind=EventKind.CREATED, actor=regulator)

    def create_history(self) -> None:
        """Télé-expertises asked by the nurses and GPs of each site about its patients."""
        requesting = [
            history.Requesting(
                structure=site.structure.pk,
                team=site.default_team.pk,
                dept=site.dept,
                requesters=self.nurses_by_site[key] + self.gps_by_site[key],
                patients=self.patients_by_site[key],
            )
            for key, site in self.sites.items()
        ]
        history.History(self.rng, self.scale, self.progress, requesting, insert_rows).run()

    def create_monitoring(self) -> None:
        """Télésurveillance: MSP patients, on its GP's prescription, followed by the CH de Laval
        team with its cardiologist as médecin opérateur (demo/monitoring.py)."""
        team = self.sites["ch_laval"].teams[MONITORING_TEAM]
        prescriber = User.objects.get(email=f"medecin.generaliste@{DEMO_DOMAIN}")
        operator = User.objects.get(email=f"expert.cardiologie@{DEMO_DOMAIN}")
        msp = self.sites["msp_demo"].structure
        patients = list(Patient.objects.filter(attachments__structure=msp).order_by("pk"))
        monitoring.seed(self.rng, team, prescriber, operator, patients[: len(monitoring.PLAN)])

    # --- deployment follow-up ------------------------------------------------------------

    def milestones(
        self, structure: Structure
    ) -> list[tuple[str, datetime.date | None, datetime.date | None]]:
        """(step, planned, done) consistent with the structure's deployment dates."""
        rng, day = self.deployment_rng, datetime.timedelta(days=1)
        planned, started, deployed = (
            structure.deployment_planned_on,
            structure.deployment_started_on,
            structure.deployed_on,
        )
        if started is None:
            return [(Step.NEEDS, planned, None)]
        if deployed is None:
            return [
                (Step.NEEDS, planned, started),
                (Step.FRAMING, None, started + 14 * day),
                (Step.EQUIPMENT, self.today + rng.randint(10, 60) * day, None),
            ]
        gap = max((deployed - started).days, 2)
        steps = [
            (Step.NEEDS, planned, started),
            (Step.FRAMING, None, started + (gap // 3) * day),
            (Step.EQUIPMENT, None, deployed - day),
            (Step.TRAINING, None, deployed),
        ]
        first_act = deployed + rng.randint(3, 20) * day
        if first_act <= self.today:
            steps.append((Step.FIRST_ACT, None, first_act))
        if first_act + 90 * day <= self.today:
            steps.append((Step.REGULAR_USE, None, first_act + 90 * day))
        return steps

    def create_deployment(self) -> None:
        """Follow-up of each site: milestones, the regional officer, filières and acts offered."""
        officer = User.objects.filter(regional_role=RegionalRole.ADMIN).order_by("pk").first()
        filieres = list(Filiere.objects.filter(active=True).values_list("code", flat=True))
        follow_ups, milestones, opened = [], [], []
        for site in self.sites.values():
            structure = site.structure
            acts = OFFERS.get(site.kind, [])
            follow_ups.append(
                SiteDeployment(
                    structure=structure,
                    officer=officer,
                    acts=acts if structure.deployment_status != PLANNED else [],
                    contact="Demande depuis la plateforme régionale de télésanté" if acts else "",
                    availability="Du lundi au vendredi, 9 h – 17 h" if acts else "",
                )
            )
            milestones += [
                Milestone(site_id=structure.pk, step=step, planned_on=planned, done_on=done)
                for step, planned, done in self.milestones(structure)
            ]
            if structure.deployment_status != PLANNED and "teleexpertise" in acts:
                opened += [
                    SiteDeployment.filieres.through(sitedeployment_id=structure.pk, filiere_id=f)
                    for f in filieres
                ]
        SiteDeployment.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
        Milestone.objects.bulk_create(milestones, batch_size=BATCH_SIZE)
        SiteDeployment.filieres.through.objects.bulk_create(opened, batch_size=BATCH_SIZE)


# Acts a site of each kind offers in the directory.
OFFERS = {
    StructureKind.EHPAD: ["teleexpertise", "teleconsultation"],
    StructureKind.FAM_MAS: ["teleexpertise", "teleconsultation"],
    StructureKind.CH: ["teleexpertise", "teleconsultation"],
    StructureKind.CHU: ["teleexpertise"],
    StructureKind.MSP: ["teleexpertise", "teleconsultation", "telesoin"],
    StructureKind.CDS: ["teleconsultation"],
    StructureKind.CABINET: ["teleconsultation"],
    StructureKind.PHARMACY: ["teleconsultation", "telesoin"],
    StructureKind.SAMU: ["teleregulation"],
}


def seed(seed: int = DEFAULT_SEED, scale: int = 1, progress: bool = False) -> None:
    """Build the demo region (territories must be loaded). Callers check `is_seeded()` first."""
    Seeder(seed, scale, progress).run()


# --- reading back ------------------------------------------------------------------------


STATUS_WORDS = {  # (feminine for structures, masculine for EHPAD), singular
    DEPLOYED: ("déployée", "déployé"),
    IN_PROGRESS: ("en cours de déploiement", "en cours de déploiement"),
    PLANNED: ("prévue", "prévu"),
    DeploymentStatus.SUSPENDED: ("suspendue", "suspendu"),
}


def _n(count: int) -> str:
    return f"{count:,}".replace(",", "\u202f")


def _statuses(counts: Counter, masculine: bool) -> str:
    parts = []
    for status, words in STATUS_WORDS.items():
        if counts[status]:
            word = words[masculine]
            plural = counts[status] > 1 and not word.startswith("en cours")
            parts.append(f"{_n(counts[status])} {word}{'s' if plural else ''}")
    return ", ".join(parts)


def summary() -> str:
    """A short French summary of the demo region in the database."""
    structures = Structure.objects.filter(
        pk__in=Membership.objects.filter(user__email__endswith=f"@{DEMO_DOMAIN}").values(
            "structure"
        )
    )
    all_: dict[str, Counter] = defaultdict(Counter)
    ehpad: dict[str, Counter] = defaultdict(Counter)
    for dept, kind, status in structures.values_list("departement_id", "kind", "deployment_status"):
        all_[dept][status] += 1
        if kind == StructureKind.EHPAD:
            ehpad[dept][status] += 1
    dept_names = dict(Departement.objects.filter(code__in=all_).values_list("code", "name"))
    lines = [f"Structures : {_n(structures.count())}"]
    for dept in sorted(all_, key=lambda d: (d not in NEIGHBOURS, d)):
        total = all_[dept].total()
        lines.append(
            f"  {dept} {dept_names.get(dept, '')} : {_n(total)} structure{'s' * (total > 1)} "
            f"({_statuses(all_[dept], masculine=False)})"
        )
        if ehpad[dept]:
            lines.append(
                f"      dont {_n(ehpad[dept].total())} EHPAD "
                f"({_statuses(ehpad[dept], masculine=True)})"
            )
    users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    lines.append(
        f"Professionnels : {_n(users.count())}, dont {users.filter(is_demo=True).count()} "
        "comptes de démonstration nominatifs"
    )
    by_kind = Counter(
        dict(
            PatientAttachment.objects.filter(structure__in=structures)
            .values_list("structure__kind")
            .annotate(n=Count("pk"))
            .values_list("structure__kind", "n")
        )
    )
    patients = Patient.objects.filter(attachments__structure__in=structures).distinct()
    total = patients.count()
    qualified = patients.filter(identity_status=IdentityStatus.QUALIFIED).count()
    offices = sum(by_kind[k] for k in OFFICE_KINDS)
    lines.append(
        f"Patients : {_n(total)} ({_n(by_kind[StructureKind.EHPAD])} résidents d'EHPAD, "
        f"{_n(by_kind[StructureKind.FAM_MAS])} de FAM, {_n(offices)} patients de MSP, centres "
        f"de santé et cabinet), dont {_n(qualified)} identités qualifiées (NIR de test)"
    )
    acts = TeleExpertise.objects.filter(act__requesting_structure__in=structures)
    open_ = acts.filter(state__in=OPEN_STATES).count()
    lines.append(f"Télé-expertises : {_n(acts.count())} sur trois ans, dont {_n(open_)} en cours")
    return "\n".join(lines)


def demo_accounts() -> list[dict]:
    """The named demo logins present in the database, in a stable order."""
    logins = {login.email: login for login in DEMO_LOGINS}
    rows = []
    users = User.objects.filter(is_demo=True).prefetch_related("memberships__structure__commune")
    for user in users.order_by("pk"):
        login = logins.get(user.email)
        memberships = sorted(user.memberships.all(), key=lambda m: m.pk)
        rows.append(
            {
                "email": user.email,
                "password": DEMO_PASSWORD,
                "role": login.role if login else "",
                "label": login.label if login else user.get_profession_display(),
                "profession": user.profession,
                "specialty": user.specialty,
                "structure": memberships[0].structure.name if memberships else None,
                "commune": str(memberships[0].structure.commune.name) if memberships else "",
                "totp_secret": DEMO_TOTP_SECRET,
            }
        )
        if login and login.role == "monitoring_operator":
            rows[-1]["devices"] = monitoring.devices()
    return rows
