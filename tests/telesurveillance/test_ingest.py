"""The HTTP batch API and the ingest service behind it (shared with the MQTT bridge)."""

import datetime
import threading
import time

import psycopg
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telesante.telesurveillance import ingest
from telesante.telesurveillance.models import Alert, DeviceToken, Measurement
from tests.telesurveillance.conftest import NOW, item, post


def test_a_batch_keeps_valid_items_and_names_the_bad_ones(tsv):
    items = [
        item(1),
        item(2, value="lourd"),
        item(3, type_="tension"),
        item(4, unit="lb"),
        item(5, at="hier"),
        item(6, at="2026-02-10T08:00:00"),
        item(7, device="INCONNU-1"),
        "pas un objet",
        item("", value=81),
        item(10, at=(timezone.now() + datetime.timedelta(hours=2)).isoformat()),
        item(11, value=900),
        item(12, type_="spo2", value=97),
    ]
    response = post(tsv.scale_token, items)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 0
    errors = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
    assert errors[1] == {"value": ["Nombre attendu."]}
    assert "type" in errors[2] and "weight" in errors[2]["type"][0]
    assert errors[3]["unit"] == ["Unité non acceptée pour weight ; attendu : kg."]
    assert "at" in errors[4] and "Fuseau" in errors[5]["at"][0]
    assert "device" in errors[6]
    assert errors[7] == {"__all__": ["Objet JSON attendu."]}
    assert "id" in errors[8]
    assert "futur" in errors[9]["at"][0]
    assert "plausibles" in errors[10]["value"][0]
    assert "15" in body["notice"]
    assert Measurement.objects.count() == 2


def test_a_resend_counts_once(tsv):
    first = post(tsv.scale_token, [item(1), item(2)]).json()
    again = post(tsv.scale_token, [item(1), item(2), item(3), item(3)]).json()
    assert (first["accepted"], first["duplicates"]) == (2, 0)
    assert (again["accepted"], again["duplicates"]) == (1, 3)
    assert Measurement.objects.count() == 3


def test_late_and_out_of_order_data_are_kept_with_the_device_time(tsv):
    old = NOW - datetime.timedelta(days=20)
    post(tsv.scale_token, [item(2, at=NOW), item(1, at=old)])
    stored = list(Measurement.objects.order_by("at").values_list("message_id", "at"))
    assert [m for m, _a in stored] == ["1", "2"]
    assert stored[0][1] == old


def test_glucose_in_mg_dl_is_stored_in_mmol_l(tsv):
    e = tsv.enrolment
    e.devices.create(serial="GL-0001")
    scope = ingest.Scope(exploitant=e.exploitant)
    result = ingest.ingest(
        [
            {
                "id": "g1",
                "device": "GL-0001",
                "type": "glucose",
                "value": 180,
                "unit": "mg/dL",
                "at": NOW.isoformat(),
            }
        ],
        scope,
        NOW,
    )
    assert result.accepted == 1
    m = Measurement.objects.get()
    assert (round(m.value, 2), m.unit) == (9.99, "mmol/L")


def test_a_device_token_sends_only_for_its_device_a_gateway_for_its_exploitant(tsv):
    oximeter = {"device": "OX-0001", "type": "spo2", "value": 97, "unit": "%"}
    body = post(tsv.scale_token, [item(1, **oximeter)]).json()
    assert body["accepted"] == 0 and "device" in body["rejected"][0]["errors"]
    _t, gateway = DeviceToken.issue(exploitant="CardioSuivi SAS")
    assert post(gateway, [item(1, **oximeter), item(2)]).json()["accepted"] == 2
    _t, other = DeviceToken.issue(exploitant="Autre fournisseur")
    assert post(other, [item(3)]).json()["accepted"] == 0


