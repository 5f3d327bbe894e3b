"""The yearly activity a professional declares (acts in person and at a distance): the 20 % cap
of remote activity (REGULATORY.md § Téléconsultation and § Télésoin) is measured against it.
The professional declares their own on their account page or by API; a structure's
administrator declares it for the structure's staff."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership, User
from telesante.acts.models import Act, ActStatus
from telesante.core import audit, numbers, policy
from telesante.core.models import AuditAction
from telesante.structures.models import Structure
from telesante.teleconsultation.billing import REMOTE_KINDS, cap_warnings
from telesante.teleconsultation.models import ActivityDeclaration

MAX_ACTS = 200_000  # far above any one professional's year


@dataclass
class Activity:
    year: int
    declared: int | None
    remote: int
    warnings: list[str]


def years() -> list[int]:
    """The years one may declare: the last one (its total is known in January) and this one."""
    this = timezone.localdate().year
    return [this, this - 1]


def remote_acts(professional: User, year: int) -> int:
    return Act.objects.filter(
        performers=professional, kind__in=REMOTE_KINDS, status=ActStatus.DONE, done_at__year=year
    ).count()


def activity(professional: User) -> list[Activity]:
    """The declarable years with what was declared, the remote acts done and the cap's warning."""
    declared = dict(
        ActivityDeclaration.objects.filter(professional=professional, year__in=years()).values_list(
            "year", "total_acts"
        )
    )
    return [
        Activity(y, declared.get(y), remote_acts(professional, y), cap_warnings(professional, y))
        for y in years()
    ]


def staff(admin: User, structure_pk: int, page: int) -> tuple[Structure, Page, dict]:
    """A structure's professionals, 20 a page, with this year's declarations (one query each);
    only the structure's administrators see it, others get a 404."""
    structure = policy.administered_structures(admin).filter(pk=structure_pk).first()
    if structure is None:
        raise Http404
    people: QuerySet[User] = (
        User.objects.filter(memberships__structure=structure, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )
    found = Paginator(people, 20).get_page(page)
    declared = dict(
        ActivityDeclaration.objects.filter(
            professional__in=[u.pk for u in found], year=years()[0]
        ).values_list("professional_id", "total_acts")
    )
    return structure, found, declared


def declare_check(user: User) -> None:
    """Only professionals of a structure declare an activity (observers and others: 403)."""
    if not policy.may_handle_patients(user) or not user.memberships.exists():
        raise PermissionDenied(_("Seuls les professionnels d'une structure déclarent."))


def _may_declare_for(actor: User, professional: User) -> None:
    if actor.pk == professional.pk:
        declare_check(actor)
        return
    # A structure's administrator declares for the structure's staff only.
    if not Membership.objects.filter(
        user=professional, structure__in=policy.administered_structures(actor)
    ).exists():
        raise Http404


def declare(
    request: HttpRequest | None, actor: User, professional: User, year: object, total: object
) -> ActivityDeclaration:
    """Record (or correct) a year's total of acts, typed the French way (« 1 250 »)."""
    _may_declare_for(actor, professional)
    errors: dict[str, list[str]] = {}
    try:
        year = numbers.parse(year, integer=True)
    except ValueError as exc:
        errors["year"] = [str(exc)]
    if year is not None and "year" not in errors and year not in years():
        errors["year"] = [
            _("Déclarez l'année en cours ou la précédente (%(years)s).")
            % {"years": ", ".join(str(y) for y in years())}
        ]
    elif year is None:
        errors["year"] = [_("Indiquez l'année.")]
    try:
        total = numbers.parse(total, integer=True, low=1, high=MAX_ACTS, unit=_("actes"))
        if total is None:
            errors["total_acts"] = [_("Indiquez le nombre d'actes de l'année.")]
    except ValueError as exc:
        errors["total_acts"] = [str(exc)]
    if not errors:
        remote = remote_acts(professional, year)
        if total < remote:
            errors["total_acts"] = [
                _(
                    "Le total ne peut pas être inférieur aux %(n)d actes à distance déjà "
                    "réalisés sur la plateforme en %(year)d."
                )
                % {"n": remote, "year": year}
            ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        declaration, _created = ActivityDeclaration.objects.update_or_create(
            professional=professional, year=year, defaults={"total_acts": total}
        )
        audit.record(
            request,
            actor,
            AuditAction.UPDATE,
            [declaration],
            detail=f"activité déclarée {year} : {total}",
        )
    return declaration
