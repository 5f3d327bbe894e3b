"""PSC's claims read into what the platform keeps; tokens signed with the client secret."""

import time

import jwt
import pytest
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

from telesante.accounts.models import Profession, Specialty
from telesante.psc.adapter import SocialAccountAdapter
from telesante.psc.claims import ClaimsError, ProClaims
from telesante.psc.provider import decode_jwt
from tests.psc import oidc


def test_claims_as_psc_nests_them():
    data = oidc.ACCOUNTS[oidc.KNOWN]["claims"] | {"SubjectNameID": oidc.KNOWN}
    data["SubjectRefPro"]["exercices"][0]["activities"].append(
        {"numeroFinessSite": "", "numeroFinessetablissementJuridique": "530000029"}
    )
    claims = ProClaims.from_userinfo(data)
    assert claims.rpps == oidc.KNOWN_RPPS
    assert (claims.first_name, claims.last_name, claims.email) == ("Aline", "FICTIVE", "")
    assert claims.profession == Profession.DOCTOR
    assert claims.specialty == Specialty.GENERAL
    assert claims.regulation_access is True
    assert claims.finess == {oidc.FINESS_A, "530000029"}


def test_unknown_codes_and_missing_exercices():
    data = {"SubjectNameID": oidc.NEWCOMER, "Acces_Regulation_Medicale": "FAUX"}
    claims = ProClaims.from_userinfo(data)
    assert (claims.profession, claims.specialty, claims.finess) == (None, None, frozenset())
    assert claims.regulation_access is False
    other = oidc.exercice("99", "SM99", oidc.FINESS_A)
    claims = ProClaims.from_userinfo(data | {"SubjectRefPro": {"exercices": [other]}})
    assert (claims.profession, claims.specialty) == (Profession.OTHER, None)


@pytest.mark.parametrize("idnat", [oidc.ADELI, "8123", "", f"8{oidc.KNOWN_RPPS[:-1]}0"])
def test_no_valid_rpps_no_claims(idnat):
    with pytest.raises(ClaimsError):
        ProClaims.from_userinfo({"SubjectNameID": idnat})


def test_a_token_signed_with_the_client_secret():
    app = SocialApp(client_id="telesante", secret="s" * 40)
    config = {"issuer": "https://psc.example.test", "jwks_uri": "https://psc.example.test/certs"}
    claims = {"iss": config["issuer"], "aud": "telesante", "sub": "x", "exp": time.time() + 60}
    assert decode_jwt(jwt.encode(claims, app.secret, "HS256"), config, app)["sub"] == "x"
    with pytest.raises(OAuth2Error):
        decode_jwt(jwt.encode(claims, "t" * 40, "HS256"), config, app)
    with pytest.raises(OAuth2Error):
        decode_jwt(jwt.encode(claims | {"aud": "other"}, app.secret, "HS256"), config, app)


def test_the_client_certificate_goes_with_the_requests(settings):
    assert SocialAccountAdapter().get_requests_session().cert is None
    settings.PSC_CLIENT_CERT = "/etc/telesante/psc.pem"
    assert SocialAccountAdapter().get_requests_session().cert == "/etc/telesante/psc.pem"
    settings.PSC_CLIENT_KEY = "/etc/telesante/psc.key"
    assert SocialAccountAdapter().get_requests_session().cert == (
        "/etc/telesante/psc.pem",
        "/etc/telesante/psc.key",
    )


def test_without_node_ci_fails_instead_of_skipping(monkeypatch):
    monkeypatch.setattr(oidc.shutil, "which", lambda _name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        oidc.require_node()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        oidc.require_node()
