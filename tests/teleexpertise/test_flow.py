"""The whole loop, through the services: request, pool, claim, questions, answer, decline."""

import datetime
import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pypdf import PdfReader

from telesante.accounts.models import Membership, Profession
from telesante.acts.models import Act, ActStatus
from telesante.core.identifiers import luhn_complete
from telesante.notifications.models import Notification
from telesante.teleexpertise import services
from telesante.teleexpertise.models import Decline, State
from tests.conftest import make_user
from tests.teleexpertise.conftest import answered, wound_request


def notified(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


# E-mails to professionals say only that something waits on the platform (no patient data).
MAIL = "Télésanté — un nouvel élément vous attend"


def mailed(user) -> list[str]:
    return [m.subject for m in mail.outbox if user.email in m.to]


def report_text(te) -> str:
    with te.act.report.open("rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def gp(te_world):
    doctor = make_user(
        "medecin.traitant@example.test",
        structure=te_world.w.ehpad_a,
        profession=Profession.DOCTOR,
        specialty="medecine_generale",
    )
    te_world.w.patient_a.gp = doctor
    te_world.w.patient_a.save()
    return doctor


def test_the_whole_loop(te_world, gp, django_capture_on_commit_callbacks):
    t = te_world
    t.wound_expert.rpps = luhn_complete("1000123456")
    t.wound_expert.save()

    # Request: the wound-care pool of the territory is told, in the app and by email.
    with django_capture_on_commit_callbacks(execute=True):
        te = services.create(None, t.w.nurse_a, wound_request(t))
    assert te.state == State.POOLED
    assert te.act.status == ActStatus.REQUESTED
    for expert in (t.wound_expert, t.wound_expert_2):
        assert notified(expert) == ["Nouvelle demande de télé-expertise (Plaies et cicatrisation)"]
        assert mailed(expert) == [MAIL]
    for outsider in (t.derm_expert, t.chu_expert, t.w.nurse_a, t.w.nurse_b):
        assert notified(outsider) == []
        assert mailed(outsider) == []
    assert services.inbox(t.wound_expert_2).get() == te

    # Claim by one expert; a second claim is a conflict and the other no longer sees it.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        te = services.claim(None, t.wound_expert, te)
    assert (te.state, te.claimed_by, te.act.status) == (
        State.CLAIMED,
        t.wound_expert,
        ActStatus.IN_PROGRESS,
    )
    assert te.claimed_at is not None
    assert list(te.act.performers.all()) == [t.wound_expert]
    assert "prise en charge" in notified(t.w.nurse_a)[0]
    assert mailed(t.w.nurse_a)
    with pytest.raises(services.Conflict):
        services.claim(None, t.wound_expert_2, te)
    te.refresh_from_db()
    assert te.claimed_by == t.wound_expert
    assert not services.inbox(t.wound_expert_2).exists()
    assert services.inbox(t.wound_expert).get() == te

    # The expert asks for information: the request waits, the requester is told.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(None, t.wound_expert, te, "Depuis quand ?", ask_info=True)
    te.refresh_from_db()
    assert te.state == State.WAITING_INFO
    assert te.act.status == ActStatus.WAITING_INFO
    assert notified(t.w.nurse_a)[0] == f"Nouveau message sur la télé-expertise #{te.pk}"
    assert mailed(t.w.nurse_a) == [MAIL]

    # The requester answers: back to the expert.
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(None, t.w.nurse_a, te, "Trois semaines.")
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    assert te.act.status == ActStatus.IN_PROGRESS
    assert notified(t.wound_expert)[0] == f"Nouveau message sur la télé-expertise #{te.pk}"
    assert list(te.messages.values_list("author", "body")) == [
        (t.wound_expert.pk, "Depuis quand ?"),
        (t.w.nurse_a.pk, "Trois semaines."),
    ]

    # An answer without opinion or consultation need changes nothing.
    for opinion, need in (("", "routine"), ("Avis", ""), ("Avis", "demain")):
        with pytest.raises(ValidationError):
            services.answer(None, t.wound_expert, te, opinion, "", need)
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    assert te.opinion == ""
    assert not te.act.report
    assert not te.act.billing_codes.exists()

    # The answer: act done, report stored, requester and médecin traitant told.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        te = services.answer(
            None,
            t.wound_expert,
            te,
            "Détersion et pansement hydrocellulaire",
            "Réévaluer dans 15 jours",
            "routine",
        )
    te.refresh_from_db()
    assert te.state == State.ANSWERED
    assert te.answered_at is not None
    assert te.act.status == ActStatus.DONE
    assert te.act.done_at is not None
    assert te.act.report.name.endswith(".pdf")
    text = report_text(te)
    assert "Détersion et pansement hydrocellulaire" in text
    assert "Réévaluer dans 15 jours" in text
    assert "DORVANE" in text
    assert "Identité provisoire" in text
    assert f"RPPS {t.wound_expert.rpps}" in text
    assert "Consultation à programmer" in text
    subject = "Réponse et compte rendu de télé-expertise pour DORVANE Alix"
    for user in (t.w.nurse_a, gp):
        assert notified(user)[0] == subject
        assert mailed(user) == [MAIL]

    # Closed: no more messages nor second answer.
    with pytest.raises(services.Conflict):
        services.post_message(None, t.w.nurse_a, te, "Merci")
    with pytest.raises(services.Conflict):
        services.answer(None, t.wound_expert, te, "Autre", "", "none")


def test_qualified_identity_and_ins_appear_in_the_report(te_world):
    t = te_world
    patient = t.w.patient_a
    patient.identity_status, patient.matricule, patient.matricule_kind = (
        "QUAL",
        "240037512345678",
        "NIR",
    )
    patient.save()
    te = services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert, te)
    te = services.answer(None, t.wound_expert, te, "Avis", "", "none")
    text = report_text(te)
    assert "Identité qualifiée" in text
    assert "240037512345678" in text


