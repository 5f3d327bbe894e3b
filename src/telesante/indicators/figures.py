"""Every activity figure, computed live from the act record and the structures.

Acts count when requested in the period (``Act.requested_at``), drafts and cancelled acts left
out; they are read from the monthly roll-ups of ``models.py`` (rebuilt first where acts changed),
joined to the structures for the territory and zone filters. Sites are the structures of the
territory, with their deployment status at the end of the period (from the deployment dates,
see ``site_status``). Each figure is one aggregate query.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership
from telesante.acts.models import Filiere
from telesante.indicators import rollup
from telesante.indicators.filters import Filters
from telesante.indicators.geo import centres, haversine_km
from telesante.indicators.models import ActMonth, ActorMonth, DelayMonth, RegionDelayMonth
from telesante.patients.models import ActKind
from telesante.structures.models import DeploymentStatus, Structure, StructureKind


@dataclass
class Table:
    """A titled table: what the dashboard shows and every export writes."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]
    # Columns holding counts of acts or people, masked below the threshold in exports.
    masked: tuple[int, ...] = ()
    # The spreadsheet's tab (at most 31 characters); the title when short enough.
    sheet: str = ""

    @property
    def sheet_name(self) -> str:
        return (self.sheet or self.title)[:31]


@dataclass
class Indicators:
    filters: Filters
    summary: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def weighted_percentile(counts: list[tuple[int, int]], fraction: float) -> float:
    """percentile_cont over values given with their counts, sorted by value: interpolate
    between the two values around rank (n - 1) × fraction."""
    total = sum(n for _v, n in counts)
    position = (total - 1) * fraction
    low_rank, high_rank = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for value, n in counts:
        if low is None and low_rank < seen + n:
            low = value
        if high_rank < seen + n:
            high = value
            break
        seen += n
    return low + (high - low) * (position - low_rank)


def rolled(filters: Filters) -> QuerySet[ActMonth]:
    return ActMonth.objects.filter(filters.rollup_q())


def sites(filters: Filters) -> QuerySet[Structure]:
    return Structure.objects.filter(filters.structure_q())


def site_status(day: datetime.date | None) -> Case | F:
    """Deployment status on ``day`` from the dates; a site without any date keeps its status."""
    if day is None:
        return F("deployment_status")
    return Case(
        When(suspended_on__lte=day, then=Value(DeploymentStatus.SUSPENDED)),
        When(deployed_on__lte=day, then=Value(DeploymentStatus.DEPLOYED)),
        When(deployment_started_on__lte=day, then=Value(DeploymentStatus.IN_PROGRESS)),
        When(
            suspended_on__isnull=True,
            deployed_on__isnull=True,
            deployment_started_on__isnull=True,
            then=F("deployment_status"),
        ),
        default=Value(DeploymentStatus.PLANNED),
        output_field=CharField(),
    )


def _share(part: int, total: int) -> float | None:
    return round(100 * part / total, 1) if total else None


def acts_tables(filters: Filters, summary: dict) -> list[Table]:
    qs = rolled(filters)
    by_kind, done_by_kind = {}, {}
    for kind, done, n in qs.values_list("kind", "done").annotate(total=Sum("n")).order_by():
        by_kind[kind] = by_kind.get(kind, 0) + n
        if done:
            done_by_kind[kind] = n
    summary["acts"] = sum(by_kind.values())
    summary["acts_by_kind"] = {k: by_kind.get(k, 0) for k in ActKind.values}
    kinds = Table(
        "acts_by_kind",
        _("Actes par type"),
        [_("Type d'acte"), _("Actes"), _("Réalisés")],
        [[str(label), by_kind.get(k, 0), done_by_kind.get(k, 0)] for k, label in ActKind.choices],
        masked=(1, 2),
    )
    names = dict(Filiere.objects.values_list("code", "name"))
    by_filiere = (
        qs.values_list("filiere_id").annotate(total=Sum("n")).order_by("-total", "filiere_id")
    )
    filieres = Table(
        "acts_by_filiere",
        _("Actes par filière"),
        [_("Filière"), _("Actes")],
        [[names.get(code, _("Sans filière")), n] for code, n in by_filiere],
        masked=(1,),
    )
    summary["acts_by_filiere"] = {code or "": n for code, n in by_filiere}
    months: dict[str, dict[str, int]] = {}
    monthly = qs.values_list("month", "kind").annotate(total=Sum("n")).order_by("month", "kind")
    for month, kind, n in monthly:
        months.setdefault(month.strftime("%Y-%m"), {})[kind] = n
    current = timezone.localdate().strftime("%Y-%m")
    series = Table(
        "acts_by_month",
        _("Actes par mois et par type"),
        [_("Mois"), *[str(label) for label in ActKind.labels]],
        [
            # The month under way is not over: its count is not comparable to the others'.
            [_("%(month)s (partiel)") % {"month": m} if m == current else m]
            + [v.get(k, 0) for k in ActKind.values]
            for m, v in sorted(months.items())
        ],
        masked=tuple(range(1, len(ActKind.values) + 1)),
    )
    ehpad = qs.filter(requesting_structure__kind=StructureKind.EHPAD).aggregate(t=Sum("n"))["t"]
    summary["ehpad_acts"] = ehpad or 0
    return [kinds, filieres, series, territory_table(filters, qs)]


