"""/api/v1/filieres: each filière's request form as data."""

from telesante.acts.models import Filiere
from tests.conftest import api_client


def test_filieres_give_their_forms(world):
    body = api_client(world.nurse_a).get("/api/v1/filieres").json()
    assert body["count"] == Filiere.objects.filter(active=True).count()
    by_code = {f["code"]: f for f in body["items"]}
    derm = by_code["dermatologie"]
    assert derm["specialty"] == "dermatologie"
    photos = next(f for f in derm["form"] if f["name"] == "photos")
    assert (photos["type"], photos["required"], photos["min_files"]) == ("photos", True, 1)
    duration = next(f for f in derm["form"] if f["name"] == "duration")
    assert "1 à 4 semaines" in duration["choices"]
    assert {f["name"] for f in by_code["cardiologie"]["form"]} >= {"ecg"}


def test_inactive_filieres_are_not_offered_and_the_list_is_paged(world):
    Filiere.objects.filter(pk="psychiatrie").update(active=False)
    client = api_client(world.nurse_a)
    body = client.get("/api/v1/filieres").json()
    assert "psychiatrie" not in [f["code"] for f in body["items"]]
    page = client.get("/api/v1/filieres", {"limit": 1, "offset": 1}).json()
    assert page["count"] == body["count"]
    assert [f["code"] for f in page["items"]] == [body["items"][1]["code"]]
