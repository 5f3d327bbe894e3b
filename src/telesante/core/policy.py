"""The permission wall: who may see which patient, act and document. Pages, API and exports ask
here, and only here."""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest

from telesante.accounts.models import Membership, MembershipRole, User
from telesante.acts.models import Act, ActKind, ActStatus, TeamPatient
from telesante.core import audit, prepared
from telesante.core.json_rows import JSONRows
from telesante.core.models import AuditAction
from telesante.patients.models import Patient, PatientAttachment
from telesante.structures.models import Structure, StructureKind, Team

# Structures whose members regulate calls (centre 15, service d'accès aux soins).
REGULATION_KINDS = (StructureKind.SAMU, StructureKind.SAS)


def member_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(memberships__user=user).distinct()


def member_teams(user) -> QuerySet[Team]:
    """The care teams the user belongs to."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


# The care teams of the user a row names (`user`), read with that row: the API's bearer token
# brings them (`telesante.api`), so that a request asking `member_team_ids` asks no statement.
TEAMS_OF_USER = JSONRows(
    Membership.objects.filter(user=OuterRef("user")).order_by("team_id").values("team_id")
)
_TEAM_IDS = "member_team_ids"


def know_teams(user: User, teams: list[dict]) -> None:
    """Keep on `user`, for the request, the teams read with it (`TEAMS_OF_USER`)."""
    user.__dict__[_TEAM_IDS] = [team["team_id"] for team in teams]


def member_team_ids(user: User) -> list[int]:
    """The ids of the user's care teams: those read with the user (`know_teams`), else from
    their memberships alone (the (user, team) index), without the teams' rows."""
    if not user.is_authenticated:
        return []
    known = user.__dict__.get(_TEAM_IDS)
    if known is not None:
        return known
    return prepared.rows(
        ("policy", "team_ids"),
        lambda v: Membership.objects.filter(user=v.user).values_list("team_id", flat=True),
        user=user.pk,
    )


def administered_structures(user) -> QuerySet[Structure]:
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(
        memberships__user=user, memberships__role=MembershipRole.ADMIN
    ).distinct()


def may_handle_patients(user) -> bool:
    """Regional observers never see patient data; others only through a team or an act."""
    return bool(user.is_authenticated and user.is_active and not user.is_observer)


def act_role(user, act: Act) -> str | None:
    """ "host" (performs the act or assists it as an expert), "party" (requested it) or None."""
    if not may_handle_patients(user):
        return None
    act_qs = Act.objects.filter(pk=act.pk)
    if act_qs.filter(Q(performers=user) | Q(assisted_by__act__performers=user)).exists():
        return "host"
    if act.requester_id == user.pk:
        return "party"
    return None


def _party_lists(user, column: str, kinds: Sequence[str] = ()) -> list[QuerySet]:
    """Acts the user requested, performs or assists (téléassistance), projected on `column`,
    of the given kinds only when some are given."""
    through = "act_id" if column == "id" else f"act__{column}"
    of_kind = {"kind__in": kinds} if kinds else {}
    return [
        Act.objects.filter(requester=user, **of_kind).values_list(column, flat=True),
        Act.performers.through.objects.filter(user=user, **_on_act(of_kind)).values_list(
            through, flat=True
        ),
        Act.objects.filter(assisted_by__act__performers=user, **of_kind).values_list(
            column, flat=True
        ),
    ]


def _on_act(condition: dict) -> dict:
    return {f"act__{key}": value for key, value in condition.items()}


# Two user keys no account has: the rule's SQL is compiled for them, once per shape.
STAND_INS = (-7_000_001, -7_000_002)
SPECIALTIES = ("stand-in specialty 0", "stand-in specialty 1")
_COMPILED: dict[tuple, tuple[str, list]] = {}


def _stand_in(n: int, user) -> User:
    """The n-th stand-in account: its key, and every text, yes/no, date and JSON field of its
    own (the other stand-in's differ); a specialty only when the user has one (it shapes the
    rule)."""
    stand_in = User(pk=STAND_INS[n])
    for field in User._meta.concrete_fields:
        if isinstance(field, BooleanField):
            setattr(stand_in, field.attname, bool(n))
        elif isinstance(field, CharField | TextField) and not field.primary_key:
            setattr(stand_in, field.attname, f"stand-in {n}")
        elif isinstance(field, DateTimeField):  # before DateField: it is one
            setattr(stand_in, field.attname, datetime(2000 + n, 1, 1, tzinfo=UTC))
        elif isinstance(field, DateField):
            setattr(stand_in, field.attname, date(2000 + n, 1, 1))
        elif isinstance(field, JSONField):
            setattr(stand_in, field.attname, [f"stand-in {n}"])
    stand_in.specialty = SPECIALTIES[n] if user.specialty else ""
    stand_in._state.adding = False  # filters take it as a saved account
    return stand_in