def test_only_the_claiming_expert_answers(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t))
    with pytest.raises(PermissionDenied):
        services.answer(None, t.wound_expert, te, "Avis", "", "none")
    te = services.claim(None, t.wound_expert, te)
    with pytest.raises(PermissionDenied):
        services.answer(None, t.wound_expert_2, te, "Avis", "", "none")
    te.refresh_from_db()
    assert te.state == State.CLAIMED


def test_outsiders_may_not_claim_or_write(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t))
    for user in (t.derm_expert, t.chu_expert, t.w.nurse_a, t.w.doctor_a):
        with pytest.raises(PermissionDenied):
            services.claim(None, user, te)
    with pytest.raises(PermissionDenied):
        services.post_message(None, t.wound_expert_2, te, "Bonjour")
    te.refresh_from_db()
    assert te.state == State.POOLED


def test_empty_message_is_refused(te_world):
    t = te_world
    te = services.claim(None, t.wound_expert, services.create(None, t.w.nurse_a, wound_request(t)))
    with pytest.raises(ValidationError):
        services.post_message(None, t.wound_expert, te, "  ", ask_info=True)
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    assert not te.messages.exists()


def test_decline_returns_the_request_to_the_pool(te_world, django_capture_on_commit_callbacks):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t, named_expert_id=t.wound_expert.pk))
    assert te.named_expert == t.wound_expert
    te = services.claim(None, t.wound_expert, te)

    with pytest.raises(ValidationError) as exc:
        services.decline(None, t.wound_expert, te, "  ")
    assert "reason" in exc.value.message_dict
    te.refresh_from_db()
    assert (te.state, te.claimed_by) == (State.CLAIMED, t.wound_expert)
    assert not Decline.objects.exists()

    with pytest.raises(PermissionDenied):
        services.decline(None, t.wound_expert_2, te, "Pas moi")

    with django_capture_on_commit_callbacks(execute=True):
        services.decline(None, t.wound_expert, te, "En congés cette semaine")
    te.refresh_from_db()
    assert te.state == State.POOLED
    assert te.claimed_by is None and te.claimed_at is None
    assert te.named_expert is None
    assert te.act.status == ActStatus.REQUESTED
    assert te.act.performing_structure is None
    assert not te.act.performers.exists()
    (decline,) = te.declines.all()
    assert (decline.expert, decline.reason) == (t.wound_expert, "En congés cette semaine")
    assert notified(t.w.nurse_a)[0].startswith("L'expert a décliné la demande")
    assert (
        notified(t.wound_expert_2)[0]
        == "Demande de télé-expertise à reprendre (Plaies et cicatrisation)"
    )
    # Back in the pool: another expert takes it.
    assert services.inbox(t.wound_expert_2).get() == te
    te = services.claim(None, t.wound_expert_2, te)
    assert te.claimed_by == t.wound_expert_2


