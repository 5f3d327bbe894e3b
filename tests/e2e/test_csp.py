"""The main pages run in Chromium under the Content-Security-Policy without a single violation:
login (both steps), home, the video room in a call, the télé-expertise boxes, the indicators
dashboard, the API documentation. A violation is a script, style or handler the policy blocked:
a page that looked fine in a test but would be broken for its users.

Screenshots of the pages this change touched (the dashboard's legend, the error page):

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/e2e-csp.sqlite3 \
        .venv/bin/pytest tests/e2e/test_csp.py
"""

from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.template.loader import render_to_string
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, fresh_code, log_in
from tests.e2e.conftest import shoot as e2e_shoot
from tests.e2e.server import Server, running_server
from tests.e2e.test_indicators_dashboard import filieres  # noqa: F401
from tests.indicators.conftest import Dataset, dataset  # noqa: F401
from tests.rooms.conftest import TC, tc_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDE = {"viewport": {"width": 1280, "height": 800}}
# Collected in the page itself, before any of its scripts run (Playwright's init scripts are
# not subject to the page's policy).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def server(transactional_db, settings, tmp_path) -> Server:
    with running_server(Path(settings.MEDIA_ROOT), tmp_path / "server") as srv:
        yield srv
    print(srv.log.read_text(errors="replace")[-3000:])  # shown when the test fails


def watched(browser, server: Server, device: dict | None = None):
    context = browser.new_context(base_url=server.url, locale="fr-FR", **(device or DESKTOP))
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return context, page, console


def no_violation(page, console: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp") == [], page.url
    assert console == [], page.url


def shoot(page, name: str) -> None:
    e2e_shoot(page, f"csp-{name}")


def test_login_home_room_and_boxes_run_under_the_policy(browser, server, tc_world: TC):  # noqa: F811
    # The server checks passwords with its own hasher (the tests' is a fast one).
    doctor = tc_world.cardiologist
    doctor.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    doctor.save(update_fields=["password"])
    context, page, console = watched(browser, server)
    response = page.goto("/compte/login/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    no_violation(page, console)
    log_in(page, doctor.email, PASSWORD, fresh_code)
    page.wait_for_url(f"{server.url}/")
    no_violation(page, console)
    page.goto(reverse("room", args=[tc_world.room.slug]))
    expect(page.locator("#room")).to_have_attribute("data-state", "in-call")
    no_violation(page, console)
    page.goto(reverse("teleexpertise_list") + "?box=outbox")
    page.locator("#state").select_option("claimed")  # submitted by the script, not a handler
    page.wait_for_url("**state=claimed**")
    no_violation(page, console)
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui").first).to_be_visible()
    no_violation(page, console)
    context.close()


def test_the_dashboard_and_the_error_page_under_the_policy(
    browser,
    server,
    dataset: Dataset,  # noqa: F811
):
    from tests.e2e.conftest import login_cookie

    for name, device in (("phone", PHONE), ("desktop", WIDE)):
        context, page, console = watched(browser, server, device)
        login_cookie(context, server.url, dataset.w.observer)
        page.goto("/indicateurs/?territory=53&period=2022-S1")
        expect(page.locator(".legend .swatch").first).to_be_visible()
        no_violation(page, console)
        shoot(page, f"indicators-{name}")
        # The error page, as the server would render it, with its own stylesheet.
        page.set_content(render_to_string("500.html"))
        page.wait_for_load_state("networkidle")
        color = page.evaluate("getComputedStyle(document.querySelector('header')).color")
        assert color == "rgb(255, 255, 255)"  # error.css applied
        shoot(page, f"error-{name}")
        context.close()
