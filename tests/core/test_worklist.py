"""The home page's work list: each section computed from the data, through the wall, audited,
at a constant number of queries; the menus shaped by what the user can do."""

import datetime

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format

from telesante.accounts.models import Profession
from telesante.acts.models import Act, ActStatus
from telesante.core import worklist
from telesante.core.models import AuditAction, AuditEntry
from telesante.deployment import services as deployment
from telesante.notifications.models import Notification
from telesante.rooms.models import Presence
from telesante.structures.models import StructureKind
from telesante.teleconsultation import services as tc_services
from telesante.teleexpertise import services
from telesante.telesurveillance.models import Alert, AlertState
from tests.conftest import logged_in, make_structure, make_user
from tests.rooms.conftest import Socket as RoomSocket
from tests.rooms.conftest import booking, token_for
from tests.teleexpertise.conftest import answered, geriatric_request, wound_request
from tests.teleexpertise.test_notifications import Socket as NotificationSocket


def section(user, key: str) -> worklist.Section | None:
    return next((s for s in worklist.build(None, user) if s.key == key), None)


def urls(user, key: str) -> list[str]:
    found = section(user, key)
    return [line.url for line in found.lines] if found else []


def te_url(te) -> str:
    return reverse("teleexpertise_detail", args=[te.pk])


def count_queries(client, url: str) -> int:
    client.get(url)  # warm-up: the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Expert


def test_expert_gets_urgent_first_then_by_deadline_and_sees_the_requester_replied(te_world):
    t = te_world
    nurse, expert = t.w.nurse_a, t.wound_expert
    replied = services.create(None, nurse, wound_request(t, question="Plaie du talon ?"))
    services.claim(None, expert, replied)
    services.post_message(None, expert, replied, "Depuis quand ?", ask_info=True)
    asked = services.create(None, nurse, wound_request(t, question="Escarre ?"))
    services.claim(None, expert, asked)
    services.post_message(None, expert, asked, "Quel pansement ?", ask_info=True)
    normal = services.create(None, nurse, wound_request(t))
    urgent = services.create(None, nurse, wound_request(t, urgency="urgent"))
    # The normal request falls due before the urgent one: urgency still comes first.
    Act.objects.filter(pk=normal.pk).update(due_at=timezone.now() + datetime.timedelta(hours=1))
    # Both questions wait for the requester: nothing for the expert to do on them yet.
    assert urls(expert, "expert") == [te_url(urgent), te_url(normal)]

    services.post_message(None, nurse, replied, "Depuis trois semaines.")
    assert urls(expert, "expert") == [te_url(urgent), te_url(normal), te_url(replied)]
    lines = section(expert, "expert").lines
    assert [line.title for line in lines] == [
        "Nouvelle demande urgente",
        "Nouvelle demande",
        "Le demandeur a répondu à votre question",
    ]
    assert lines[0].tone == "urgent" and lines[0].patient == t.w.patient_a
    # The other filière's expert and the requester's colleagues in another structure: nothing.
    assert section(t.derm_expert, "expert") is None
    assert section(t.w.nurse_b, "expert") is None


def test_each_expert_gets_their_own_claims_from_the_statement_compiled_once(te_world):
    """The sections' statements are compiled once per process, then given each request's
    values: one holding the first user's would show their requests to the next."""
    t = te_world
    first, second, pooled = (services.create(None, t.w.nurse_a, wound_request(t)) for _ in "abc")
    services.claim(None, t.wound_expert, first)
    services.claim(None, t.wound_expert_2, second)
    for _round in range(2):
        assert sorted(urls(t.wound_expert, "expert")) == sorted([te_url(first), te_url(pooled)])
        assert sorted(urls(t.wound_expert_2, "expert")) == sorted([te_url(second), te_url(pooled)])


# Requester


