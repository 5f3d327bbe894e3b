"""The structure administrator opens or closes self-enrolment through Pro Santé Connect."""

from django.urls import reverse

from telesante.structures.models import Structure
from tests.conftest import logged_in


def toggle(client, structure: Structure, enabled: str):
    url = reverse("structure_psc_self_enrolment", args=[structure.pk])
    return client.post(url, {"enabled": enabled}, follow=True)


def test_the_administrator_opens_then_closes_it(world):
    admin = logged_in(world.admin_a)
    page = admin.get(reverse("structure_detail", args=[world.ehpad_a.pk])).content.decode()
    assert "Ouvrir l'inscription par Pro Santé Connect" in page
    page = toggle(admin, world.ehpad_a, "1").content.decode()
    assert "Inscription par Pro Santé Connect ouverte." in page
    assert "Fermer l'inscription par Pro Santé Connect" in page
    assert Structure.objects.get(pk=world.ehpad_a.pk).psc_self_enrolment is True
    assert "fermée" in toggle(admin, world.ehpad_a, "0").content.decode()
    assert Structure.objects.get(pk=world.ehpad_a.pk).psc_self_enrolment is False


def test_a_member_neither_sees_nor_changes_it(world):
    nurse = logged_in(world.nurse_a)
    page = nurse.get(reverse("structure_detail", args=[world.ehpad_a.pk])).content.decode()
    assert "inscription par Pro Santé Connect" not in page
    assert toggle(nurse, world.ehpad_a, "1").status_code == 404
    assert Structure.objects.get(pk=world.ehpad_a.pk).psc_self_enrolment is False
