"""`telesante import-rpps` is the reference for accounts: profession, specialty, savoir-faire
and sites refreshed from the sample extract, a report of changes, missing RPPS flagged to the
structure's administrators (notification and staff page)."""

from pathlib import Path

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from telesante.accounts.models import Profession
from telesante.core.identifiers import luhn_complete
from telesante.directory.importers import import_finess, import_rpps
from telesante.notifications.models import Notification
from tests.conftest import logged_in, make_user

DATA = Path(__file__).parent / "data"
FINESS = DATA / "etalab-cs1100507-stock-sample.csv"
RPPS = DATA / "PS_LibreAcces_Personne_activite_sample.txt"
INES = "10000530013"  # MARVELLE Ines: médecin, Gériatrie (DES), at FINESS 530000011
GONE = luhn_complete("1000099999")  # in no line of the sample


def test_an_account_takes_profession_specialty_savoir_faire_and_sites(world):
    import_finess(FINESS)
    ines = make_user("ines@example.test", structure=world.ehpad_a, rpps=INES)
    untouched = world.nurse_a  # no RPPS: the extract says nothing of it
    _people, _places, accounts = import_rpps(RPPS)
    ines.refresh_from_db()
    assert (ines.profession, ines.specialty) == (Profession.DOCTOR, "geriatrie")
    assert ines.savoir_faire == ["Gériatrie (DES)"]
    assert ines.directory_sites == ["530000011"]
    assert ines.rpps_missing_since is None
    assert accounts.changed == [
        f"{INES} Ines TEST : profession Infirmier·ère → Médecin ; spécialité — → Gériatrie ; "
        "savoir-faire : Gériatrie (DES) ; sites +530000011"
    ]
    untouched.refresh_from_db()
    assert (untouched.profession, untouched.directory_sites) == (Profession.NURSE, [])
    _people, _places, again = import_rpps(RPPS)
    assert (again.changed, again.unchanged, again.flagged) == ([], 1, [])


def test_a_site_that_disappears_is_reported(world):
    ines = make_user("ines@example.test", structure=world.ehpad_a, rpps=INES)
    ines.directory_sites = ["530000011", "720000012"]
    ines.profession, ines.specialty = Profession.DOCTOR, "geriatrie"
    ines.savoir_faire = ["Gériatrie (DES)"]
    ines.save()
    _people, _places, accounts = import_rpps(RPPS)
    assert accounts.changed == [f"{INES} Ines TEST : sites −720000012"]
    ines.refresh_from_db()
    assert ines.directory_sites == ["530000011"]


def test_a_missing_rpps_is_flagged_once_to_the_structure_administrators(
    world, django_capture_on_commit_callbacks
):
    gone = make_user("parti@example.test", structure=world.ehpad_a, rpps=GONE)
    with django_capture_on_commit_callbacks(execute=True):
        _people, _places, accounts = import_rpps(RPPS)
    gone.refresh_from_db()
    assert gone.rpps_missing_since == timezone.localdate()
    assert accounts.flagged == [gone]
    sent = Notification.objects.get()
    assert sent.user == world.admin_a  # the administrator, not the nurse of the structure
    assert GONE in sent.text and "n'apparaît plus dans l'Annuaire Santé" in sent.text
    assert sent.url == reverse("structure_staff", args=[world.ehpad_a.pk])
    # The e-mail that goes with it names nobody.
    assert [m.to for m in mail.outbox] == [[world.admin_a.email]]
    assert GONE not in mail.outbox[0].body and "Parti" not in mail.outbox[0].body
    # Imported again: still flagged, not told twice.
    _people, _places, again = import_rpps(RPPS)
    assert again.flagged == [] and Notification.objects.count() == 1
    page = logged_in(world.admin_a).get(reverse("structure_staff", args=[world.ehpad_a.pk]))
    assert "RPPS absent de l'Annuaire Santé depuis le" in page.text


def test_a_rpps_back_in_the_extract_loses_its_flag(world):
    ines = make_user("ines@example.test", structure=world.ehpad_a, rpps=INES)
    ines.rpps_missing_since = timezone.localdate()
    ines.save()
    _people, _places, accounts = import_rpps(RPPS)
    ines.refresh_from_db()
    assert ines.rpps_missing_since is None
    assert accounts.back == [ines]


def test_a_deactivated_account_is_not_flagged(world):
    gone = make_user("parti@example.test", structure=world.ehpad_a, rpps=GONE, is_active=False)
    _people, _places, accounts = import_rpps(RPPS)
    gone.refresh_from_db()
    assert gone.rpps_missing_since is None and accounts.flagged == []
    assert not Notification.objects.exists()


def test_the_command_prints_the_accounts_report(world, capsys):
    make_user("ines@example.test", structure=world.ehpad_a, rpps=INES)
    make_user("parti@example.test", structure=world.ehpad_a, rpps=GONE)
    call_command("import_rpps", str(RPPS), "--sans-progression")
    out = capsys.readouterr().out
    assert (
        "Comptes : 1 mis à jour, 0 inchangé(s), 1 RPPS absent(s) de l'extraction signalé(s), "
        "0 RPPS revenu(s)." in out
    )
    assert f"  {INES} Ines TEST : profession" in out
    assert f"  absent : {GONE} Parti TEST" in out
