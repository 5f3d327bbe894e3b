"""The filters every indicator accepts, parsed from a query string with French errors.

Period: ``2022`` (year), ``2022-S1`` / ``2022-S2`` (semester), ``2022-03`` (month).
Territory: ``53`` or ``dep:53`` (département), ``reg:52`` (région), ``53130`` or ``com:53130``
(commune). A bare two-character code is a département, as regions publish their figures.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Profession
from telesante.acts.models import Filiere
from telesante.patients.models import ActKind
from telesante.structures.models import Commune, Departement, Region, StructureKind

PERIOD_RE = re.compile(r"^(\d{4})(?:-(S[12]|\d{2}))?$")
FILTER_FIELDS = (
    "period",
    "territory",
    "structure",
    "structure_kind",
    "kind",
    "filiere",
    "profession",
    "rural",
    "underserved",
)


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime.date  # inclusive
    end: datetime.date  # exclusive

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The period as aware datetimes in the platform's time zone (index-friendly)."""
        return (
            timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min)),
            timezone.make_aware(datetime.datetime.combine(self.end, datetime.time.min)),
        )


@dataclass(frozen=True)
class Territory:
    level: str  # "region", "departement" or "commune"
    code: str
    name: str


@dataclass(frozen=True)
class Filters:
    period: Period | None = None
    territory: Territory | None = None
    structure: int | None = None
    structure_kind: str = ""
    kind: str = ""
    filiere: str = ""
    profession: str = ""
    rural: bool | None = None
    underserved: bool | None = None
    raw: dict = field(default_factory=dict, compare=False)

    def structure_q(self, prefix: str = "") -> Q:
        """Conditions on a structure (``prefix`` leads from the queried model to it)."""
        q = Q()
        if self.territory is not None:
            path = {
                "region": "departement__region_id",
                "departement": "departement_id",
                "commune": "commune_id",
            }[self.territory.level]
            q &= Q(**{prefix + path: self.territory.code})
        if self.structure is not None:
            q &= Q(**{prefix + "pk": self.structure})
        if self.structure_kind:
            q &= Q(**{prefix + "kind": self.structure_kind})
        if self.rural is not None:
            q &= Q(**{prefix + "rural": self.rural})
        if self.underserved is not None:
            q &= Q(**{prefix + "underserved": self.underserved})
        return q

    def rollup_q(self, with_kind: bool = True) -> Q:
        """Conditions on the monthly roll-ups (periods are whole months)."""
        q = self.structure_q("requesting_structure__")
        if self.kind and with_kind:
            q &= Q(kind=self.kind)
        if self.filiere:
            q &= Q(filiere_id=self.filiere)
        if self.profession:
            q &= Q(profession=self.profession)
        if self.period is not None:
            q &= Q(month__gte=self.period.start, month__lt=self.period.end)
        return q


def parse_period(value: str) -> Period:
    match = PERIOD_RE.match(value)
    if not match:
        raise ValueError
    year, part = int(match.group(1)), match.group(2)
    if part is None:
        return Period(value, datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))
    if part in ("S1", "S2"):
        if part == "S1":
            return Period(value, datetime.date(year, 1, 1), datetime.date(year, 7, 1))
        return Period(value, datetime.date(year, 7, 1), datetime.date(year + 1, 1, 1))
    month = int(part)
    if not 1 <= month <= 12:
        raise ValueError
    end = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return Period(value, datetime.date(year, month, 1), end)


def parse_territory(value: str) -> Territory:
    level, _sep, code = value.partition(":") if ":" in value else ("", "", value)
    level = {"reg": "region", "dep": "departement", "com": "commune", "": ""}.get(level)
    if level is None:
        raise ValueError
    if not level:
        level = "commune" if len(code) == 5 else "departement"
    model = {"region": Region, "departement": Departement, "commune": Commune}[level]
    found = model.objects.filter(pk=code.upper()).first()
    if found is None:
        raise ValueError
    return Territory(level, found.pk, found.name)


def _flag(value: str) -> bool:
    if value in ("1", "true", "oui"):
        return True
    if value in ("0", "false", "non"):
        return False
    raise ValueError


def parse(params: QueryDict | dict) -> Filters:
    """Filters from a query string; a bad value raises ValidationError naming its field."""
    raw = {k: (params.get(k) or "").strip() for k in FILTER_FIELDS}
    values: dict = {}
    errors: dict[str, list[str]] = {}
    checks = {
        "period": (
            parse_period,
            _("Période invalide : AAAA, AAAA-S1, AAAA-S2 ou AAAA-MM (ex. 2022-S1)."),
        ),
        "territory": (
            parse_territory,
            _(
                "Territoire inconnu : code de département (53), de région (reg:52) "
                "ou de commune (53130)."
            ),
        ),
        "structure": (_structure_id, _("Structure : identifiant numérique attendu.")),
        "structure_kind": (_choice(StructureKind.values), _("Type de structure inconnu.")),
        "kind": (_choice(ActKind.values), _("Type d'acte inconnu.")),
        "filiere": (_filiere, _("Filière inconnue.")),
        "profession": (_choice(Profession.values), _("Profession inconnue.")),
        "rural": (_flag, _("Zone rurale : 1 (oui) ou 0 (non).")),
        "underserved": (_flag, _("Zone sous-dense : 1 (oui) ou 0 (non).")),
    }
    for name, (convert, message) in checks.items():
        if not raw[name]:
            continue
        try:
            values[name] = convert(raw[name])
        except ValueError:
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)
    return Filters(**values, raw={k: v for k, v in raw.items() if v})


def _structure_id(value: str) -> int:
    if not value.isdecimal() or len(value) > 18:
        raise ValueError
    return int(value)


def _choice(allowed: list[str]):
    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError
        return value

    return convert


def _filiere(value: str) -> str:
    if not Filiere.objects.filter(pk=value).exists():
        raise ValueError
    return value
