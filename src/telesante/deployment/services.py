"""Recording deployment milestones; the site's deployment status and dates follow from them."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from telesante.accounts.models import RegionalRole, User
from telesante.acts.models import Filiere
from telesante.deployment.models import Milestone, SiteDeployment, Step, Stop
from telesante.directory import map_svg
from telesante.indicators.geo import centres
from telesante.patients.models import ActKind
from telesante.structures.models import Commune, DeploymentStatus, Structure, StructureKind

# The site is operational (counted as deployed) once equipped and its professionals trained.
OPERATIONAL_STEPS = (Step.EQUIPMENT, Step.TRAINING)


def may_view(user) -> bool:
    return bool(user.is_authenticated and (user.regional_role or user.followed_sites.exists()))


def may_edit(user, site: SiteDeployment) -> bool:
    return bool(
        user.is_authenticated
        and (user.regional_role == RegionalRole.ADMIN or site.officer_id == user.pk)
    )


def overview(filters_q: Q | None = None) -> QuerySet[Structure]:
    """Every site with its milestones and officer: the region-wide view (constant queries)."""
    qs = Structure.objects.select_related(
        "commune", "departement", "site_deployment__officer"
    ).prefetch_related(
        Prefetch("site_deployment__milestones", queryset=Milestone.objects.order_by("pk"))
    )
    if filters_q is not None:
        qs = qs.filter(filters_q)
    return qs.order_by("departement_id", "name", "pk")


def status_counts(qs: QuerySet[Structure]) -> dict[str, int]:
    rows = qs.order_by().values_list("deployment_status").annotate(n=Count("pk"))
    return {s: dict(rows).get(s, 0) for s in DeploymentStatus.values}


def site_for(structure: Structure) -> SiteDeployment:
    site, _created = SiteDeployment.objects.get_or_create(structure=structure)
    return site


def milestone_map(site: SiteDeployment) -> list[tuple[str, str, Milestone | None]]:
    """Every step in order with its milestone (None when nothing recorded yet)."""
    return steps_of(site.milestones.all())


def steps_of(milestones: Iterable[Milestone]) -> list[tuple[str, str, Milestone | None]]:
    """Every step in order with its milestone among a site's `milestones` (None when nothing
    recorded yet)."""
    by_step = {m.step: m for m in milestones}
    return [(value, label, by_step.get(value)) for value, label in Step.choices]


@dataclass
class MilestoneInput:
    step: str
    planned_on: datetime.date | None
    done_on: datetime.date | None


def _date(raw: str, field: str, errors: dict) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        errors[field] = [_("Date invalide (format AAAA-MM-JJ).")]
        return None


def parse_milestone(data) -> MilestoneInput:
    errors: dict[str, list[str]] = {}
    step = data.get("step", "")
    if step not in Step.values:
        errors["step"] = [_("Étape inconnue.")]
    planned = _date(data.get("planned_on", ""), "planned_on", errors)
    done = _date(data.get("done_on", ""), "done_on", errors)
    if done and done > datetime.date.today():
        errors["done_on"] = [_("Une étape réalisée ne peut pas être datée dans le futur.")]
    if errors:
        raise ValidationError(errors)
    return MilestoneInput(step, planned, done)


@transaction.atomic
def record_milestone(user, site: SiteDeployment, data: MilestoneInput) -> Milestone:
    if not may_edit(user, site):
        raise PermissionDenied(
            _(
                "Seuls l'administration régionale et le chargé d'appui du site "
                "peuvent renseigner ses jalons."
            )
        )
    milestone, _created = Milestone.objects.update_or_create(
        site=site,
        step=data.step,
        defaults={"planned_on": data.planned_on, "done_on": data.done_on, "recorded_by": user},
    )
    refresh_status(site)
    return milestone


@dataclass
class Offer:
    """What the directory shows of a site: acts offered, availability, how to ask."""

    acts: list[str]
    availability: str = ""
    contact: str = ""


@transaction.atomic
def set_follow_up(
    user,
    site: SiteDeployment,
    officer_id: int | None,
    filiere_codes: list[str],
    offer: Offer | None = None,
) -> None:
    if not (user.is_authenticated and user.regional_role == RegionalRole.ADMIN):
        raise PermissionDenied(_("Réservé à l'administration régionale."))
    errors = {}
    officer = None
    if officer_id:
        officer = User.objects.filter(pk=officer_id, is_active=True).first()
        if officer is None:
            errors["officer"] = [_("Chargé·e d'appui inconnu·e.")]
    filieres = list(Filiere.objects.filter(pk__in=filiere_codes))
    if len(filieres) != len(set(filiere_codes)):
        errors["filieres"] = [_("Filière inconnue.")]
    if offer is not None and set(offer.acts) - set(ActKind.values):
        errors["acts"] = [_("Type d'acte inconnu.")]
    if errors:
        raise ValidationError(errors)
    site.officer = officer
    if offer is not None:
        site.acts = [a for a in ActKind.values if a in offer.acts]
        site.availability, site.contact = offer.availability[:300], offer.contact[:300]
    site.save(update_fields=["officer", "acts", "availability", "contact"])
    site.filieres.set(filieres)


def refresh_status(site: SiteDeployment) -> Structure:
    """Deployment dates and status of the structure, derived from its milestones."""
    structure = site.structure
    done = {m.step: m.done_on for m in site.milestones.all() if m.done_on}
    planned = [m.planned_on for m in site.milestones.all() if m.planned_on]
    structure.deployment_planned_on = min(planned) if planned else None
    structure.deployment_started_on = min(done.values()) if done else None
    operational = [done.get(step) for step in OPERATIONAL_STEPS]
    structure.deployed_on = max(operational) if all(operational) else None
    if structure.suspended_on is None:
        if structure.deployed_on:
            structure.deployment_status = DeploymentStatus.DEPLOYED
        elif structure.deployment_started_on:
            structure.deployment_status = DeploymentStatus.IN_PROGRESS
        else:
            structure.deployment_status = DeploymentStatus.PLANNED
    structure.save(
        update_fields=[
            "deployment_planned_on",
            "deployment_started_on",
            "deployed_on",
            "deployment_status",
        ]
    )
    return structure


@transaction.atomic
def add_stop(user, site: SiteDeployment, data) -> Stop:
    """A stop of a mobile unit: where (commune, place) and when (start and end)."""
    if not may_edit(user, site):
        raise PermissionDenied(_("Réservé à l'administration régionale et au chargé d'appui."))
    errors: dict[str, list[str]] = {}
    if site.structure.kind != StructureKind.MOBILE:
        errors["__all__"] = [_("Seule une unité mobile a des étapes.")]
    commune = Commune.objects.filter(pk=(data.get("commune") or "").strip()).first()
    if commune is None:
        errors["commune"] = [_("Commune inconnue (code INSEE, ex. 53130).")]
    place = (data.get("place") or "").strip()
    if not place:
        errors["place"] = [_("Indiquez le lieu de l'étape.")]
    starts, ends = (
        _moment(data.get("starts_at"), "starts_at", errors),
        _moment(data.get("ends_at"), "ends_at", errors),
    )
    if starts and ends and ends <= starts:
        errors["ends_at"] = [_("La fin doit suivre le début.")]
    if errors:
        raise ValidationError(errors)
    return Stop.objects.create(
        unit=site.structure, commune=commune, place=place[:200], starts_at=starts, ends_at=ends
    )


def _moment(raw: str | None, field: str, errors: dict) -> datetime.datetime | None:
    try:
        value = datetime.datetime.fromisoformat(raw or "")
    except ValueError:
        errors[field] = [_("Date et heure invalides (AAAA-MM-JJTHH:MM).")]
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def schedule(unit: Structure, since: datetime.datetime) -> QuerySet[Stop]:
    """Coming stops of a mobile unit."""
    if unit.kind != StructureKind.MOBILE:
        return Stop.objects.none()
    return unit.stops.filter(ends_at__gte=since).select_related("commune")


# The map follows the next stops only: beyond two weeks or so of rounds it is a tangle.
MAP_STOPS = 10


@dataclass
class StopsMap:
    svg: SafeString  # empty when no stop could be placed
    shown: int  # the first `shown` stops of the schedule are on the map
    estimated: list[str]  # communes placed at the centre of their département
    unplaced: list[str]  # communes that could not be placed at all


def stops_map(stops: list[Stop]) -> StopsMap:
    """The route of the next stops, numbered as in the schedule (no query beyond `centres`)."""
    coming = stops[:MAP_STOPS]
    points = centres({s.commune_id for s in coming})
    waypoints, estimated, unplaced = [], [], []
    for number, stop in enumerate(coming, 1):
        name = stop.commune.name
        if stop.commune_id not in points:
            unplaced.append(name)
            continue
        guess = stop.commune.latitude is None or stop.commune.longitude is None
        if guess:
            estimated.append(name)
        when = date_format(timezone.localtime(stop.starts_at), "l d/m/Y H:i")
        waypoints.append(
            map_svg.Waypoint(
                number,
                points[stop.commune_id],
                name,
                f"{number}. {stop.place}, {name} — {when}"
                + (_(" (position estimée)") if guess else ""),
                guess,
            )
        )
    title = ngettext(
        "Carte de la prochaine étape", "Carte des %(n)d prochaines étapes", len(coming)
    ) % {"n": len(coming)}
    desc = _("Itinéraire : %(route)s.") % {
        "route": ", ".join(f"{w.number}. {w.place}" for w in waypoints)
    }
    return StopsMap(
        map_svg.route(waypoints, title, desc),
        len(coming),
        list(dict.fromkeys(estimated)),
        list(dict.fromkeys(unplaced)),
    )
