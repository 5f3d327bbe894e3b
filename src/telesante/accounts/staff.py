"""A structure's administrators manage its staff and care teams: invite a professional (by
e-mail or RPPS), roles, team membership, new teams, deactivation.

Pages and API call these functions; each refuses a non-administrator of the structure (403 for
its members, 404 for everyone else), changes nothing half-way (transactions) and writes the audit
trail through `core.audit` (the account as object, never a patient).
"""

from dataclasses import dataclass

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from telesante.accounts.models import Membership, MembershipRole, Profession, User
from telesante.core import audit, policy
from telesante.core.identifiers import validate_rpps
from telesante.core.models import AuditAction
from telesante.notifications.delivery import clean_email
from telesante.notifications.tasks import send_email
from telesante.structures.models import Structure, Team


def administered(user: User, structure_pk: int) -> Structure:
    """The structure if `user` administers it; 403 for its other members, 404 otherwise."""
    structure = policy.administered_structures(user).filter(pk=structure_pk).first()
    if structure is not None:
        return structure
    if policy.member_structures(user).filter(pk=structure_pk).exists():
        raise PermissionDenied(_("Réservé aux administrateurs de la structure."))
    raise Http404


def staff(structure: Structure) -> QuerySet[User]:
    """The structure's professionals, deactivated ones too, by name; each with its memberships
    of this structure and their teams (`structure_memberships`): two queries a page."""
    return (
        User.objects.filter(memberships__structure=structure)
        .distinct()
        .order_by("last_name", "first_name", "pk")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(structure=structure)
                .select_related("team")
                .order_by("team__name"),
                to_attr="structure_memberships",
            )
        )
    )


def is_admin_row(person: User) -> bool:
    return any(m.role == MembershipRole.ADMIN for m in person.structure_memberships)


def member_of(structure: Structure, user_pk: int) -> User:
    """A professional of the structure (404 for anyone else)."""
    person = User.objects.filter(pk=user_pk, memberships__structure=structure).first()
    if person is None:
        raise Http404
    return person


def team_of(structure: Structure, team_pk) -> Team:
    team = Team.objects.filter(pk=team_pk, structure=structure).first() if team_pk else None
    if team is None:
        raise ValidationError({"team": _("Choisissez une équipe de la structure.")})
    return team


def _keeps_an_admin(structure: Structure, without: User) -> None:
    others = Membership.objects.filter(structure=structure, role=MembershipRole.ADMIN).exclude(
        user=without
    )
    if not others.filter(user__is_active=True).exists():
        raise ValidationError(
            {"role": _("La structure doit garder au moins un administrateur actif.")}
        )


def _log(request: HttpRequest | None, admin: User, structure: Structure, person, what: str):
    audit.record(
        request, admin, AuditAction.UPDATE, [person], detail=what, structure_id=structure.pk
    )


@dataclass
class Invitation:
    email: str = ""
    rpps: str = ""
    first_name: str = ""
    last_name: str = ""
    profession: str = Profession.OTHER
    team_id: int | None = None
    role: str = MembershipRole.MEMBER


def invite(
    request: HttpRequest | None, admin: User, structure: Structure, invitation: Invitation
) -> tuple[User, bool]:
    """Add a professional to one of the structure's teams: the account with this RPPS or e-mail
    when there is one, otherwise a new account without a password that receives an invitation
    e-mail (a link to choose the password; the second factor is asked at first login). Returns
    (account, created)."""
    team = team_of(structure, invitation.team_id)
    if invitation.role not in MembershipRole.values:
        raise ValidationError({"role": _("Rôle inconnu.")})
    rpps = invitation.rpps.replace(" ", "")
    email = invitation.email.strip()
    if not rpps and not email:
        raise ValidationError({"email": _("Indiquez l'adresse e-mail ou le RPPS.")})
    if rpps:
        try:
            validate_rpps(rpps)
        except ValidationError as exc:
            raise ValidationError({"rpps": exc.messages}) from exc
    if email:
        try:
            email = clean_email(email).lower()
        except ValidationError as exc:
            raise ValidationError({"email": exc.messages}) from exc
    person = (User.objects.filter(rpps=rpps).first() if rpps else None) or (
        User.objects.filter(email=email).first() if email else None
    )
    with transaction.atomic():
        created = person is None
        if created:
            if not email:
                raise ValidationError(
                    {"email": _("Aucun compte n'a ce RPPS : indiquez son adresse e-mail.")}
                )
            person = _new_account(email, rpps, invitation)
        elif Membership.objects.filter(user=person, team=team).exists():
            raise ValidationError({"email": _("Ce professionnel est déjà dans cette équipe.")})
        Membership.objects.create(user=person, team=team, role=invitation.role)
        if invitation.role == MembershipRole.ADMIN:
            Membership.objects.filter(user=person, structure=structure).update(
                role=MembershipRole.ADMIN
            )
        _log(request, admin, structure, person, f"invitation: {team.name} ({invitation.role})")
        if created:
            transaction.on_commit(lambda: _send_invitation(person, structure))
    return person, created


def _new_account(email: str, rpps: str, invitation: Invitation) -> User:
    """A new account, named from the directory when its RPPS is known there."""
    from telesante.directory.models import Practitioner

    if invitation.profession not in Profession.values:
        raise ValidationError({"profession": _("Profession inconnue.")})
    known = Practitioner.objects.filter(rpps=rpps).first() if rpps else None
    person = User(
        email=email,
        rpps=rpps or None,
        first_name=(invitation.first_name or (known.first_name if known else ""))[:150],
        last_name=(invitation.last_name or (known.last_name if known else ""))[:150],
        profession=known.profession if known else invitation.profession,
        specialty=known.specialty if known else "",
    )
    person.set_unusable_password()
    person.full_clean(exclude=["password"])
    person.save()
    return person


