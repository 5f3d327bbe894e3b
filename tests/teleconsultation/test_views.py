"""Pages and API of téléconsultation and rooms: booking, report beside the call, guest links,
list costs, TURN credentials."""

import base64
import datetime
import hashlib
import hmac
import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telesante.acts.models import Act, ActStatus
from telesante.core.models import AuditEntry
from telesante.rooms import ice, tokens
from telesante.rooms.models import GuestLink
from telesante.teleconsultation import booking as tc_booking
from telesante.teleconsultation import services
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import TC, booking, in_call


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_page_and_endpoint_cost_constant_queries(tc_world: TC):
    w, doctor = tc_world.w, tc_world.cardiologist
    page, api = logged_in(w.nurse_a), api_client(w.nurse_a)
    url = reverse("teleconsultation_list")
    # First requests: the session checks the second factor once, the token records its use.
    page.get(url)
    api.get("/api/v1/teleconsultations")
    small_page, small_api = _queries(page, url), _queries(api, "/api/v1/teleconsultations")
    for _ in range(4):
        services.create(None, w.nurse_a, booking(w, doctor))
    assert _queries(page, url) == small_page
    assert _queries(api, "/api/v1/teleconsultations") == small_api
    assert len(api.get("/api/v1/teleconsultations").json()) == 5
    assert page.get(url).content.decode().count("Rejoindre") == 5


def test_list_page_and_endpoint_read_by_pages(tc_world: TC, pages_of_two):
    w, doctor = tc_world.w, tc_world.cardiologist
    for _ in range(2):  # the world has one already
        services.create(None, w.nurse_a, booking(w, doctor))
    newest_first = list(services.listing(w.nurse_a))
    assert len(newest_first) == 3
    url = reverse("teleconsultation_list")
    second = logged_in(w.nurse_a).get(url, {"page": "2"})
    assert list(second.context["page"]) == newest_first[2:]
    assert "Page 2 sur 2 (3 résultats)" in second.content.decode()
    audited = AuditEntry.objects.filter(actor_id=w.nurse_a.pk, action="search")
    assert audited.count() == 1 and audited.get().object_id == str(newest_first[2].act_id)
    api = api_client(w.nurse_a).get("/api/v1/teleconsultations", {"offset": 1, "limit": 1})
    assert [tc["id"] for tc in api.json()] == [newest_first[1].act_id]
    assert api["X-Total-Count"] == "3"


def test_booking_page_books_or_explains_in_french(tc_world: TC):
    w = tc_world.w
    client = logged_in(w.nurse_a)
    form = {
        "patient": w.patient_a.pk,
        "structure": w.ehpad_a.pk,
        "kind": "teleconsultation",
        "performer": tc_world.cardiologist.pk,
        "scheduled_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "duration_minutes": "20",
        "reason": "Suivi d'insuffisance cardiaque",
        "assistance": "nurse_visit",
        "information_given": "on",
        "decision": "consent",
    }
    bad = client.post(
        reverse("teleconsultation_create"), {**form, "scheduled_at": "demain", "decision": ""}
    )
    assert bad.status_code == 400
    assert "Indiquez la date et l&#x27;heure." in bad.content.decode()
    assert "Indiquez si le patient consent." in bad.content.decode()
    # A duration typed wrong is refused in French, never replaced by the default.
    acts = Act.objects.count()
    for raw, message in (("20,5", "Saisissez un nombre entier."), ("vingt", "par exemple 3,5")):
        wrong = client.post(reverse("teleconsultation_create"), {**form, "duration_minutes": raw})
        assert wrong.status_code == 400 and message in wrong.content.decode()
    too_long = client.post(reverse("teleconsultation_create"), {**form, "duration_minutes": "240"})
    assert "Valeur attendue entre 5 et 120 min." in too_long.content.decode()
    assert Act.objects.count() == acts
    other = client.post(reverse("teleconsultation_create"), {**form, "patient": w.patient_b.pk})
    assert "Patient ou structure inaccessible." in other.content.decode()
    ok = client.post(reverse("teleconsultation_create"), form)
    act = Act.objects.latest("pk")
    assert ok.status_code == 302 and ok["Location"] == reverse(
        "teleconsultation_detail", args=[act.pk]
    )
    detail = client.get(ok["Location"]).content.decode()
    assert reverse("room", args=[act.room.slug]) in detail


