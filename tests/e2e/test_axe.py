"""axe-core (tools/axe, installed by `make install`) over every page of every role, at desktop
and phone widths: WCAG 2.0 and 2.1, levels A and AA. Any violation fails, naming the rule and
the nodes.

The pages come from the route matrix (tests/test_route_matrix.py): every GET route, for every
role that gets it (anonymous, EHPAD nurse, GP, experts, opérateur, structure admin, regional
admin and observer, the guest of a link), whose answer is a whole HTML page; then the pages the
matrix leaves to their library (allauth: login, password, second factor). A page added to the
matrix is audited here without more. States a plain GET does not reach (refused forms, the
second factor's step, an open picker, pages full of data) are in test_a11y_pages.py.

One test per group of the matrix's objects; `-n 2` runs two at once:

    TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/axe.sqlite3 \
        .venv/bin/pytest -n 2 tests/e2e/test_axe.py
"""

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.e2e import axe_check
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, login_cookie, require_chromium
from tests.e2e.test_indicators_dashboard import filieres  # noqa: F401
from tests.regulation.conftest import new_record, regul  # noqa: F401
from tests.rooms.conftest import tc_world  # noqa: F401
from tests.teleexpertise.conftest import te_world  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401
from tests.test_route_matrix import (  # noqa: F401
    PAGES,
    rg_objects,
    tc_objects,
    te_objects,
    tsv_objects,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 320 px: the narrowest phone RGAA (and WCAG 1.4.10, reflow) asks pages to fit without
# sideways scroll.
NARROW = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
WIDTHS = {"desktop": DESKTOP, "phone": NARROW}
# Pages the matrix leaves to their library (allauth), per role (None: anonymous).
OUTSIDE_MATRIX = {
    None: ["/compte/login/", "/compte/password/reset/", "/compte/password/reset/done/"],
    "nurse_a": ["/compte/2fa/", "/compte/password/change/", "/compte/reauthenticate/"],
}
DUPLICATE_IDS = """() => {
  const seen = new Set(), twice = new Set();
  document.querySelectorAll("[id]").forEach((e) => (seen.has(e.id) ? twice : seen).add(e.id));
  return [...twice];
}"""
# A form whose labels end with « * » must say what it means (partials/required_note.html).
UNEXPLAINED_STAR = """() => [...document.querySelectorAll("form")].some((form) =>
  [...form.querySelectorAll("label, legend")].some((l) => l.textContent.trim().endsWith("*"))
  && !form.querySelector(".required-note"))"""


@dataclass(frozen=True)
class Visit:
    name: str
    role: str | None
    url: str
    # A single-use page (the caller's SMS link, spent by its opening): one link per width.
    spare: tuple[str, ...] = ()


def caller_link(world: World) -> str:
    from telesante.regulation import services as regulation

    _sent, value = regulation.send_video_link(None, world.regulator, new_record(world.regulator))
    return reverse("regulation_caller_open", args=[value])


SINGLE_USE = {"regulation_caller_open": caller_link}


def group(case) -> str:
    for name in ("te", "tsv", "tc", "rg"):
        if getattr(case, name):
            return name
    return "plain"


def matrix_pages(world: World, objects: str) -> list[Visit]:
    """Every (route, role) of the matrix answering a whole HTML page to a plain GET, among the
    routes needing that group of objects."""
    visits = []
    for name, case in PAGES.items():
        if case.method != "GET" or case.api or group(case) != objects:
            continue
        for role, status in case.expect.items():
            if status != 200:
                continue
            user = None if role == "anonymous" else getattr(world, role)
            url = SINGLE_USE[name](world) if name in SINGLE_USE else case.url(world)
            client = Client()
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            html = response.get("Content-Type", "").startswith("text/html")
            if html and response.content.lstrip()[:15].lower() == b"<!doctype html>":
                spare = tuple(SINGLE_USE[name](world) for _ in WIDTHS) if name in SINGLE_USE else ()
                visits.append(Visit(name, None if role == "anonymous" else role, url, spare))
    return visits


def violations(page) -> list[str]:
    """axe's violations, then what it does not check: ids used twice (a label may name the
    wrong field) and sideways scrolling (RGAA 10.11, at 320 px)."""
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + " | ".join(f"{n['target']} {n['summary']}" for n in v["nodes"])
        for v in axe_check.violations(page)
    ]
    twice = page.evaluate(DUPLICATE_IDS)
    if twice:
        lines.append(f"duplicate ids: {twice}")
    if page.evaluate(UNEXPLAINED_STAR):
        lines.append("« * » marks fields but the form does not say what it means")
    # Against the viewport asked for: a phone's browser widens its layout viewport to content
    # that overflows, so window.innerWidth would grow with it.
    wide = page.evaluate("() => document.documentElement.scrollWidth") - page.viewport_size["width"]
    if wide > 0:
        lines.append(f"scrolls sideways by {wide} px")
    return lines


# The matrix's objects come in groups whose fixtures cannot share one database (each makes its
# own CH): one test per group.
@pytest.mark.parametrize("objects", ["plain", "te", "tsv", "tc", "rg"])
def test_no_axe_violation_on_any_page(objects: str, world: World, request, live_server) -> None:
    if objects != "plain":
        request.getfixturevalue("filieres")
        request.getfixturevalue(f"{objects}_objects")
    visits = matrix_pages(world, objects)
    if objects == "plain":
        for role, urls in OUTSIDE_MATRIX.items():
            visits += [Visit(url, role, url) for url in urls]
    # Launched here, after the fixtures: their services push notifications with async_to_sync,
    # which refuses to run under Playwright's event loop (the module-scoped `browser`).
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        failures = audit(browser, live_server.url, world, visits)
        browser.close()
    report = json.dumps(failures, indent=1, ensure_ascii=False)
    assert not failures, f"{len(failures)} pages with violations:\n{report}"


def audit(browser, base_url: str, world: World, visits: list[Visit]) -> dict[str, list[str]]:
    """Each role's pages in one context per width; the violations by page."""
    failures: dict[str, list[str]] = {}
    roles = {v.role for v in visits}
    for n, (width, device) in enumerate(WIDTHS.items()):
        for role in sorted(roles, key=str):
            context = browser.new_context(base_url=base_url, locale="fr-FR", **device)
            context.set_default_timeout(15_000)
            if role is not None:
                login_cookie(context, base_url, getattr(world, role))
            page = context.new_page()
            for visit in (v for v in visits if v.role == role):
                url = visit.spare[n] if visit.spare else visit.url
                response = page.goto(url, wait_until="load")
                assert response.status == 200, f"{url} as {role}: {response.status}"
                found = violations(page)
                if found:
                    failures[f"{visit.name} as {role or 'anonymous'} ({width})"] = found
            context.close()
    return failures