def test_bad_requests_get_french_errors_and_never_a_500(tsv):
    assert post("dv_faux", [item(1)]).status_code == 401
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {tsv.scale_token}"})
    url = "/api/v1/telesurveillance/measurements"
    not_json = client.post(url, "{", content_type="application/json")
    assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]
    wrong = post(tsv.scale_token, {"mesures": []})
    assert wrong.status_code == 400 and "measurements" in wrong.json()["errors"]
    too_many = post(tsv.scale_token, [item(i) for i in range(ingest.MAX_ITEMS + 1)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["measurements"] == ["Au plus 10000 mesures par requête."]
    # The bridge hands the service whatever the message held: a non-list is named, not raised.
    not_a_list = ingest.ingest({"id": 1}, ingest.Scope(trusted=True))
    assert not_a_list.rejected == [{"index": None, "errors": {"measurements": ["Liste attendue."]}}]
    revoked = DeviceToken.objects.get()
    revoked.revoked_at = NOW
    revoked.save()
    assert post(tsv.scale_token, [item(1)]).status_code == 401


def test_an_oversized_batch_is_refused_and_nothing_is_kept(tsv, settings):
    from django.test import Client

    settings.TELESANTE_MEASUREMENTS_MAX_BYTES = 2000
    big = post(tsv.scale_token, [item(i) for i in range(40)])
    assert big.status_code == 413 and big.json()["detail"] == "Requête trop volumineuse."
    # A length the server cannot read is no length: the body is then not read at all.
    client = Client(headers={"Authorization": f"Bearer {tsv.scale_token}"})
    garbled = client.post(
        "/api/v1/telesurveillance/measurements",
        '{"measurements": []}',
        content_type="application/json",
        CONTENT_LENGTH="beaucoup",
    )
    assert garbled.status_code == 400 and "JSON" in garbled.json()["detail"]
    assert post(tsv.scale_token, [item(1)]).json()["accepted"] == 1
    assert Measurement.objects.count() == 1


def test_an_ended_monitoring_no_longer_accepts_data(tsv):
    tsv.enrolment.state = "ended"
    tsv.enrolment.save()
    body = post(tsv.scale_token, [item(1)]).json()
    assert body["rejected"][0]["errors"]["device"] == ["Le suivi de ce dispositif est terminé."]


def test_a_batch_costs_a_constant_number_of_queries(tsv):
    def queries(n: int, offset: int) -> int:
        batch = [
            item(offset + i, value=80 + (i % 2), at=NOW - datetime.timedelta(minutes=i))
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            assert post(tsv.scale_token, batch).json()["accepted"] == n
        return len(ctx)

    assert queries(5, 0) == queries(1500, 1000)


def test_the_full_batch_of_ten_thousand_is_accepted(tsv):
    batch = [item(i, at=NOW - datetime.timedelta(seconds=i)) for i in range(ingest.MAX_ITEMS)]
    body = post(tsv.scale_token, batch).json()
    assert (body["accepted"], body["rejected"]) == (ingest.MAX_ITEMS, [])
    assert Measurement.objects.count() == ingest.MAX_ITEMS
    assert not Alert.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_committed_by_a_concurrent_batch_counts_once(tsv):
    """The staged insert meets a message another batch is storing at the same instant: it waits
    on the unique key, fails when the other commits, and redoes the insert skipping it."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite writes one transaction at a time")
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    device = tsv.enrolment.devices.get(serial="SC-0001")
    other.execute(
        f"INSERT INTO {Measurement._meta.db_table} (enrolment_id, device_id, type, value, unit, "
        "at, received_at, message_id) VALUES (%s, %s, 'weight', 80, 'kg', now(), now(), '1')",
        [tsv.enrolment.pk, device.pk],
    )
    results = []

    def batch() -> None:
        try:
            results.append(ingest.ingest([item(1), item(2)], ingest.Scope(serial="SC-0001")))
        except Exception as exc:  # shown by the assertions below
            results.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=batch)
    worker.start()
    waiting, sessions = 0, []
    try:
        # Autocommit: within a transaction, pg_stat_activity stays the snapshot of its first read.
        with psycopg.connect(
            other.info.dsn, password=settings["PASSWORD"] or None, autocommit=True
        ) as watcher:
            for _ in range(600):  # until the batch waits on the other transaction's row
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = %s",
                    [settings["NAME"]],
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            sessions = watcher.execute(
                "SELECT state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity "
                "WHERE datname = %s",
                [settings["NAME"]],
            ).fetchall()
    finally:  # release the batch whatever happened, or it and the teardown wait forever
        other.commit()
        other.close()
        worker.join(30)
    assert waiting == 1, (results, sessions)
    assert (results[0].accepted, results[0].duplicates) == (1, 1)
    assert sorted(Measurement.objects.values_list("message_id", flat=True)) == ["1", "2"]
