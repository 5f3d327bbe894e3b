"""Shared fixtures: a small region, professionals of every role, logged-in clients."""

import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connections, transaction
from django.test import Client

from telesante.accounts.models import (
    ApiToken,
    Membership,
    MembershipRole,
    Profession,
    RegionalRole,
    User,
)
from telesante.core import paging
from telesante.patients.models import Patient, PatientAttachment
from telesante.patients.services import search_key
from telesante.structures.models import (
    Commune,
    Country,
    Departement,
    DeploymentStatus,
    Region,
    Structure,
    StructureKind,
)

PASSWORD = "Motdepasse-solide-2026"
# The settings the autouse fixtures below give each test, for rows made outside a test.
TEST_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "TELESANTE_INGEST_THREADS": False,
}
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        socket.create_connection((parts.hostname, parts.port or default_port), timeout=2).close()
    except OSError:
        return False
    return True


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip when a service is absent locally; in CI its absence is a failure."""
    if reachable(url, default_port):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} injoignable ({url}) : requis en CI.")
    pytest.skip(f"{name} injoignable ({url})")


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Argon2 is the production hasher (tested on its own); tests create many accounts."""
    settings.PASSWORD_HASHERS = TEST_SETTINGS["PASSWORD_HASHERS"]


@pytest.fixture(autouse=True)
def ingest_inline(settings):
    """Device batches are ingested in another thread in production: here, in the test's own
    thread and transaction (tests/e2e run the real server, which keeps the thread pool)."""
    settings.TELESANTE_INGEST_THREADS = TEST_SETTINGS["TELESANTE_INGEST_THREADS"]


@pytest.fixture(autouse=True)
def fresh_slots(monkeypatch):
    """Each test books its half hours from the first again (tests.rooms.conftest.booking): the
    count does not grow with the session, so that « tomorrow » stays tomorrow late at night."""
    from tests.rooms import conftest as rooms

    monkeypatch.setattr(rooms, "SLOTS", itertools.count(1))


@contextmanager
def kept_rows(django_db_blocker) -> Iterator[None]:
    """An outer transaction for rows made once and read by many tests (setUpTestData): each
    test runs in a savepoint inside it (the `db` fixture) and finds them as they were made;
    rolled back at the end, so nothing leaks to other modules."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def pages_of_two(monkeypatch):
    """Lists paged by two rows, so that a few rows make several pages."""
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files and reports go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def make_territory() -> Region:
    region = Region.objects.create(code="52", name="Pays de la Loire")
    d53 = Departement.objects.create(code="53", name="Mayenne", region=region)
    d72 = Departement.objects.create(code="72", name="Sarthe", region=region)
    Commune.objects.create(code="53130", name="Laval", departement=d53, postal_codes="53000")
    Commune.objects.create(code="53062", name="Château-Gontier-sur-Mayenne", departement=d53)
    Commune.objects.create(code="72181", name="Le Mans", departement=d72)
    Country.objects.create(code="99134", name="Espagne")
    return region


@pytest.fixture
def territory(db) -> Region:
    return make_territory()


def make_structure(
    name: str, kind: str = StructureKind.EHPAD, commune: str = "53130", finess: str | None = None
) -> Structure:
    return Structure.objects.create(
        name=name,
        kind=kind,
        commune_id=commune,
        finess=finess,
        deployment_status=DeploymentStatus.DEPLOYED,
    )


def make_user(
    email: str,
    *,
    structure: Structure | None = None,
    role: str = MembershipRole.MEMBER,
    profession: str = Profession.NURSE,
    specialty: str = "",
    regional_role: str = "",
    **extra,
) -> User:
    user = User.objects.create_user(
        email,
        PASSWORD,
        first_name=email.split("@")[0].capitalize(),
        last_name="Test",
        profession=profession,
        specialty=specialty,
        regional_role=regional_role,
        **extra,
    )
    TOTP.activate(user, TOTP_SECRET)
    if structure is not None:
        Membership.objects.create(user=user, structure=structure, role=role)
    return user


def make_patient(
    structure: Structure, birth_name: str = "DORVANE", first_names: str = "Alix", **extra
) -> Patient:
    fields = {"birth_date": "1940-03-02", "sex": "F", "birthplace_code": "53130", **extra}
    patient = Patient(birth_name=birth_name, first_names=first_names, **fields)
    patient.search_key = search_key(patient)
    patient.save()
    PatientAttachment.objects.create(patient=patient, structure=structure)
    return patient


def totp_now(secret: str = TOTP_SECRET, margin: float = 2.0) -> str:
    """The current TOTP code, with at least `margin` seconds left in its 30-second window:
    allauth accepts the current window only (MFA_TOTP_TOLERANCE defaults to 0)."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)
    return pyotp.TOTP(secret).now()


@dataclass
class World:
    ehpad_a: Structure
    ehpad_b: Structure
    nurse_a: User
    nurse_b: User
    admin_a: User
    doctor_a: User
    observer: User
    regional_admin: User
    patient_a: Patient
    patient_b: Patient


def make_world() -> World:
    """Two structures, each with its nurse and a patient; a structure admin; regional roles."""
    a = make_structure("EHPAD Les Tilleuls", finess="530000011")
    b = make_structure("EHPAD Le Verger", commune="72181", finess="720000012")
    return World(
        ehpad_a=a,
        ehpad_b=b,
        nurse_a=make_user("nurse.a@example.test", structure=a),
        nurse_b=make_user("nurse.b@example.test", structure=b),
        admin_a=make_user("admin.a@example.test", structure=a, role=MembershipRole.ADMIN),
        doctor_a=make_user(
            "doctor.a@example.test",
            structure=a,
            profession=Profession.DOCTOR,
            specialty="medecine_generale",
        ),
        observer=make_user("observer@example.test", regional_role=RegionalRole.OBSERVER),
        regional_admin=make_user(
            "region@example.test", regional_role=RegionalRole.ADMIN, is_staff=True
        ),
        patient_a=make_patient(a),
        patient_b=make_patient(b, birth_name="VALMORIN", first_names="Basile", sex="M"),
    )


@pytest.fixture
def world(territory) -> World:
    return make_world()


def at_once(work: Callable[[int], object], count: int) -> list:
    """`work(n)` in `count` threads released together (each with its own database connection,
    closed after): what each returned, or the exception it raised, in thread order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(n: int) -> None:
        try:
            barrier.wait(10)
            results[n] = work(n)
        except Exception as exc:  # returned: the test says what it expects
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client(user: User | None) -> Client:
    if user is None:
        return Client()
    _token, raw = ApiToken.issue(user)
    return Client(headers={"Authorization": f"Bearer {raw}"})