def territory_table(filters: Filters, qs: QuerySet[ActMonth]) -> Table:
    """Acts and deployed sites per département."""
    acts_by_dep = dict(
        qs.values_list("requesting_structure__departement_id").annotate(t=Sum("n")).order_by()
    )
    day = filters.period.last_day if filters.period else None
    site_rows = (
        sites(filters)
        .annotate(status_then=site_status(day))
        .values_list("departement_id", "departement__name")
        .annotate(
            n=Count("pk"),
            deployed=Count("pk", filter=Q(status_then=DeploymentStatus.DEPLOYED)),
        )
        .order_by("departement_id")
    )
    return Table(
        "territories",
        _("Actes et sites par département"),
        [_("Département"), _("Actes"), _("Sites"), _("Sites déployés")],
        [
            [f"{code} {name}", acts_by_dep.get(code, 0), n, deployed]
            for code, name, n, deployed in site_rows
        ],
        masked=(1,),
    )


def answer_delay(filters: Filters) -> dict:
    """Hours from request to answer (rounded to the hour) of the télé-expertises requested in
    the period and answered: median and 90th percentile."""
    if filters.kind and filters.kind != ActKind.TELEEXPERTISE:
        return {"answered": 0, "median_hours": None, "p90_hours": None}
    # Without a condition on the sites, the region-wide roll-up is far smaller.
    table = DelayMonth if filters.structure_q() else RegionDelayMonth
    counts = list(
        table.objects.filter(filters.rollup_q(with_kind=False))
        .values_list("hours")
        .annotate(total=Sum("n"))
        .order_by("hours")
    )
    if not counts:
        return {"answered": 0, "median_hours": None, "p90_hours": None}
    return {
        "answered": sum(n for _h, n in counts),
        "median_hours": round(weighted_percentile(counts, 0.5), 1),
        "p90_hours": round(weighted_percentile(counts, 0.9), 1),
    }


def professionals(filters: Filters) -> dict:
    """Active accounts of the sites in scope; active users: party to an act of the period."""
    members = Membership.objects.filter(
        user__is_active=True, structure__in=sites(filters).values("pk")
    )
    if filters.profession:
        members = members.filter(user__profession=filters.profession)
    active = ActorMonth.objects.filter(filters.rollup_q())
    return {
        "with_access": members.values("user_id").distinct().count(),
        "active": active.values("user_id").distinct().count(),
    }


def sites_table(filters: Filters, summary: dict) -> Table:
    day = filters.period.last_day if filters.period else None
    counts = (
        sites(filters)
        .annotate(status_then=site_status(day))
        .values_list("kind", "status_then")
        .annotate(n=Count("pk"))
        .order_by()
    )
    grid: dict[str, dict[str, int]] = {}
    for kind, status, n in counts:
        grid.setdefault(kind, {})[status] = n
    rows, by_type = [], {}
    totals = dict.fromkeys(DeploymentStatus.values, 0)
    for kind, label in StructureKind.choices:
        if kind not in grid:
            continue
        cells = {s: grid[kind].get(s, 0) for s in DeploymentStatus.values}
        total = sum(cells.values())
        for s, n in cells.items():
            totals[s] += n
        by_type[kind] = {
            **cells,
            "total": total,
            "deployed_pct": _share(cells[DeploymentStatus.DEPLOYED], total),
            "in_progress_pct": _share(cells[DeploymentStatus.IN_PROGRESS], total),
        }
        rows.append(_site_row(str(label), cells, total))
    grand = sum(totals.values())
    rows.append(_site_row(_("Total"), totals, grand))
    summary["sites"] = {
        "by_type": by_type,
        "total": grand,
        **totals,
        "deployed_pct": _share(totals[DeploymentStatus.DEPLOYED], grand),
        "in_progress_pct": _share(totals[DeploymentStatus.IN_PROGRESS], grand),
    }
    return Table(
        "sites",
        _("Sites par type et état de déploiement"),
        [
            _("Type de structure"),
            *[str(DeploymentStatus(s).label) for s in DeploymentStatus.values],
            _("Total"),
            # xgettext:no-python-format (a percent sign, not a placeholder)
            _("% déployés"),
            # xgettext:no-python-format
            _("% en cours"),
        ],
        rows,
        sheet=_("Sites et déploiement"),
    )


