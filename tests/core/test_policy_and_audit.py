"""The permission wall, the audit trail of every read, and what structure admins see of it."""

import csv
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from telesante.accounts.models import Membership
from telesante.acts.models import Act
from telesante.core import audit, policy, prepared, trail
from telesante.core.models import AuditAction, AuditEntry
from telesante.patients import services
from telesante.patients.models import ActKind, Patient, PatientAttachment
from telesante.structures.models import Team
from tests.conftest import logged_in, make_patient, make_structure, make_user


def visible(user) -> set[int]:
    return set(policy.visible_patients(user).values_list("pk", flat=True))


def make_act(world, patient, requester, performers=()):
    act = Act.objects.create(
        kind=ActKind.TELEEXPERTISE,
        patient=patient,
        requester=requester,
        requesting_structure=world.ehpad_b,
    )
    act.performers.set(performers)
    return act


@pytest.fixture
def rf():
    return RequestFactory()


# The wall.


def test_the_walls_sql_refuses_a_rule_reading_more_of_the_user(world):
    def reads_email(who):
        return Act.objects.filter(requester__email=who.email).values_list("pk", flat=True)

    def branches(who):
        mine = {"requester": who} if who.regulation_access else {"requester__isnull": True}
        return Act.objects.filter(**mine).values_list("pk", flat=True)

    def reads_a_date(who):
        return Act.objects.filter(created_at__gte=who.date_joined).values_list("pk", flat=True)

    cases = [("reads email", reads_email), ("branches", branches), ("a date", reads_a_date)]
    for name, build in cases:
        with pytest.raises(ValueError, match="depends on"):
            policy.compiled(world.nurse_a, (f"test: {name}",), build)


def test_members_see_their_own_structures_patients_only(world):
    assert visible(world.nurse_a) == {world.patient_a.pk}
    assert visible(world.admin_a) == {world.patient_a.pk}
    assert visible(world.doctor_a) == {world.patient_a.pk}
    assert visible(world.nurse_b) == {world.patient_b.pk}


def test_a_patient_attached_to_two_structures_is_seen_by_both(world):
    PatientAttachment.objects.create(patient=world.patient_a, structure=world.ehpad_b)
    assert visible(world.nurse_b) == {world.patient_a.pk, world.patient_b.pk}


def test_the_requester_of_an_act_sees_the_patient(world):
    outsider = make_user("generaliste@example.test")
    assert world.patient_a.pk not in visible(outsider)
    make_act(world, world.patient_a, requester=outsider)
    assert visible(outsider) == {world.patient_a.pk}


def test_a_performer_of_an_act_sees_the_patient_but_not_the_others(world):
    expert = make_user("expert@example.test")
    make_act(world, world.patient_a, requester=world.nurse_b, performers=[expert])
    assert visible(expert) == {world.patient_a.pk}
    # The requester from structure B sees the act's patient as well as B's own.
    assert visible(world.nurse_b) == {world.patient_a.pk, world.patient_b.pk}


def test_the_wall_read_first_selects_the_same_patients(world):
    PatientAttachment.objects.create(patient=world.patient_a, structure=world.ehpad_b)
    make_act(world, world.patient_a, requester=world.nurse_b)
    ids = policy.visible_patient_ids(world.nurse_b)
    first = policy.read_first(ids)
    assert first.params == ids.params
    assert (first.sql != ids.sql) == (connection.vendor == "postgresql")
    patients = Patient.objects.filter(prepared.is_among("pk", first))
    assert set(patients.values_list("pk", flat=True)) == visible(world.nurse_b)
    assert visible(world.nurse_b) == {world.patient_a.pk, world.patient_b.pk}


def test_the_walls_constants_are_written_in_on_postgresql_and_only_the_user_bound(world):
    ids = policy.visible_patient_ids(world.nurse_a)
    on_postgresql = connection.vendor == "postgresql"
    assert ("'done'" in ids.sql) == on_postgresql  # the médecin traitant's arm: done acts
    assert ("done" in ids.params) != on_postgresql
    if on_postgresql:
        assert set(ids.params) == {world.nurse_a.pk}
    assert visible(world.nurse_a) == {world.patient_a.pk}


def test_act_party_and_member_sees_each_patient_once(world):
    make_act(world, world.patient_a, requester=world.nurse_a, performers=[world.doctor_a])
    assert list(policy.visible_patients(world.nurse_a)) == [world.patient_a]


def test_observer_sees_no_patient_even_as_member_or_party_to_an_act(world):
    act = make_act(world, world.patient_b, requester=world.nurse_b)
    act.performers.add(world.observer)
    Membership.objects.create(user=world.observer, structure=world.ehpad_a)
    assert visible(world.observer) == set()
    assert not policy.may_create_in(world.observer, world.ehpad_a)


