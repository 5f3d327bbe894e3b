"""The télé-expertise and notification pages, driven with Django's test client."""

import datetime
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.accounts.models import Profession
from telesante.acts.models import Act, Filiere
from telesante.core.models import AuditEntry
from telesante.documents.models import Attachment
from telesante.notifications.models import Notification
from telesante.notifications.services import notify
from telesante.patients.models import Consent
from telesante.teleexpertise import services
from telesante.teleexpertise.models import State
from tests.conftest import api_client, logged_in, make_user
from tests.teleexpertise.conftest import answered, geriatric_request, jpeg, pdf, wound_request

CREATE = reverse("teleexpertise_create")
LIST = reverse("teleexpertise_list")


def text(response) -> str:
    return html.unescape(response.content.decode())


def detail_url(te) -> str:
    return reverse("teleexpertise_detail", args=[te.pk])


def flash(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def te(te_world):
    return services.create(None, te_world.w.nurse_a, wound_request(te_world))


# The list


def test_list_inbox_outbox_and_state_filter(te_world, te):
    t = te_world
    other = services.create(None, t.w.nurse_a, wound_request(t, question="Ulcère ?"))
    services.claim(None, t.wound_expert, other)

    def pks(user, **query) -> list[int]:
        response = logged_in(user).get(LIST, query)
        assert response.status_code == 200
        return [item.pk for item in response.context["page"]]

    # An expert lands on what they receive, a nurse on what she sent.
    assert logged_in(t.wound_expert).get(LIST).context["box"] == "inbox"
    assert logged_in(t.w.nurse_a).get(LIST).context["box"] == "outbox"
    assert pks(t.wound_expert) == [te.pk, other.pk]
    assert pks(t.wound_expert_2) == [te.pk]
    assert pks(t.wound_expert, state="claimed") == [other.pk]
    assert pks(t.wound_expert, state="pooled") == [te.pk]
    assert pks(t.wound_expert, state="n_importe_quoi") == [te.pk, other.pk]
    assert pks(t.w.nurse_a) == [te.pk, other.pk]
    assert pks(t.w.nurse_a, box="outbox", state="claimed") == [other.pk]
    assert pks(t.w.nurse_a, box="inbox") == []
    assert pks(t.wound_expert, box="outbox") == []
    page = text(logged_in(t.w.nurse_a).get(LIST))
    assert "DORVANE Alix" in page
    assert "Plaies et cicatrisation" in page
    assert "Prise en charge" in page  # the state label


# Creating a request


def test_create_step_1_chooses_the_filiere(te_world):
    response = logged_in(te_world.w.nurse_a).get(CREATE)
    assert response.status_code == 200
    page = text(response)
    assert "Étape 1 sur 2" in page
    for name in ("Dermatologie", "Cardiologie", "Plaies et cicatrisation", "Gériatrie"):
        assert name in page
    # The patient is searched (picker), never listed: no one's name on the page.
    assert 'data-url="/patients/recherche/"' in page
    assert "DORVANE" not in page and "VALMORIN" not in page


def test_create_step_2_shows_the_filiere_form(te_world):
    t = te_world
    response = logged_in(t.w.nurse_a).get(
        CREATE,
        {
            "filiere": "plaies_cicatrisation",
            "patient": t.w.patient_a.pk,
            "structure": t.w.ehpad_a.pk,
        },
    )
    page = text(response)
    assert "Étape 2 sur 2" in page
    for field in (
        "f_wound_type",
        "f_location",
        "f_length_cm",
        "f_stage",
        "f_photos",
        "f_photos_date",
    ):
        assert f'name="{field}"' in page
    assert "Plaie du pied diabétique" in page
    assert 'value="DORVANE Alix"' in page  # the patient chosen at step 1
    # The named expert is searched among the filière's experts only.
    search = reverse("search_professionals", args=["expert"])
    assert f'data-url="{search}" data-params="filiere=#filiere_code"' in page
    found = logged_in(t.w.nurse_a).get(search, {"q": "test", "filiere": "plaies_cicatrisation"})
    ids = {r["id"] for r in found.json()["results"]}
    assert ids == {t.wound_expert.pk, t.wound_expert_2.pk, t.chu_expert.pk}


def test_create_step_2_of_a_new_filiere_without_code(te_world):
    Filiere.objects.create(
        code="nephrologie",
        name="Néphrologie",
        specialty="nephrologie",
        form=[{"name": "dfg", "label": "Débit de filtration", "type": "number", "required": True}],
    )
    client = logged_in(te_world.w.nurse_a)
    assert "Néphrologie" in text(client.get(CREATE))
    page = text(client.get(CREATE, {"filiere": "nephrologie"}))
    assert 'name="f_dfg"' in page and "Débit de filtration" in page


def wound_post(t, **overrides) -> dict:
    return {
        "filiere": "plaies_cicatrisation",
        "patient": str(t.w.patient_a.pk),
        "structure": str(t.w.ehpad_a.pk),
        "question": "Escarre talon droit ?",
        "urgency": "normal",
        "information_given": "on",
        "decision": "consent",
        "f_wound_type": "Escarre",
        "f_location": "Talon droit",
        "f_length_cm": "2,5",
        "f_width_cm": "2",
        "f_stage": "Stade 2",
        "f_photos": [jpeg("talon.jpg"), jpeg("talon2.jpg")],
        "f_photos_date": "2026-01-10",
        **overrides,
    }


def test_create_step_2_sends_the_request(te_world):
    t = te_world
    client = logged_in(t.w.nurse_a)
    response = client.post(CREATE, wound_post(t))
    te = services.TeleExpertise.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(te)
    assert te.question == "Escarre talon droit ?"
    assert te.form_data["length_cm"] == 2.5
    assert te.act.requester == t.w.nurse_a
    photos = list(te.act.attachments.all())
    assert [a.original_name for a in photos] == ["talon.jpg", "talon2.jpg"]
    assert {a.taken_on for a in photos} == {datetime.date(2026, 1, 10)}
    page = client.get(response["Location"])
    assert "Demande envoyée aux experts." in flash(page)


def test_create_with_a_named_expert(te_world):
    t = te_world
    logged_in(t.w.nurse_a).post(CREATE, wound_post(t, named_expert=str(t.wound_expert_2.pk)))
    assert services.TeleExpertise.objects.get().named_expert == t.wound_expert_2


def assert_nothing_saved(refusals: int = 0):
    assert not Act.objects.exists()
    assert not Consent.objects.exclude(decision="refusal").exists()
    assert Consent.objects.filter(decision="refusal").count() == refusals
    assert not Attachment.objects.exists()


def test_create_bad_input_is_400_in_french_and_saves_nothing(te_world):
    exe = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + bytes(300), content_type="image/jpeg")
    response = logged_in(te_world.w.nurse_a).post(
        CREATE,
        wound_post(te_world, f_length_cm="150", f_stage="", decision="refusal", f_photos=[exe]),
    )
    assert response.status_code == 400
    page = text(response)
    assert "La demande n'a pas été envoyée" in page
    assert "Longueur : Valeur attendue entre 0 et 100 cm." in page
    assert "Stade : champ obligatoire." in page
    assert "Le patient refuse la télé-expertise" in page
    assert "« photo.jpg » n'est pas une image JPEG ou PNG ni un PDF (contenu vérifié)." in page
    assert "Choisissez à nouveau les fichiers" in page
    # What was typed is kept.
    assert "Escarre talon droit ?" in page
    assert 'value="Talon droit"' in page
    assert_nothing_saved(refusals=1)  # the patient's refusal is kept in their record


