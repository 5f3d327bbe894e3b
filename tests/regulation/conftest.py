from dataclasses import dataclass

import pytest

from telesante.accounts.models import Profession, User
from telesante.regulation import services
from telesante.regulation.models import RegulationRecord
from telesante.structures.models import Commune, Structure, StructureKind
from tests.conftest import World, make_structure, make_user

LAVAL = (48.0706, -0.7734)


@dataclass
class RG:
    w: World
    samu: Structure
    samu_b: Structure
    regulator: User
    regulator_b: User
    assistant: User  # a member of the SAMU without the regulation right
    record: RegulationRecord


def new_record(user: User, **data) -> RegulationRecord:
    fields = {"caller_number": "06 12 34 56 78", "reason": "Chute dans l'escalier", **data}
    return services.create_record(None, user, fields)


def make_regul(world: World) -> RG:
    """SAMU 53 with its regulator and an assistant without the right; SAMU 72 with its own."""
    Commune.objects.filter(code="53130").update(latitude=LAVAL[0], longitude=LAVAL[1])
    samu = make_structure("SAMU 53", kind=StructureKind.SAMU)
    samu_b = make_structure("SAMU 72", kind=StructureKind.SAMU, commune="72181")
    regulator = make_user(
        "regulateur@example.test",
        structure=samu,
        profession=Profession.DOCTOR,
        regulation_access=True,
    )
    regulator_b = make_user(
        "regulateur.b@example.test",
        structure=samu_b,
        profession=Profession.DOCTOR,
        regulation_access=True,
    )
    assistant = make_user("arm@example.test", structure=samu)
    return RG(world, samu, samu_b, regulator, regulator_b, assistant, new_record(regulator))


@pytest.fixture
def regul(world) -> RG:
    return make_regul(world)
