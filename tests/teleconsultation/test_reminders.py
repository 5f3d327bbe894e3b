"""Reminders the day before and the hour before: the parties, the patient (e-mail, SMS, with
their own link when they join from home) and the guests invited with an address, once each,
with no health detail outside; the clock is passed in."""

import datetime
import re

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from telesante.acts.models import Act, ActStatus
from telesante.notifications.models import Notification
from telesante.rooms import services as rooms
from telesante.rooms.models import GuestLink
from telesante.teleconsultation import booking, reminders, services
from telesante.teleconsultation.models import Reminder, TeleConsultation
from tests.conftest import at_once, logged_in
from tests.rooms.conftest import TC
from tests.rooms.conftest import booking as new_booking

SMS = re.compile(r"\[SMS\] à (\+\d+) : (.*)")


def sms_sent(capsys) -> list[tuple[str, str]]:
    return SMS.findall(capsys.readouterr().out)


def only_booking(tc_world: TC, ahead: datetime.timedelta, **fields) -> TeleConsultation:
    """The fixture's own act cancelled, and one booked `ahead` of now, alone to remind."""
    Act.objects.filter(pk=tc_world.consultation.pk).update(status=ActStatus.CANCELLED)
    booked = new_booking(
        tc_world.w, tc_world.cardiologist, scheduled_at=timezone.now() + ahead, **fields
    )
    return services.create(None, tc_world.w.nurse_a, booked)


@pytest.fixture
def at_home(tc_world: TC) -> TeleConsultation:
    """Tomorrow's téléconsultation of a patient at home (no one at her side), with her e-mail
    and mobile; a relative invited with a number, the patient invited by her own address too,
    a guest without any, and a withdrawn link. The fixture's own act is cancelled."""
    w, doctor = tc_world.w, tc_world.cardiologist
    tc = only_booking(
        tc_world,
        datetime.timedelta(hours=23),
        assistance="",
        patient_email="alix.dorvane@example.test",
        patient_phone="06 11 22 33 44",
    )
    room = tc.act.room
    rooms.create_guest_link(None, doctor, room, "Fils", "famille", 48, "07 55 66 77 88")
    rooms.create_guest_link(None, doctor, room, "Mme Dorvane", "patient", 48, tc.patient_email)
    gone = rooms.create_guest_link(None, doctor, room, "Voisine", "famille", 48, "0699887766")
    rooms.revoke_guest_link(None, doctor, room, gone.pk)
    rooms.create_guest_link(None, w.nurse_a, room, "Interprète", "interprete", 48)
    return tc


def test_the_day_before_every_recipient_is_reminded_once(
    tc_world: TC, at_home: TeleConsultation, capsys, mailoutbox, django_capture_on_commit_callbacks
):
    now, w = timezone.now(), tc_world.w
    sms_sent(capsys)  # the guests' codes
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_reminders(now) == {"day": 5, "hour": 0}
    # Parties: in-app and e-mail. Patient: e-mail and SMS. The relative: SMS; the patient's
    # address invited as a guest is not reminded twice; no one for the withdrawn link.
    texts = dict(sms_sent(capsys))
    assert set(texts) == {"+33611223344", "+33755667788"}
    outside = {m.to[0]: m for m in mailoutbox if m.subject.startswith("Rappel de votre")}
    assert set(outside) == {"alix.dorvane@example.test"}
    assert outside["alix.dorvane@example.test"].body == texts["+33611223344"]
    professional_mail = {to for m in mailoutbox for to in m.to} - set(outside)
    assert professional_mail == {w.nurse_a.email, tc_world.cardiologist.email}
    assert (
        Notification.objects.filter(text__startswith="Rappel : Téléconsultation n° ").count() == 2
    )
    # Nothing of the patient's health or identity outside; the patient's own link, signed.
    local = timezone.localtime(at_home.scheduled_at)
    patient = texts["+33611223344"]
    assert patient.startswith(
        f"Télésanté : rappel de votre rendez-vous à distance le {local:%d/%m/%Y} à {local:%H:%M}."
    )
    for secret in ("DORVANE", "Alix", "Dyspnée", "cardio", "Téléconsultation"):
        assert secret not in patient
    link = patient.rsplit(" ", 1)[1]
    assert link.startswith(settings.TELESANTE_BASE_URL + "/salle/invite/")
    guest_text = texts["+33755667788"]
    assert "http" not in guest_text and "le code envoyé ici vous sera demandé" in guest_text
    # The link opens the room as the patient, until two hours after the planned end.
    minted = GuestLink.objects.get(room__act=at_home.act, created_by=None)
    assert minted.expires_at == at_home.scheduled_at + datetime.timedelta(minutes=140)
    page = logged_in(None).get(link.removeprefix(settings.TELESANTE_BASE_URL))
    assert page.status_code == 200 and str(at_home.act.patient) in page.content.decode()
    # A second run sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_reminders(now) == {"day": 0, "hour": 0}
    assert sms_sent(capsys) == []
    # The hour before: everyone again, with the same link for the patient.
    with django_capture_on_commit_callbacks(execute=True):
        counts = reminders.send_reminders(now + datetime.timedelta(hours=22, minutes=30))
    assert counts == {"day": 0, "hour": 5}
    again = dict(sms_sent(capsys))["+33611223344"].rsplit(" ", 1)[1]

    def signed_link(url: str) -> str:  # the link's id, without its signing time
        return url.split("/invite/")[1].split(":")[0]

    assert signed_link(again) == signed_link(link)
    assert GuestLink.objects.filter(room__act=at_home.act, created_by=None).count() == 1
    assert Reminder.objects.filter(teleconsultation=at_home).count() == 10