def test_regional_admin_without_membership_sees_no_patient(world):
    assert visible(world.regional_admin) == set()
    assert not policy.may_create_in(world.regional_admin, world.ehpad_a)


def test_inactive_and_anonymous_users_see_nothing(world):
    world.nurse_a.is_active = False
    assert visible(world.nurse_a) == set()
    assert visible(AnonymousUser()) == set()
    assert not policy.member_structures(AnonymousUser()).exists()
    assert not policy.administered_structures(AnonymousUser()).exists()


def test_structure_admins_administer_only_their_structure(world):
    assert list(policy.administered_structures(world.admin_a)) == [world.ehpad_a]
    assert list(policy.administered_structures(world.nurse_a)) == []
    assert policy.may_create_in(world.nurse_a, world.ehpad_a)
    assert not policy.may_create_in(world.nurse_a, world.ehpad_b)


# Acts behind the same wall.


def acts_of(user) -> set[int]:
    return set(policy.visible_acts(user).values_list("pk", flat=True))


def test_acts_are_visible_to_their_parties_and_teams_only(world):
    expert = make_user("expert@example.test")
    act = make_act(world, world.patient_b, requester=world.nurse_b, performers=[expert])
    assert acts_of(world.nurse_b) == {act.pk}  # requester, and member of the requesting EHPAD
    assert acts_of(expert) == {act.pk}  # performer
    assert acts_of(world.nurse_a) == set()
    act.performing_team = Team.default_for(world.ehpad_a.pk)
    act.save()
    assert acts_of(world.nurse_a) == {act.pk}  # member of the performing team
    assert acts_of(world.observer) == set()


def test_get_act_audits_the_access_against_the_patient(world, rf):
    act = make_act(world, world.patient_b, requester=world.nurse_b)
    request = rf.get("/teleexpertise/1/", REMOTE_ADDR="192.0.2.3")
    assert policy.get_act(request, world.nurse_b, act.pk, AuditAction.READ) == act
    entry = AuditEntry.objects.get()
    assert (entry.object_type, entry.object_id, entry.patient_id, entry.ip) == (
        "act",
        str(act.pk),
        world.patient_b.pk,
        "192.0.2.3",
    )
    with pytest.raises(Http404):
        policy.get_act(request, world.nurse_a, act.pk, AuditAction.READ)
    # The refusal is recorded as such, against the patient the act concerns.
    refused = AuditEntry.objects.exclude(pk=entry.pk).get()
    assert (refused.action, refused.actor_id, refused.object_id, refused.patient_id) == (
        AuditAction.DENIED,
        world.nurse_a.pk,
        str(act.pk),
        world.patient_b.pk,
    )
    assert refused.detail == "Consultation"


# Every read through get_patient is audited.


def test_get_patient_writes_one_audit_entry_with_actor_action_ip_and_user_agent(world, rf):
    request = rf.get("/patients/1/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox/140")
    patient = policy.get_patient(request, world.nurse_a, world.patient_a.pk, AuditAction.READ)
    assert patient == world.patient_a
    entry = AuditEntry.objects.get()
    assert entry.actor_id == world.nurse_a.pk
    assert entry.actor_label == "Nurse.a TEST"
    assert entry.action == AuditAction.READ
    assert entry.object_type == "patient"
    assert entry.object_id == str(world.patient_a.pk)
    assert entry.patient_id == world.patient_a.pk
    assert entry.ip == "203.0.113.9"
    assert entry.user_agent == "Firefox/140"
    assert entry.via == "web"
    assert entry.at is not None


def test_two_reads_write_two_entries(world, rf):
    for _ in range(2):
        policy.get_patient(rf.get("/"), world.nurse_a, world.patient_a.pk, AuditAction.READ)
    assert AuditEntry.objects.filter(patient_id=world.patient_a.pk).count() == 2


def test_api_reads_are_marked_api_and_cli_reads_cli(world, rf):
    policy.get_patient(
        rf.get("/api/v1/patients/1"), world.nurse_a, world.patient_a.pk, AuditAction.READ
    )
    policy.get_patient(None, world.nurse_a, world.patient_a.pk, AuditAction.READ)
    assert list(AuditEntry.objects.order_by("pk").values_list("via", "ip")) == [
        ("api", "127.0.0.1"),
        ("cli", None),
    ]


