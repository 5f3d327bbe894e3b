"""Care teams: need-to-know inside a structure. An act is seen by its parties, by the members of
its requesting and performing teams and, while open, by the pool it is addressed to; patients by
the teams that follow them and through the acts one sees (one rule for both walls)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from telesante.accounts.models import Membership, Profession
from telesante.acts.models import Act
from telesante.core import policy
from telesante.patients.models import PatientAttachment
from telesante.structures.models import StructureKind, Team
from telesante.teleexpertise import services as te_services
from telesante.teleexpertise.models import State
from tests.conftest import make_patient, make_structure, make_user
from tests.teleexpertise.conftest import TE, te_world, wound_request  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401


def acts_of(user) -> set[int]:
    return set(policy.visible_acts(user).values_list("pk", flat=True))


def patients_of(user) -> set[int]:
    return set(policy.visible_patients(user).values_list("pk", flat=True))


@pytest.fixture
def hospital(world):
    """A CH with a cardiology and a psychiatry team; the cardiologist performs an act that
    nurse_a (EHPAD A) requested for patient_a."""
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000047")
    cardio = Team.objects.create(structure=ch, name="Cardiologie")
    psy = Team.objects.create(structure=ch, name="Psychiatrie")

    def member(email: str, team: Team, **extra):
        user = make_user(email, profession=Profession.DOCTOR, **extra)
        Membership.objects.create(user=user, team=team)
        return user

    cardiologist = member("cardio@example.test", cardio, specialty="cardiologie")
    act = Act.objects.create(
        kind="teleconsultation",
        patient=world.patient_a,
        requester=world.nurse_a,
        requesting_structure=world.ehpad_a,
        performing_team=cardio,
        status="scheduled",
    )
    act.performers.add(cardiologist)
    return {
        "ch": ch,
        "cardio": cardio,
        "psy": psy,
        "cardiologist": cardiologist,
        "cardio_colleague": member("cardio2@example.test", cardio),
        "psychiatrist": member("psy@example.test", psy, specialty="psychiatrie"),
        "act": act,
    }


def test_an_act_is_seen_by_its_parties_and_teams_not_by_another_team(world, hospital):
    act = hospital["act"]
    assert act.requesting_team == Team.default_for(world.ehpad_a.pk)  # the requester's team
    assert act.performing_structure == hospital["ch"]  # the team names its structure
    for user in (world.nurse_a, world.doctor_a, hospital["cardiologist"]):
        assert act.pk in acts_of(user)
    assert acts_of(hospital["cardio_colleague"]) == {act.pk}  # the performing team
    assert acts_of(hospital["psychiatrist"]) == set()  # same hospital, another team
    assert patients_of(hospital["psychiatrist"]) == set()
    assert patients_of(hospital["cardio_colleague"]) == {world.patient_a.pk}


def test_patients_followed_by_a_team_are_that_teams(world, hospital):
    followed = make_patient(world.ehpad_a, birth_name="SUIVIE")
    PatientAttachment.objects.filter(patient=followed).update(team=hospital["cardio"])
    assert followed.pk in patients_of(hospital["cardio_colleague"])
    assert followed.pk not in patients_of(hospital["psychiatrist"])
    assert followed.pk not in patients_of(world.nurse_a)  # no longer EHPAD A's team's


def test_a_users_team_ids_are_their_memberships_and_anonymous_has_none(world, hospital):
    cardiologist = hospital["cardiologist"]
    assert policy.member_team_ids(cardiologist) == [hospital["cardio"].pk]
    assert policy.member_team_ids(AnonymousUser()) == []
    # Teams read with the user (the API's token) are those asked afterwards, with no statement.
    policy.know_teams(cardiologist, [{"team_id": hospital["psy"].pk}])
    assert policy.member_team_ids(cardiologist) == [hospital["psy"].pk]


def test_the_patient_wall_covers_every_act_one_sees(world, hospital):
    """One rule: whoever sees an act sees its patient, for every account."""
    users = [world.nurse_a, world.nurse_b, world.doctor_a, world.admin_a, world.observer]
    users += [hospital[k] for k in ("cardiologist", "cardio_colleague", "psychiatrist")]
    for user in users:
        act_patients = set(
            policy.visible_acts(user).values_list("patient_id", flat=True).distinct()
        )
        assert act_patients <= patients_of(user), user


def test_a_pooled_request_is_seen_by_the_pool_while_open_then_by_the_claimers_team(
    te_world: TE,  # noqa: F811
):
    t = te_world
    other_site = make_structure("CH du Nord-Mayenne", kind=StructureKind.CH, commune="53130")
    rival = make_user(
        "plaies.nord@example.test",
        structure=other_site,
        profession=Profession.DOCTOR,
        specialty=t.wound_expert.specialty,
    )
    teammate = make_user("collegue.plaies@example.test", profession=Profession.NURSE)
    Membership.objects.create(user=teammate, team=policy.member_teams(t.wound_expert).first())
    te = te_services.create(None, t.w.nurse_a, wound_request(t))
    assert te.state == State.POOLED
    assert te.act_id in acts_of(rival) and te.act_id in acts_of(t.wound_expert)
    assert t.w.patient_a.pk in patients_of(rival)  # the pool reads whom it is asked about
    assert te.act_id not in acts_of(teammate)  # no performing team yet
    te_services.claim(None, t.wound_expert, te)
    assert te.act_id not in acts_of(rival)
    assert t.w.patient_a.pk not in patients_of(rival)
    assert te.act_id in acts_of(teammate)  # the claimer's team now performs it


def test_a_list_of_some_kinds_reads_the_same_wall(te_world: TE, hospital):  # noqa: F811
    """The wall narrowed to a capability's kinds is the wall, then those kinds: for every
    account and every kind, the acts and the agenda alike."""
    t = te_world
    te_services.create(None, t.w.nurse_a, wound_request(t))  # pooled: seen through the pool
    answered = te_services.create(None, t.w.nurse_a, wound_request(t))
    te_services.claim(None, t.wound_expert, answered)
    Act.objects.filter(pk=answered.pk).update(status="done")
    t.w.patient_a.gp = t.w.doctor_a  # the médecin traitant reads the done acts
    t.w.patient_a.save()
    users = [t.w.nurse_a, t.w.nurse_b, t.w.doctor_a, t.w.observer, t.wound_expert]
    users += [hospital[k] for k in ("cardiologist", "cardio_colleague", "psychiatrist")]
    kinds = [["teleconsultation"], ["teleexpertise"], ["telesurveillance", "telesoin"]]
    seen = 0
    for user in users:
        for some in kinds:
            whole = policy.visible_acts(user).filter(kind__in=some)
            assert set(policy.visible_acts(user, some)) == set(whole), (user, some)
            party = policy.party_acts(user).filter(kind__in=some)
            assert set(policy.party_acts(user, some)) == set(party), (user, some)
            seen += whole.count()
    assert seen >= 6  # the check ran over acts, not over empty lists


def test_the_wall_is_a_union_of_index_driven_lists(world, hospital):
    sql = str(policy.visible_acts(hospital["psychiatrist"]).query).upper()
    assert "UNION" in sql and "DISTINCT" not in sql and " OR " not in sql


# Migrations: the data as it was (one membership per structure) comes to one team per structure,
# and back.
BEFORE_TEAMS = [
    ("accounts", "0002_telesoin_professions"),
    ("patients", "0001_initial"),
    ("acts", "0004_indicators_indexes"),
    ("telesurveillance", "0005_enrolment_operator"),
    ("structures", "0002_deployment_mobile_unit"),
]


def migrate(targets: list[tuple[str, str]] | None = None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    if targets is None:
        targets = executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_teams_migrate_forwards_and_back(tsv):  # noqa: F811
    w = tsv.w
    # A second team at EHPAD A with nurse_a in it too: going back keeps one membership there.
    night = Team.objects.create(structure=w.ehpad_a, name="Équipe de nuit")
    Membership.objects.create(user=w.nurse_a, team=night)
    try:
        old = migrate(BEFORE_TEAMS)
        memberships = old.get_model("accounts", "Membership").objects
        assert memberships.filter(user_id=w.nurse_a.pk, structure_id=w.ehpad_a.pk).count() == 1
        enrolment = old.get_model("telesurveillance", "Enrolment").objects.get()
        assert enrolment.team_id == tsv.team.pk  # back to the team's structure
    finally:
        # Forwards again, whatever happened (migrating costs: once).
        new = migrate(None)
    Team_ = new.get_model("structures", "Team")
    Membership_ = new.get_model("accounts", "Membership")
    assert not Membership_.objects.filter(team__isnull=True).exists()
    for m in Membership_.objects.all():
        assert Team_.objects.get(pk=m.team_id).structure_id == m.structure_id
    act = new.get_model("acts", "Act").objects.get(pk=tsv.enrolment.pk)
    assert Team_.objects.get(pk=act.performing_team_id).structure_id == tsv.team.pk
    enrolment = new.get_model("telesurveillance", "Enrolment").objects.get()
    assert Team_.objects.get(pk=enrolment.team_id).structure_id == tsv.team.pk
    attachment = new.get_model("patients", "PatientAttachment").objects.get(
        patient_id=w.patient_b.pk
    )
    assert Team_.objects.get(pk=attachment.team_id).structure_id == w.ehpad_b.pk
