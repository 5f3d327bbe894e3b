"""The directory of telehealth offers: which site and which professionals offer which act in
which filière, where, with availability and how to ask. Public: no patient data here."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership
from telesante.acts.models import Filiere
from telesante.core.text import fold
from telesante.deployment.models import SiteDeployment
from telesante.indicators.filters import parse_territory
from telesante.indicators.geo import centres
from telesante.patients.models import ActKind
from telesante.structures.models import DeploymentStatus, Structure

LISTED = [DeploymentStatus.DEPLOYED, DeploymentStatus.IN_PROGRESS]
# The API's page size unless asked otherwise: what it answered in one go before it had pages.
API_LIMIT = 500


PAGE_SIZE = 20


@dataclass(frozen=True)
class Query:
    filiere: str = ""
    act: str = ""
    territory: str = ""
    place: str = ""  # as a visitor types it: « Laval », « chateau-gontier », « Mayenne », 53200


def parse(params) -> Query:
    errors = {}
    filiere = (params.get("filiere") or "").strip()
    act = (params.get("act") or "").strip()
    territory = (params.get("territory") or "").strip()
    place = " ".join((params.get("place") or "").split())[:100]
    for name, value in (
        ("filiere", filiere),
        ("act", act),
        ("territory", territory),
        ("place", place),
    ):
        if "\x00" in value:  # PostgreSQL refuses NUL in text parameters
            errors[name] = [_("Caractère nul interdit.")]
    if errors:
        raise ValidationError(errors)
    if filiere and not Filiere.objects.filter(pk=filiere).exists():
        errors["filiere"] = [_("Filière inconnue.")]
    if act and act not in ActKind.values:
        errors["act"] = [_("Type d'acte inconnu.")]
    if territory:
        try:
            parse_territory(territory)
        except ValueError:
            errors["territory"] = [
                _("Territoire inconnu : département (53), région (reg:52) ou commune (53130).")
            ]
    if errors:
        raise ValidationError(errors)
    return Query(filiere, act, territory, place)


def listed() -> QuerySet[Structure]:
    return Structure.objects.filter(deployment_status__in=LISTED, site_deployment__isnull=False)


def place_communes(place: str) -> set[str]:
    """Communes of listed sites at the place typed: a territory code (53, reg:52, 53130), a
    postal code, or a name compared without accents nor case: the commune's (« chateau » finds
    Château-Gontier-sur-Mayenne) or its département's (« mayenne »)."""
    try:
        territory = parse_territory(place)
    except ValueError:
        territory = None
    where = listed().values_list(
        "commune_id", "commune__name", "commune__postal_codes", "departement__name"
    )
    if territory is not None:
        path = {
            "region": "departement__region_id",
            "departement": "departement_id",
            "commune": "commune_id",
        }[territory.level]
        return set(where.filter(**{path: territory.code}).values_list("commune_id", flat=True))
    wanted = fold(place)
    return {
        code
        for code, name, postal_codes, departement in where.distinct()
        if fold(name).startswith(wanted)
        or fold(departement or "") == wanted
        or place in postal_codes.split()
    }


def sites(query: Query) -> QuerySet[Structure]:
    """Listed sites (deployed or being deployed) matching the query, with what they offer."""
    qs: QuerySet[Structure] = (
        listed()
        .select_related("commune", "departement", "site_deployment")
        .prefetch_related(
            "site_deployment__filieres",
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(user__is_active=True)
                .exclude(user__specialty="")
                .select_related("user"),
                to_attr="expert_memberships",
            ),
            "practices__practitioner",
        )
        .order_by("departement_id", "name", "pk")
    )
    if query.territory:
        t = parse_territory(query.territory)
        path = {
            "region": "departement__region_id",
            "departement": "departement_id",
            "commune": "commune_id",
        }[t.level]
        qs = qs.filter(**{path: t.code})
    if query.place:
        qs = qs.filter(commune_id__in=place_communes(query.place))
    if query.filiere:
        qs = qs.filter(site_deployment__filieres=query.filiere)
    if query.act:
        qs = qs.filter(pk__in=_offering(query.act))
    return qs


def _offering(act: str) -> list[int]:
    """Sites whose offer lists the act (a JSON list: read here, the same on SQLite and
    PostgreSQL; one narrow query over the listed sites)."""
    return [pk for pk, acts in listed().values_list("pk", "site_deployment__acts") if act in acts]


def as_dict(structure: Structure, points: dict) -> dict:
    site: SiteDeployment = structure.site_deployment
    labels = dict(ActKind.choices)
    return {
        "id": structure.pk,
        "name": structure.name,
        "kind": structure.kind,
        "finess": structure.finess or "",
        "commune": structure.commune.name,
        "commune_code": structure.commune_id,
        "departement": structure.departement_id,
        "address": structure.address,
        "position": points.get(structure.commune_id),
        "deployment_status": structure.deployment_status,
        "acts": [{"code": a, "label": str(labels.get(a, a))} for a in site.acts],
        "filieres": [{"code": f.code, "name": f.name} for f in site.filieres.all()],
        "availability": site.availability,
        "contact": site.contact,
        "professionals": [
            {
                "name": m.user.display_name,
                "profession": m.user.get_profession_display(),
                "specialty": m.user.get_specialty_display(),
            }
            # One line per professional, whatever the number of their teams on the site.
            for m in {m.user_id: m for m in structure.expert_memberships}.values()
        ]
        + [
            {
                "name": str(p.practitioner),
                "profession": p.practitioner.get_profession_display(),
                "specialty": p.practitioner.specialty_label,
            }
            for p in structure.practices.all()
        ],
    }


def entries(found: list[Structure]) -> list[dict]:
    points = centres({s.commune_id for s in found})
    return [as_dict(s, points) for s in found]


def page(query: Query, number: str | int | None) -> tuple[Page, list[dict]]:
    """One page of the directory (PAGE_SIZE sites) and its entries."""
    current = Paginator(sites(query), PAGE_SIZE).get_page(number)
    return current, entries(list(current.object_list))
