"""Télé-expertise fixtures: a wound-care pool in Mayenne, a reference expert at a CHU."""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from telesante.accounts.models import Profession, User
from telesante.acts.models import Filiere
from telesante.structures.models import Commune, Departement, StructureKind
from telesante.teleexpertise import services
from tests.conftest import World, make_structure, make_user


def jpeg(name: str = "plaie.jpg", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 80)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@dataclass
class TE:
    w: World
    wound_expert: User  # plaies et cicatrisation, CH in Mayenne (the territory)
    wound_expert_2: User
    derm_expert: User  # another filière, same territory
    chu_expert: User  # wound care, CHU outside the territory


def make_te_world(world: World) -> TE:
    d49 = Departement.objects.create(code="49", name="Maine-et-Loire", region_id="52")
    Commune.objects.create(code="49007", name="Angers", departement=d49)
    ch = make_structure("CH de Laval", kind=StructureKind.CH, finess="530000021")
    chu = make_structure(
        "CHU d'Angers", kind=StructureKind.CHU, commune="49007", finess="490000031"
    )
    doctor = {"profession": Profession.DOCTOR}
    return TE(
        w=world,
        wound_expert=make_user(
            "plaies@example.test", structure=ch, specialty="plaies_cicatrisation", **doctor
        ),
        wound_expert_2=make_user(
            "plaies2@example.test", structure=ch, specialty="plaies_cicatrisation", **doctor
        ),
        derm_expert=make_user(
            "derm@example.test", structure=ch, specialty="dermatologie", **doctor
        ),
        chu_expert=make_user(
            "chu@example.test", structure=chu, specialty="plaies_cicatrisation", **doctor
        ),
    )


@pytest.fixture
def te_world(world) -> TE:
    return make_te_world(world)


def wound_request(t: TE, **overrides) -> services.NewRequest:
    fields = {
        "patient_id": t.w.patient_a.pk,
        "structure_id": t.w.ehpad_a.pk,
        "filiere_code": "plaies_cicatrisation",
        "question": "Escarre sacrée qui s'aggrave ?",
        "information_given": True,
        "decision": "consent",
        "form_data": {
            "wound_type": "Escarre",
            "location": "Sacrum",
            "length_cm": "4",
            "width_cm": "3,5",
            "stage": "Stade 3",
        },
        "files": {"photos": [(jpeg(), None)]},
        **overrides,
    }
    return services.NewRequest(**fields)


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Emails are sent in process once the transaction commits, whatever the environment."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def png(name: str = "plaie.png", size: tuple[int, int] = (40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf(name: str = "ecg.pdf") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (255, 255, 255)).save(out, "PDF")
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


def geriatric_request(t: TE, **overrides) -> services.NewRequest:
    """A gériatrie request: its form has no required file."""
    fields = {
        "patient_id": t.w.patient_a.pk,
        "structure_id": t.w.ehpad_a.pk,
        "filiere_code": "geriatrie",
        "question": "Chutes répétées, avis sur le traitement ?",
        "information_given": True,
        "decision": "consent",
        "form_data": {"reason": "Chutes", "treatment": "Donépézil 10 mg"},
        **overrides,
    }
    return services.NewRequest(**fields)


def answered(t: TE, te=None, opinion: str = "Pansement hydrocellulaire, réévaluer à J15."):
    """A wound request of nurse_a, claimed and answered by wound_expert."""
    te = te or services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert, te)
    return services.answer(None, t.wound_expert, te, opinion, "", "routine")


FILIERES = Path(__file__).resolve().parents[2] / "src/telesante/acts/data/filieres.json"


def load_filieres() -> None:
    """The data migration's filières, for transactional tests (a flush empties them)."""
    for item in json.loads(FILIERES.read_text(encoding="utf-8")):
        Filiere.objects.update_or_create(code=item.pop("code"), defaults=item)
