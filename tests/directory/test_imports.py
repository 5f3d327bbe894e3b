"""import-finess and import-rpps on small files written in the published layouts."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from telesante.directory.importers import finess_commune_code, import_finess, import_rpps
from telesante.directory.models import Practice, Practitioner
from telesante.structures.models import Structure, StructureKind

DATA = Path(__file__).parent / "data"
FINESS = DATA / "etalab-cs1100507-stock-sample.csv"
RPPS = DATA / "PS_LibreAcces_Personne_activite_sample.txt"


def test_finess_import_creates_updates_rejects_and_is_idempotent(world):
    summary = import_finess(FINESS)
    assert (summary.created, summary.updated, summary.unchanged) == (3, 1, 0)
    assert dict(summary.rejected) == {
        "catégorie 430 hors du périmètre": 1,
        "numéro FINESS invalide": 1,
        "commune inconnue": 1,
        "ligne incomplète": 1,
    }
    tilleuls = Structure.objects.get(finess="530000011")
    assert tilleuls.pk == world.ehpad_a.pk  # updated in place, not duplicated
    assert (tilleuls.name, tilleuls.address) == ("EHPAD LES TILLEULS DE LAVAL", "12 RUE DES LILAS")
    ch = Structure.objects.get(finess="720000045")
    assert (ch.kind, ch.commune_id, ch.departement_id, ch.postal_code) == (
        StructureKind.CH,
        "72181",
        "72",
        "72000",
    )
    again = import_finess(FINESS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert Structure.objects.filter(finess__startswith="53").count() == 3


def test_overseas_commune_codes():
    assert finess_commune_code("9A", "101") == "97101"
    assert finess_commune_code("2A", "004") == "2A004"
    assert finess_commune_code("53", "130") == "53130"


def test_rpps_import_people_and_places_idempotent(world):
    import_finess(FINESS)
    people, places, _accounts = import_rpps(RPPS)
    assert (people.created, people.updated, people.unchanged) == (3, 0, 0)
    assert dict(people.rejected) == {
        "numéro RPPS invalide": 1,
        "identifiant autre que RPPS (ADELI)": 1,
        "nom d'exercice absent": 1,
    }
    assert (places.created, dict(places.rejected)) == (
        4,
        {"lieu d'exercice sans FINESS, SIRET ni commune": 1},
    )
    ines = Practitioner.objects.get(rpps="10000530013")
    assert (ines.profession, ines.specialty) == ("medecin", "geriatrie")
    assert ines.practices.get(site_key="530000011").structure_id == world.ehpad_a.pk
    assert Practitioner.objects.get(rpps="10000720044").specialty == "medecine_generale"
    again_people, again_places, _accounts = import_rpps(RPPS)
    assert (again_people.created, again_people.updated, again_people.unchanged) == (0, 0, 3)
    assert (again_places.created, again_places.unchanged) == (0, 4)
    assert Practice.objects.count() == 4


def test_commands_print_a_french_summary(world, capsys):
    call_command("import_finess", str(FINESS), "--sans-progression")
    call_command("import_rpps", str(RPPS))
    out = capsys.readouterr().out
    assert "Structures : 3 créé(s), 1 mis à jour, 0 inchangé(s), 4 ligne(s) rejetée(s)." in out
    assert "Professionnels : 3 créé(s)" in out and "rejet : numéro RPPS invalide (1)" in out


def test_rpps_command_refuses_another_file(world, tmp_path):
    other = tmp_path / "autre.txt"
    other.write_text("a|b|c\n1|2|3\n", encoding="cp1252")
    with pytest.raises(CommandError, match="colonnes absentes"):
        call_command("import_rpps", str(other))
    with pytest.raises(CommandError):
        call_command("import_rpps", str(tmp_path / "absent.txt"))


def test_finess_import_keeps_the_legal_entity_apart_from_the_site(world):
    # REGULATORY.md: the legal entity (EJ) and site (EG) numbers differ; both are kept.
    import_finess(FINESS)
    sites = dict(
        Structure.objects.filter(finess__in=["530000011", "720000045"]).values_list(
            "finess", "finess_ej"
        )
    )
    assert sites == {"530000011": "530000003", "720000045": "720000052"}
