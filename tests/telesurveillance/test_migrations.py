"""Data migrations of télésurveillance, both ways: 0003 (forfaits recorded before it, a TSF code on
the enrolment's act, become acts of their own) and 0005 (each enrolment gets its médecin
opérateur, a performer of its act)."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from telesante.accounts.models import Profession
from telesante.structures.models import Team
from telesante.telesurveillance import enrolment as enrolments
from telesante.telesurveillance import forfaits
from telesante.telesurveillance.models import Programme
from tests.conftest import make_user
from tests.telesurveillance.conftest import START, TSV

BEFORE = ("telesurveillance", "0002_programmes")
AFTER = ("telesurveillance", "0003_forfait_acts")
BEFORE_OPERATOR = ("telesurveillance", "0004_measurement_lean_keys")
OPERATOR = ("telesurveillance", "0005_enrolment_operator")


def migrate(target: tuple[str, str] | None = None):
    """Migrate télésurveillance to `target` (its latest migration when None)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    if target is None:
        [target] = executor.loader.graph.leaf_nodes("telesurveillance")
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture
def schema_back_after():
    """Whatever happens in the test, the schema ends up at the latest migration."""
    yield
    migrate()


@pytest.mark.django_db(transaction=True)
def test_old_forfaits_become_acts_carrying_their_code_and_back(tsv: TSV, schema_back_after):
    old = migrate(BEFORE)
    code = old.get_model("acts", "BillingCode").objects.create(
        act_id=tsv.enrolment.pk, code="TSF", professional_id=tsv.w.doctor_a.pk, warnings=["x"]
    )
    old.get_model("telesurveillance", "Forfait").objects.create(
        enrolment_id=tsv.enrolment.pk,
        month=datetime.date(2026, 1, 1),
        billing_code_id=code.pk,
        adherence=0.4,
    )
    new = migrate(AFTER)
    forfait = new.get_model("telesurveillance", "Forfait").objects.get()
    act = new.get_model("acts", "Act").objects.get(pk=forfait.act_id)
    assert act.pk != tsv.enrolment.pk and act.kind == "telesurveillance"
    assert (act.status, act.performing_structure_id) == ("done", tsv.team.pk)
    # From the first day of monitoring, platform time.
    assert timezone.localtime(act.requested_at).date() == datetime.date(2026, 1, 5)
    moved = new.get_model("acts", "BillingCode").objects.get()
    assert (moved.pk, moved.act_id, moved.warnings) == (code.pk, act.pk, ["x"])
    assert (
        new.get_model("indicators", "DirtyMonth")
        .objects.filter(month=datetime.date(2026, 1, 1))
        .exists()
    )
    back = migrate(BEFORE)
    assert back.get_model("acts", "BillingCode").objects.get().act_id == tsv.enrolment.pk
    assert back.get_model("acts", "Act").objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_enrolments_get_a_doctor_of_their_team_as_operator_and_back(tsv: TSV, schema_back_after):
    # A: tsv.enrolment, prescribed by doctor_a from outside the team: the team's first doctor.
    # B: the prescriber is a doctor of the team too: the prescriber, though not its first doctor.
    # C: a team without any doctor: the prescriber.
    second = make_user(
        "cardiologue2@example.test", structure=tsv.team, profession=Profession.DOCTOR
    )
    programme = Programme.objects.get(pk="diabete")
    march, june = datetime.date(2026, 3, 1), datetime.date(2026, 6, 1)
    details = {"prescribed_on": START, "exploitant": "E", "starts_on": march, "ends_on": june}

    def enrol(structure, prescriber, serial: str):
        return enrolments.store(
            None,
            tsv.operator,
            tsv.w.patient_a,
            Team.default_for(structure.pk),
            prescriber,
            prescriber,
            programme,
            details,
            {serial: ""},
        )

    b = enrol(tsv.team, second, "B-0001")
    no_doctor = tsv.other_operator.memberships.get().structure
    c = enrol(no_doctor, tsv.w.doctor_a, "C-0001")
    assert not no_doctor.memberships.filter(user__profession=Profession.DOCTOR).exists()
    [billed] = forfaits.bill(datetime.date(2026, 2, 1))  # January of A, billed by its operator
    assert billed.enrolment_id == tsv.enrolment.pk

    old = migrate(BEFORE_OPERATOR)
    fields = [f.name for f in old.get_model("telesurveillance", "Enrolment")._meta.fields]
    assert "operator" not in fields
    performers = old.get_model("acts", "Act").performers.through.objects
    # The enrolments' acts lose the performer the migration gives; the forfait act keeps its own.
    assert list(performers.values_list("act_id", "user_id")) == [
        (billed.act_id, tsv.team_doctor.pk)
    ]

    new = migrate(OPERATOR)
    operators = dict(
        new.get_model("telesurveillance", "Enrolment").objects.values_list("pk", "operator_id")
    )
    assert operators == {
        tsv.enrolment.pk: tsv.team_doctor.pk,
        b.pk: second.pk,
        c.pk: tsv.w.doctor_a.pk,
    }
    performers = new.get_model("acts", "Act").performers.through.objects
    assert set(performers.values_list("act_id", "user_id")) == {
        *operators.items(),
        (billed.act_id, tsv.team_doctor.pk),
    }
    code = new.get_model("acts", "BillingCode").objects.get()
    assert (code.act_id, code.professional_id) == (billed.act_id, tsv.team_doctor.pk)

    back = migrate(BEFORE_OPERATOR)
    performers = back.get_model("acts", "Act").performers.through.objects
    assert list(performers.values_list("act_id", "user_id")) == [
        (billed.act_id, tsv.team_doctor.pk)
    ]