def test_named_expert_may_decline_before_claiming(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t, named_expert_id=t.wound_expert.pk))
    assert not services.inbox(t.wound_expert_2).exists()
    services.decline(None, t.wound_expert, te, "Hors de mon champ")
    te.refresh_from_db()
    assert te.named_expert is None
    assert services.inbox(t.wound_expert_2).get() == te


def test_answered_request_cannot_be_declined(te_world):
    t = te_world
    te = services.claim(None, t.wound_expert, services.create(None, t.w.nurse_a, wound_request(t)))
    te = services.answer(None, t.wound_expert, te, "Avis", "", "none")
    with pytest.raises(services.Conflict):
        services.decline(None, t.wound_expert, te, "Trop tard")
    te.refresh_from_db()
    assert te.state == State.ANSWERED


def test_an_expert_may_not_take_their_own_request(te_world):
    t = te_world
    Membership.objects.create(user=t.wound_expert, structure=t.w.ehpad_a)
    te = services.create(None, t.wound_expert, wound_request(t))
    assert not services.inbox(t.wound_expert).exists()
    with pytest.raises(PermissionDenied):
        services.claim(None, t.wound_expert, te)
    te = services.claim(None, t.wound_expert_2, te)
    assert te.claimed_by == t.wound_expert_2


def test_boxes_list_open_requests_by_deadline_then_the_history_newest_first(te_world):
    t = te_world
    old_answer = answered(t)
    new_answer = answered(t)
    late = services.create(None, t.w.nurse_a, wound_request(t))
    soon = services.create(None, t.w.nurse_a, wound_request(t))
    Act.objects.filter(pk=late.pk).update(due_at=timezone.now() + datetime.timedelta(days=6))
    Act.objects.filter(pk=soon.pk).update(due_at=timezone.now() + datetime.timedelta(days=1))
    expected = [soon.pk, late.pk, new_answer.pk, old_answer.pk]
    for user, box in ((t.w.nurse_a, "outbox"), (t.wound_expert, "inbox")):
        rows = services.listing(user, box)
        assert [te.pk for te in rows[:50]] == expected and rows.count() == 4
        # Any slice reads on from the open requests into the history.
        for start, stop in ((0, 1), (1, 3), (2, 4), (3, 9), (5, 7)):
            assert [te.pk for te in rows[start:stop]] == expected[start:stop]


def test_the_medecin_traitant_of_another_structure_reads_the_report_only_once_answered(te_world):
    from django.urls import reverse

    from telesante.core.models import AuditAction, AuditEntry
    from tests.conftest import logged_in, make_structure

    t = te_world
    cabinet = make_structure("Cabinet des Tilleuls", finess="530000054")
    gp = make_user("mt.tilleuls@example.test", structure=cabinet, profession=Profession.DOCTOR)
    t.w.patient_a.gp = gp
    t.w.patient_a.save()
    te = services.create(None, t.w.nurse_a, wound_request(t))
    client = logged_in(gp)
    report = reverse("teleexpertise_report", args=[te.pk])
    assert client.get(reverse("teleexpertise_detail", args=[te.pk])).status_code == 404
    answered(t, te)
    assert Notification.objects.filter(user=gp, act=te.act).exists()
    response = client.get(report)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        AuditEntry.objects.filter(actor_id=gp.pk, object_id=str(te.pk))
        .exclude(action=AuditAction.SEARCH)
        .exists()
    )
    # The acts of other patients stay out of reach.
    other = make_user("mt.autre@example.test", structure=cabinet, profession=Profession.DOCTOR)
    assert logged_in(other).get(report).status_code == 404
