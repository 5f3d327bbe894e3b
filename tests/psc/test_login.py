"""Pro Santé Connect login against a real OpenID provider (tests/psc/oidc.py): the request
PSC expects, the checks of what comes back, the account it maps to, no TOTP after it, logout."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from telesante.accounts.models import Membership, Profession, Specialty, User
from telesante.psc import services
from telesante.psc.claims import ProClaims
from telesante.psc.session import ID_TOKEN, STRONG_AUTH
from tests.conftest import PASSWORD, make_user
from tests.psc import oidc

LOGIN = "/compte/login/"
BACK = "http://testserver"


def start_login(client: Client) -> str:
    response = client.post(reverse("psc_login"))
    assert response.status_code == 302
    return response["Location"]


def psc_login(client: Client, idnat: str, browser: requests.Session | None = None, tamper=None):
    """The whole round trip; `tamper(client)` runs just before the callback."""
    callback = oidc.authenticate_at_provider(
        browser or requests.Session(), start_login(client), idnat, BACK
    )
    if tamper is not None:
        tamper(client)
    return client.get(callback.removeprefix(BACK))


@pytest.fixture
def known(world):
    """Dr Aline FICTIVE has an account (RPPS known), recorded as a nurse with a TOTP."""
    return make_user("aline@example.test", structure=world.ehpad_a, rpps=oidc.KNOWN_RPPS)


def logged_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_no_button_and_no_route_when_not_configured(db, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"psc": {"APPS": []}}
    assert "Pro Santé Connect" not in Client().get(LOGIN).content.decode()
    assert Client().post(reverse("psc_login")).status_code == 404


def test_the_login_page_offers_psc(psc, db):
    page = Client().get(LOGIN).content.decode()
    assert "Se connecter avec Pro Santé Connect" in page
    assert f'action="{reverse("psc_login")}"' in page


def test_the_authorization_request_is_what_psc_expects(psc, db):
    url = start_login(Client())
    assert url.startswith(f"{psc.issuer}/protocol/openid-connect/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["acr_values"] == ["eidas1"]
    assert set(query["scope"][0].split()) == {"openid", "scope_all"}
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [f"{BACK}/compte/psc/login/callback/"]
    # A fresh nonce each time.
    assert parse_qs(urlsplit(start_login(Client())).query)["nonce"] != query["nonce"]


def test_known_rpps_logs_in_without_totp_and_is_refreshed(psc, known):
    client = Client()
    response = psc_login(client, oidc.KNOWN)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user(client) == known
    assert client.session[STRONG_AUTH] == "psc"
    assert client.session[ID_TOKEN].count(".") == 2
    # Home opens: no TOTP step, no TOTP enrolment asked.
    assert client.get("/").status_code == 200
    known.refresh_from_db()
    assert known.profession == Profession.DOCTOR
    assert known.specialty == Specialty.GENERAL
    assert known.regulation_access is True
    assert SocialAccount.objects.get(user=known).uid == oidc.KNOWN


def test_an_account_without_totp_is_not_sent_to_enrol_one(psc, known):
    known.authenticator_set.all().delete()
    client = Client()
    assert psc_login(client, oidc.KNOWN)["Location"] == "/"
    assert client.get(reverse("patient_list")).status_code == 200


def test_userinfo_as_plain_json_works_too(psc, known, settings):
    settings.SOCIALACCOUNT_PROVIDERS = psc.apps(oidc.PLAIN)
    client = Client()
    assert psc_login(client, oidc.KNOWN)["Location"] == "/"
    assert logged_in_user(client) == known


def test_a_password_login_after_psc_still_asks_for_the_code(psc, known):
    client = Client()
    psc_login(client, oidc.KNOWN)
    client.post(reverse("account_logout"))
    response = client.post(LOGIN, {"login": known.email, "password": PASSWORD})
    assert response["Location"] == "/compte/2fa/authenticate/"
    assert STRONG_AUTH not in client.session


def refused(response, client: Client, caplog, why: str) -> None:
    assert response.status_code == 401
    assert why in caplog.text
    assert "Échec de la connexion avec Pro Santé Connect" in response.content.decode()
    assert logged_in_user(client) is None


def test_a_wrong_nonce_is_refused(psc, known, caplog):
    def other_nonce(client):
        session = client.session
        states = session[statekit.STATES_SESSION_KEY]
        for state, _at, _provider in states.values():
            state["nonce"] = "a-nonce-we-never-sent-0000000000000"
        session[statekit.STATES_SESSION_KEY] = states
        session.save()

    client = Client()
    refused(psc_login(client, oidc.KNOWN, tamper=other_nonce), client, caplog, "Nonce mismatch")


def test_a_wrong_acr_is_refused(psc, world, caplog):
    make_user("weak@example.test", structure=world.ehpad_a, rpps=oidc.WEAK_RPPS)
    client = Client()
    refused(psc_login(client, oidc.WEAK), client, caplog, "acr 'eidas0' instead of eidas1")


def test_an_expired_id_token_is_refused(psc, known, caplog):
    client = Client()
    # PSC's clock two hours behind when it issues the tokens: they expired an hour ago.
    response = psc_login(client, oidc.KNOWN, tamper=lambda _c: psc.set_clock(-7200))
    psc.set_clock(0)
    refused(response, client, caplog, "Signature has expired")


def test_unknown_rpps_in_a_structure_closed_to_enrolment_says_whom_to_ask(psc, world):
    client = Client()
    response = psc_login(client, oidc.NEWCOMER)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Vous n'avez pas encore de compte" in page
    assert world.admin_a.display_name in page
    assert world.nurse_a.display_name not in page
    assert not User.objects.filter(rpps=oidc.NEW_RPPS).exists()
    assert logged_in_user(client) is None


def test_unknown_rpps_in_no_known_structure_is_sent_to_the_region(psc, world):
    response = psc_login(Client(), oidc.STRANGER)
    assert response.status_code == 403
    assert "l'équipe régionale" in response.content.decode()
    assert not User.objects.filter(rpps=oidc.STRANGER_RPPS).exists()


def test_an_adeli_professional_has_no_rpps_to_map(psc, world):
    response = psc_login(Client(), oidc.ADELI)
    assert response.status_code == 403
    assert "numéro RPPS" in response.content.decode()


def test_self_enrolment_creates_the_account_in_the_default_team(psc, world):
    world.ehpad_a.psc_self_enrolment = True
    world.ehpad_a.save()
    client = Client()
    assert psc_login(client, oidc.NEWCOMER)["Location"] == "/"
    user = User.objects.get(rpps=oidc.NEW_RPPS)
    assert logged_in_user(client) == user
    assert (user.first_name, user.last_name, user.email) == (
        "Basile",
        "IMAGINAIRE",
        "basile@example.test",
    )
    assert user.profession == Profession.NURSE
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.structure == world.ehpad_a
    assert membership.team == world.ehpad_a.teams.order_by("pk").first()
    assert client.get("/").status_code == 200


def test_logout_ends_both_sessions(psc, known):
    client, browser = Client(), requests.Session()
    psc_login(client, oidc.KNOWN, browser)
    response = client.post(reverse("account_logout"))
    end_session = response["Location"]
    assert end_session.startswith(f"{psc.issuer}/protocol/openid-connect/logout?")
    query = parse_qs(urlsplit(end_session).query)
    assert query["id_token_hint"] == [client_id_token := query["id_token_hint"][0]]
    assert client_id_token.count(".") == 2
    assert query["post_logout_redirect_uri"] == [f"{BACK}{LOGIN}"]
    assert logged_in_user(client) is None
    assert client.get("/")["Location"].startswith(LOGIN)
    # At PSC: its confirmation form, then back to our login page.
    confirm = browser.get(end_session, timeout=10)
    xsrf = confirm.text.split('name="xsrf" value="')[1].split('"')[0]
    back = browser.post(
        urlsplit(end_session)._replace(query="").geturl().replace("/logout", "/logout/confirm"),
        data={"xsrf": xsrf, "logout": "yes"},
        allow_redirects=False,
    )
    assert back.headers["Location"].startswith(f"{BACK}{LOGIN}")
    # PSC's session is gone too: the next login asks for the identity again.
    next_login = browser.get(start_login(Client()), allow_redirects=False)
    assert "/interaction/" in next_login.headers["Location"]


def test_the_link_follows_the_rpps_to_its_account(psc, known, world):
    SocialAccount.objects.create(user=world.nurse_a, provider="psc", uid=oidc.KNOWN)
    client = Client()
    assert psc_login(client, oidc.KNOWN)["Location"] == "/"
    assert logged_in_user(client) == known
    assert SocialAccount.objects.get(uid=oidc.KNOWN).user == known


def test_logout_of_a_password_session_stays_here(known):
    client = Client()
    client.force_login(known)
    assert client.post(reverse("account_logout"))["Location"] == "/"


def test_logout_when_psc_is_unreachable_still_ends_our_session(psc, known, settings):
    client = Client()
    psc_login(client, oidc.KNOWN)
    unreachable = f"http://127.0.0.1:{oidc.free_port()}/.well-known/wallet-openid-configuration"
    settings.SOCIALACCOUNT_PROVIDERS["psc"]["APPS"][0]["settings"]["server_url"] = unreachable
    assert client.post(reverse("account_logout"))["Location"] == "/"
    assert logged_in_user(client) is None


def test_the_provider_names_our_routes(psc, rf, db):
    request = rf.get("/")
    provider = get_adapter().get_provider(request, "psc")
    assert provider.name == "Pro Santé Connect"
    assert provider.get_login_url(request) == reverse("psc_login")
    assert (
        provider.get_login_url(request, next="/patients/")
        == "/compte/psc/login/?next=%2Fpatients%2F"
    )
    assert provider.get_callback_url() == reverse("psc_callback")


def test_a_newcomer_whose_email_is_taken_gets_a_placeholder(world):
    world.ehpad_a.psc_self_enrolment = True
    world.ehpad_a.save()
    data = oidc.ACCOUNTS[oidc.NEWCOMER]["claims"] | {
        "SubjectNameID": oidc.NEWCOMER,
        "email": world.nurse_b.email,
    }
    user = services.account_for(ProClaims.from_userinfo(data))
    assert user.email == f"rpps-{oidc.NEW_RPPS}@pro-sante-connect.invalid"
