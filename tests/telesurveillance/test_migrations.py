"""Migration 0003: forfaits recorded before it (a TSF code on the enrolment's act) become acts of
their own, and back."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.telesurveillance.conftest import TSV

BEFORE = ("telesurveillance", "0002_programmes")
AFTER = ("telesurveillance", "0003_forfait_acts")


def migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture
def schema_back_after():
    """Whatever happens in the test, the schema ends up at the latest migration."""
    yield
    migrate(AFTER)


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