def test_get_patient_behind_the_wall_is_a_404_recorded_as_a_refusal(world, rf):
    with pytest.raises(Http404):
        policy.get_patient(rf.get("/"), world.nurse_b, world.patient_a.pk, AuditAction.READ)
    with pytest.raises(Http404):
        policy.get_patient(rf.get("/"), world.observer, world.patient_a.pk, AuditAction.UPDATE)
    with pytest.raises(Http404):
        policy.get_patient(rf.get("/"), world.nurse_b, 10**20, AuditAction.READ)
    entries = AuditEntry.objects.order_by("pk")
    assert not entries.exclude(action=AuditAction.DENIED).exists()
    assert [(e.actor_id, e.object_type, e.object_id, e.patient_id, e.detail) for e in entries] == [
        (world.nurse_b.pk, "patient", str(world.patient_a.pk), world.patient_a.pk, "Consultation"),
        (world.observer.pk, "patient", str(world.patient_a.pk), world.patient_a.pk, "Modification"),
        (world.nurse_b.pk, "patient", str(10**20), None, "Consultation"),  # no such patient
    ]


def test_long_user_agent_is_truncated_to_fit(world, rf):
    request = rf.get("/", HTTP_USER_AGENT="x" * 1000)
    policy.get_patient(request, world.nurse_a, world.patient_a.pk, AuditAction.READ)
    assert len(AuditEntry.objects.get().user_agent) == 300


def test_one_call_writes_an_entry_per_object_in_order_sharing_the_rest(world, rf):
    act = make_act(world, world.patient_a, world.nurse_a)
    request = rf.get("/api/v1/x", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="curl/8")
    read = [world.patient_a, act, world.ehpad_b, world.patient_a]
    audit.record(
        request, world.nurse_a, AuditAction.SEARCH, read, detail="l'a, {b}", structure_id=7
    )
    entries = AuditEntry.objects.order_by("pk")
    assert [(e.object_type, e.object_id, e.patient_id) for e in entries] == [
        ("patient", str(world.patient_a.pk), world.patient_a.pk),
        ("act", str(act.pk), world.patient_a.pk),
        ("structure", str(world.ehpad_b.pk), None),
        ("patient", str(world.patient_a.pk), world.patient_a.pk),
    ]
    shared = {
        (e.actor_id, e.actor_label, e.action, e.detail, e.structure_id, e.ip, e.via)
        for e in entries
    }
    assert shared == {
        (
            world.nurse_a.pk,
            "Nurse.a TEST",
            AuditAction.SEARCH,
            "l'a, {b}",
            7,
            "203.0.113.9",
            "api",
        )
    }
    audit.record(request, world.nurse_a, AuditAction.SEARCH, [world.ehpad_b, world.ehpad_b])
    assert AuditEntry.objects.filter(patient_id=None).count() == 3  # a column of NULLs
    audit.record(request, world.nurse_a, AuditAction.SEARCH, [])
    assert AuditEntry.objects.count() == 6


def test_anonymous_actor_is_labelled_anonyme(world):
    audit.record(None, None, AuditAction.READ, [world.patient_a])
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.actor_label) == (None, "anonyme")
    assert str(entry).endswith("anonyme read patient")


def test_detail_page_read_is_audited_with_the_client_address(world):
    client = logged_in(world.nurse_a)
    client.get(
        reverse("patient_detail", args=[world.patient_a.pk]),
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="Chromium/130",
    )
    entry = AuditEntry.objects.get(action=AuditAction.READ)
    assert (entry.actor_id, entry.ip, entry.user_agent) == (
        world.nurse_a.pk,
        "198.51.100.4",
        "Chromium/130",
    )


# The structure admin's audit page and CSV export.


@pytest.fixture
def accesses(world, rf):
    """Nurse A reads patient A twice; nurse B reads patient B once."""
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_USER_AGENT="Edge/120")
    for _ in range(2):
        policy.get_patient(request, world.nurse_a, world.patient_a.pk, AuditAction.READ)
    policy.get_patient(request, world.nurse_b, world.patient_b.pk, AuditAction.READ)
    return world


def test_entries_for_a_structure_cover_its_patients_only(accesses):
    w = accesses
    assert set(trail.entries_for(w.ehpad_a).values_list("patient_id", flat=True)) == {
        w.patient_a.pk
    }
    assert trail.entries_for(w.ehpad_a).count() == 2
    assert trail.entries_for(w.ehpad_b).count() == 1