def invitation_link(person: User) -> str:
    """The link that lets the invited person choose a password (allauth's password reset, valid
    until the password is set or the reset timeout passes)."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(person),
            "key": default_token_generator.make_token(person),
        },
    )
    return settings.TELESANTE_BASE_URL + path


def _send_invitation(person: User, structure: Structure) -> None:
    """Names the structure and the link only: no patient data travels by plain e-mail."""
    send_email.enqueue(
        [person.email],
        "Télésanté — invitation à rejoindre votre structure",
        f"Bonjour,\n\n{structure.name} vous invite sur Télésanté.\n\n"
        f"Choisissez votre mot de passe : {invitation_link(person)}\n\n"
        "À la première connexion, vous activerez la double authentification (application "
        "TOTP sur votre téléphone).\n",
    )


def set_role(
    request: HttpRequest | None, admin: User, structure: Structure, person: User, role: str
) -> None:
    if role not in MembershipRole.values:
        raise ValidationError({"role": _("Rôle inconnu.")})
    if role == MembershipRole.MEMBER:
        _keeps_an_admin(structure, person)
    with transaction.atomic():
        Membership.objects.filter(user=person, structure=structure).update(role=role)
        _log(request, admin, structure, person, f"rôle: {role}")


def add_to_team(
    request: HttpRequest | None, admin: User, structure: Structure, person: User, team_pk
) -> None:
    team = team_of(structure, team_pk)
    current = Membership.objects.filter(user=person, structure=structure)
    if current.filter(team=team).exists():
        raise ValidationError({"team": _("Ce professionnel est déjà dans cette équipe.")})
    role = (
        MembershipRole.ADMIN
        if current.filter(role=MembershipRole.ADMIN).exists()
        else MembershipRole.MEMBER
    )
    with transaction.atomic():
        Membership.objects.create(user=person, team=team, role=role)
        _log(request, admin, structure, person, f"équipe ajoutée: {team.name}")


def remove_from_team(
    request: HttpRequest | None, admin: User, structure: Structure, person: User, team_pk
) -> None:
    """Out of one team; out of the structure with its last one (the structure keeping an
    administrator)."""
    team = team_of(structure, team_pk)
    membership = Membership.objects.filter(user=person, team=team).first()
    if membership is None:
        raise ValidationError({"team": _("Ce professionnel n'est pas dans cette équipe.")})
    others = Membership.objects.filter(user=person, structure=structure).exclude(pk=membership.pk)
    if membership.role == MembershipRole.ADMIN and not others.exists():
        _keeps_an_admin(structure, person)
    with transaction.atomic():
        membership.delete()
        _log(request, admin, structure, person, f"équipe retirée: {team.name}")


def create_team(request: HttpRequest | None, admin: User, structure: Structure, name: str) -> Team:
    name = " ".join(name.replace("\x00", "").split())
    if not name:
        raise ValidationError({"name": _("Donnez un nom à l'équipe.")})
    if len(name) > 150:
        raise ValidationError({"name": _("150 caractères au plus.")})
    if Team.objects.filter(structure=structure, name__iexact=name).exists():
        raise ValidationError({"name": _("La structure a déjà une équipe de ce nom.")})
    with transaction.atomic():
        team = Team.objects.create(structure=structure, name=name)
        audit.record(
            request, admin, AuditAction.CREATE, [team], detail=name, structure_id=structure.pk
        )
    return team


def set_active(
    request: HttpRequest | None, admin: User, structure: Structure, person: User, active: bool
) -> None:
    """Deactivate (or reactivate) an account: no login, no API token, no session; its acts and
    the audit trail stay. Only an account of this structure alone, and never one's own."""
    if person.pk == admin.pk:
        raise ValidationError({"active": _("Vous ne pouvez pas désactiver votre propre compte.")})
    if Membership.objects.filter(user=person).exclude(structure=structure).exists():
        raise ValidationError(
            {
                "active": _(
                    "Ce professionnel exerce aussi dans une autre structure : retirez-le de vos "
                    "équipes plutôt que de désactiver son compte."
                )
            }
        )
    if not active:
        _keeps_an_admin(structure, person)
    with transaction.atomic():
        person.is_active = active
        person.save(update_fields=["is_active"])
        _log(request, admin, structure, person, "réactivé" if active else "désactivé")


def set_regulation_access(
    request: HttpRequest | None, admin: User, structure: Structure, person: User, granted: bool
) -> None:
    """Grant or withdraw the right to regulate calls (`User.regulation_access`) in a SAMU or SAS.
    The right is the account's, so it counts in each SAMU or SAS the person belongs to: the
    administrator must administer all of them. An account that logs in with Pro Santé Connect
    gets it again from `Acces_Regulation_Medicale` at each such login (`psc.services.refresh`):
    there the PSC claim wins."""
    if structure.kind not in policy.REGULATION_KINDS:
        raise ValidationError(
            {
                "regulation_access": _(
                    "Le droit de régulation médicale ne s'accorde que dans un SAMU ou un SAS."
                )
            }
        )
    elsewhere = Membership.objects.filter(
        user=person, structure__kind__in=policy.REGULATION_KINDS
    ).exclude(structure__in=policy.administered_structures(admin).values("pk"))
    if elsewhere.exists():
        raise ValidationError(
            {
                "regulation_access": _(
                    "Ce professionnel est aussi membre d'un autre SAMU ou SAS, où ce droit vaut "
                    "aussi : seul un administrateur de chacune de ces structures peut le changer."
                )
            }
        )
    with transaction.atomic():
        person.regulation_access = granted
        person.save(update_fields=["regulation_access"])
        what = "droit de régulation accordé" if granted else "droit de régulation retiré"
        _log(request, admin, structure, person, what)
