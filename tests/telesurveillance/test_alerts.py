"""Alert delivery (team board WebSocket, e-mail, reading hours) and lifecycle, audited."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.core.models import AuditEntry
from telesante.notifications.models import Notification
from telesante.telesurveillance import alerts
from telesante.telesurveillance.consumers import BoardConsumer
from telesante.telesurveillance.models import Alert, AlertState
from tests.conftest import api_client, logged_in
from tests.teleexpertise.test_notifications import Socket
from tests.telesurveillance.conftest import NOW, PARIS, TSV
from tests.telesurveillance.test_rules import send


class BoardSocket(Socket):
    def __init__(self, user, team_id: int):
        scope = {
            "type": "websocket",
            "path": f"/ws/telesurveillance/equipes/{team_id}/",
            "headers": [],
            "user": user,
            "url_route": {"kwargs": {"team_id": team_id}},
        }
        ApplicationCommunicator.__init__(self, BoardConsumer.as_asgi(), scope)


def low_spo2(t: TSV, mid: str = "x", now=NOW) -> Alert:
    send(t, (mid, "spo2", 85, now), now=now)
    return Alert.objects.order_by("-pk").first()


def test_only_team_members_join_the_board_socket(tsv, transactional_db):
    async def scenario():
        assert await BoardSocket(AnonymousUser(), tsv.care_team.pk).connect() == (False, 4401)
        assert await BoardSocket(tsv.other_operator, tsv.care_team.pk).connect() == (False, 4403)
        assert await BoardSocket(tsv.w.observer, tsv.care_team.pk).connect() == (False, 4403)

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_an_alert_reaches_the_board_live_and_the_team_by_email(tsv):
    async def scenario():
        socket = BoardSocket(tsv.operator, tsv.care_team.pk)
        assert (await socket.connect())[0]
        await ingest_async(tsv)
        event = await socket.receive_json_from(timeout=5)
        assert event["type"] == "alert" and event["severity"] == 4
        assert "SpO2" in event["message"]
        await socket.disconnect()

    from channels.db import database_sync_to_async

    async def ingest_async(t):
        await database_sync_to_async(lambda: send(t, ("x", "spo2", 85, NOW)))()

    async_to_sync(scenario)()
    alert = Alert.objects.get()
    assert alert.delivered_at is not None
    # Every member of the team, its doctor too.
    assert [sorted(m.to) for m in mail.outbox] == [[tsv.team_doctor.email, tsv.operator.email]]
    # The e-mail says only that something waits (the severity and the patient stay in the app).
    email = mail.outbox[0].subject + mail.outbox[0].body
    assert "critique" not in email and "SpO2" not in email and "DORVANE" not in email
    assert "critique" in Notification.objects.get(user=tsv.operator).text


def test_outside_reading_hours_alerts_wait(tsv, django_capture_on_commit_callbacks):
    e = tsv.enrolment
    e.reading_start, e.reading_end, e.reading_weekdays = (
        datetime.time(8),
        datetime.time(18),
        "1,2,3,4,5",
    )
    e.save()
    night = datetime.datetime(2026, 2, 10, 22, 30, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = low_spo2(tsv, now=night)
    assert alerts._deliver([alert.pk], night) == 0
    assert len(callbacks) == 1
    alert.refresh_from_db()
    assert alert.delivered_at is None and mail.outbox == []
    saturday = datetime.datetime(2026, 2, 14, 10, 0, tzinfo=PARIS)
    assert alerts.deliver_waiting(saturday) == 0
    wednesday = datetime.datetime(2026, 2, 11, 8, 0, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.deliver_waiting(wednesday) == 1
    alert.refresh_from_db()
    assert alert.delivered_at == wednesday
    assert len(mail.outbox) == 1
    assert alerts.deliver_waiting(wednesday) == 0


def test_lifecycle_open_acknowledged_resolved_with_a_note_is_audited(tsv):
    alert = low_spo2(tsv)
    client = api_client(tsv.operator)
    url = f"/api/v1/telesurveillance/alerts/{alert.pk}"
    ack = client.post(f"{url}/acknowledge")
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    assert client.post(f"{url}/acknowledge").status_code == 409
    no_note = client.post(f"{url}/resolve", {"note": " "}, content_type="application/json")
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    done = client.post(
        f"{url}/resolve",
        {"note": "Appel patient, diurétique adapté"},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["resolution_note"] == "Appel patient, diurétique adapté"
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == tsv.operator
    assert (
        client.post(f"{url}/resolve", {"note": "x"}, content_type="application/json").status_code
        == 409
    )
    details = set(
        AuditEntry.objects.filter(object_type="alert", actor_id=tsv.operator.pk).values_list(
            "detail", flat=True
        )
    )
    assert {"alerte prise en compte", "alerte résolue"} <= details


def test_the_prescriber_reads_but_does_not_handle_alerts(tsv):
    alert = low_spo2(tsv)
    client = api_client(tsv.w.doctor_a)
    assert [a["id"] for a in client.get("/api/v1/telesurveillance/alerts").json()] == [alert.pk]
    url = f"/api/v1/telesurveillance/alerts/{alert.pk}/acknowledge"
    assert client.post(url).status_code == 404
    assert api_client(tsv.other_operator).get("/api/v1/telesurveillance/alerts").json() == []


def test_alert_pages_acknowledge_and_resolve(tsv):
    alert = low_spo2(tsv)
    client = logged_in(tsv.operator)
    page = reverse("telesurveillance_patient", args=[tsv.enrolment.pk])
    assert client.post(reverse("telesurveillance_acknowledge", args=[alert.pk])).url == page
    response = client.post(
        reverse("telesurveillance_resolve", args=[alert.pk]), {"note": ""}, follow=True
    )
    assert "Indiquez ce qui a été fait" in response.content.decode()
    client.post(reverse("telesurveillance_resolve", args=[alert.pk]), {"note": "Rappelé"})
    alert.refresh_from_db()
    assert (alert.state, alert.resolution_note) == ("resolved", "Rappelé")


def test_alert_list_costs_constant_queries(tsv):
    client = api_client(tsv.operator)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/telesurveillance/alerts").status_code == 200
        return len(ctx)

    low_spo2(tsv)
    count()  # the token's first use is recorded once
    one = count()
    send(tsv, ("h1", "heart_rate", 150, NOW), ("h2", "heart_rate", 30, NOW))
    assert Alert.objects.count() == 3
    assert count() == one
    worst_first = [a["id"] for a in client.get("/api/v1/telesurveillance/alerts").json()]
    rest = client.get("/api/v1/telesurveillance/alerts", {"offset": 1, "limit": 5})
    assert [a["id"] for a in rest.json()] == worst_first[1:] and rest["X-Total-Count"] == "3"


def test_alert_filter_by_state(tsv):
    alert = low_spo2(tsv)
    client = api_client(tsv.operator)
    assert len(client.get("/api/v1/telesurveillance/alerts?state=open").json()) == 1
    assert client.get("/api/v1/telesurveillance/alerts?state=resolved").json() == []
    assert client.get("/api/v1/telesurveillance/alerts?state=autre").status_code == 422
    assert api_client(tsv.w.observer).get("/api/v1/telesurveillance/alerts").status_code == 403
    assert alert.pk