def test_audit_page_lists_accesses_to_the_structures_patients(accesses):
    w = accesses
    page = logged_in(w.admin_a).get(reverse("structure_audit", args=[w.ehpad_a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 entrées" in html
    assert "Nurse.a TEST" in html
    assert f"#{w.patient_a.pk}" in html
    assert "192.0.2.1" in html
    assert "Nurse.b TEST" not in html
    assert f"#{w.patient_b.pk}<" not in html


def test_audit_page_is_refused_to_members_who_are_not_admins(accesses):
    w = accesses
    url = reverse("structure_audit", args=[w.ehpad_a.pk])
    assert logged_in(w.nurse_a).get(url).status_code == 404
    assert logged_in(w.observer).get(url).status_code == 404
    # An admin of A is nobody at B.
    assert (
        logged_in(w.admin_a).get(reverse("structure_audit", args=[w.ehpad_b.pk])).status_code == 404
    )


def test_audit_csv_export_has_header_and_only_this_structures_rows(accesses):
    w = accesses
    response = logged_in(w.admin_a).get(
        reverse("structure_audit", args=[w.ehpad_a.pk]), {"format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="journal-{w.ehpad_a.pk}-'
    )
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == trail.CSV_HEADER
    assert rows[0][:3] == ["Date et heure", "Professionnel", "Action"]
    body = rows[1:]
    assert len(body) == 2
    # Local time, as read in France (not UTC, not ISO).
    local = {
        timezone.localtime(at).strftime("%d/%m/%Y %H:%M:%S")
        for at in AuditEntry.objects.filter(patient_id=w.patient_a.pk).values_list("at", flat=True)
    }
    assert {row[0] for row in body} <= local
    for row in body:
        assert row[1] == "Nurse.a TEST"
        assert row[2] == "Consultation"
        assert row[3:6] == ["patient", str(w.patient_a.pk), str(w.patient_a.pk)]
        assert row[7:] == ["192.0.2.1", "Edge/120", "web"]
    assert all(str(w.patient_b.pk) != row[5] for row in body)


def test_audit_csv_cells_typed_by_users_cannot_run_as_formulas(world, rf):
    request = rf.get("/", HTTP_USER_AGENT='=HYPERLINK("http://evil.example","x")')
    services.search(request, world.admin_a, "-dorvane")  # the search text lands in "détail"
    response = logged_in(world.admin_a).get(
        reverse("structure_audit", args=[world.ehpad_a.pk]), {"format": "csv"}
    )
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    [row] = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert row[6] == "'-dorvane"
    assert row[8] == '\'=HYPERLINK("http://evil.example","x")'


def test_audit_csv_of_another_structure_lists_its_own_accesses(accesses):
    w = accesses
    admin_b = make_user("admin.b@example.test", structure=w.ehpad_b, role="admin")
    response = logged_in(admin_b).get(
        reverse("structure_audit", args=[w.ehpad_b.pk]), {"format": "csv"}
    )
    rows = list(
        csv.reader(
            io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert [r[1] for r in rows[1:]] == ["Nurse.b TEST"]


def test_audit_page_is_paginated_by_50(world):
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a] * 51)
    client = logged_in(world.admin_a)
    url = reverse("structure_audit", args=[world.ehpad_a.pk])
    first = client.get(url).content.decode()
    assert "51 entrées" in first
    assert "1 / 2" in first
    assert "2 / 2" in client.get(url, {"page": 2}).content.decode()


def test_empty_audit_page_says_so(world):
    empty = make_structure("Cabinet vide", finess="530000029")
    admin = make_user("admin.vide@example.test", structure=empty, role="admin")
    make_patient(empty, "SILENCE", "Paul")
    page = logged_in(admin).get(reverse("structure_audit", args=[empty.pk]))
    assert "Aucun accès enregistré." in page.content.decode()


# Append-only at the database level (PostgreSQL trigger).


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("Le déclencheur d'ajout seul n'existe que sur PostgreSQL.")


def test_trigger_refuses_update_of_an_audit_entry(world, postgres_only):
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a])
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
        AuditEntry.objects.update(detail="effacé")
    assert AuditEntry.objects.get().detail == ""


def test_trigger_refuses_delete_of_an_audit_entry(world, postgres_only):
    audit.record(None, world.nurse_a, AuditAction.READ, [world.patient_a])
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("proxies", "forwarded", "recorded"),
    [
        ([], "198.51.100.7", "127.0.0.1"),  # anyone's header is ignored
        (["127.0.0.1"], "198.51.100.7", "198.51.100.7"),
        (["127.0.0.1", "10.0.0.2"], "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (["127.0.0.1"], "pas une adresse", "127.0.0.1"),
        (["127.0.0.1"], "", "127.0.0.1"),
    ],
)
def test_the_client_address_comes_from_our_proxies_only(
    world, rf, settings, proxies, forwarded, recorded
):
    settings.TELESANTE_TRUSTED_PROXIES = proxies
    request = rf.get("/patients/1/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    policy.get_patient(request, world.nurse_a, world.patient_a.pk, AuditAction.READ)
    assert AuditEntry.objects.get().ip == recorded
