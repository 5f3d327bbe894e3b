"""The account behind a Pro Santé Connect login: found by RPPS, or created when a structure
where the professional works lets its professionals enrol themselves."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from telesante.accounts.models import Membership, MembershipRole, User
from telesante.psc.claims import ProClaims
from telesante.structures.models import Structure

log = logging.getLogger(__name__)


@dataclass
class NotEnrolled(Exception):
    """No account, and no structure of the professional's lets them enrol: whom to ask."""

    claims: ProClaims
    structures: list[Structure] = field(default_factory=list)
    admins: list[User] = field(default_factory=list)


def matching_structures(claims: ProClaims) -> list[Structure]:
    """The structures where the professional works, by the FINESS of the site or legal entity."""
    return list(
        Structure.objects.filter(Q(finess__in=claims.finess) | Q(finess_ej__in=claims.finess))
        .distinct()
        .order_by("name")
    )


def account_for(claims: ProClaims) -> User:
    """The account with this RPPS; else a new one in the first structure that allows it, in
    its default team; else NotEnrolled."""
    user = User.objects.filter(rpps=claims.rpps).first()
    if user is not None:
        return user
    structures = matching_structures(claims)
    open_ones = [s for s in structures if s.psc_self_enrolment]
    if not open_ones:
        admins = User.objects.filter(
            is_active=True,
            memberships__structure__in=structures,
            memberships__role=MembershipRole.ADMIN,
        ).distinct()
        raise NotEnrolled(claims, structures, list(admins))
    with transaction.atomic():
        user = User.objects.create_user(
            _free_email(claims),
            None,  # no password: this account logs in through PSC only
            rpps=claims.rpps,
            first_name=claims.first_name,
            last_name=claims.last_name,
        )
        Membership.objects.create(user=user, structure=open_ones[0])
    log.info("Pro Santé Connect : compte créé pour le RPPS %s (%s)", claims.rpps, open_ones[0])
    return user


def _free_email(claims: ProClaims) -> str:
    # PSC may send no e-mail, or one another account already has: the account still needs one.
    if claims.email and not User.objects.filter(email=claims.email).exists():
        return claims.email
    return f"rpps-{claims.rpps}@pro-sante-connect.invalid"


def refresh(user: User, claims: ProClaims) -> None:
    """Profession, specialty and the regulation right as PSC says at this login."""
    values = {"regulation_access": claims.regulation_access}
    if claims.profession:
        values["profession"] = claims.profession
    if claims.specialty:
        values["specialty"] = claims.specialty
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, values[name])
    if changed:
        user.save(update_fields=changed)