def test_requester_sees_the_question_the_decline_with_its_reason_and_an_unread_answer(te_world):
    t = te_world
    nurse = t.w.nurse_a
    question = services.create(None, nurse, wound_request(t))
    services.claim(None, t.wound_expert, question)
    services.post_message(None, t.wound_expert, question, "Quelle taille ?", ask_info=True)
    declined = services.create(None, nurse, wound_request(t))
    services.claim(None, t.wound_expert_2, declined)
    services.decline(None, t.wound_expert_2, declined, "Avis gériatrique plutôt que plaies")
    answer = answered(t)
    services.create(None, nurse, wound_request(t))  # pooled, nothing to do for the nurse

    lines = {line.url: line for line in section(nurse, "requests").lines}
    assert list(lines) == [te_url(question), te_url(declined), te_url(answer)]
    assert lines[te_url(question)].title == "Question de l'expert"
    assert "Quelle taille ?" in lines[te_url(question)].note
    assert "Motif : Avis gériatrique plutôt que plaies" in lines[te_url(declined)].note
    assert lines[te_url(answer)].title == "Nouvelle réponse de l'expert"

    # Opening the answered request reads its notifications: the answer leaves the list.
    assert logged_in(nurse).get(te_url(answer)).status_code == 200
    assert te_url(answer) not in urls(nurse, "requests")
    assert not Notification.objects.filter(user=nurse, act=answer.act, read_at=None).exists()
    assert Notification.objects.filter(user=nurse, act=question.act, read_at=None).exists()
    # Another structure's nurse has none of them.
    assert section(t.w.nurse_b, "requests") is None


def test_home_page_shows_the_list_and_audits_every_patient_listed(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t, urgency="urgent"))
    page = logged_in(t.wound_expert).get(reverse("home")).content.decode()
    assert "Nouvelle demande urgente" in page and str(t.w.patient_a) in page
    assert te_url(te) in page
    entry = AuditEntry.objects.filter(actor_id=t.wound_expert.pk, detail="liste de travail").get()
    assert (entry.action, entry.patient_id) == (AuditAction.SEARCH, t.w.patient_a.pk)
    fragment = logged_in(t.wound_expert).get(reverse("worklist")).content.decode()
    assert "<html" not in fragment and te_url(te) in fragment
    empty = logged_in(t.w.nurse_b).get(reverse("worklist")).content.decode()
    assert "Rien à traiter pour le moment." in empty and te_url(te) not in empty


def test_expert_and_requester_lists_cost_constant_queries(te_world):
    t = te_world
    geriatrician = make_user(
        "geriatre@example.test",
        structure=t.wound_expert.memberships.get().structure,
        profession=Profession.DOCTOR,
        specialty="geriatrie",
    )

    def add(n: int) -> None:
        for i in range(n):
            te = services.create(None, t.w.nurse_a, geriatric_request(t))
            if i % 2:
                services.claim(None, geriatrician, te)
                services.post_message(None, geriatrician, te, "Poids ?", ask_info=True)

    expert, nurse = logged_in(geriatrician), logged_in(t.w.nurse_a)
    add(2)
    few = count_queries(expert, reverse("worklist")), count_queries(nurse, reverse("worklist"))
    add(22)
    assert len(section(geriatrician, "expert").lines) == worklist.SECTION_SIZE
    assert section(t.w.nurse_a, "requests").more
    many = count_queries(expert, reverse("worklist")), count_queries(nurse, reverse("worklist"))
    assert many == few


# Téléconsultation


