"""Pro Santé Connect in Chromium: the button on the login page, the login at the local
provider (tools/oidc), home without any code asked, logout at both ends; the « whom to ask »
page of a professional without an account. Screenshots at phone and desktop widths."""

import copy

import pytest
from csp.constants import SELF
from playwright.sync_api import expect

from tests.conftest import World
from tests.e2e.conftest import DESKTOP, PHONE, shoot
from tests.psc import oidc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NARROW = {"viewport": {"width": 320, "height": 640}}


@pytest.fixture(scope="module")
def psc_site(live_server, tmp_path_factory):
    provider = oidc.start(tmp_path_factory.mktemp("psc-e2e"), live_server.url)
    yield provider
    oidc.stop(provider)


@pytest.fixture
def psc(settings, psc_site):
    """Configured as production would be: the app, and PSC's origin allowed as a form target."""
    settings.SOCIALACCOUNT_PROVIDERS = psc_site.apps()
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [SELF, psc_site.origin]
    settings.CONTENT_SECURITY_POLICY = policy
    return psc_site


def fits(page) -> bool:
    page.set_viewport_size(NARROW["viewport"])
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def login_at_psc(page, idnat: str) -> None:
    page.goto("/compte/login/")
    page.get_by_role("button", name="Se connecter avec Pro Santé Connect").click()
    page.locator("input[name=login]").fill(idnat)
    page.get_by_role("button", name="Valider").click()


def test_psc_login_lands_home_without_code_then_logs_out_at_both_ends(
    world: World, psc, new_page, live_server
) -> None:
    world.doctor_a.rpps = oidc.KNOWN_RPPS
    world.doctor_a.save()
    page = new_page(PHONE)
    page.goto("/compte/login/")
    shoot(page, "psc-login", {"phone": PHONE, "desktop": DESKTOP})
    assert fits(page)
    page.set_viewport_size(DESKTOP["viewport"])

    login_at_psc(page, oidc.KNOWN)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text(f"Bonjour {world.doctor_a.display_name}")
    assert "2fa" not in page.url

    page.locator("header form[action='/compte/logout/'] button").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{live_server.url}/compte/login/**")
    page.goto("/")
    assert "/compte/login/" in page.url
    # PSC's session ended too: it asks who you are again.
    page.get_by_role("button", name="Se connecter avec Pro Santé Connect").click()
    expect(page.locator("input[name=login]")).to_be_visible()


def test_a_professional_without_account_is_told_whom_to_ask(world: World, psc, new_page) -> None:
    page = new_page(PHONE)
    login_at_psc(page, oidc.NEWCOMER)
    expect(page.locator("h1")).to_have_text("Vous n'avez pas encore de compte sur la plateforme")
    expect(page.locator("main")).to_contain_text(world.admin_a.display_name)
    shoot(page, "psc-whom-to-ask", {"phone": PHONE, "desktop": DESKTOP})
    assert fits(page)