def test_create_without_photo_is_400(te_world):
    response = logged_in(te_world.w.nurse_a).post(CREATE, wound_post(te_world, f_photos=[]))
    assert response.status_code == 400
    assert "Série de photos datées : au moins 1 fichier requis." in text(response)
    assert_nothing_saved()


@pytest.mark.parametrize(
    "overrides",
    [
        {"patient": "abc"},
        {"structure": "x"},
        {"named_expert": "moi"},
        {"patient": ""},
        {"patient": "9" * 30},
        {"patient": "²"},
    ],
)
def test_create_garbled_ids_are_400_not_500(te_world, overrides):
    response = logged_in(te_world.w.nurse_a).post(CREATE, wound_post(te_world, **overrides))
    assert response.status_code == 400
    assert "La demande n'a pas été envoyée" in text(response)
    assert_nothing_saved()


def test_create_for_another_structures_patient_is_400(te_world):
    t = te_world
    response = logged_in(t.w.nurse_a).post(CREATE, wound_post(t, patient=str(t.w.patient_b.pk)))
    assert response.status_code == 400
    assert "Patient ou structure inaccessible." in text(response)
    assert_nothing_saved()


def test_create_page_refused_to_a_pharmacist(te_world):
    pharmacist = make_user(
        "pharma@example.test", structure=te_world.w.ehpad_a, profession=Profession.PHARMACIST
    )
    assert logged_in(pharmacist).get(CREATE).status_code == 403
    assert logged_in(pharmacist).post(CREATE, wound_post(te_world)).status_code == 403
    assert_nothing_saved()