def test_a_colleague_who_reads_the_act_is_offered_only_what_the_parties_may_do(tc_world: TC):
    """The structure's administrator reads the act through the wall but is no party to it: the
    page offers no room, no guest link and no incident, which the room and services refuse her
    (a 404 or a 403 behind a button would be a dead end)."""
    tc = tc_world.consultation
    url = reverse("teleconsultation_detail", args=[tc.pk])
    room = reverse("room", args=[tc_world.room.slug])
    forms = (
        reverse("teleconsultation_invite", args=[tc.pk]),
        reverse("teleconsultation_incident", args=[tc.pk]),
    )
    admin = logged_in(tc_world.w.admin_a)
    page = admin.get(url)
    assert page.status_code == 200 and "œdèmes des membres" in page.content.decode()
    assert room not in page.content.decode()
    assert not any(form in page.content.decode() for form in forms)
    assert admin.get(room).status_code == 404
    party = logged_in(tc_world.w.nurse_a).get(url).content.decode()
    assert room in party and all(form in party for form in forms)


def test_report_is_saved_beside_the_call_and_finishing_gives_the_pdf(tc_world: TC):
    client = logged_in(tc_world.cardiologist)
    url = reverse("teleconsultation_report_save", args=[tc_world.consultation.pk])
    json_accept = {"HTTP_ACCEPT": "application/json"}
    refused = client.post(url, {"report_text": "", "finish": "1"}, **json_accept)
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"report_text": ["Rédigez le compte rendu avant de clore."]}
    draft = client.post(url, {"report_text": "En cours"}, **json_accept).json()
    assert draft == {"message": "Compte rendu enregistré.", "pdf_url": ""}
    in_call(tc_world.consultation, tc_world.cardiologist)
    done = client.post(
        url, {"report_text": "Examen rassurant.", "finish": "1"}, **json_accept
    ).json()
    assert done["pdf_url"] == reverse("teleconsultation_report", args=[tc_world.consultation.pk])
    pdf = logged_in(tc_world.w.nurse_a).get(done["pdf_url"])
    assert (
        pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content)[:5] == b"%PDF-"
    )
    assert Act.objects.get(pk=tc_world.consultation.pk).status == ActStatus.DONE
    # Closed: the room page is gone, and so is a second report.
    again = client.post(url, {"report_text": "Encore"})
    assert again.status_code == 302
    assert (
        logged_in(tc_world.cardiologist).get(reverse("room", args=[tc_world.room.slug])).status_code
        == 404
    )


