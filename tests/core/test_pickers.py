"""Searchable pickers: professionals by name, profession, specialty and structure with no cap;
patients through the wall (audited); birthplaces by commune or country name."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telesante.accounts.models import Profession
from telesante.core.models import AuditAction, AuditEntry
from telesante.structures import places
from telesante.structures.models import Commune, Country, StructureKind
from tests.conftest import logged_in, make_patient, make_structure, make_user


def _get(client, url: str, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:200]
    return response.json()


def _cardiologists(n: int, ch, prefix: str = "cardio") -> None:
    for i in range(n):
        make_user(
            f"{prefix}{i}@example.test",
            structure=ch,
            profession=Profession.DOCTOR,
            specialty="cardiologie",
        )


def test_professionals_are_searched_by_every_trait_without_cap(world):
    ch = make_structure("Centre hospitalier de Laval", kind=StructureKind.CH, finess="530000021")
    hélène = make_user(
        "helene@example.test", structure=ch, profession=Profession.DOCTOR, specialty="cardiologie"
    )
    hélène.first_name, hélène.last_name = "Hélène", "Lécuyer"
    hélène.save()
    _cardiologists(25, ch)
    client = logged_in(world.nurse_a)
    url = reverse("search_professionals", args=["teleconsultation"])
    by_name = _get(client, url, q="helene lecuyer")["results"]
    assert [(r["id"], r["label"]) for r in by_name] == [(hélène.pk, "Hélène LÉCUYER")]
    assert (
        "Cardiologie" in by_name[0]["detail"]
        and "Centre hospitalier de Laval" in by_name[0]["detail"]
    )
    # 26 cardiologists: a first page of 20, then the rest, none left out.
    first = _get(client, url, q="cardiologie")
    second = _get(client, url, q="cardiologie", page=2)
    assert len(first["results"]) == 20 and first["more"] is True
    assert len(second["results"]) == 6 and second["more"] is False
    ids = {r["id"] for r in first["results"] + second["results"]}
    assert hélène.pk in ids and len(ids) == 26
    assert {r["id"] for r in _get(client, url, q="hospitalier laval")["results"]} <= ids
    assert _get(client, url, q="médecin tilleuls")["results"][0]["id"] == world.doctor_a.pk
    # Nurses perform télésoin; accounts without a structure perform nothing.
    assert len(_get(client, url, q="nurse")["results"]) == 2
    assert _get(client, url, q="observer")["results"] == []


def test_professional_search_costs_constant_queries(world):
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    client = logged_in(world.nurse_a)
    url = reverse("search_professionals", args=["teleconsultation"])

    def cost() -> int:
        client.get(url, {"q": "cardio"})  # warm the session and the user
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"q": "cardio"}).status_code == 200
        return len(ctx.captured_queries)

    _cardiologists(3, ch)
    few = cost()
    _cardiologists(30, ch, prefix="more")
    assert cost() == few


def test_expert_set_follows_the_filiere_and_unknown_sets_are_404(world):
    from telesante.acts.models import Filiere

    assert Filiere.objects.filter(code="cardiologie", specialty="cardiologie").exists()
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    _cardiologists(2, ch)
    client = logged_in(world.nurse_a)
    url = reverse("search_professionals", args=["expert"])
    assert len(_get(client, url, q="cardio", filiere="cardiologie")["results"]) == 2
    assert _get(client, url, q="cardio")["results"] == []
    missing = reverse("search_professionals", args=["everyone"])
    assert client.get(missing, {"q": "a"}).status_code == 404


def test_patient_search_goes_through_the_wall_and_is_audited(world):
    for i in range(25):
        make_patient(world.ehpad_a, birth_name="DORVANE", first_names=f"Prénom{i:02d}")
    url = reverse("patient_search")
    own = logged_in(world.nurse_a)
    first = _get(own, url, q="dorvane")
    second = _get(own, url, q="dorvane", page=2)
    assert len(first["results"]) == 20 and first["more"] is True
    assert len(second["results"]) == 6 and second["more"] is False
    assert world.patient_a.pk in {r["id"] for r in first["results"] + second["results"]}
    assert "02/03/1940" in first["results"][0]["detail"]
    listed = AuditEntry.objects.filter(actor_id=world.nurse_a.pk, action=AuditAction.SEARCH)
    assert listed.filter(patient_id=world.patient_a.pk).exists()
    assert _get(logged_in(world.nurse_b), url, q="dorvane")["results"] == []


@pytest.fixture
def referential(territory):
    Commune.objects.create(code="53057", name="Château-Gontier", current=False)
    Commune.objects.create(code="53001", name="Ahuillé", population=1800)
    Country.objects.create(code="99350", name="Maroc")
    Country.objects.create(code="99127", name="Italie")


def test_birthplaces_by_name_current_historic_and_abroad(world, referential):
    client = logged_in(world.nurse_a)
    url = reverse("search_birthplaces")
    found = _get(client, url, q="chateau gontier")["results"]
    assert [r["id"] for r in found] == ["53057", "53062"]  # the exact name first
    assert found[0]["detail"].endswith("ancienne commune") and found[1]["detail"] == "Mayenne"
    assert [r["id"] for r in _get(client, url, q="AHUILLE")["results"]] == ["53001"]
    assert [r["id"] for r in _get(client, url, q="mayenne")["results"]] == ["53062"]  # a word
    assert [r["id"] for r in _get(client, url, q="5313")["results"]] == ["53130"]
    assert _get(client, url, q="maroc")["results"] == []  # countries only when born abroad
    abroad = _get(client, url, q="ma", abroad="1")["results"]
    assert [(r["id"], r["label"]) for r in abroad] == [("99350", "Maroc")]
    assert places.label("99350") == "Maroc (99350)"
    assert places.label("53130") == "Laval (53130)"


def test_birthplace_index_follows_the_referential(world, referential):
    assert places.search("bazouges")[0] == []
    Commune.objects.create(code="53023", name="Bazouges")
    assert [p.code for p in places.search("bazouges")[0]] == ["53023"]


def test_birthplace_name_on_the_patient_page_and_pdf(world, referential):
    from telesante.documents import pdf

    world.patient_a.birthplace_code = "99350"
    world.patient_a.save()
    world.patient_a.refresh_from_db()
    page = logged_in(world.nurse_a).get(reverse("patient_detail", args=[world.patient_a.pk]))
    assert "Maroc (99350)" in page.content.decode()
    rows = pdf.identity(world.patient_a)._cellvalues
    cells = [[getattr(c, "text", c) for c in row] for row in rows]
    assert ["Lieu de naissance", "Maroc (99350)"] in cells