def compiled(user, shape: tuple, build: Callable[[User], QuerySet]) -> RawSQL:
    """The id list `build(user)` as SQL, compiled once per process for each shape of the rule
    (`shape`: what changes its statement, not its values), then given the user's values.

    Django takes milliseconds to build and compile the rule's UNION on every request, more
    than the database takes to run it. The statement is compiled for two stand-in users whose
    fields all differ; both must come out the same but for the key and the specialty, which
    take the user's: a rule that read anything else of the user (or the time) is refused."""
    key = (connection.vendor, *shape)
    if key not in _COMPILED:
        (sql, first), (other_sql, second) = (
            build(_stand_in(n, user)).query.sql_with_params() for n in (0, 1)
        )
        if sql != other_sql:
            raise ValueError("the rule's statement depends on more than the user's values")
        template = []
        for a, b in zip(first, second, strict=True):
            if a == b:
                template.append(("value", a))
            elif (a, b) == STAND_INS:
                template.append(("pk", None))
            elif (a, b) == SPECIALTIES:
                template.append(("specialty", None))
            else:
                raise ValueError(f"the rule's statement depends on a value of its own: {a!r}")
        if connection.vendor == "postgresql":  # its constants written in (prepared.inlined)
            written = [kind == "value" and prepared.constant(v) for kind, v in template]
            sql, _ = prepared.inlined(sql, [v for _, v in template], written)
            template = [entry for entry, w in zip(template, written, strict=True) if not w]
        _COMPILED[key] = (sql, template)
    sql, template = _COMPILED[key]
    own = {"pk": user.pk, "specialty": user.specialty}
    # The statement is Django's own compilation; every value stays a bound parameter.
    return RawSQL(sql, [own.get(kind, value) for kind, value in template])  # noqa: S611


def party_acts(user, kinds: Sequence[str] = ()) -> QuerySet[Act]:
    """The acts the user is a party to (their agenda), whatever their teams; only of `kinds`
    when some are given."""
    if not may_handle_patients(user):
        return Act.objects.none()
    return Act.objects.filter(pk__in=party_act_ids(user, kinds))


def party_act_ids(user, kinds: Sequence[str] = ()) -> RawSQL:
    """The ids of `party_acts`, as SQL, for a user who may handle patients."""

    def build(who: User) -> QuerySet:
        first, *others = _party_lists(who, "id", kinds)
        return first.union(*others)

    return compiled(user, ("party", tuple(kinds)), build)


def _reference(user, kinds: Sequence[str]) -> bool | None:
    """What of the user shapes the pool arm (`teleexpertise.pools`): whether they work at a
    reference site, asked only when the rule has a pool arm for them."""
    from telesante.teleexpertise.pools import at_reference_site

    if user.specialty and (not kinds or ActKind.TELEEXPERTISE in kinds):
        return at_reference_site(user)
    return None


def _act_lists(
    user, column: str, kinds: Sequence[str] = (), reference: bool | None = None
) -> QuerySet:
    """THE act rule, as a UNION of index-driven lists projected on `column` ("id" for the acts,
    "patient_id" for their patients): acts the user is party to, acts of the user's care teams
    (requesting or performing), télé-expertise requests addressed to the user by name or,
    while open, through their filière's pool, and the done acts (the ones with a report) about
    the patients whose médecin traitant the user is: REGULATORY.md § Téléconsultation and §
    Télé-expertise send the report to the médecin traitant, who reads it here wherever they
    work (through the patient's `gp` index, then the acts' patient index).

    A list of one capability passes its `kinds`: each branch then reads only those acts, in
    the (owner, kind, id) indexes, instead of every act of a team to keep a few."""
    from telesante.teleexpertise.models import TeleExpertise  # the pool rule lives there
    from telesante.teleexpertise.pools import pool_q

    teams = Membership.objects.filter(user=user).values("team")
    te_column = "act_id" if column == "id" else f"act__{column}"
    of_kind = {"kind__in": kinds} if kinds else {}
    first, *others = _party_lists(user, column, kinds)
    if column == "patient_id" and not kinds:
        # The patients of the teams' acts, one pair each (acts.TeamPatient, kept by the
        # database): not a row for each act.
        team_acts = [TeamPatient.objects.filter(team__in=teams).values_list(column, flat=True)]
    else:
        team_acts = [
            Act.objects.filter(**{f"{side}__in": teams}, **of_kind).values_list(column, flat=True)
            for side in ("requesting_team", "performing_team")
        ]
    lists = [
        *others,
        *team_acts,
        Act.objects.filter(patient__gp=user, status=ActStatus.DONE, **of_kind).values_list(
            column, flat=True
        ),
    ]
    if not kinds or ActKind.TELEEXPERTISE in kinds:
        lists += [
            TeleExpertise.objects.filter(named_expert=user).values_list(te_column, flat=True),
            TeleExpertise.objects.filter(pool_q(user, reference=reference)).values_list(
                te_column, flat=True
            ),
        ]
    return first.union(*lists)


