"""The API lists written out without ninja's per-row validation answer the same document as
ninja would, field for field, on every list schema; a schema the plan does not know is refused."""

import pytest
from ninja import Field, Schema

from telesante.api import api
from telesante.core import api_rows
from telesante.patients.api import PatientOut
from telesante.patients.models import Patient
from telesante.teleconsultation import services as tc_services
from telesante.teleconsultation.api import ConsultationOut
from telesante.teleexpertise import services as te_services
from telesante.teleexpertise.api import TeleExpertiseOut
from telesante.teleexpertise.models import TeleExpertise
from telesante.telesurveillance.api import AlertOut
from telesante.telesurveillance.api_enrolments import EnrolmentOut
from telesante.telesurveillance.models import Alert, Enrolment
from tests.conftest import api_client
from tests.rooms.conftest import TC, booking
from tests.teleexpertise.conftest import TE, answered, wound_request
from tests.telesurveillance.test_alerts import low_spo2


def same_document(schema: type[Schema], rows: list) -> None:
    assert rows
    ninja = [schema.model_validate(row).model_dump() for row in rows]
    render = api.renderer.render
    assert render(None, api_rows.write(schema, rows), response_status=200) == render(
        None, ninja, response_status=200
    )


def test_teleconsultations_are_written_as_ninja_writes_them(tc_world: TC):
    w = tc_world.w
    for _ in range(2):
        tc_services.create(None, w.nurse_a, booking(w, tc_world.cardiologist))
    same_document(
        ConsultationOut, list(tc_services.listing(w.nurse_a, related=tc_services.API_RELATED))
    )


def test_teleexpertises_read_as_columns_are_written_as_ninja_writes_the_requests(
    te_world: TE, django_assert_num_queries
):
    te_services.create(None, te_world.w.nurse_a, wound_request(te_world))
    answered(te_world)
    columns = api_rows.columns(TeleExpertiseOut, TeleExpertise)
    assert "act__patient_id" in columns and "question" in columns
    render = api.renderer.render
    for user, box in ((te_world.w.nurse_a, "outbox"), (te_world.wound_expert, "inbox")):
        requests = te_services.listing(user, box)[:50]
        rows = te_services.listing(user, box, columns=columns)[:50]
        assert requests and [row["pk"] for row in rows] == [te.pk for te in requests]
        with django_assert_num_queries(0):  # each column written was read with the rows
            written = api_rows.write(TeleExpertiseOut, rows)
        ninja = [TeleExpertiseOut.model_validate(te).model_dump() for te in requests]
        assert render(None, written, response_status=200) == render(
            None, ninja, response_status=200
        )


def test_a_schema_with_more_than_columns_is_not_read_as_columns():
    assert api_rows.columns(EnrolmentOut, Enrolment) == ()  # its devices: a related list
    assert api_rows.columns(TeleExpertiseOut, TeleExpertise)


def test_alerts_enrolments_and_patients_are_written_as_ninja_writes_them(tsv):
    low_spo2(tsv)
    same_document(AlertOut, list(Alert.objects.all()))
    same_document(EnrolmentOut, list(Enrolment.objects.prefetch_related("devices")))
    same_document(PatientOut, list(Patient.objects.all()))


def test_the_lists_answer_through_the_written_rows(tsv):
    low_spo2(tsv)
    client = api_client(tsv.operator)
    for path in ("/api/v1/telesurveillance/alerts", "/api/v1/telesurveillance/enrolments"):
        response = client.get(f"{path}?cursor=")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert len(response.json()) == 1


def test_a_schema_the_plan_does_not_know_is_refused_when_planned():
    class Unknown(Schema):
        either: int | str

    class Nested(Schema):
        inner: dict[str, list[int]] = Field(alias="x")

    for schema in (Unknown, Nested):
        with pytest.raises(TypeError, match="is not written out"):
            api_rows.plan(schema)


def test_only_plain_columns_of_rows_always_joined_are_read_directly():
    from telesante.teleexpertise.models import TeleExpertise

    column = api_rows._column_path
    assert column(TeleExpertise, "act_id") and column(TeleExpertise, "act.patient_id")
    assert column(TeleExpertise, "question") and column(TeleExpertise, "claimed_by_id")
    assert not column(TeleExpertise, "act")  # a row, not a value
    assert not column(TeleExpertise, "claimed_by.email")  # may be empty: its default applies
    assert not column(TeleExpertise, "messages")  # a related list
    assert not column(Alert, "get_severity_display")  # a method
    assert not column(TeleExpertise, "act.teleexpertise.question")  # a reverse one-to-one
    fields, columns = api_rows._model_plan(AlertOut, Alert)
    assert columns is None and dict(fields)["severity_label"] is not None
    assert api_rows._model_plan(TeleExpertiseOut, TeleExpertise)[1] is not None