def _site_row(label: str, cells: dict[str, int], total: int) -> list:
    return [
        label,
        *[cells[s] for s in DeploymentStatus.values],
        total,
        _share(cells[DeploymentStatus.DEPLOYED], total),
        _share(cells[DeploymentStatus.IN_PROGRESS], total),
    ]


def zones_table(filters: Filters, summary: dict) -> Table:
    total_acts = summary["acts"]
    zone_acts = rolled(filters).aggregate(
        underserved=Coalesce(Sum("n", filter=Q(requesting_structure__underserved=True)), 0),
        rural=Coalesce(Sum("n", filter=Q(requesting_structure__rural=True)), 0),
    )
    zone_sites = sites(filters).aggregate(
        total=Count("pk"),
        underserved=Count("pk", filter=Q(underserved=True)),
        rural=Count("pk", filter=Q(rural=True)),
    )
    summary["zones"] = {
        zone: {
            "acts": zone_acts[zone],
            "acts_pct": _share(zone_acts[zone], total_acts),
            "sites": zone_sites[zone],
            "sites_pct": _share(zone_sites[zone], zone_sites["total"]),
        }
        for zone in ("underserved", "rural")
    }
    labels = {"underserved": _("Zone sous-dense (APL)"), "rural": _("Zone rurale")}
    return Table(
        "zones",
        _("Actes et sites en zone sous-dense et rurale"),
        [
            _("Zone"),
            _("Actes"),
            # xgettext:no-python-format (a percent sign, not a placeholder)
            _("% des actes"),
            _("Sites"),
            # xgettext:no-python-format
            _("% des sites"),
        ],
        [
            [labels[z], v["acts"], v["acts_pct"], v["sites"], v["sites_pct"]]
            for z, v in summary["zones"].items()
        ],
        masked=(1,),
        sheet=_("Zones sous-denses et rurales"),
    )


def trips(filters: Filters) -> dict:
    """Trips avoided by EHPAD residents: one round trip to the expert's site per act done."""
    pairs = list(
        rolled(filters)
        .filter(requesting_structure__kind=StructureKind.EHPAD, done=True)
        .values_list("requesting_structure__commune_id", "performing_structure__commune_id")
        .annotate(t=Sum("n"))
        .order_by()
    )
    points = centres({c for pair in pairs for c in pair[:2] if c})
    total, km, unknown = 0, 0.0, 0
    for origin, destination, n in pairs:
        total += n
        if origin in points and destination in points:
            km += n * 2 * haversine_km(points[origin], points[destination])
        else:
            unknown += n
    return {"trips": total, "km": round(km), "without_distance": unknown}


def compute(filters: Filters) -> Indicators:
    """Every figure for the filters: a summary (the API's JSON) and the tables."""
    rollup.refresh_dirty()
    result = Indicators(filters)
    s = result.summary
    s["period"] = filters.period.label if filters.period else ""
    s["territory"] = filters.territory.name if filters.territory else ""
    s["computed_at"] = timezone.localtime().isoformat(timespec="seconds")
    result.tables += acts_tables(filters, s)
    s["teleexpertise_delay"] = answer_delay(filters)
    s["professionals"] = professionals(filters)
    result.tables.append(sites_table(filters, s))
    result.tables.append(zones_table(filters, s))
    s["trips_avoided"] = trips(filters)
    delay, pros, trip = s["teleexpertise_delay"], s["professionals"], s["trips_avoided"]
    result.tables.insert(
        0,
        Table(
            "summary",
            _("Chiffres clés"),
            [_("Indicateur"), _("Valeur")],
            [
                [_("Actes"), s["acts"]],
                [_("Actes pour des résidents d'EHPAD"), s["ehpad_acts"]],
                [_("Télé-expertises répondues"), delay["answered"]],
                [_("Délai de réponse médian (heures)"), delay["median_hours"]],
                [_("Délai de réponse, 90e centile (heures)"), delay["p90_hours"]],
                [_("Professionnels ayant un accès"), pros["with_access"]],
                [_("Professionnels actifs sur la période"), pros["active"]],
                [_("Déplacements évités (résidents d'EHPAD)"), trip["trips"]],
                [_("Kilomètres évités (aller-retour, à vol d'oiseau)"), trip["km"]],
            ],
            masked=(1,),
        ),
    )
    return result
