"""The real login: allauth password step, TOTP step, enrolment, lockout, sessions, API tokens."""

import datetime
import os
import re
import subprocess
import sys
import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import telesante.settings as production_settings
from telesante import cli
from telesante.accounts import lockout, sessions
from telesante.accounts.backends import Backend
from telesante.accounts.models import ApiToken, Session, User, hash_token
from telesante.accounts.sessions import SessionStore
from tests.conftest import PASSWORD, logged_in, make_user, totp_now

LOGIN = "/compte/login/"
TOTP_STEP = "/compte/2fa/authenticate/"
ACTIVATE = "/compte/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate limits and used TOTP codes live in the cache: no leak between tests."""
    cache.clear()
    yield
    cache.clear()


def password_step(client: Client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def non_field_errors(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


def session_of(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def session_for(user: User) -> SessionStore:
    """A session of the store, saved, in which `user` is logged in."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session.create()
    return session


def live_and_expired_sessions(user: User) -> str:
    """Two sessions of `user`, the second past its expiry: the key of the live one."""
    kept, ended = session_for(user), session_for(user)
    past = timezone.now() - datetime.timedelta(minutes=1)
    Session.objects.filter(session_key=ended.session_key).update(expire_date=past)
    return kept.session_key


@pytest.fixture
def logged_in_for_real(world):
    """Nurse A through both steps, as a browser would."""
    client = Client()
    assert password_step(client, world.nurse_a.email)["Location"] == TOTP_STEP
    assert client.post(TOTP_STEP, {"code": totp_now()})["Location"] == "/"
    return client


# Password step, then TOTP step.


def test_right_password_leads_to_the_totp_step_not_yet_logged_in(world):
    client = Client()
    response = password_step(client, world.nurse_a.email)
    assert response.status_code == 302
    assert response["Location"] == TOTP_STEP
    assert "_auth_user_id" not in client.session
    page = client.get(TOTP_STEP)
    assert "Authentification à deux facteurs" in page.content.decode()
    # Not logged in yet: pages still send to the login.
    assert client.get(reverse("patient_list"))["Location"].startswith(LOGIN)


def test_login_by_email_is_case_insensitive(world):
    response = password_step(Client(), "Nurse.A@Example.TEST")
    assert response["Location"] == TOTP_STEP


def test_wrong_password_is_refused_in_french(world):
    response = password_step(Client(), world.nurse_a.email, "mauvais-mot-de-passe")
    assert response.status_code == 200
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in non_field_errors(response)


def test_wrong_totp_code_is_refused_in_french(world):
    client = Client()
    password_step(client, world.nurse_a.email)
    wrong = f"{(int(totp_now()) + 500000) % 1000000:06d}"
    response = client.post(TOTP_STEP, {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["Code incorrect."]
    assert "Code incorrect." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_right_totp_code_logs_in_and_opens_home(logged_in_for_real, world):
    client = logged_in_for_real
    assert client.session["_auth_user_id"] == str(world.nurse_a.pk)
    home = client.get("/")
    assert home.status_code == 200
    assert "Déconnexion" in home.content.decode()
    assert client.get(reverse("patient_list")).status_code == 200


def test_a_totp_code_cannot_be_used_twice_and_says_so(world):
    code = totp_now()
    first = Client()
    password_step(first, world.nurse_a.email)
    assert first.post(TOTP_STEP, {"code": code})["Location"] == "/"
    replay = Client()
    password_step(replay, world.nurse_a.email)
    response = replay.post(TOTP_STEP, {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "Ce code vient d'être utilisé : un code ne sert qu'une fois. Attendez le suivant "
        "dans votre application (30 secondes au plus)."
    ]
    assert "_auth_user_id" not in replay.session


def test_the_code_field_opens_the_digit_pad_and_offers_the_app_code(world):
    client = Client()
    password_step(client, world.nurse_a.email)
    html = client.get(TOTP_STEP).content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert 'inputmode="numeric"' in field
    assert 'autocomplete="one-time-code"' in field


def test_inactive_account_cannot_log_in(world):
    world.nurse_a.is_active = False
    world.nurse_a.save()
    client = Client()
    response = password_step(client, world.nurse_a.email)
    assert response["Location"] == "/compte/inactive/"
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(logged_in_for_real):
    client = logged_in_for_real
    client.post("/compte/logout/")
    assert client.get("/")["Location"].startswith(LOGIN)


# A second factor is compulsory: enrolment before anything else.


@pytest.fixture
def without_totp(world):
    Authenticator.objects.filter(user=world.nurse_a).delete()
    return world.nurse_a


def test_user_without_totp_is_sent_to_enrol_from_any_page(without_totp, world):
    client = Client()
    response = password_step(client, without_totp.email)
    assert response["Location"] == "/"  # no TOTP step without an authenticator
    pages = ["/", reverse("patient_list"), reverse("structure_detail", args=[world.ehpad_a.pk])]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE, url


def test_enrolment_with_the_secret_shown_then_pages_open(without_totp):
    client = Client()
    password_step(client, without_totp.email)
    # allauth asks for the password once more before adding an authenticator.
    reauth = client.get(ACTIVATE)
    assert reauth["Location"].startswith("/compte/reauthenticate/")
    back = client.post(reauth["Location"], {"password": PASSWORD})
    assert back["Location"] == ACTIVATE
    page = client.get(ACTIVATE)
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in page.content.decode()  # shown for manual entry (and in the QR code)
    refused = client.post(ACTIVATE, {"code": "000000"})
    assert refused.status_code == 200
    assert not Authenticator.objects.filter(user=without_totp, type="totp").exists()
    code = pyotp.TOTP(secret).now()
    response = client.post(ACTIVATE, {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=without_totp, type="totp").exists()
    assert client.get("/").status_code == 200
    assert client.get(reverse("patient_list")).status_code == 200


def test_open_paths_stay_reachable_before_enrolment(without_totp):
    client = logged_in(without_totp)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    # /compte/ pages are allauth's own: the enrolment path is not redirected to itself.
    assert client.get(ACTIVATE)["Location"].startswith("/compte/reauthenticate/")


def test_the_totp_authenticator_cannot_be_removed(logged_in_for_real, world):
    client = logged_in_for_real
    deactivate = "/compte/2fa/totp/deactivate/"
    reauth = client.get(deactivate)["Location"]
    assert client.post(reauth, {"password": PASSWORD})["Location"] == deactivate
    response = client.post(deactivate)
    assert response.status_code == 200
    assert non_field_errors(response) == (
        "La double authentification est obligatoire pour les professionnels."
    )
    assert Authenticator.objects.filter(user=world.nurse_a, type="totp").exists()


# Failed logins: per account a growing delay, then a lock with its time left; per address a
# limit high enough for a ward sharing its hospital's address.


@pytest.fixture
def clock(monkeypatch):
    """Wall-clock time moved forward at will (allauth's failure records use time.time())."""
    offset = [0.0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def fail(client: Client, email: str):
    response = password_step(client, email, "mauvais-mot-de-passe")
    assert response.status_code == 200
    return non_field_errors(response)


def test_failures_bring_a_growing_delay_then_the_right_password_works(world, clock):
    client = Client()
    for _ in range(3):
        assert "incorrects" in fail(client, world.nurse_a.email)
    delayed = password_step(client, world.nurse_a.email)
    assert delayed.status_code == 200
    message = non_field_errors(delayed)
    assert "patientez 5 secondes avant de réessayer" in message
    assert "_auth_user_id" not in client.session
    clock(6)
    assert "incorrects" in fail(client, world.nurse_a.email)  # the 4th failure
    assert "patientez 10 secondes" in fail(client, world.nurse_a.email)  # refused, not counted
    clock(11)
    assert password_step(client, world.nurse_a.email)["Location"] == TOTP_STEP


def test_ten_failures_lock_the_account_with_the_time_left(world, clock):
    client = Client()
    for n in range(10):
        clock(lockout.delay_for(n) + 1)
        assert "incorrects" in fail(client, world.nurse_a.email), n
    locked = password_step(client, world.nurse_a.email)
    message = non_field_errors(locked)
    assert message.startswith("Compte verrouillé après 10 échecs de connexion. Réessayez dans ")
    minutes = int(re.search(r"dans (\d+) minutes \(à \d\d:\d\d\)", message).group(1))
    elapsed = sum(lockout.delay_for(n) + 1 for n in range(1, 10))  # since the first failure
    assert minutes == -(-(30 * 60 - elapsed) // 60)
    assert "_auth_user_id" not in client.session
    # The lock follows the account from another address, and leaves the others alone.
    elsewhere = password_step(Client(REMOTE_ADDR="198.51.100.1"), world.nurse_a.email)
    assert "Compte verrouillé" in non_field_errors(elsewhere)
    assert password_step(Client(), world.nurse_b.email)["Location"] == TOTP_STEP
    clock(minutes * 60)
    assert password_step(client, world.nurse_a.email)["Location"] == TOTP_STEP


def test_a_ward_behind_one_address_is_not_locked_out_by_its_colleagues(world):
    """Twenty colleagues, one shared address, each a typo: the twenty-first logs in."""
    for i in range(20):
        colleague = make_user(f"collegue{i}@example.test", structure=world.ehpad_a)
        response = password_step(Client(), colleague.email, "faute-de-frappe")
        assert "incorrects" in non_field_errors(response)
    assert password_step(Client(), world.nurse_a.email)["Location"] == TOTP_STEP


def test_the_address_limit_still_stops_a_sweep_over_many_accounts(world, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/15m/ip"}
    for i in range(3):
        assert "incorrects" in fail(Client(), f"inconnu{i}@example.test")
    refused = password_step(Client(), world.nurse_a.email)
    message = non_field_errors(refused)
    assert re.fullmatch(
        r"Trop d'échecs de connexion depuis ce réseau\. Réessayez dans 15 minutes "
        r"\(à \d\d:\d\d\)\.",
        message,
    )
    assert (
        password_step(Client(REMOTE_ADDR="198.51.100.1"), world.nurse_a.email)["Location"]
        == TOTP_STEP
    )


@pytest.mark.parametrize("trusted", [False, True])
def test_the_address_limit_believes_forwarded_for_only_from_our_proxies(world, settings, trusted):
    """A local client sweeping accounts while writing a new X-Forwarded-For each time is still
    one address; behind our proxy, the forwarded address is the client's."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/15m/ip"}
    settings.TELESANTE_TRUSTED_PROXIES = ["127.0.0.1"] if trusted else []

    def client(i: int) -> Client:
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    for i in range(3):
        assert "incorrects" in fail(client(i), f"inconnu{i}@example.test")
    last = password_step(client(3), world.nurse_a.email)
    if trusted:
        assert last["Location"] == TOTP_STEP
    else:
        assert "Trop d'échecs de connexion depuis ce réseau" in non_field_errors(last)


def test_the_code_step_is_delayed_too(world, clock):
    client = Client()
    password_step(client, world.nurse_a.email)
    wrong = f"{(int(totp_now()) + 500000) % 1000000:06d}"
    for _ in range(3):
        assert client.post(TOTP_STEP, {"code": wrong}).context["form"].errors["code"] == [
            "Code incorrect."
        ]
    response = client.post(TOTP_STEP, {"code": wrong})
    assert "patientez 5 secondes" in " ".join(response.context["form"].errors["code"])


# Sessions expire on inactivity.


def test_session_cookie_age_follows_telesante_session_minutes():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TELESANTE_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        TELESANTE_DEBUG="1",
        TELESANTE_SESSION_MINUTES="17",
        DJANGO_SETTINGS_MODULE="telesante.settings",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.SESSION_COOKIE_AGE, settings.SESSION_SAVE_EVERY_REQUEST)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [str(17 * 60), "True"]


def test_default_session_age_is_thirty_minutes_saved_on_every_request(settings):
    minutes = int(os.environ.get("TELESANTE_SESSION_MINUTES", "30"))
    assert minutes * 60 == production_settings.SESSION_COOKIE_AGE
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_each_request_pushes_the_expiry_back(logged_in_for_real, settings):
    client = logged_in_for_real
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=soon)
    assert client.get("/").status_code == 200
    expiry = session_of(client).expire_date
    expected = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((expiry - expected).total_seconds()) < 30


def test_a_session_read_again_within_the_minute_is_not_written_again(logged_in_for_real):
    client = logged_in_for_real
    assert client.get("/").status_code == 200
    written = session_of(client).expire_date
    with CaptureQueriesContext(connections["default"]) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries if q["sql"].startswith('UPDATE "accounts_session"')]
    assert session_of(client).expire_date == written


def test_a_changed_session_is_written_within_the_minute(world):
    first = SessionStore()
    first["step"] = 1
    first.create()
    unchanged = SessionStore(first.session_key)
    assert unchanged["step"] == 1
    with CaptureQueriesContext(connections["default"]) as queries:
        unchanged.save()
    assert len(queries) == 0
    changed = SessionStore(first.session_key)
    changed["step"] = 2
    changed.save()
    assert SessionStore(first.session_key)["step"] == 2


def test_inactive_session_sends_the_next_request_to_login(logged_in_for_real):
    client = logged_in_for_real
    past = timezone.now() - datetime.timedelta(seconds=1)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=past)
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_each_session_reads_its_own_account_and_a_deactivated_one_reads_none(world):
    """The session and its account are read by statements prepared once for every session
    (accounts.sessions, accounts.backends): each request gets its own values."""
    nurse, doctor = logged_in(world.nurse_a), logged_in(world.doctor_a)
    for _ in range(3):  # in turn, past psycopg's preparing them on the third run
        assert nurse.get("/").wsgi_request.user == world.nurse_a
        assert doctor.get("/").wsgi_request.user == world.doctor_a
    User.objects.filter(pk=world.nurse_a.pk).update(is_active=False)
    response = nurse.get(reverse("patient_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert doctor.get(reverse("patient_list")).status_code == 200


def test_a_page_reads_the_session_and_its_user_in_one_statement(logged_in_for_real):
    client = logged_in_for_real
    nurse = User.objects.get(email=client.get("/").wsgi_request.user.email)
    assert session_of(client).user_id == nurse.pk  # written with its user's key
    with CaptureQueriesContext(connections["default"]) as queries:
        assert client.get("/").wsgi_request.user == nurse
    sessions_read = [q["sql"] for q in queries if 'FROM "accounts_session"' in q["sql"]]
    assert len(sessions_read) == 1 and '"accounts_user"."password"' in sessions_read[0]
    users_read = [q for q in queries if q["sql"].startswith('SELECT "accounts_user"."id"')]
    assert users_read == []


def test_the_user_read_with_a_session_serves_that_user_only_and_once(world):
    session = session_for(world.nurse_a)
    SessionStore(session.session_key).load()
    assert sessions.user_read_with_session(world.doctor_a.pk) is None  # another user's key
    SessionStore(session.session_key).load()
    assert sessions.user_read_with_session(world.nurse_a.pk) == world.nurse_a
    assert sessions.user_read_with_session(world.nurse_a.pk) is None  # once
    SessionStore("no-such-session-key-0000000000000").load()  # none found: nothing kept
    assert sessions.user_read_with_session(world.nurse_a.pk) is None


def test_a_user_no_session_read_is_read_by_key(world):
    """Asked for a user its request's session did not read (a WebSocket's scope read apart),
    the backend reads them by key, and answers none for a deactivated or a deleted one."""
    backend = Backend()
    assert backend.get_user(world.nurse_a.pk) == world.nurse_a
    User.objects.filter(pk=world.nurse_a.pk).update(is_active=False)
    assert backend.get_user(world.nurse_a.pk) is None
    assert backend.get_user(10**9) is None


def test_expired_sessions_are_cleared_by_djangos_command(world):
    assert Session.get_session_store_class() is SessionStore
    kept = live_and_expired_sessions(world.nurse_a)
    call_command("clearsessions")
    assert list(Session.objects.values_list("session_key", flat=True)) == [kept]


def test_deleting_a_user_ends_their_sessions(world):
    user = make_user("partant@example.test")
    client = logged_in(user)
    assert client.get("/").wsgi_request.user == user
    user.delete()
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert not client.get("/").wsgi_request.user.is_authenticated


# Passwords and account creation.


def test_passwords_are_hashed_with_argon2(settings, world):
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = make_user("argon@example.test")
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$")
    assert PASSWORD not in stored
    assert password_step(Client(), user.email)["Location"] == TOTP_STEP


def test_passwords_need_twelve_characters_in_french():
    with pytest.raises(ValidationError) as exc:
        validate_password("Kz8-pQ2!wX4")  # 11 characters
    assert "au minimum 12 caractères" in " ".join(exc.value.messages)
    validate_password("Kz8-pQ2!wX4m")


def test_signup_is_closed(db):
    client = Client()
    page = client.get("/compte/signup/")
    assert "Inscriptions fermées" in page.content.decode()
    client.post(
        "/compte/signup/",
        {"email": "intrus@example.test", "password1": "Un-mot-de-passe-solide-99"},
    )
    assert not User.objects.filter(email="intrus@example.test").exists()


def test_admin_login_goes_through_the_allauth_login(db):
    response = Client().get("/admin/", follow=True)
    final = response.redirect_chain[-1][0]
    assert final.startswith(LOGIN)
    assert response.status_code == 200
    assert 'name="login"' in response.content.decode()


def test_regional_admin_reaches_the_admin_after_both_steps(world):
    client = Client()
    assert password_step(client, world.regional_admin.email)["Location"] == TOTP_STEP
    client.post(TOTP_STEP, {"code": totp_now()})
    assert client.get("/admin/").status_code == 200


def test_admin_login_form_cannot_switch_to_another_account_without_totp(world):
    client = logged_in(world.nurse_a)
    response = client.post(
        "/admin/login/", {"username": world.regional_admin.email, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(world.nurse_a.pk)


def test_admin_login_form_never_logs_in_an_anonymous_visitor(world):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": world.regional_admin.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session


# API tokens from the command line.


def test_create_token_command_prints_a_token_that_authenticates(world, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["telesante", "create-token", "Nurse.A@example.test"])
    # run_from_argv closes every connection when done, which would end the test transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    cli.main()
    raw = capsys.readouterr().out.strip()
    assert re.fullmatch(r"ts_[A-Za-z0-9_-]{40,}", raw)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/patients")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [world.patient_a.pk]


def test_token_is_stored_as_a_digest_only(world, capsys):
    call_command("create_token", world.nurse_a.email, name="script")
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=world.nurse_a)
    assert token.digest == hash_token(raw)
    assert len(token.digest) == 64
    assert raw not in {token.digest, token.prefix, token.name}
    assert raw.startswith(token.prefix)
    assert token.name == "script"
    assert str(token) == f"{token.prefix}… (Nurse.a TEST)"


def test_token_use_is_recorded_at_most_once_a_minute(world, capsys):
    call_command("create_token", world.nurse_a.email)
    client = Client(headers={"Authorization": f"Bearer {capsys.readouterr().out.strip()}"})
    client.get("/api/v1/patients")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get("/api/v1/patients")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get("/api/v1/patients")
    assert ApiToken.objects.get().last_used_at > first


def test_revoked_token_gets_401_in_french(world, capsys):
    call_command("create_token", world.nurse_a.email)
    client = Client(headers={"Authorization": f"Bearer {capsys.readouterr().out.strip()}"})
    assert client.get("/api/v1/patients").status_code == 200
    ApiToken.objects.get().revoke()
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.json() == {"detail": "Jeton d'API absent, invalide ou révoqué."}


def test_token_of_a_deactivated_user_gets_401(world, capsys):
    call_command("create_token", world.nurse_a.email)
    client = Client(headers={"Authorization": f"Bearer {capsys.readouterr().out.strip()}"})
    User.objects.filter(pk=world.nurse_a.pk).update(is_active=False)
    assert client.get("/api/v1/patients").status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer ts_inconnu", "Basic dXNlcjpwYXNz"])
def test_missing_or_unknown_token_gets_401(db, header):
    headers = {"Authorization": header} if header else {}
    response = Client(headers=headers).get("/api/v1/patients")
    assert response.status_code == 401
    assert "Jeton d'API" in response.json()["detail"]


def test_create_token_for_an_unknown_or_inactive_account_fails_in_french(world):
    with pytest.raises(CommandError, match=r"Aucun compte actif pour personne@example\.test"):
        call_command("create_token", "personne@example.test")
    world.nurse_b.is_active = False
    world.nurse_b.save()
    with pytest.raises(CommandError, match="Aucun compte actif"):
        call_command("create_token", world.nurse_b.email)
    assert not ApiToken.objects.exists()


def test_web_session_does_not_authenticate_the_api(world):
    assert logged_in(world.nurse_a).get("/api/v1/patients").status_code == 401


def test_the_user_a_request_read_is_not_left_for_the_next(world):
    """A WSGI server's thread serves one request after another in one context: a session read
    but whose user was never asked (a page that did not look at its user) leaves nothing."""
    from django.core.signals import request_finished

    session = session_for(world.nurse_a)
    SessionStore(session.session_key).load()
    request_finished.send(sender=None)
    assert sessions.user_read_with_session(world.nurse_a.pk) is None


# The worker closes connections it finds in a transaction: no test transaction around it.
@pytest.mark.django_db(transaction=True)
def test_the_worker_deletes_expired_sessions(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    kept = live_and_expired_sessions(world.nurse_a)
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert list(Session.objects.values_list("session_key", flat=True)) == [kept]
