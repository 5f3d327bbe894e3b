"""The patients of each care team's acts (acts.TeamPatient), kept by the database's triggers
whatever writes the acts: a save, a bulk insert, a queryset update or delete. The patient wall
reads them (core.policy), so a pair missing hides a patient and a pair left over shows one."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from telesante.accounts.models import Membership
from telesante.acts.models import Act, TeamPatient
from telesante.core import policy
from telesante.structures.models import Team
from tests.conftest import make_patient, make_user
from tests.core.test_db_pool import own_connection


def pairs() -> dict[tuple[int, int], int]:
    return {
        (team, patient): n
        for team, patient, n in TeamPatient.objects.values_list("team_id", "patient_id", "acts")
    }


def counted_from_acts() -> dict[tuple[int, int], int]:
    """The pairs as the acts give them, counted here."""
    found: Counter = Counter()
    for requesting, performing, patient in Act.objects.values_list(
        "requesting_team_id", "performing_team_id", "patient_id"
    ):
        for team in (requesting, performing):
            if team is not None:
                found[(team, patient)] += 1
    return dict(found)


@pytest.fixture
def teams(world):
    a = Team.objects.get(structure=world.ehpad_a)
    b = Team.objects.get(structure=world.ehpad_b)
    night = Team.objects.create(structure=world.ehpad_a, name="Équipe de nuit")
    return a, b, night


def new_act(world, patient, requesting: Team, performing: Team | None = None) -> Act:
    return Act(
        kind="teleconsultation",
        patient=patient,
        requester=world.nurse_a,
        requesting_structure_id=requesting.structure_id,  # bulk_create skips save()
        requesting_team=requesting,
        performing_team=performing,
        status="scheduled",
    )


@pytest.mark.django_db
def test_acts_saved_count_their_teams_patients(world, teams):
    a, b, _night = teams
    first = new_act(world, world.patient_a, a, b)
    first.save()
    new_act(world, world.patient_a, a).save()
    assert pairs() == {(a.pk, world.patient_a.pk): 2, (b.pk, world.patient_a.pk): 1}
    # A team on both sides of an act counts it twice: moving one side away leaves one.
    new_act(world, world.patient_b, b, b).save()
    assert pairs()[(b.pk, world.patient_b.pk)] == 2
    assert pairs() == counted_from_acts()


@pytest.mark.django_db
def test_a_bulk_insert_counts_each_pair_once_per_act(world, teams):
    a, _b, night = teams
    patients = [make_patient(world.ehpad_a, birth_name=f"ÉLÉONORE{i}") for i in range(3)]
    Act.objects.bulk_create(
        [new_act(world, p, a, night if i % 2 else None) for i, p in enumerate(patients * 4)]
    )
    assert pairs() == counted_from_acts()
    assert pairs()[(a.pk, patients[0].pk)] == 4
    assert len(pairs()) == 3 + 3


@pytest.mark.django_db
def test_moving_an_act_moves_its_pairs(world, teams):
    a, b, night = teams
    act = new_act(world, world.patient_a, a, b)
    act.save()
    other = new_act(world, world.patient_a, night)
    other.save()

    # Saved with a new performing team: b loses the patient, night counts two acts.
    act.performing_team = night
    act.save()
    assert pairs() == {(a.pk, world.patient_a.pk): 1, (night.pk, world.patient_a.pk): 2}

    # A queryset update (no save()) of the patient: the pairs follow it.
    Act.objects.filter(pk=act.pk).update(patient=world.patient_b)
    assert pairs() == {(night.pk, world.patient_a.pk): 1} | {
        (a.pk, world.patient_b.pk): 1,
        (night.pk, world.patient_b.pk): 1,
    }

    # A team removed from an act, and a status changed (no pair moves): counted from the acts.
    Act.objects.filter(pk=act.pk).update(performing_team=None, status="done")
    Act.objects.filter(pk=other.pk).update(status="cancelled")
    assert (
        pairs()
        == counted_from_acts()
        == {
            (night.pk, world.patient_a.pk): 1,
            (a.pk, world.patient_b.pk): 1,
        }
    )


@pytest.mark.django_db
def test_deleting_acts_removes_the_pairs_they_alone_held(world, teams):
    a, b, _night = teams
    kept = new_act(world, world.patient_a, a)
    kept.save()
    gone = [new_act(world, world.patient_a, a, b), new_act(world, world.patient_b, b, b)]
    Act.objects.bulk_create(gone)
    Act.objects.exclude(pk=kept.pk).delete()
    assert pairs() == counted_from_acts() == {(a.pk, world.patient_a.pk): 1}
    kept.delete()
    assert pairs() == {}


@pytest.mark.django_db
def test_the_patient_wall_follows_the_acts_teams(world, teams):
    """A member of a team sees the patient of the team's act, and no more once the act has
    moved to another team: the wall reads the pairs."""
    a, b, night = teams
    night_nurse = make_user("nuit@example.test")
    Membership.objects.create(user=night_nurse, team=night)
    act = new_act(world, world.patient_b, a, night)
    act.save()
    assert world.patient_b in policy.visible_patients(night_nurse)

    Act.objects.filter(pk=act.pk).update(performing_team=b)
    assert world.patient_b not in policy.visible_patients(night_nurse)
    assert world.patient_b in policy.visible_patients(world.nurse_b)


@pytest.mark.django_db(transaction=True)
def test_a_moved_act_locks_the_pairs_it_changes_in_team_order(world, teams):
    """Two acts of a patient moved at once in opposite directions between two teams must not
    each hold one pair and wait for the other. While another transaction holds the lower
    team's pair, a move from the higher team waits for it first, holding nothing: the higher
    team's pair stays free (it was taken first, before the ordered lock)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite écrit une transaction à la fois : pas d'interblocage possible.")
    a, _b, night = teams
    low, high = sorted((a, night), key=lambda team: team.pk)
    moved, stays = new_act(world, world.patient_a, high), new_act(world, world.patient_a, low)
    moved.save()
    stays.save()
    patient = world.patient_a.pk
    pair = "SELECT 1 FROM acts_teampatient WHERE team_id = %s AND patient_id = %s FOR UPDATE"
    with own_connection() as holder, own_connection() as mover, own_connection() as probe:
        holder.execute(pair, (low.pk, patient))
        move = threading.Thread(
            target=mover.execute,
            args=("UPDATE acts_act SET requesting_team_id = %s WHERE id = %s", (low.pk, moved.pk)),
            daemon=True,
        )
        move.start()
        waiting = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s"
        try:
            for _ in range(500):  # until the move waits for the held pair
                if probe.execute(waiting, (mover.info.backend_pid,)).fetchone()[0] == "Lock":
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the move never waited for the held pair")
            # Free, or LockNotAvailable: the move took it before waiting.
            probe.execute(pair + " NOWAIT", (high.pk, patient))
        finally:  # the move goes on once the held pair is let go
            probe.rollback()
            holder.rollback()
            move.join(10)
            mover.commit()
    assert not move.is_alive()
    assert pairs() == counted_from_acts() == {(low.pk, patient): 2}