# The detail page and its actions


def test_detail_for_the_requester_and_the_pool_expert(te_world, te):
    t = te_world
    requester = text(logged_in(t.w.nurse_a).get(detail_url(te)))
    assert "DORVANE Alix" in requester
    assert "Escarre sacrée qui s'aggrave ?" in requester
    assert "Sacrum" in requester and "3,5 cm" in requester
    assert reverse("attachment_thumbnail", args=[te.act.attachments.get().pk]) in requester
    assert "En attente de la réponse de l'expert." in requester
    assert reverse("teleexpertise_claim", args=[te.pk]) not in requester
    expert = text(logged_in(t.wound_expert).get(detail_url(te)))
    assert reverse("teleexpertise_claim", args=[te.pk]) in expert
    assert "Prendre en charge" in expert
    assert 'name="opinion"' not in expert


def test_claim_message_answer_through_the_pages(te_world, te):
    t = te_world
    expert, nurse = logged_in(t.wound_expert), logged_in(t.w.nurse_a)
    response = expert.post(reverse("teleexpertise_claim", args=[te.pk]))
    assert response.status_code == 302 and response["Location"] == detail_url(te)
    te.refresh_from_db()
    assert te.claimed_by == t.wound_expert
    page = text(expert.get(detail_url(te)))
    assert 'name="opinion"' in page and 'name="consultation_need"' in page
    assert 'name="ask_info"' in page
    assert "Décliner la demande" in page

    # A second expert's claim is refused with a message.
    late = logged_in(t.wound_expert_2).post(
        reverse("teleexpertise_claim", args=[te.pk]), follow=True
    )
    assert "Cette demande a déjà été prise en charge." in flash(late)
    te.refresh_from_db()
    assert te.claimed_by == t.wound_expert

    # The thread, with a file and a request for information.
    expert.post(
        reverse("teleexpertise_message", args=[te.pk]),
        {"body": "Photo de profil ?", "ask_info": "on"},
    )
    te.refresh_from_db()
    assert te.state == State.WAITING_INFO
    nurse.post(
        reverse("teleexpertise_message", args=[te.pk]),
        {"body": "Voici la photo.", "files": [jpeg("profil.jpg")]},
    )
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    reply = te.messages.get(body="Voici la photo.")
    assert te.act.attachments.get(original_name="profil.jpg").message_id == reply.pk
    page = text(nurse.get(detail_url(te)))
    assert "Photo de profil ?" in page and "Voici la photo." in page
    empty = nurse.post(reverse("teleexpertise_message", args=[te.pk]), {"body": " "}, follow=True)
    assert "Le message est vide." in flash(empty)

    # The answer: refused without conclusion, then given.
    refused = expert.post(
        reverse("teleexpertise_answer", args=[te.pk]),
        {"opinion": "", "consultation_need": "none"},
        follow=True,
    )
    assert "La conclusion (avis) est obligatoire." in flash(refused)
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    response = expert.post(
        reverse("teleexpertise_answer", args=[te.pk]),
        {"opinion": "Décharge du talon", "recommendations": "Coussin", "consultation_need": "none"},
    )
    assert response.status_code == 302
    te.refresh_from_db()
    assert te.state == State.ANSWERED
    page = text(nurse.get(detail_url(te)))
    assert "Décharge du talon" in page
    assert reverse("teleexpertise_report", args=[te.pk]) in page
    assert 'name="body"' not in page  # the thread is closed


