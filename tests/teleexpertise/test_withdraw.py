"""The requester corrects or withdraws a request until an expert takes it; a withdrawn request
is never shown late nor escalated; a decline's reason reaches the requester (page,
notification, API)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from telesante.acts.models import Act, ActStatus
from telesante.core.actions import Conflict
from telesante.notifications.models import Notification
from telesante.teleexpertise import escalation, services
from telesante.teleexpertise.models import State, TeleExpertise
from tests.conftest import api_client, logged_in
from tests.teleexpertise.conftest import wound_request


def texts(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


@pytest.fixture
def te(te_world):
    return services.create(None, te_world.w.nurse_a, wound_request(te_world))


def correction(**changes) -> services.Correction:
    form = {
        "wound_type": "Escarre",
        "location": "Talon",
        "length_cm": "5,5",
        "width_cm": "2",
        "stage": "Stade 2",
    }
    fields = {"question": "Escarre du talon ?", "urgency": "normal", "form_data": form}
    return services.Correction(**{**fields, **changes})


def test_requester_corrects_until_claimed(te_world, te):
    nurse = te_world.w.nurse_a
    due = te.act.due_at
    te = services.correct(None, nurse, te, correction(urgency="urgent"))
    te.refresh_from_db()
    assert te.question == "Escarre du talon ?"
    assert te.form_data["length_cm"] == 5.5
    assert te.form_data["location"] == "Talon"
    assert te.urgency == "urgent"
    assert te.act.due_at == te.act.requested_at + datetime.timedelta(days=2) < due
    services.claim(None, te_world.wound_expert, te)
    with pytest.raises(Conflict):
        services.correct(None, nurse, te, correction())
    with pytest.raises(Conflict):
        services.withdraw(None, nurse, te, "Plus utile")


def test_a_bad_correction_changes_nothing(te_world, te):
    with pytest.raises(ValidationError) as exc:
        services.correct(None, te_world.w.nurse_a, te, correction(question="Autre", form_data={}))
    assert "length_cm" in exc.value.message_dict
    te.refresh_from_db()
    assert te.question == "Escarre sacrée qui s'aggrave ?"
    assert te.form_data["width_cm"] == 3.5


def test_only_the_requester_corrects_or_withdraws(te_world, te):
    for user in (te_world.w.doctor_a, te_world.wound_expert):
        with pytest.raises(PermissionDenied):
            services.withdraw(None, user, te, "Non")
        with pytest.raises(PermissionDenied):
            services.correct(None, user, te, correction())


def test_withdrawn_request_is_cancelled_told_and_never_late(te_world, te):
    with pytest.raises(ValidationError):
        services.withdraw(None, te_world.w.nurse_a, te, "  ")
    services.withdraw(None, te_world.w.nurse_a, te, "Patient hospitalisé")
    te = TeleExpertise.objects.select_related("act").get(pk=te.pk)
    assert te.state == State.CANCELLED and te.act.status == ActStatus.CANCELLED
    assert te.cancel_reason == "Patient hospitalisé"
    expected = f"Demande de télé-expertise #{te.pk} retirée par le demandeur "
    assert any(
        t.startswith(expected) and "Patient hospitalisé" in t for t in texts(te_world.wound_expert)
    )
    # Far past its deadline: no widening, reminder nor coordinator alert, no "late" anywhere.
    later = timezone.now() + datetime.timedelta(days=30)
    assert escalation.run(later) == {"widened": 0, "reminded": 0, "coordinator": 0}
    Act.objects.filter(pk=te.pk).update(due_at=timezone.now() - datetime.timedelta(days=3))
    client = logged_in(te_world.w.nurse_a)
    for page in (
        reverse("teleexpertise_list") + "?box=outbox",
        reverse("teleexpertise_detail", args=[te.pk]),
    ):
        html = client.get(page).content.decode()
        assert "en retard" not in html
    detail = client.get(reverse("teleexpertise_detail", args=[te.pk])).content.decode()
    assert "Demande retirée par le demandeur" in detail and "Patient hospitalisé" in detail


def test_correct_and_withdraw_pages(te_world, te):
    client = logged_in(te_world.w.nurse_a)
    url = reverse("teleexpertise_correct", args=[te.pk])
    page = client.get(url).content.decode()
    assert 'value="3,5"' in page  # the stored 3.5 shown the French way
    bad = client.post(url, {"question": "Q", "urgency": "normal", "f_length_cm": "cent"})
    assert bad.status_code == 400
    assert "Longueur : Saisissez un nombre (par exemple 3,5)." in bad.content.decode()
    good = {
        "question": "Escarre du talon ?",
        "urgency": "normal",
        "f_wound_type": "Escarre",
        "f_location": "Talon",
        "f_length_cm": "6,25",
        "f_width_cm": "3",
        "f_stage": "Stade 2",
    }
    assert client.post(url, good).status_code == 302
    te.refresh_from_db()
    assert te.form_data["length_cm"] == 6.25
    withdraw = reverse("teleexpertise_withdraw", args=[te.pk])
    assert client.post(withdraw, {"reason": "Doublon"}).status_code == 302
    te.refresh_from_db()
    assert te.state == State.CANCELLED
    assert client.get(url).status_code == 302  # nothing left to correct


def test_api_correct_and_withdraw(te_world, te):
    api = api_client(te_world.w.nurse_a)
    url = f"/api/v1/teleexpertise/{te.pk}"
    body = {"question": "Talon ?", "form": correction().form_data | {"length_cm": "4,5"}}
    answer = api.put(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["form_data"]["length_cm"] == 4.5
    refused = api.post(f"{url}/withdraw", {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400
    done = api.post(f"{url}/withdraw", {"reason": "Doublon"}, content_type="application/json")
    assert done.json()["state"] == "cancelled" and done.json()["cancel_reason"] == "Doublon"
    again = api.put(url, body, content_type="application/json")
    assert again.status_code == 409


def test_decline_reason_reaches_the_requester(te_world, te):
    nurse, expert = te_world.w.nurse_a, te_world.wound_expert
    services.claim(None, expert, te)
    services.decline(None, expert, te, "Hors de mon champ : voir dermatologie")
    assert any("motif : Hors de mon champ : voir dermatologie" in t for t in texts(nurse)), texts(
        nurse
    )
    page = logged_in(nurse).get(reverse("teleexpertise_detail", args=[te.pk])).content.decode()
    assert "Hors de mon champ : voir dermatologie" in page
    read = api_client(nurse).get(f"/api/v1/teleexpertise/{te.pk}").json()
    assert [(d["expert_id"], d["reason"]) for d in read["declines"]] == [
        (expert.pk, "Hors de mon champ : voir dermatologie")
    ]