def test_consultations_of_today_and_tomorrow_with_who_waits_and_the_join_button(tc_world):
    c = tc_world
    tc, room = c.consultation, c.room
    waiting = Presence.objects.create(
        peer_id="p-nurse",
        room=room,
        party=f"user:{c.w.nurse_a.pk}",
        label="Camille D.",
        channel="x",
    )
    later = tc_services.create(
        None,
        c.w.nurse_a,
        booking(c.w, c.cardiologist, scheduled_at=timezone.now() + datetime.timedelta(days=3)),
    )
    done = tc_services.create(None, c.w.nurse_a, booking(c.w, c.cardiologist))
    Act.objects.filter(pk=done.pk).update(status=ActStatus.DONE)

    (line,) = section(c.cardiologist, "consultations").lines
    since = time_format(timezone.localtime(waiting.joined_at), "H:i")
    assert line.note == f"Camille D. en attente depuis {since}"
    assert line.tone == "urgent"
    assert line.action_url == reverse("room", args=[room.slug])
    assert line.url == reverse("teleconsultation_detail", args=[tc.pk])
    assert later.pk != tc.pk
    # The requester too; a colleague of the structure who is no party, and others, do not.
    assert urls(c.w.nurse_a, "consultations") == [line.url]
    assert section(c.w.doctor_a, "consultations") is None
    assert section(c.w.nurse_b, "consultations") is None

    Presence.objects.filter(pk=waiting.pk).update(admitted_rank=1.0)
    assert section(c.cardiologist, "consultations").lines[0].note.startswith("Appel en cours")
    page = logged_in(c.cardiologist).get(reverse("home")).content.decode()
    assert "Rejoindre la salle" in page and reverse("room", args=[room.slug]) in page


def test_consultation_list_costs_constant_queries(tc_world):
    c = tc_world
    client = logged_in(c.cardiologist)
    # Short acts before the fixture's own (2 h 30 from now at the earliest).
    start = timezone.now() + datetime.timedelta(minutes=5)

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            when = start + datetime.timedelta(minutes=10 * i)
            new = booking(c.w, c.cardiologist, scheduled_at=when, duration_minutes=5)
            tc = tc_services.create(None, c.w.nurse_a, new)
            Presence.objects.create(
                peer_id=f"p{i}", room=tc.act.room, party="guest:1", label="Invité", channel="x"
            )

    add(0, 2)
    few = count_queries(client, reverse("worklist"))
    add(2, 12)
    assert len(section(c.cardiologist, "consultations").lines) == worklist.SECTION_SIZE
    assert count_queries(client, reverse("worklist")) == few