def test_a_worker_that_read_the_act_before_another_sent_it_sends_nothing(
    at_home: TeleConsultation, capsys, django_capture_on_commit_callbacks
):
    now = timezone.now()
    seen_by_both = TeleConsultation.objects.select_related("act").get(pk=at_home.pk)
    sms_sent(capsys)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.remind(seen_by_both, "day", now) == 5
        assert reminders.remind(seen_by_both, "day", now) == 0
    assert len(sms_sent(capsys)) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_each_recipient_once(tc_world: TC, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("Plusieurs workers ne tournent que sur PostgreSQL (SQLite : un seul).")
    tc = only_booking(tc_world, datetime.timedelta(hours=23), patient_phone="0611223344")
    now = timezone.now()
    results = at_once(lambda _n: reminders.send_reminders(now), 2)
    assert [r for r in results if not isinstance(r, dict)] == []
    # Both parties and the patient, once each, whichever worker got there first.
    assert sum(r["day"] for r in results) == 3
    assert [to for to, _text in sms_sent(capsys)] == ["+33611223344"]
    assert Reminder.objects.filter(teleconsultation=tc).count() == 3


def test_moving_withdraws_the_patient_link_and_the_new_time_is_reminded(
    tc_world: TC, at_home: TeleConsultation, capsys, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        reminders.send_reminders(now)
    old_link = dict(sms_sent(capsys))["+33611223344"].rsplit(" ", 1)[1]
    later = at_home.scheduled_at + datetime.timedelta(hours=20)
    booking.move(None, tc_world.w.nurse_a, at_home, later)
    refused = logged_in(None).get(old_link.removeprefix(settings.TELESANTE_BASE_URL))
    assert refused.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_reminders(later - datetime.timedelta(hours=23))["day"] == 5
    new_link = dict(sms_sent(capsys))["+33611223344"].rsplit(" ", 1)[1]
    assert new_link != old_link
    assert (
        logged_in(None).get(new_link.removeprefix(settings.TELESANTE_BASE_URL)).status_code == 200
    )


def test_a_patient_assisted_on_site_gets_the_time_without_a_link(
    tc_world: TC, capsys, django_capture_on_commit_callbacks
):
    only_booking(tc_world, datetime.timedelta(minutes=40), patient_phone="+33 6 11 22 33 44")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_reminders() == {"day": 0, "hour": 3}
    [(to, text)] = sms_sent(capsys)
    assert to == "+33611223344" and "http" not in text
    assert not GuestLink.objects.filter(created_by=None).exists()


def test_booking_checks_the_patient_contacts(tc_world: TC):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.create(
            None,
            tc_world.w.nurse_a,
            new_booking(
                tc_world.w, tc_world.cardiologist, patient_email="alix@", patient_phone="12"
            ),
        )
    booked = services.create(
        None,
        tc_world.w.nurse_a,
        new_booking(tc_world.w, tc_world.cardiologist, patient_phone="0033 6 11 22 33 44"),
    )
    assert booked.patient_phone == "+33611223344"
    assert exc.value.message_dict == {
        "patient_email": ["Adresse e-mail invalide."],
        "patient_phone": [
            "Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
        ],
    }