def visible_acts(user, kinds: Sequence[str] = ()) -> QuerySet[Act]:
    """Acts the user is party to, acts of their care teams, the télé-expertise requests
    addressed to them (by name, or while open through their pool), and the done acts about the
    patients whose médecin traitant they are; only of `kinds` when some are given."""
    if not may_handle_patients(user):
        return Act.objects.none()
    return Act.objects.filter(pk__in=visible_act_ids(user, kinds))


def visible_act_ids(user, kinds: Sequence[str] = ()) -> RawSQL:
    """The ids of `visible_acts`, as SQL, for a user who may handle patients."""
    reference = _reference(user, kinds)
    return compiled(
        user,
        ("acts", tuple(kinds), bool(user.specialty), reference),
        lambda who: _act_lists(who, "id", kinds, reference),
    )


def visible_patients(user) -> QuerySet[Patient]:
    """Patients followed by one of the user's care teams, and the patients of the acts the user
    sees (visible_acts): the two walls come from the same rule and cannot disagree."""
    if not may_handle_patients(user):
        return Patient.objects.none()
    return Patient.objects.filter(pk__in=visible_patient_ids(user))


def visible_patient_ids(user) -> RawSQL:
    """The ids of `visible_patients`, as SQL, for a user who may handle patients. One IN over
    a UNION of index-driven id lists: the database starts from the few patients the user may
    see instead of testing every patient of the region."""
    reference = _reference(user, ())

    def build(who: User) -> QuerySet:
        teams = Membership.objects.filter(user=who).values("team")
        return (
            PatientAttachment.objects.filter(team__in=teams)
            .values_list("patient_id", flat=True)
            .union(_act_lists(who, "patient_id", (), reference))
        )

    return compiled(user, ("patients", bool(user.specialty), reference), build)


def read_first(ids: RawSQL) -> RawSQL:
    """The id list `ids` read whole before the rows it selects, for `prepared.is_among`.
    PostgreSQL takes the wall's UNION for as many ids as its arms hold before de-duplication
    (17,000 for a nurse who sees 1,300 patients), so a search joined it to every patient of a
    common trigram (19,000 rows for « mar », 24 ms). Read first as an array, the wall's ids are
    sorted once and probed in one walk of the primary key (`id = ANY(ARRAY(…))`, 2.7 ms); as
    rows of a subquery (`IN (SELECT unnest(…))`) they were hashed again and probed one by one
    (3.5 ms). SQLite plans the wall first anyway."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL(f"ARRAY({ids.sql})", ids.params)  # noqa: S611  (its own text)


def get_patient(request: HttpRequest, user, pk: int, action: AuditAction) -> Patient:
    """Fetch one patient through the wall and audit the access; others' patients are a 404."""
    patient = visible_patients(user).filter(pk=pk).first()
    if patient is None:
        audit.record_refusal(request, user, action, "patients.Patient", pk)
        raise Http404("Patient introuvable.")
    audit.record(request, user, action, [patient])
    return patient


def may_create_in(user, structure: Structure) -> bool:
    return may_handle_patients(user) and member_structures(user).filter(pk=structure.pk).exists()


def get_act(request: HttpRequest | None, user, pk: int, action: AuditAction) -> Act:
    """Fetch one act through the wall and audit the access; others' acts are a 404."""
    act = visible_acts(user).filter(pk=pk).first()
    if act is None:
        audit.record_refusal(request, user, action, "acts.Act", pk)
        raise Http404("Acte introuvable.")
    audit.record(request, user, action, [act])
    return act


def regulation_structures(user) -> QuerySet[Structure]:
    """The SAMU and SAS where the user regulates: a member with the regulation right
    (`User.regulation_access`, from Pro Santé Connect or granted by the structure)."""
    if not may_handle_patients(user) or not user.regulation_access:
        return Structure.objects.none()
    return member_structures(user).filter(kind__in=REGULATION_KINDS)


def visible_regulations(user) -> QuerySet:
    """The regulation records of the centres where the user regulates; nobody else's."""
    from telesante.regulation.models import RegulationRecord

    return RegulationRecord.objects.filter(structure__in=regulation_structures(user).values("pk"))


def get_regulation(request: HttpRequest | None, user, pk: int, action: AuditAction):
    """Fetch one regulation record through the wall and audit the access; others' are a 404."""
    record = visible_regulations(user).filter(pk=pk).first()
    if record is None:
        audit.record_refusal(request, user, action, "regulation.RegulationRecord", pk)
        raise Http404("Dossier introuvable.")
    audit.record(request, user, action, [record], structure_id=record.structure_id)
    return record
