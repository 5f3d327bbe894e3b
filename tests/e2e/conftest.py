"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against `live_server`.

Pages load from http://localhost:<port>, a secure context (camera, clipboard, WebCrypto).
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from tests.conftest import TOTP_SECRET, totp_now

# live_server serves from a thread over transactional databases while the sync Playwright API
# keeps an event loop running in the test thread: Django's ORM would refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-gpu",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def shoot(page, name: str, widths: dict[str, dict] | None = None) -> None:
    """A full-page PNG under screenshots/ when asked (TELESANTE_SCREENSHOTS=1), to look at as a
    person would; with `widths` ({"phone": PHONE, ...}), one per width, the page left at the
    last one."""
    if not os.environ.get("TELESANTE_SCREENSHOTS"):
        return
    SHOTS.mkdir(exist_ok=True)
    if widths is None:
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
        return
    for device, spec in widths.items():
        page.set_viewport_size(spec["viewport"])
        page.screenshot(path=SHOTS / f"{name}-{device}.png", full_page=True)


def require_file(path: Path, message: str) -> None:
    """Skip when a tool the test drives is absent locally; in CI its absence is a failure."""
    if path.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_chromium() -> None:
    require_file(CHROMIUM, f"{CHROMIUM} absent : apt-get install chromium (tests navigateur).")


@pytest.fixture(scope="module")
def chromium_args() -> list[str]:
    """Chromium's flags; a module overrides this fixture for other fake devices."""
    return CHROMIUM_ARGS


# Module scope: the sync API keeps an event loop running in the test thread while it is open,
# and tests of other modules sharing this process call async_to_sync.
@pytest.fixture(scope="module")
def browser(chromium_args):
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Used TOTP codes and login rate limits live in the cache, keyed by user id and IP."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def new_page(browser, live_server):
    """Factory: a page in a fresh French-speaking browser context (desktop unless told)."""
    contexts = []

    def make(device: dict | None = None, user=None):
        context = browser.new_context(
            base_url=live_server.url, locale="fr-FR", **(device or DESKTOP)
        )
        context.set_default_timeout(10_000)
        if user is not None:
            login_cookie(context, live_server.url, user)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    settle_database()


def settle_database(timeout: float = 5.0) -> None:
    """Wait until no statement of another connection runs on the test database (PostgreSQL):
    a request the browser left in flight goes on in the live server's thread, and the flush
    that ends a transactional test (TRUNCATE of every table) would deadlock with its reads."""
    if connection.vendor != "postgresql":
        return
    deadline, quiet = time.monotonic() + timeout, 0
    with connection.cursor() as cursor:
        while quiet < 2 and time.monotonic() < deadline:  # quiet twice, 50 ms apart
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state = 'active'"
            )
            quiet = quiet + 1 if cursor.fetchone()[0] == 0 else 0
            time.sleep(0.05)


@pytest.fixture
def page(new_page):
    return new_page()


def login_cookie(context, base_url: str, user) -> None:
    """Skip the login form: a server-side session for `user`, handed to the browser."""
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )


def wait_until(page, function: str, arg=None, timeout: float = 15_000) -> None:
    """Wait until the JavaScript `function(arg)`, run in the page, is true. Playwright's
    wait_for_function builds its predicate with eval, which the pages' Content-Security-Policy
    forbids (no 'unsafe-eval'); page.evaluate goes through the debugger and does not."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(function, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"Toujours faux après {timeout:.0f} ms : {function}")
        page.wait_for_timeout(100)


def fresh_code(secret: str = TOTP_SECRET) -> str:
    """A TOTP code with time left to type it in a browser."""
    return totp_now(secret, margin=3.0)


def log_in(page, email: str, password: str, code: str | Callable[[], str]) -> None:
    """The real two-step login: email and password, then the authenticator code.

    `code` may be a function (e.g. `fresh_code`), called once the code field is on screen.
    """
    page.goto("/compte/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/compte/2fa/authenticate/")
    page.locator("input[name=code]").fill(code() if callable(code) else code)
    page.locator("main form button[type=submit]").first.click()


def pick(page, field: str, typed: str, option: str) -> None:
    """Choose in a searchable picker (static/js/picker.js) as a person does: type in the
    combobox `#<field>_search`, wait for the option, choose it with the keyboard."""
    box = page.locator(f"#{field}_search")
    box.fill("")
    box.press_sequentially(typed, delay=30)
    choice = page.locator(f"#{field}_list [role=option]", has_text=option).first
    choice.wait_for()
    options = page.locator(f"#{field}_list [role=option]")
    index = next(i for i in range(options.count()) if option in options.nth(i).inner_text())
    for _ in range(index + 1):
        box.press("ArrowDown")
    box.press("Enter")
    wait_until(page, "(field) => document.getElementById(field).value !== ''", field)
