"""The wall around a télé-expertise: who sees the request, its files and its report."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.accounts.models import Profession, User
from telesante.acts.models import Act
from telesante.core import policy
from telesante.core.models import AuditAction, AuditEntry
from telesante.notifications.models import Notification
from telesante.structures.models import StructureKind
from telesante.teleexpertise import escalation, pools, services
from telesante.teleexpertise.models import TeleExpertise
from tests.conftest import api_client, logged_in, make_structure, make_user
from tests.teleexpertise.conftest import answered, wound_request


@pytest.fixture
def te(te_world):
    return services.create(None, te_world.w.nurse_a, wound_request(te_world))


def sees(user, te) -> bool:
    """Every way of reading the request agrees (services, page, API)."""
    in_wall = policy.visible_acts(user).filter(pk=te.pk).exists()
    page = logged_in(user).get(reverse("teleexpertise_detail", args=[te.pk])).status_code
    api = api_client(user).get(f"/api/v1/teleexpertise/{te.pk}").status_code
    assert (page, api) == ((200, 200) if in_wall else (404, 404)), (user, page, api)
    return in_wall


def in_inbox(user, te) -> bool:
    return services.inbox(user).filter(pk=te.pk).exists()


def in_outbox(user, te) -> bool:
    return services.outbox(user).filter(pk=te.pk).exists()


def test_a_professional_of_another_structure_sees_nothing(te_world, te):
    t = te_world
    nurse_b = t.w.nurse_b
    assert not policy.visible_acts(nurse_b).exists()
    assert not services.inbox(nurse_b).exists()
    assert not services.outbox(nurse_b).exists()
    assert not sees(nurse_b, te)
    client = logged_in(nurse_b)
    attachment = te.act.attachments.get()
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("attachment_thumbnail", args=[attachment.pk])).status_code == 404
    assert list(client.get(reverse("teleexpertise_list"), {"box": "outbox"}).context["page"]) == []
    assert api_client(nurse_b).get("/api/v1/teleexpertise?box=outbox").json() == []
    answered(t, te)
    assert client.get(reverse("teleexpertise_report", args=[te.pk])).status_code == 404
    assert api_client(nurse_b).get(f"/api/v1/teleexpertise/{te.pk}/report.pdf").status_code == 404
    assert not sees(nurse_b, te)
    assert not Notification.objects.filter(user=nurse_b).exists()


def test_pool_experts_see_only_their_filiere(te_world, te):
    t = te_world
    assert in_inbox(t.wound_expert, te) and sees(t.wound_expert, te)
    assert in_inbox(t.wound_expert_2, te) and sees(t.wound_expert_2, te)
    assert not in_inbox(t.derm_expert, te)
    assert not sees(t.derm_expert, te)
    attachment = te.act.attachments.get()
    derm = logged_in(t.derm_expert)
    assert derm.get(reverse("attachment", args=[attachment.pk])).status_code == 404
    assert (
        logged_in(t.wound_expert).get(reverse("attachment", args=[attachment.pk])).status_code
        == 200
    )


def test_out_of_territory_reference_expert_joins_after_widening(te_world, te):
    t = te_world
    assert not in_inbox(t.chu_expert, te)
    assert not sees(t.chu_expert, te)
    hours = te.act.filiere.widen_after_hours
    escalation.run(now=te.act.requested_at + datetime.timedelta(hours=hours - 1))
    te.refresh_from_db()
    assert te.widened_at is None
    assert not in_inbox(t.chu_expert, te)

    now = te.act.requested_at + datetime.timedelta(hours=hours + 1)
    assert escalation.run(now=now)["widened"] == 1
    te.refresh_from_db()
    assert te.widened_at == now
    assert in_inbox(t.chu_expert, te)
    assert sees(t.chu_expert, te)
    # A non-reference site out of the territory is not reached by widening.
    le_mans = make_structure("CH du Mans", kind=StructureKind.CH, commune="72181")
    sarthe_expert = make_user(
        "plaies72@example.test",
        structure=le_mans,
        profession=Profession.DOCTOR,
        specialty="plaies_cicatrisation",
    )
    assert not in_inbox(sarthe_expert, te)
    assert not sees(sarthe_expert, te)
    assert not Notification.objects.filter(user=sarthe_expert).exists()
    assert not in_inbox(t.derm_expert, te)
    te = services.claim(None, t.chu_expert, te)
    assert te.claimed_by == t.chu_expert


def test_a_named_expert_request_is_not_shown_to_the_rest_of_the_pool(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t, named_expert_id=t.wound_expert.pk))
    assert in_inbox(t.wound_expert, te) and sees(t.wound_expert, te)
    assert not in_inbox(t.wound_expert_2, te)
    assert not sees(t.wound_expert_2, te)
    with pytest.raises(PermissionDenied):
        services.claim(None, t.wound_expert_2, te)
    # Widening does not open a named request to the reference experts either.
    escalation.run(now=te.act.requested_at + datetime.timedelta(days=30))
    assert not sees(t.chu_expert, te)


def test_the_requesters_colleague_sees_the_request(te_world, te):
    t = te_world
    colleague = t.w.doctor_a
    assert in_outbox(colleague, te)
    assert not in_inbox(colleague, te)
    assert sees(colleague, te)
    page = logged_in(colleague).get(reverse("teleexpertise_list"), {"box": "outbox"})
    assert [item.pk for item in page.context["page"]] == [te.pk]
    client = api_client(colleague)
    with CaptureQueriesContext(connection) as ctx:
        listed = client.get("/api/v1/teleexpertise?box=outbox").json()
    assert [item["id"] for item in listed] == [te.pk]
    # The colleague's teams came with their token: no statement of its own reads them.
    read = [q["sql"] for q in ctx.captured_queries if "accounts_membership" in q["sql"]]
    assert len(read) == 1 and "accounts_apitoken" in read[0]
    # Without a token (a page), the teams are read from the memberships.
    teams = policy.member_team_ids(User.objects.get(pk=colleague.pk))
    assert teams == list(colleague.memberships.values_list("team_id", flat=True)) != []
    # The colleague may write in the thread but not take the request.
    with pytest.raises(PermissionDenied):
        services.claim(None, colleague, te)


def test_observers_get_nothing(te_world, te):
    observer = te_world.w.observer
    assert not policy.visible_acts(observer).exists()
    with pytest.raises(PermissionDenied):
        services.listing(observer, "inbox")
    assert not sees(observer, te)
    client = logged_in(observer)
    assert client.get(reverse("teleexpertise_list")).status_code == 403
    assert client.get(reverse("teleexpertise_create")).status_code == 403
    assert api_client(observer).get("/api/v1/teleexpertise").status_code == 403
    attachment = te.act.attachments.get()
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 404


def test_every_read_is_audited_with_the_patient(te_world, te):
    t = te_world
    patient_id = t.w.patient_a.pk
    reads = AuditEntry.objects.filter(action=AuditAction.READ, patient_id=patient_id)
    assert not reads.exists()

    services.get(None, t.wound_expert, te.pk)
    assert reads.filter(actor_id=t.wound_expert.pk, object_type="act", via="cli").count() == 1

    logged_in(t.wound_expert).get(reverse("teleexpertise_detail", args=[te.pk]))
    assert reads.filter(actor_id=t.wound_expert.pk, object_type="act", via="web").count() == 1

    api_client(t.w.nurse_a).get(f"/api/v1/teleexpertise/{te.pk}")
    assert reads.filter(actor_id=t.w.nurse_a.pk, object_type="act", via="api").count() == 1

    attachment = te.act.attachments.get()
    client = logged_in(t.w.doctor_a)
    assert client.get(reverse("attachment", args=[attachment.pk])).status_code == 200
    assert client.get(reverse("attachment_thumbnail", args=[attachment.pk])).status_code == 200
    downloads = reads.filter(
        actor_id=t.w.doctor_a.pk, object_type="attachment", object_id=str(attachment.pk)
    )
    assert sorted(downloads.values_list("detail", flat=True)) == ["fichier", "miniature"]

    # A refused read leaves no read entry.
    logged_in(t.w.nurse_b).get(reverse("attachment", args=[attachment.pk]))
    assert not reads.filter(actor_id=t.w.nurse_b.pk).exists()


def test_an_act_that_is_not_a_teleexpertise_is_not_found(te_world):
    act = Act.objects.create(
        kind="teleconsultation",
        patient=te_world.w.patient_a,
        requester=te_world.w.nurse_a,
        requesting_structure=te_world.w.ehpad_a,
    )
    assert api_client(te_world.w.nurse_a).get(f"/api/v1/teleexpertise/{act.pk}").status_code == 404
    page = logged_in(te_world.w.nurse_a).get(reverse("teleexpertise_detail", args=[act.pk]))
    assert page.status_code == 404


def test_the_boxes_audit_every_patient_they_list(te_world, te):
    t = te_world
    other = services.create(None, t.w.nurse_a, wound_request(t))
    listed = AuditEntry.objects.filter(action=AuditAction.SEARCH, object_type="act")

    logged_in(t.wound_expert).get(reverse("teleexpertise_list"), {"box": "inbox"})
    assert sorted(listed.filter(via="web").values_list("object_id", "patient_id")) == sorted(
        [(str(te.pk), te.act.patient_id), (str(other.pk), other.act.patient_id)]
    )
    api_client(t.w.nurse_a).get("/api/v1/teleexpertise", {"box": "outbox"})
    sent = listed.filter(via="api", actor_id=t.w.nurse_a.pk)
    assert sorted(sent.values_list("object_id", "patient_id")) == sorted(
        [(str(te.pk), te.act.patient_id), (str(other.pk), other.act.patient_id)]
    )
    # An empty box writes nothing.
    api_client(t.w.nurse_b).get("/api/v1/teleexpertise", {"box": "outbox"})
    assert not listed.filter(actor_id=t.w.nurse_b.pk).exists()


def test_the_pool_reads_its_filieres_and_structures_once_then_the_pooled_acts(te_world):
    """On PostgreSQL the pool names the expert's filières and territory as arrays read before
    the statement, which the index of the pooled acts (acts.act_te_pool) takes."""
    sql = str(TeleExpertise.objects.filter(pools.pool_q(te_world.wound_expert)).query)
    assert sql.count("= ANY(ARRAY(SELECT") == (2 if connection.vendor == "postgresql" else 0)
    assert '"acts_act"."status" = requested' in sql.replace("'", "")
