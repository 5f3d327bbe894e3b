"""The INSi teleservice (Assurance Maladie): read a patient's INS, by traits or by matricule.

The platform speaks to INSi through a backend named in ``TELESANTE_INSI_BACKEND`` (an import
string): a class with ``search`` and ``verify`` taking and answering the dataclasses below, which
carry what the teleservice's two operations carry.

- ``LocalBackend`` answers from a shipped table of synthetic identities under the test NIR root
  (``data/insi_test_identities.json``): the demo and the tests run the whole flow with it.
- ``TeleserviceBackend`` is the real SOAP service. Calling it needs what a platform gets only
  once deployed: the national agreement (« convention » with the CNAM/GIE SESAM-Vitale for the
  INSi teleservice and its homologation), a CPS card or an IGC-Santé structure certificate
  (« certificat de personne morale ») to sign the SOAP requests, and the endpoint the agreement
  gives. Until they are configured it refuses plainly (`InsiUnavailable`): it never pretends
  to have answered.
"""

import datetime
import enum
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from telesante.core.text import fold

TEST_NIR_ROOT = "1.2.250.1.213.1.4.10"
TEST_IDENTITIES = Path(__file__).parent / "data" / "insi_test_identities.json"


class InsiUnavailable(Exception):
    """The teleservice cannot be called (not configured, unreachable); the message is French."""


class ResultCode(enum.StrEnum):
    """The teleservice's answer codes (« CR » of the INSi operations)."""

    FOUND = "00"
    NOT_FOUND = "01"
    SEVERAL = "02"


@dataclass(frozen=True)
class Traits:
    """The five strict traits of an identity (RNIV)."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: datetime.date
    birthplace_code: str


@dataclass(frozen=True)
class InsIdentity:
    """An INS as the teleservice returns it: the matricule, its OID (NIR, NIA or test NIR
    root) and the traits of the national identity databases."""

    matricule: str
    oid: str
    traits: Traits


@dataclass(frozen=True)
class SearchRequest:
    """Search by traits (« recherche par traits d'identité »)."""

    traits: Traits


@dataclass(frozen=True)
class VerifyRequest:
    """Verification of a matricule with the identity's traits (« vérification »)."""

    matricule: str
    oid: str
    traits: Traits


@dataclass(frozen=True)
class InsiResponse:
    code: ResultCode
    identity: InsIdentity | None
    answered_at: datetime.datetime


class Backend(Protocol):
    oid: str  # the root of the matricules read from a carte Vitale for this service

    def search(self, request: SearchRequest) -> InsiResponse: ...

    def verify(self, request: VerifyRequest) -> InsiResponse: ...


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LocalBackend:
    """Answers from the shipped synthetic test identities, as the teleservice would: a search
    finds the identities with the same birth name, first first name, sex and birth date (the
    birthplace and the other first names are compared by the caller); a verification finds the
    matricule."""

    oid = TEST_NIR_ROOT

    def search(self, request: SearchRequest) -> InsiResponse:
        asked = request.traits
        found = [
            identity
            for identity in _test_identities()
            if fold(identity.traits.birth_name) == fold(asked.birth_name)
            and fold(identity.traits.first_names[0]) == fold(asked.first_names[0] or "")
            and identity.traits.sex == asked.sex
            and identity.traits.birth_date == asked.birth_date
        ]
        if len(found) > 1:
            return InsiResponse(ResultCode.SEVERAL, None, _now())
        return _answer(found[0] if found else None)

    def verify(self, request: VerifyRequest) -> InsiResponse:
        found = next(
            (
                identity
                for identity in _test_identities()
                if identity.matricule == request.matricule and identity.oid == request.oid
            ),
            None,
        )
        return _answer(found)


def _answer(identity: InsIdentity | None) -> InsiResponse:
    code = ResultCode.FOUND if identity else ResultCode.NOT_FOUND
    return InsiResponse(code, identity, _now())


@cache
def _test_identities() -> tuple[InsIdentity, ...]:
    data = json.loads(TEST_IDENTITIES.read_text(encoding="utf-8"))
    return tuple(
        InsIdentity(
            matricule=row["matricule"],
            oid=data["oid"],
            traits=Traits(
                birth_name=row["birth_name"],
                first_names=tuple(row["first_names"]),
                sex=row["sex"],
                birth_date=datetime.date.fromisoformat(row["birth_date"]),
                birthplace_code=row["birthplace_code"],
            ),
        )
        for row in data["identities"]
    )


class TeleserviceBackend:
    """The real INSi SOAP teleservice: refuses until the platform holds the agreement and the
    certificate (see the module's documentation and README « Téléservice INSi »)."""

    oid = "1.2.250.1.213.1.4.8"  # INS-NIR

    def _refusal(self) -> InsiUnavailable:
        return InsiUnavailable(
            _(
                "Le téléservice INSi n'est pas raccordé à cette plateforme : il faut la "
                "convention nationale, une carte CPS ou un certificat de structure IGC-Santé et "
                "l'adresse du service. Contactez l'administrateur de la plateforme."
            )
        )

    def search(self, request: SearchRequest) -> InsiResponse:
        raise self._refusal()

    def verify(self, request: VerifyRequest) -> InsiResponse:
        raise self._refusal()


def backend() -> Backend:
    return import_string(settings.TELESANTE_INSI_BACKEND)()
