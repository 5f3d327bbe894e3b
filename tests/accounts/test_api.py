"""/api/v1/me and /api/v1/professionals: what an integrator needs to fill in a request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telesante.accounts.models import Membership, MembershipRole, Profession
from telesante.deployment.models import SiteDeployment
from telesante.structures.models import Team
from tests.conftest import api_client, make_structure, make_user


def test_me_gives_the_account_its_structures_roles_and_teams(world):
    Membership.objects.create(user=world.doctor_a, structure=world.ehpad_b)
    night = Team.objects.create(structure=world.ehpad_a, name="Équipe de nuit")
    Membership.objects.create(user=world.doctor_a, team=night)
    day = Team.default_for(world.ehpad_a.pk)
    me = api_client(world.doctor_a).get("/api/v1/me").json()
    assert me["email"] == "doctor.a@example.test"
    assert (me["profession"], me["specialty"]) == ("medecin", "medecine_generale")
    assert [(s["id"], s["role"], s["teams"]) for s in me["structures"]] == [
        (world.ehpad_b.pk, "member", [{"id": Team.default_for(world.ehpad_b.pk).pk,
                                       "name": Team.DEFAULT_NAME}]),
        (world.ehpad_a.pk, "member", [{"id": day.pk, "name": day.name},
                                      {"id": night.pk, "name": "Équipe de nuit"}]),
    ]  # fmt: skip
    admin = api_client(world.admin_a).get("/api/v1/me").json()
    assert admin["structures"][0]["role"] == MembershipRole.ADMIN
    assert admin["structures"][0]["finess"] == "530000011"


def test_me_needs_a_token(world):
    response = api_client(None).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Jeton d'API absent, invalide ou révoqué."}


@pytest.fixture
def directory(world):
    """A CH offering télé-expertise and téléconsultation, with a cardiologist and a
    dermatologist with accented names; EHPAD A offers nothing."""
    ch = make_structure("CH de Laval", kind="ch", finess="530000021")
    SiteDeployment.objects.create(structure=ch, acts=["teleexpertise", "teleconsultation"])
    doctor = {"profession": Profession.DOCTOR, "structure": ch}
    cardio = make_user("cardio@example.test", specialty="cardiologie", **doctor)
    cardio.first_name, cardio.last_name = "Hélène", "Bérard-Lœuillet"
    cardio.save()
    derm = make_user("derm@example.test", specialty="dermatologie", **doctor)
    derm.first_name, derm.last_name = "Noël", "Ørsted"
    derm.save()
    return ch, cardio, derm


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["last_name"] for p in response.json()["items"]]


def test_professionals_by_name_ignore_accents_and_case(world, directory):
    ch, cardio, _derm = directory
    client = api_client(world.nurse_a)
    assert names(client.get("/api/v1/professionals", {"q": "helene berard"})) == [cardio.last_name]
    assert names(client.get("/api/v1/professionals", {"q": "BÉRARD"})) == [cardio.last_name]
    assert names(client.get("/api/v1/professionals", {"q": "noel"})) == ["Ørsted"]
    assert names(client.get("/api/v1/professionals", {"q": "inconnu"})) == []
    item = client.get("/api/v1/professionals", {"q": "helene"}).json()["items"][0]
    assert item == {
        "id": cardio.pk,
        "first_name": "Hélène",
        "last_name": "Bérard-Lœuillet",
        "display_name": "Hélène BÉRARD-LŒUILLET",
        "profession": "medecin",
        "profession_label": "Médecin",
        "specialty": "cardiologie",
        "specialty_label": "Cardiologie",
        "structures": [
            {
                "id": ch.pk,
                "name": "CH de Laval",
                "kind": "ch",
                "commune": "Laval",
                "acts": ["teleexpertise", "teleconsultation"],
            }
        ],
    }
    assert "email" not in item and "phone" not in item and "rpps" not in item


def test_professionals_by_profession_specialty_structure_and_act(world, directory):
    _ch, cardio, derm = directory
    client = api_client(world.nurse_a)
    url = "/api/v1/professionals"
    assert names(client.get(url, {"specialty": "cardiologie"})) == [cardio.last_name]
    assert set(names(client.get(url, {"profession": "medecin"}))) == {
        cardio.last_name,
        derm.last_name,
        world.doctor_a.last_name,
    }
    assert len(names(client.get(url, {"structure_id": world.ehpad_a.pk}))) == 3
    offering = names(client.get(url, {"act": "teleconsultation"}))
    assert sorted(offering) == sorted([cardio.last_name, derm.last_name])
    assert names(client.get(url, {"act": "telesurveillance"})) == []
    # Accounts without a structure (regional roles) are not professionals one can address.
    everyone = client.get(url, {"limit": 100}).json()
    assert world.observer.pk not in [p["id"] for p in everyone["items"]]


def test_professionals_are_paged(world, directory):
    client = api_client(world.nurse_a)
    first = client.get("/api/v1/professionals", {"limit": 2}).json()
    second = client.get("/api/v1/professionals", {"limit": 2, "offset": 2}).json()
    assert first["count"] == second["count"] == 6  # 4 of the EHPAD, 2 of the CH
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 4


def test_professionals_bad_filters_answer_in_french(world):
    client = api_client(world.nurse_a)
    response = client.get("/api/v1/professionals", {"profession": "sorcier", "limit": 0})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["limit"] == ["Au moins 1."]
    assert errors["profession"][0].startswith("Valeur non autorisée")


def test_professionals_search_costs_constant_queries(world, directory):
    ch = directory[0]
    client = api_client(world.nurse_a)
    client.get("/api/v1/professionals")  # the token's first use is recorded once

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/professionals", {"limit": 100}).status_code == 200
        return len(ctx)

    few = count()
    for i in range(12):
        user = make_user(f"pro{i}@example.test", structure=ch, profession=Profession.DOCTOR)
        Membership.objects.create(user=user, structure=world.ehpad_b)
    assert count() == few