def test_the_work_list_runs_its_statements_on_one_plan_each(tc_world):
    """PostgreSQL planned the consultations' statement for each run's values (1.2 ms of
    planning for 0.13 of work at a million acts): within the work list it keeps one plan."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    client = logged_in(tc_world.cardiologist)
    for _ in range(4):  # prepared by psycopg on its third run (prepare_threshold=2)
        response = client.get(reverse("worklist"))
        assert response.status_code == 200
        assert reverse("teleconsultation_detail", args=[tc_world.consultation.pk]) in str(
            response.content, "utf-8"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ['%"teleconsultation_teleconsultation"."scheduled_at" >= %'],
        )
        (plans,) = cursor.fetchall()
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "auto"  # and PostgreSQL's own choice after it
    assert plans == (2, 0)


# Télésurveillance


def alert(tsv, severity: int, message: str, state: str = AlertState.OPEN) -> Alert:
    return Alert.objects.create(
        enrolment=tsv.enrolment,
        patient=tsv.w.patient_a,
        rule="spo2:below",
        severity=severity,
        message=message,
        opened_at=timezone.now(),
        state=state,
    )


def test_monitoring_team_gets_live_alerts_by_severity_then_flagged_enrolments(tsv):
    enrolment = tsv.enrolment
    enrolment.ends_on = timezone.localdate() + datetime.timedelta(days=90)
    enrolment.save(update_fields=["ends_on"])
    alert(tsv, 2, "Poids +2,1 kg en 3 jours")
    alert(tsv, 4, "SpO2 84 % (< 90 %)")
    alert(tsv, 3, "Fréquence cardiaque 128/min", AlertState.ACKNOWLEDGED)
    alert(tsv, 4, "SpO2 82 % (< 90 %)", AlertState.RESOLVED)

    lines = section(tsv.operator, "monitoring").lines
    assert [(line.title, line.note) for line in lines] == [
        ("Alerte critique", "SpO2 84 % (< 90 %)"),
        ("Alerte élevée", "Fréquence cardiaque 128/min"),
        ("Alerte modérée", "Poids +2,1 kg en 3 jours"),
    ]
    assert lines[0].tone == "critical"
    assert lines[0].url == reverse("telesurveillance_patient", args=[enrolment.pk])

    enrolment.adherence_flag = "Observance à 1 mois : 40 %"
    enrolment.save(update_fields=["adherence_flag"])
    assert section(tsv.operator, "monitoring").lines[-1].title == "Observance sous 50 %"
    enrolment.adherence_flag = ""
    enrolment.ends_on = timezone.localdate() + datetime.timedelta(days=5)
    enrolment.save(update_fields=["adherence_flag", "ends_on"])
    last = section(tsv.operator, "monitoring").lines[-1]
    assert (last.title, last.when) == ("Fin du suivi proche", enrolment.ends_on)
    # Another team, and the prescriber (who is not of the team), have nothing here.
    assert section(tsv.other_operator, "monitoring") is None
    assert section(tsv.w.doctor_a, "monitoring") is None


def test_monitoring_list_costs_constant_queries(tsv):
    client = logged_in(tsv.operator)
    for i in range(2):
        alert(tsv, 1 + i % 4, f"Alerte {i}")
    few = count_queries(client, reverse("worklist"))
    for i in range(20):
        alert(tsv, 1 + i % 4, f"Alerte {i}")
    assert count_queries(client, reverse("worklist")) == few


# Deployment; regional roles get nothing clinical


def test_structure_admin_and_support_officer_get_the_next_milestone(world):
    site = deployment.site_for(world.ehpad_a)
    record = deployment.record_milestone
    today = timezone.localdate()
    record(world.regional_admin, site, deployment.MilestoneInput("needs", None, today))
    planned = today + datetime.timedelta(days=10)
    record(world.regional_admin, site, deployment.MilestoneInput("framing", planned, None))

    (line,) = section(world.admin_a, "deployment").lines
    assert (line.title, line.note, line.when) == (
        world.ehpad_a.name,
        "Prochaine étape : Cadrage",
        planned,
    )
    # The structure's administrator has no deployment pages: the line opens the structure.
    assert line.url == reverse("structure_detail", args=[world.ehpad_a.pk])
    site.officer = world.observer
    site.save(update_fields=["officer"])
    (line,) = section(world.observer, "deployment").lines
    assert line.url == reverse("deployment_site", args=[world.ehpad_a.pk])
    assert section(world.nurse_a, "deployment") is None
    assert worklist.build(None, world.regional_admin) == []


# Menus and forms shaped by the role


def nav_links(user) -> str:
    page = logged_in(user).get(reverse("home")).content.decode()
    return page[page.index('<nav id="main-nav"') : page.index("</nav>")]


def test_menus_follow_what_the_user_can_do(world):
    pharmacy = make_structure("Pharmacie du Centre", kind=StructureKind.PHARMACY)
    pharmacist = make_user("pharma@example.test", structure=pharmacy, profession="pharmacien")
    nav = nav_links(pharmacist)
    assert "Téléconsultation" in nav and "Patients" in nav
    assert "Télésurveillance" not in nav and "Télé-expertise" not in nav

    ch = make_structure("CH de Laval", kind=StructureKind.CH)
    operator = make_user("ide.tsv@example.test", structure=ch)
    assert "Télésurveillance" in nav_links(operator)
    assert "Télésurveillance" not in nav_links(world.nurse_a)  # an EHPAD monitors no one

    region = logged_in(world.regional_admin).get(reverse("home")).content.decode()
    assert "Nouveau patient" not in region and reverse("patient_create") not in region
    nav = nav_links(world.regional_admin)
    assert "Indicateurs" in nav and "Patients" not in nav and "Téléconsultation" not in nav
    assert "Rien à traiter pour le moment." in region


def test_nursing_home_booking_defaults_to_the_nurse_at_the_bedside(world):
    form = reverse("teleconsultation_create")
    selected = '<option value="nurse_visit" selected>'
    assert selected in logged_in(world.nurse_a).get(form).content.decode()
    assert selected not in logged_in(world.doctor_a).get(form).content.decode()
    chosen = logged_in(world.nurse_a).get(form, {"assistance": "nurse_site"}).content.decode()
    assert '<option value="nurse_site" selected>' in chosen and selected not in chosen
    pharmacy = make_structure("Pharmacie du Centre", kind=StructureKind.PHARMACY)
    pharmacist = make_user("pharma@example.test", structure=pharmacy, profession="pharmacien")
    page = logged_in(pharmacist).get(form).content.decode()
    assert '<option value="pharmacy" selected>' in page


def test_pages_carry_the_favicon(world):
    assert 'rel="icon"' in logged_in(world.nurse_a).get(reverse("home")).content.decode()
    assert 'rel="icon"' in logged_in(None).get(reverse("account_login")).content.decode()


def test_home_scripts_are_files_not_inline(world):
    page = logged_in(world.nurse_a).get(reverse("home")).content.decode()
    assert "js/nav.js" in page and "js/worklist.js" in page
    assert "<script>" not in page and "onclick=" not in page and 'style="' not in page


# The consumers read from another thread: the data must be committed.
@pytest.mark.django_db(transaction=True)
def test_entering_the_waiting_room_refreshes_the_parties_work_lists(tc_world):
    c = tc_world

    async def scenario():
        doctor = NotificationSocket(c.cardiologist)
        assert (await doctor.connect())[0]
        assert await doctor.receive_json_from() == {"unread": 0}
        outsider = NotificationSocket(c.w.nurse_b)
        assert (await outsider.connect())[0]
        await outsider.receive_json_from()
        nurse = RoomSocket(
            c.room.slug, await database_sync_to_async(token_for)(c.w.nurse_a, c.room)
        )
        await nurse.connect()
        await nurse.expect("waiting")
        assert await doctor.receive_json_from() == {"worklist": True}
        assert await outsider.receive_nothing(timeout=0.3)
        await nurse.drop()
        assert await doctor.receive_json_from() == {"worklist": True}
        await doctor.disconnect()
        await outsider.disconnect()

    async_to_sync(scenario)()


def test_the_lines_urls_are_those_django_reverses_under_any_script_prefix():
    """The lines' URLs are made from one reverse() a name (worklist._url): the same as
    Django's for every key, with the site served at the root or under a path."""
    from django.urls import clear_script_prefix, set_script_prefix

    named = [
        ("teleexpertise_detail", 7),
        ("teleconsultation_detail", 918273645123),
        ("room", "salle-ab12_cd"),
        ("telesurveillance_patient", 42),
        ("structure_detail", 3),
    ]
    for prefix in ("/", "/region-bretagne/"):
        set_script_prefix(prefix)
        try:
            for name, key in named:
                assert worklist._url(name, key) == reverse(name, args=[key])
                assert worklist._url(name, key).startswith(prefix)
            assert worklist._url("teleexpertise_list") == reverse("teleexpertise_list")
        finally:
            clear_script_prefix()


def test_a_long_question_shows_as_an_excerpt_a_short_one_whole(te_world):
    t = te_world
    nurse = t.w.nurse_a
    long_question = "Quelle est la taille exacte de la plaie, sa profondeur et son aspect ? " * 5
    asked = {}
    for question in (long_question, "Quelle taille ?"):
        te = services.create(None, nurse, wound_request(t))
        services.claim(None, t.wound_expert, te)
        services.post_message(None, t.wound_expert, te, question, ask_info=True)
        asked[question] = te_url(te)
    notes = {line.url: line.note for line in section(nurse, "requests").lines}
    filiere, excerpt = notes[asked[long_question]].split(" — ", 1)
    assert len(excerpt) == worklist.EXCERPT and excerpt.endswith("…")
    assert long_question.startswith(excerpt[:-1])
    assert notes[asked["Quelle taille ?"]] == f"{filiere} — Quelle taille ?"