def test_answer_page_post_by_someone_else_is_403(te_world, te):
    services.claim(None, te_world.wound_expert, te)
    response = logged_in(te_world.wound_expert_2).post(
        reverse("teleexpertise_answer", args=[te.pk]), {"opinion": "A", "consultation_need": "none"}
    )
    assert response.status_code == 403


def test_decline_through_the_page(te_world, te):
    t = te_world
    services.claim(None, t.wound_expert, te)
    url = reverse("teleexpertise_decline", args=[te.pk])
    without = logged_in(t.wound_expert).post(url, {"reason": ""}, follow=True)
    assert "Indiquez le motif du refus." in flash(without)
    te.refresh_from_db()
    assert te.state == State.CLAIMED
    assert logged_in(t.wound_expert).post(url, {"reason": "Absent"}).status_code == 302
    te.refresh_from_db()
    assert (te.state, te.claimed_by) == (State.POOLED, None)
    assert te.declines.get().reason == "Absent"


def test_action_pages_refuse_get(te_world, te):
    for name in ("teleexpertise_claim", "teleexpertise_message", "teleexpertise_answer"):
        assert logged_in(te_world.wound_expert).get(reverse(name, args=[te.pk])).status_code == 405


# Downloads


def test_report_download(te_world, te):
    url = reverse("teleexpertise_report", args=[te.pk])
    assert logged_in(te_world.w.nurse_a).get(url).status_code == 404
    answered(te_world, te)
    response = logged_in(te_world.w.nurse_a).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="teleexpertise-{te.pk}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_attachment_and_thumbnail_download(te_world, te):
    client = logged_in(te_world.w.nurse_a)
    photo = te.act.attachments.get()
    response = client.get(reverse("attachment", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    with photo.file.open("rb") as f:
        assert b"".join(response.streaming_content) == f.read()
    thumb = client.get(reverse("attachment_thumbnail", args=[photo.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert b"".join(thumb.streaming_content).startswith(b"\xff\xd8\xff")


def test_pdf_attachment_is_downloaded_and_has_no_thumbnail(te_world):
    t = te_world
    te = services.create(
        None,
        t.w.nurse_a,
        wound_request(
            t,
            filiere_code="cardiologie",
            form_data={"treatment": "Aucun"},
            files={"ecg": [(pdf(), None)]},
        ),
    )
    ecg = te.act.attachments.get()
    client = logged_in(t.w.nurse_a)
    response = client.get(reverse("attachment", args=[ecg.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert client.get(reverse("attachment_thumbnail", args=[ecg.pk])).status_code == 404


# Notifications


def test_notifications_page_and_mark_read(te_world, te, django_capture_on_commit_callbacks):
    t = te_world
    client = logged_in(t.wound_expert)
    page = client.get(reverse("notifications"))
    assert page.status_code == 200
    body = text(page)
    assert "Nouvelle demande de télé-expertise (Plaies et cicatrisation)" in body
    assert detail_url(te) in body
    assert page.context["unread_notifications"] == 1
    assert "Tout marquer comme lu" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications_read"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    assert not Notification.objects.filter(user=t.wound_expert, read_at__isnull=True).exists()
    assert client.get(reverse("notifications")).context["unread_notifications"] == 0
    # Someone else's notifications are untouched and never shown.
    assert Notification.objects.filter(user=t.wound_expert_2, read_at__isnull=True).count() == 1
    assert "Aucune notification." in text(logged_in(t.w.nurse_b).get(reverse("notifications")))
    assert logged_in(t.wound_expert).get(reverse("notifications_read")).status_code == 405


def test_notifications_read_by_pages_newest_first(te_world, pages_of_two):
    t = te_world
    for i in range(3):
        notify([t.w.nurse_b], f"Message {i}", email=False)
    client = logged_in(t.w.nurse_b)
    first = text(client.get(reverse("notifications")))
    assert "Message 2" in first and "Message 1" in first and "Message 0" not in first
    assert "Page 1 sur 2 (3 résultats)" in first
    assert "Message 0" in text(client.get(reverse("notifications"), {"page": "2"}))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notifications")).status_code == 200
        return len(ctx)

    few = count()
    notify([t.w.nurse_b], "Message 3", email=False)
    assert count() == few


# Query counts do not grow with the number of rows


def count_queries(fetch) -> int:
    fetch()  # warm-up: sessions, token last use
    with CaptureQueriesContext(connection) as ctx:
        response = fetch()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def make_requests(t, geriatrician, n: int) -> None:
    for i in range(n):
        te = services.create(None, t.w.nurse_a, geriatric_request(t))
        if i % 2:
            services.claim(None, geriatrician, te)


@pytest.fixture
def geriatrician(te_world):
    return make_user(
        "geriatre@example.test",
        structure=te_world.wound_expert.memberships.get().structure,
        profession=Profession.DOCTOR,
        specialty="geriatrie",
    )


def test_list_pages_keep_the_box_and_audit_the_patients_shown(te_world, pages_of_two):
    t = te_world
    made = [services.create(None, t.w.nurse_a, wound_request(t)) for _ in range(3)]
    client = logged_in(t.wound_expert)
    second = client.get(LIST, {"box": "inbox", "state": "pooled", "page": "2"})
    assert [te.pk for te in second.context["page"]] == [made[2].pk]
    html = text(second)
    assert "Page 2 sur 2 (3 résultats)" in html
    assert 'href="?box=inbox&state=pooled&page=1"' in html
    listed = AuditEntry.objects.filter(actor_id=t.wound_expert.pk, action="search")
    assert list(listed.values_list("object_id", flat=True)) == [str(made[2].pk)]
    api = api_client(t.wound_expert).get("/api/v1/teleexpertise", {"offset": 1, "limit": 5})
    assert [te["id"] for te in api.json()] == [made[1].pk, made[2].pk]
    assert api["X-Total-Count"] == "3"
    assert listed.filter(via="api").count() == 2


def test_list_page_and_api_queries_do_not_grow(te_world, geriatrician):
    t = te_world
    nurse_page = logged_in(t.w.nurse_a)
    expert_page = logged_in(geriatrician)
    nurse_api, expert_api = api_client(t.w.nurse_a), api_client(geriatrician)
    fetches = {
        "page outbox": lambda: nurse_page.get(LIST, {"box": "outbox"}),
        "page inbox": lambda: expert_page.get(LIST, {"box": "inbox"}),
        "api outbox": lambda: nurse_api.get("/api/v1/teleexpertise?box=outbox"),
        "api inbox": lambda: expert_api.get("/api/v1/teleexpertise?box=inbox"),
    }
    make_requests(t, geriatrician, 2)
    few = {name: count_queries(fetch) for name, fetch in fetches.items()}
    make_requests(t, geriatrician, 18)
    assert len(nurse_api.get("/api/v1/teleexpertise?box=outbox").json()) == 20
    assert len(nurse_page.get(LIST, {"box": "outbox"}).context["page"]) == 20
    many = {name: count_queries(fetch) for name, fetch in fetches.items()}
    assert many == few


def test_notifications_page_queries_do_not_grow(te_world):
    t = te_world
    client = logged_in(t.wound_expert)
    te = services.create(None, t.w.nurse_a, wound_request(t))
    for i in range(2):
        notify([t.wound_expert], f"Notification {i}", act=te.act, url=detail_url(te))
    few = count_queries(lambda: client.get(reverse("notifications")))
    for i in range(18):
        notify([t.wound_expert], f"Notification {i}", act=te.act, url=detail_url(te))
    many = count_queries(lambda: client.get(reverse("notifications")))
    assert many == few


def test_message_with_an_executable_is_refused(te_world, te):
    t = te_world
    services.claim(None, t.wound_expert, te)
    exe = SimpleUploadedFile("cr.pdf", b"\x7fELF" + bytes(100), content_type="application/pdf")
    response = logged_in(t.w.nurse_a).post(
        reverse("teleexpertise_message", args=[te.pk]),
        {"body": "Le compte rendu", "files": [exe]},
        follow=True,
    )
    assert "« cr.pdf » n'est pas une image JPEG ou PNG ni un PDF (contenu vérifié)." in flash(
        response
    )
    assert not te.messages.exists()
    assert te.act.attachments.count() == 1  # the request's photo only


def test_an_invalid_photo_date_is_ignored(te_world):
    t = te_world
    response = logged_in(t.w.nurse_a).post(CREATE, wound_post(t, f_photos_date="10/01/2026"))
    assert response.status_code == 302
    assert {a.taken_on for a in Attachment.objects.all()} == {None}
