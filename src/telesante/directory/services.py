"""The directory of telehealth offers: which site and which professionals offer which act in
which filière, where, with availability and how to ask. Public: no patient data here."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership
from telesante.acts.models import Filiere
from telesante.deployment.models import SiteDeployment
from telesante.indicators.filters import parse_territory
from telesante.indicators.geo import centres
from telesante.patients.models import ActKind
from telesante.structures.models import DeploymentStatus, Structure

LISTED = [DeploymentStatus.DEPLOYED, DeploymentStatus.IN_PROGRESS]
MAX_SITES = 500


@dataclass(frozen=True)
class Query:
    filiere: str = ""
    act: str = ""
    territory: str = ""


def parse(params) -> Query:
    errors = {}
    filiere = (params.get("filiere") or "").strip()
    act = (params.get("act") or "").strip()
    territory = (params.get("territory") or "").strip()
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
    return Query(filiere, act, territory)


def sites(query: Query) -> list[Structure]:
    """Listed sites (deployed or being deployed) matching the query, with what they offer."""
    qs: QuerySet[Structure] = (
        Structure.objects.filter(deployment_status__in=LISTED, site_deployment__isnull=False)
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
        .order_by("departement_id", "name")
    )
    if query.territory:
        t = parse_territory(query.territory)
        path = {
            "region": "departement__region_id",
            "departement": "departement_id",
            "commune": "commune_id",
        }[t.level]
        qs = qs.filter(**{path: t.code})
    if query.filiere:
        qs = qs.filter(site_deployment__filieres=query.filiere)
    found = list(qs[:MAX_SITES])
    if query.act:  # a JSON list: filtered here, the same on SQLite and PostgreSQL
        found = [s for s in found if query.act in s.site_deployment.acts]
    return found


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


def listing(query: Query) -> list[dict]:
    found = sites(query)
    points = centres({s.commune_id for s in found})
    return [as_dict(s, points) for s in found]
