"""The yearly activity declaration: by the professional (page and API), by their structure's
administrator, and the 20 % remote-activity cap computed from it where acts are billed."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from telesante.core.models import AuditAction, AuditEntry
from telesante.teleconsultation import activity, services
from telesante.teleconsultation.models import ActivityDeclaration
from tests.conftest import api_client, logged_in, make_user
from tests.rooms.conftest import TC, booking, in_call

YEAR = timezone.localdate().year


def declared(user) -> int | None:
    found = ActivityDeclaration.objects.filter(professional=user, year=YEAR).first()
    return found.total_acts if found else None


def test_the_professional_declares_on_their_account_page_the_french_way(world):
    client = logged_in(world.doctor_a)
    page = client.get(reverse("my_activity"))
    assert page.status_code == 200
    assert f"Activité {YEAR} non déclarée" in page.content.decode()
    response = client.post(reverse("my_activity"), {"year": str(YEAR), "total_acts": "1 250"})
    assert response.status_code == 302
    assert declared(world.doctor_a) == 1250
    page = client.get(reverse("my_activity")).content.decode()
    assert "Sous le plafond." in page and 'value="1250"' in page
    assert "<dd>1\u202f250</dd>" in page or "<dd>1\xa0250</dd>" in page  # grouped thousands
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="activitydeclaration")
    assert (entry.actor_id, entry.detail) == (world.doctor_a.pk, f"activité déclarée {YEAR} : 1250")


@pytest.mark.parametrize(
    ("year", "total", "field", "message"),
    [
        (YEAR, "beaucoup", "total_acts", "Saisissez un nombre (par exemple 3,5)."),
        (YEAR, "12,5", "total_acts", "Saisissez un nombre entier."),
        (YEAR, "0", "total_acts", "Valeur attendue entre 1 et 200000 actes."),
        (YEAR, "", "total_acts", "Indiquez le nombre d'actes de l'année."),
        (YEAR - 5, "100", "year", f"Déclarez l'année en cours ou la précédente ({YEAR}, "),
    ],
)
def test_bad_declarations_are_refused_in_french_and_save_nothing(
    world, year, total, field, message
):
    response = logged_in(world.nurse_a).post(
        reverse("my_activity"), {"year": str(year), "total_acts": total}
    )
    assert response.status_code == 400
    assert any(e.startswith(message) for e in response.context["errors"][field])
    assert not ActivityDeclaration.objects.exists()


def test_the_total_cannot_be_below_the_remote_acts_done(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    other = services.create(None, tc_world.w.nurse_a, booking(tc_world.w, doctor))
    for act in (tc, other):
        in_call(act, doctor)
        services.save_report(None, doctor, act, "RAS", finish=True)
    with pytest.raises(ValidationError) as exc:
        activity.declare(None, doctor, doctor, YEAR, "1")
    assert "inférieur aux 2 actes à distance" in exc.value.message_dict["total_acts"][0]
    activity.declare(None, doctor, doctor, YEAR, "8")
    # 2 of 8: 25 %, past the cap: shown on the act's page where it is billed.
    page = logged_in(doctor).get(reverse("teleconsultation_detail", args=[tc.pk])).content
    assert "Plafond dépassé : 25.0 %" in page.decode()
    assert [a.warnings for a in activity.activity(doctor) if a.year == YEAR] == [
        [f"Plafond dépassé : 25.0 % de l'activité {YEAR} à distance (plafond 20 %)."]
    ]


def test_a_structure_admin_declares_for_the_staff_only(world):
    activity.declare(None, world.admin_a, world.doctor_a, YEAR, "2 000")
    assert declared(world.doctor_a) == 2000
    with pytest.raises(Http404):  # another structure's professional
        activity.declare(None, world.admin_a, world.nurse_b, YEAR, "10")
    with pytest.raises(Http404):  # not an administrator
        activity.declare(None, world.nurse_a, world.doctor_a, YEAR, "10")
    with pytest.raises(PermissionDenied):
        activity.declare(None, world.observer, world.observer, YEAR, "10")
    client = logged_in(world.admin_a)
    url = reverse("staff_activity", args=[world.ehpad_a.pk])
    response = client.post(url, {"professional": world.nurse_a.pk, "total_acts": "3 100"})
    assert response.status_code == 302 and declared(world.nurse_a) == 3100
    response = client.post(url, {"professional": world.nurse_a.pk, "total_acts": "abc"})
    assert declared(world.nurse_a) == 3100
    page = client.get(response["Location"]).content.decode()
    assert "Saisissez un nombre" in page
    assert logged_in(world.admin_a).post(url, {"professional": world.nurse_b.pk}).status_code == 404


def test_the_staff_page_is_paged_at_a_constant_cost(world):
    url = reverse("staff_activity", args=[world.ehpad_a.pk])

    def cost() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            page = logged_in(world.admin_a).get(url)
        assert page.status_code == 200
        return len(ctx.captured_queries), len(page.context["rows"])

    few = cost()
    for i in range(25):
        person = make_user(f"pro{i}@example.test", structure=world.ehpad_a)
        activity.declare(None, world.admin_a, person, YEAR, str(100 + i))
    many = cost()
    assert many[1] == 20 > few[1]  # 20 a page
    assert many[0] == few[0]
    second = logged_in(world.admin_a).get(url, {"page": 2})
    assert len(second.context["rows"]) == few[1] + 25 - 20


def test_the_api_declares_and_reads_the_cap(world):
    client = api_client(world.nurse_a)
    first = client.get("/api/v1/activity").json()
    assert [a["year"] for a in first] == [YEAR, YEAR - 1]
    assert first[0]["declared"] is None and first[0]["warnings"][0].startswith("Activité")
    answer = client.put(
        f"/api/v1/activity/{YEAR}", {"total_acts": "1 500"}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()[0]["declared"] == 1500
    refused = client.put(
        f"/api/v1/activity/{YEAR}", {"total_acts": "-3"}, content_type="application/json"
    )
    assert refused.status_code == 400 and "total_acts" in refused.json()["errors"]
    admin = api_client(world.admin_a).put(
        f"/api/v1/activity/professionals/{world.nurse_a.pk}/{YEAR - 1}",
        {"total_acts": 700},
        content_type="application/json",
    )
    assert admin.status_code == 200 and admin.json()[1]["declared"] == 700


def test_the_billing_export_reads_the_same_declaration(tc_world: TC):
    doctor, tc = tc_world.cardiologist, tc_world.consultation
    in_call(tc, doctor)
    services.save_report(None, doctor, tc, "RAS", finish=True)
    activity.declare(None, doctor, doctor, YEAR, "4")
    response = logged_in(doctor).get("/indicateurs/facturation.csv", {"period": str(YEAR)})
    assert "Plafond d'activité à distance dépassé : 25 %" in response.content.decode()