def test_guest_link_enters_once_valid_and_is_refused_once_expired(tc_world: TC):
    doctor = logged_in(tc_world.cardiologist)
    pk = tc_world.consultation.pk
    doctor.post(reverse("teleconsultation_invite", args=[pk]), {"label": "", "hours": "2"})
    assert not GuestLink.objects.exists()
    doctor.post(
        reverse("teleconsultation_invite", args=[pk]), {"label": "Mme Dorvane", "hours": "2"}
    )
    guest = GuestLink.objects.get()
    # The page's link is signed with the second it is shown: read from the page, it names the guest.
    shown = doctor.get(reverse("teleconsultation_detail", args=[pk])).content.decode()
    found = re.search(r'/salle/invite/([^/"]+)/', shown)
    assert found and tokens.guest_id(found[1]) == guest.pk
    link = found[0]
    visitor = logged_in(None)
    page = visitor.get(link)
    assert page.status_code == 200 and "Mme Dorvane" in page.content.decode()
    token = visitor.get(reverse("room_token", args=[tc_world.room.slug])).json()["token"]
    claim = tokens.read(token, tc_world.room.slug)
    assert (claim.party, claim.host) == (f"g:{guest.pk}", False)
    GuestLink.objects.filter(pk=guest.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert visitor.get(reverse("room_token", args=[tc_world.room.slug])).status_code == 403
    refused = logged_in(None).get(link)
    assert refused.status_code == 403
    assert "Ce lien d&#x27;invitation a expiré ou a été retiré." in refused.content.decode()
    assert logged_in(None).get(reverse("room_guest", args=["inventé"])).status_code == 403


def test_api_books_with_field_errors_and_gives_the_room(tc_world: TC):
    w = tc_world.w
    client = api_client(w.nurse_a)
    body = {
        "patient_id": w.patient_a.pk,
        "structure_id": w.ehpad_a.pk,
        "kind": "telesoin",
        "performer_id": w.doctor_a.pk,
        "scheduled_at": "2099-01-05T10:00:00+01:00",
        "reason": "Suivi",
        "information_given": True,
        "decision": "consent",
    }
    bad = client.post("/api/v1/teleconsultations", body, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"]["performer"] == [
        "Le télésoin est réservé aux pharmaciens et aux auxiliaires médicaux."
    ]
    schema = client.post(
        "/api/v1/teleconsultations", {**body, "assistance": "x"}, content_type="application/json"
    )
    assert schema.status_code == 422 and "assistance" in schema.json()["errors"]
    ok = client.post(
        "/api/v1/teleconsultations",
        {**body, "kind": "teleconsultation"},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert ok.json()["room_slug"] == Act.objects.get(pk=ok.json()["id"]).room.slug


def test_turn_credentials_follow_coturn_rest_secret(settings):
    settings.TELESANTE_TURN_SECRET = "secret-partage"
    settings.TELESANTE_TURN_TTL = 600
    settings.TELESANTE_TURN_URLS = ["turn:turn.example:3478?transport=udp"]
    settings.TELESANTE_STUN_URLS = ["stun:turn.example:3478"]
    username, credential = ice.turn_credentials("u:7", now=1_000_000)
    assert username == "1000600:u:7"
    expected = hmac.new(b"secret-partage", b"1000600:u:7", hashlib.sha1).digest()
    assert credential == base64.b64encode(expected).decode()
    servers = ice.ice_servers("u:7")
    assert servers[0] == {"urls": ["stun:turn.example:3478"]}
    assert servers[1]["urls"] == ["turn:turn.example:3478?transport=udp"]
    assert int(servers[1]["username"].split(":")[0]) > 1_000_600
    settings.TELESANTE_TURN_SECRET = ""
    assert ice.ice_servers("u:7") == [{"urls": ["stun:turn.example:3478"]}]


def test_room_token_endpoint_and_test_room_api(tc_world: TC):
    w = tc_world.w
    token = (
        logged_in(w.nurse_a).get(reverse("room_token", args=[tc_world.room.slug])).json()["token"]
    )
    assert tokens.read(token, tc_world.room.slug).party == f"u:{w.nurse_a.pk}"
    made = api_client(w.nurse_a).post("/api/v1/rooms/test").json()
    claims = [tokens.read(t, made["slug"]) for t in made["tokens"]]
    assert [(c.party, c.host) for c in claims] == [
        (f"u:{w.nurse_a.pk}:a", True),
        (f"u:{w.nurse_a.pk}:b", True),
    ]
    seat = api_client(w.nurse_a).post(
        f"/api/v1/rooms/{made['slug']}/token",
        json.dumps({"seat": "b"}),
        content_type="application/json",
    )
    assert tokens.read(seat.json()["token"], made["slug"]).party == f"u:{w.nurse_a.pk}:b"


def test_files_shared_from_the_room_are_checked_and_filed(tc_world: TC):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from telesante.documents.models import Attachment
    from telesante.rooms.models import ChatMessage
    from tests.teleexpertise.conftest import jpeg

    url = reverse("room_share", args=[tc_world.room.slug])
    nurse = logged_in(tc_world.w.nurse_a)
    assert nurse.post(url).json()["errors"] == {"file": ["Champ obligatoire."]}
    text = SimpleUploadedFile("notes.txt", b"bonjour", content_type="text/plain")
    refused = nurse.post(url, {"file": text})
    assert refused.status_code == 400
    assert "n'est pas une image JPEG ou PNG ni un PDF" in refused.json()["detail"]
    made = nurse.post(url, {"file": jpeg("otoscope.jpg")})
    assert made.status_code == 201
    attachment = Attachment.objects.get()
    assert made.json()["url"] == reverse("attachment", args=[attachment.pk])
    assert attachment.act_id == tc_world.consultation.pk and attachment.field == "salle"
    assert ChatMessage.objects.get().body == "Document versé au dossier : otoscope.jpg"
    detail = nurse.get(reverse("teleconsultation_detail", args=[tc_world.consultation.pk]))
    assert reverse("attachment", args=[attachment.pk]) in detail.content.decode()
    test_room = api_client(tc_world.w.nurse_a).post("/api/v1/rooms/test").json()["slug"]
    other = nurse.post(reverse("room_share", args=[test_room]), {"file": jpeg()})
    assert other.status_code == 403


def _invite_with_code(tc_world: TC, contact: str, capture, stored: str) -> str:
    doctor = logged_in(tc_world.cardiologist)
    with capture(execute=True):
        doctor.post(
            reverse("teleconsultation_invite", args=[tc_world.consultation.pk]),
            {
                "label": "M. Valmorin (fils)",
                "relation": "famille",
                "hours": "2",
                "contact": contact,
            },
        )
    guest = GuestLink.objects.get()
    assert guest.contact == stored and guest.code_hash
    return reverse("room_guest", args=[tokens.guest_value(guest.pk)])


def test_guest_code_goes_through_the_console_backend_and_is_asked(
    tc_world: TC, capsys, django_capture_on_commit_callbacks
):
    link = _invite_with_code(
        tc_world, "06 12 34 56 78", django_capture_on_commit_callbacks, "+33612345678"
    )
    printed = capsys.readouterr().out
    assert "[SMS] à +33612345678 : Code de votre téléconsultation :" in printed
    code = printed.split("téléconsultation : ")[1][:6]
    visitor = logged_in(None)
    asked = visitor.get(link)
    assert "Saisissez le code à 6 chiffres" in asked.content.decode()
    # No token before the code.
    assert visitor.get(reverse("room_token", args=[tc_world.room.slug])).status_code == 302
    wrong = visitor.post(link, {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "Code incorrect." in wrong.content.decode()
    right = visitor.post(link, {"code": code})
    assert right.status_code == 302 and right["Location"] == link
    assert visitor.get(link).status_code == 200
    assert visitor.get(reverse("room_token", args=[tc_world.room.slug])).json()["token"]


def test_five_wrong_codes_withdraw_the_link_and_an_address_gets_an_email(
    tc_world: TC, mailoutbox, django_capture_on_commit_callbacks
):
    link = _invite_with_code(
        tc_world, " fils@example.test ", django_capture_on_commit_callbacks, "fils@example.test"
    )
    assert mailoutbox[0].to == ["fils@example.test"]
    assert mailoutbox[0].subject == "Votre code de téléconsultation"
    code = mailoutbox[0].body.split(" : ")[1][:6]
    visitor = logged_in(None)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        last = visitor.post(link, {"code": wrong})
    assert "Trop d&#x27;erreurs : ce lien est retiré." in last.content.decode()
    assert visitor.post(link, {"code": code}).status_code == 403


def test_booking_page_shows_a_week_of_slots_or_says_none_are_published(tc_world: TC):
    w, cardio = tc_world.w, tc_world.cardiologist
    client = logged_in(w.nurse_a)
    url = reverse("teleconsultation_create")
    none = client.get(url, {"performer": cardio.pk, "patient": w.patient_a.pk}).content.decode()
    assert "n'a publié aucun créneau" in none and 'type="datetime-local"' in none
    assert 'value="DORVANE Alix"' in none  # the chosen patient stays chosen
    ch = cardio.memberships.get().structure
    in_two_days = timezone.localdate() + datetime.timedelta(days=2)
    tc_booking.add_availability(
        None, cardio, ch.pk, in_two_days.weekday(), datetime.time(9), datetime.time(10)
    )
    page = client.get(url, {"performer": cardio.pk}).content.decode()
    assert len(re.findall(r'class="week-day(?: no-slot)?"', page)) == 7
    assert page.count('name="scheduled_at"') == 2  # 9:00 and 9:25 (20 min + 5)
    day = in_two_days.strftime("%Y-%m-%d")
    assert f'value="{day}T09:25"' in page and 'type="datetime-local"' not in page
    later = client.get(url, {"performer": cardio.pk, "week": "1"}).content.decode()
    next_week = (in_two_days + datetime.timedelta(days=7)).strftime("%Y-%m-%d")
    assert f'value="{next_week}T09:00"' in later and f'value="{day}T09:00"' not in later
    # No list of professionals nor patients on the page: they are searched.
    assert f'<option value="{cardio.pk}"' not in page
