"""A known dataset: five sites in Mayenne and Sarthe, acts of 2022 with known delays."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from telesante.accounts.models import Profession
from telesante.acts.models import Act, ActStatus
from telesante.patients.models import ActKind
from telesante.structures.models import Commune, DeploymentStatus, Structure, StructureKind
from tests.conftest import World, make_patient, make_structure, make_user

LAVAL, LE_MANS = (48.06667, -0.76667), (48.0, 0.2)


def at(day: str, hour: int = 8) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour))
    )


@dataclass
class Dataset:
    w: World
    e1: Structure  # EHPAD, Laval, rural, under-served, deployed in March 2022
    e2: Structure  # EHPAD, Château-Gontier, deployment started, deployed in September
    e3: Structure  # EHPAD, Le Mans, planned
    ch: Structure  # hospital, Le Mans: the experts' site
    msp: Structure  # MSP, Laval


def add_act(
    ds: Dataset,
    site: Structure,
    kind: str,
    asked: datetime.datetime,
    *,
    hours: float | None = None,
    status: str | None = None,
    filiere: str = "",
) -> Act:
    """An act requested from ``site`` to the hospital, answered ``hours`` later when given."""
    requester = ds.w.nurse_a if site.pk != ds.msp.pk else ds.w.doctor_a
    done = hours is not None
    act = Act.objects.create(
        kind=kind,
        filiere_id=filiere or None,
        patient=ds.w.patient_a,
        requester=requester,
        requesting_structure=site,
        performing_structure=ds.ch,
        status=status or (ActStatus.DONE if done else ActStatus.REQUESTED),
        requested_at=asked,
        done_at=asked + datetime.timedelta(hours=hours) if done else None,
    )
    if done:
        act.performers.add(ds.expert)
    return act


@pytest.fixture
def dataset(world: World) -> Dataset:
    Commune.objects.filter(pk="53130").update(latitude=LAVAL[0], longitude=LAVAL[1])
    Commune.objects.filter(pk="72181").update(latitude=LE_MANS[0], longitude=LE_MANS[1])
    # Château-Gontier has no centre point: it is placed at the mean of Mayenne's (Laval).
    e1 = Structure.objects.get(pk=world.ehpad_a.pk)
    e1.rural, e1.apl = True, 2
    e1.deployment_started_on = datetime.date(2022, 1, 10)
    e1.deployed_on = datetime.date(2022, 3, 1)
    e1.save()
    e2 = make_structure("EHPAD Les Glycines", commune="53062")
    Structure.objects.filter(pk=e2.pk).update(
        deployment_status=DeploymentStatus.DEPLOYED,
        deployment_started_on=datetime.date(2022, 2, 1),
        deployed_on=datetime.date(2022, 9, 1),
    )
    e3 = Structure.objects.get(pk=world.ehpad_b.pk)
    e3.deployment_status = DeploymentStatus.PLANNED
    e3.save()
    ch = make_structure("CH du Mans", kind=StructureKind.CH, commune="72181")
    msp = make_structure("MSP de Laval", kind=StructureKind.MSP)
    msp.apl = 3.1
    msp.save()
    ds = Dataset(world, e1, Structure.objects.get(pk=e2.pk), e3, ch, msp)
    ds.expert = make_user(
        "expert@example.test", structure=ch, profession=Profession.DOCTOR, specialty="geriatrie"
    )
    make_user("inactive@example.test", structure=e1, is_active=False)
    make_patient(e1, birth_name="ORLENNE")
    te, tc = ActKind.TELEEXPERTISE, ActKind.TELECONSULTATION
    add_act(ds, e1, te, at("2022-02-01"), hours=10, filiere="geriatrie")
    add_act(ds, e1, te, at("2022-03-15"), hours=20, filiere="geriatrie")
    add_act(ds, e1, te, at("2022-03-20"), filiere="plaies_cicatrisation")  # not answered yet
    add_act(ds, e1, tc, at("2022-04-02"), hours=1)
    add_act(ds, e2, te, at("2022-05-10"), hours=50, filiere="plaies_cicatrisation")
    add_act(ds, msp, te, at("2022-06-29"), hours=4, filiere="dermatologie")
    add_act(ds, e1, te, at("2022-06-01"), status=ActStatus.DRAFT)
    add_act(ds, e1, tc, at("2022-06-02"), status=ActStatus.CANCELLED)
    add_act(ds, e1, te, at("2022-08-03"), hours=30, filiere="geriatrie")  # second semester
    add_act(ds, e3, tc, at("2022-03-03"), hours=1)  # Sarthe
    return ds
