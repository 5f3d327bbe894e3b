"""A guest's link sent by SMS or e-mail from the téléconsultation page or the API: French checks
of the number or address, the link and its expiry only (nothing medical), audited."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from telesante.core.models import AuditEntry
from telesante.rooms import services as rooms
from tests.conftest import api_client, logged_in
from tests.rooms.conftest import TC

API = "/api/v1/teleconsultations"
SMS = re.compile(r"\[SMS\] à (\+\d+) : (.*)")
NOTHING_MEDICAL = ("DORVANE", "Alix", "Dyspnée", "œdèmes", "Cardio", "EHPAD", "Téléconsultation")


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def send_page(tc_world: TC, guest_pk: int) -> str:
    return reverse("teleconsultation_send_guest", args=[tc_world.consultation.pk, guest_pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def entered(client, text: str) -> int:
    """Open the link found in a message: the guest's page answers 200."""
    link = re.search(r"https?://\S+", text).group(0).removeprefix("http://testserver")
    return client.get(link).status_code


def test_the_page_shows_the_new_link_with_copy_and_send(tc_world: TC):
    doctor = logged_in(tc_world.cardiologist)
    invite = reverse("teleconsultation_invite", args=[tc_world.consultation.pk])
    doctor.post(invite, {"label": "M. Valmorin (fils)", "relation": "famille", "hours": "2"})
    guest = tc_world.room.guest_links.get()
    page = doctor.get(reverse("teleconsultation_detail", args=[tc_world.consultation.pk]))
    html = page.content.decode()
    assert 'id="copy-guest-link"' in html and "Copier le lien" in html
    assert f'action="{send_page(tc_world, guest.pk)}"' in html
    assert "/static/js/copy_link.js" in html and "<script>" not in html
    # Shown once: the next visit no longer carries the link.
    again = doctor.get(reverse("teleconsultation_detail", args=[tc_world.consultation.pk]))
    assert 'id="copy-guest-link"' not in again.content.decode()


def test_sent_by_sms_from_the_page_and_the_link_stays(
    tc_world: TC, capsys, django_capture_on_commit_callbacks
):
    guest = rooms.create_guest_link(None, tc_world.cardiologist, tc_world.room, "Fils", "famille")
    doctor = logged_in(tc_world.cardiologist)
    with django_capture_on_commit_callbacks(execute=True):
        sent = doctor.post(send_page(tc_world, guest.pk), {"contact": "06 12 34 56 78"})
    assert sent.status_code == 302
    assert messages_of(sent) == ["Lien envoyé à +33612345678."]
    [(to, text)] = SMS.findall(capsys.readouterr().out)
    assert to == "+33612345678"
    assert text.startswith("Télésanté : votre lien pour entrer dans la salle de consultation vidéo")
    for medical in NOTHING_MEDICAL:
        assert medical not in text, medical
    assert entered(logged_in(None), text) == 200
    page = doctor.get(sent["Location"]).content.decode()
    assert 'id="copy-guest-link"' in page  # the link is still there to copy or send again
    assert AuditEntry.objects.filter(detail=f"lien invité {guest.pk} envoyé par SMS").count() == 1


def test_bad_numbers_and_addresses_are_refused_in_french(tc_world: TC, mailoutbox, capsys):
    guest = rooms.create_guest_link(None, tc_world.cardiologist, tc_world.room, "Fils", "famille")
    bad_number = "Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
    cases = {
        "": "Indiquez une adresse e-mail ou un numéro de téléphone mobile.",
        "06 12 34": bad_number,
        "fils@": "Adresse e-mail invalide.",
    }
    for contact, error in cases.items():
        refused = logged_in(tc_world.cardiologist).post(
            send_page(tc_world, guest.pk), {"contact": contact}
        )
        assert messages_of(refused) == [error]
    assert mailoutbox == [] and "[SMS]" not in capsys.readouterr().out
    assert not AuditEntry.objects.filter(detail__contains="envoyé par").exists()


def test_the_code_and_the_link_never_go_to_the_same_place(
    tc_world: TC, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        guest = rooms.create_guest_link(
            None, tc_world.cardiologist, tc_world.room, "Fils", "famille", 2, "fils@example.test"
        )
    doctor = logged_in(tc_world.cardiologist)
    refused = doctor.post(send_page(tc_world, guest.pk), {"contact": " fils@example.test "})
    assert messages_of(refused) == [
        "Le code de ce lien est déjà envoyé à cette adresse : envoyez le lien par un autre moyen."
    ]
    assert len(mailoutbox) == 1  # the code only


def test_the_api_sends_by_email_and_refuses_a_withdrawn_link(
    tc_world: TC, mailoutbox, django_capture_on_commit_callbacks
):
    nurse = api_client(tc_world.w.nurse_a)
    url = f"{API}/{tc_world.consultation.pk}/guests"
    with django_capture_on_commit_callbacks(execute=True):
        made = nurse.post(
            url, {"label": "Interprète", "relation": "interprete"}, "application/json"
        ).json()
        sent = nurse.post(
            f"{url}/{made['id']}/send", {"contact": "Interprete@Example.test"}, "application/json"
        )
    assert sent.status_code == 200
    assert sent.json() == {"sent_to": "Interprete@Example.test", "channel": "email"}
    [mail] = mailoutbox
    assert mail.to == ["Interprete@Example.test"]
    assert mail.subject == "Votre lien de consultation vidéo"
    for medical in NOTHING_MEDICAL:
        assert medical not in mail.body, medical
    assert entered(logged_in(None), mail.body) == 200
    bad = nurse.post(f"{url}/{made['id']}/send", {"contact": "pas un numéro"}, "application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "contact": [
            "Numéro de téléphone invalide (par exemple 06 12 34 56 78 ou +33 6 12 34 56 78)."
        ]
    }
    nurse.post(f"{url}/{made['id']}/revoke", {}, "application/json")
    gone = nurse.post(f"{url}/{made['id']}/send", {"contact": "06 12 34 56 78"}, "application/json")
    assert gone.status_code == 400
    assert gone.json()["errors"] == {
        "__all__": ["Ce lien invité est retiré ou expiré : créez-en un nouveau."]
    }
    assert len(mailoutbox) == 1
    # Another act's guest is not reached through this one.
    assert (
        nurse.post(f"{url}/999999/send", {"contact": "0612345678"}, "application/json").status_code
        == 404
    )
