"""Deadlines with a controlled clock: widening, overdue reminders, coordinator alert; and the
background worker that runs them with the queued emails."""

import datetime
import signal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from telesante.accounts.models import Profession
from telesante.acts.models import Act, Filiere
from telesante.notifications.models import Notification
from telesante.teleexpertise import escalation, services
from telesante.teleexpertise.models import State, TeleExpertise
from tests.conftest import make_user
from tests.teleexpertise.conftest import answered, load_filieres, wound_request

NOTHING = {"widened": 0, "reminded": 0, "coordinator": 0}


def texts(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


def hours(n: float) -> datetime.timedelta:
    return datetime.timedelta(hours=n)


@pytest.fixture
def te(te_world):
    return services.create(None, te_world.w.nurse_a, wound_request(te_world))


@pytest.fixture
def coordinator(te_world):
    user = make_user(
        "coordination@example.test",
        structure=te_world.wound_expert.memberships.get().structure,
        profession=Profession.DOCTOR,
    )
    Filiere.objects.filter(pk="plaies_cicatrisation").update(coordinator=user)
    return user


def test_widening_after_the_delay_notifies_the_reference_expert(
    te_world, te, django_capture_on_commit_callbacks
):
    t = te_world
    widen_at = te.act.requested_at + hours(te.act.filiere.widen_after_hours)
    assert escalation.run(now=widen_at - hours(1)) == NOTHING
    assert texts(t.chu_expert) == []

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.run(now=widen_at + hours(1))["widened"] == 1
    te.refresh_from_db()
    assert te.widened_at == widen_at + hours(1)
    expected = (
        "Demande de télé-expertise sans preneur (Plaies et cicatrisation) : "
        "ouverte aux experts de recours."
    )
    assert texts(t.chu_expert) == [expected]
    mailed = sorted(e for m in mail.outbox for e in m.to)
    assert mailed == sorted([t.wound_expert.email, t.wound_expert_2.email, t.chu_expert.email])
    assert texts(t.derm_expert) == []
    # Once only.
    assert escalation.run(now=widen_at + hours(2))["widened"] == 0
    assert len(texts(t.chu_expert)) == 1


def test_widening_follows_the_filiere_setting(te_world, te):
    Filiere.objects.filter(pk="plaies_cicatrisation").update(widen_after_hours=4)
    assert escalation.run(now=te.act.requested_at + hours(3))["widened"] == 0
    assert escalation.run(now=te.act.requested_at + hours(5))["widened"] == 1


def test_a_claimed_request_is_not_widened(te_world, te):
    services.claim(None, te_world.wound_expert, te)
    escalation.run(now=te.act.requested_at + hours(te.act.filiere.widen_after_hours + 1))
    te.refresh_from_db()
    assert te.widened_at is None


def test_overdue_reminds_the_pool_once(te_world, te, django_capture_on_commit_callbacks):
    t = te_world
    reminder = f"Rappel : la télé-expertise #{te.pk} a dépassé son échéance."
    assert escalation.run(now=te.act.due_at - hours(1))["reminded"] == 0
    after = te.act.due_at + hours(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.run(now=after)["reminded"] == 1
    te.refresh_from_db()
    assert te.reminded_at == after
    for expert in (t.wound_expert, t.wound_expert_2):
        assert reminder in texts(expert)
        assert any(expert.email in m.to for m in mail.outbox)
    count = Notification.objects.filter(text=reminder).count()
    sent = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.run(now=after + hours(1))["reminded"] == 0
    assert Notification.objects.filter(text=reminder).count() == count
    assert len(mail.outbox) == sent
    te.refresh_from_db()
    assert te.reminded_at == after


def test_overdue_claimed_request_reminds_its_expert_only(te_world, te):
    t = te_world
    services.claim(None, t.wound_expert, te)
    escalation.run(now=te.act.due_at + hours(1))
    reminder = f"Rappel : la télé-expertise #{te.pk} a dépassé son échéance."
    assert reminder in texts(t.wound_expert)
    assert reminder not in texts(t.wound_expert_2)


def test_coordinator_alerted_after_the_grace_period_once(
    te_world, te, coordinator, django_capture_on_commit_callbacks
):
    alert = f"Télé-expertise #{te.pk} en retard : intervention du coordinateur demandée."
    grace = hours(te.act.filiere.coordinator_after_hours)
    escalation.run(now=te.act.due_at + hours(1))  # the reminder
    assert escalation.run(now=te.act.due_at + grace - hours(1))["coordinator"] == 0
    assert texts(coordinator) == []
    late = te.act.due_at + grace + hours(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.run(now=late)["coordinator"] == 1
    assert texts(coordinator) == [alert]
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    te.refresh_from_db()
    assert te.coordinator_alerted_at == late
    assert escalation.run(now=late + hours(10))["coordinator"] == 0
    assert texts(coordinator) == [alert]


def test_a_request_answered_after_its_reminder_calls_no_coordinator(te_world, te, coordinator):
    # Reminded when overdue, then answered: only open requests reach the coordinator.
    escalation.run(now=te.act.due_at + hours(1))
    answered(te_world, te)
    late = te.act.due_at + hours(te.act.filiere.coordinator_after_hours + 1)
    assert escalation.run(now=late) == NOTHING
    assert texts(coordinator) == []


def test_reminder_and_coordinator_in_the_same_run(te_world, te, coordinator):
    late = te.act.due_at + hours(te.act.filiere.coordinator_after_hours + 1)
    assert escalation.run(now=late) == {"widened": 1, "reminded": 1, "coordinator": 1}


def test_no_coordinator_no_alert(te_world, te):
    late = te.act.due_at + hours(te.act.filiere.coordinator_after_hours + 1)
    assert escalation.run(now=late)["coordinator"] == 0
    te.refresh_from_db()
    assert te.coordinator_alerted_at is None


def test_answered_requests_are_never_escalated(te_world, te, coordinator):
    te = answered(te_world, te)
    before = Notification.objects.count()
    far = te.act.due_at + datetime.timedelta(days=60)
    assert escalation.run(now=far) == NOTHING
    te.refresh_from_db()
    assert (te.widened_at, te.reminded_at, te.coordinator_alerted_at) == (None, None, None)
    assert Notification.objects.count() == before


# The worker: the escalation and the emails run from the database queue.


@pytest.fixture
def restore_signals():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


# The worker closes connections it finds in a transaction: no test transaction around it.
@pytest.mark.django_db(transaction=True)
def test_worker_sends_queued_emails_and_escalates(te_world, settings, restore_signals):
    load_filieres()
    t = te_world
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    te = services.create(None, t.w.nurse_a, wound_request(t))
    # The email waits in the queue for the worker.
    assert mail.outbox == []
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "telesante.notifications.tasks.send_email"
    # Ten days later, nobody has taken it.
    now = timezone.now()
    Act.objects.filter(pk=te.pk).update(
        requested_at=now - datetime.timedelta(days=10), due_at=now - datetime.timedelta(days=3)
    )

    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    te.refresh_from_db()
    assert te.widened_at is not None
    assert te.reminded_at is not None
    # Widened, then reminded: two e-mails, each saying only that something waits.
    assert {m.subject for m in mail.outbox} == {"Télésanté — un nouvel élément vous attend"}
    assert len(mail.outbox) >= 2
    assert any(t.chu_expert.email in m.to for m in mail.outbox)
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {"SUCCESSFUL"}
    assert DBTaskResult.objects.filter(task_path="telesante.teleexpertise.tasks.escalate").exists()


def test_each_deadline_bites_at_its_exact_time_for_every_request(te_world, te, coordinator):
    # Two requests of the same time: each step counts both, from the very minute it is due;
    # every notification links the act.
    t = te_world
    second = services.create(None, t.w.nurse_a, wound_request(t))
    Act.objects.filter(pk=second.pk).update(requested_at=te.act.requested_at, due_at=te.act.due_at)
    widen_at = te.act.requested_at + hours(te.act.filiere.widen_after_hours)
    assert escalation.run(now=widen_at)["widened"] == 2
    assert escalation.run(now=te.act.due_at)["reminded"] == 2
    late = te.act.due_at + hours(te.act.filiere.coordinator_after_hours)
    assert escalation.run(now=late)["coordinator"] == 2
    told = Notification.objects.filter(user__in=[t.chu_expert, coordinator])
    assert told.count() >= 4 and not told.filter(act__isnull=True).exists()
    assert all(n.url.startswith("/") for n in told)


def test_each_step_marks_its_column_once_and_nothing_else(te_world, te):
    """Two workers at once: the second finds the column set and sends nothing; the request's
    other columns (an expert who claimed it meanwhile) are not written over."""
    t = te_world
    first, second = te.act.due_at + hours(1), te.act.due_at + hours(2)
    stale = TeleExpertise.objects.get(pk=te.pk)  # read before the claim below
    services.claim(None, t.wound_expert, te)
    assert escalation._mark(stale, "reminded_at", first) is True
    assert escalation._mark(stale, "reminded_at", second) is False
    te.refresh_from_db()
    assert te.reminded_at == first
    assert te.claimed_by == t.wound_expert and te.state == State.CLAIMED
