"""Accessibility of what axe does not judge (tests/e2e/test_axe.py runs axe on every page):
a refused form moves the focus to its errors and ties each message to its field; the focus
ring keeps 3:1 against whatever is behind it; pages full of data (the directory's map, a
region's deployment) at 320 px.

    TELESANTE_SCREENSHOTS=1 TELESANTE_DEBUG=1 TELESANTE_TEST_SQLITE=$PWD/var/a11y.sqlite3 \
        .venv/bin/pytest tests/e2e/test_a11y_pages.py
"""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, World
from tests.e2e.conftest import DESKTOP, fresh_code, shoot, wait_until
from tests.e2e.test_axe import NARROW, violations
from tests.e2e.test_directory_page import offers  # noqa: F401
from tests.e2e.test_indicators_dashboard import filieres  # noqa: F401
from tests.indicators.conftest import Dataset, dataset  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = """() => {
  const el = document.activeElement;
  return {cls: el.className, id: el.id, tag: el.tagName};
}"""


def focused(page) -> dict:
    """The focused element, once the page's script (form_errors.js, run when the page has
    loaded) has moved the focus off the body."""
    wait_until(page, "() => document.activeElement && document.activeElement !== document.body")
    return page.evaluate(FOCUSED)


# The focused element's ring: its style and width, and its contrast with the first opaque
# background behind the element (the ring is drawn outside it, on its parent's background).
RING = """() => {
  const el = document.activeElement;
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  let bg = [255, 255, 255];
  for (let p = el.parentElement; p; p = p.parentElement) {
    const c = rgb(getComputedStyle(p).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c; break; }
  }
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const cs = getComputedStyle(el);
  const a = lum(rgb(cs.outlineColor)), b = lum(bg);
  return {
    what: `${el.tagName}#${el.id} ${(el.textContent || "").trim().slice(0, 30)}`,
    style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
  };
}"""


def submit_unchecked(page, form: str) -> None:
    """Send the form as a browser without HTML validation would: the server's refusal."""
    page.locator(form).evaluate("(f) => { f.noValidate = true; }")
    page.locator(f"{form} button[type=submit]").first.click()


def test_refused_forms_focus_their_errors(world: World, new_page) -> None:
    page = new_page(NARROW)
    # The login: a wrong password, then a wrong code.
    page.goto("/compte/login/")
    page.fill("input[name=login]", world.nurse_a.email)
    page.fill("input[name=password]", "mauvais-mot-de-passe")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert focused(page)["cls"] == "errors"
    assert violations(page) == []
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/compte/2fa/authenticate/")
    assert violations(page) == []
    page.fill("input[name=code]", "000000")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    code = page.locator("input[name=code]")
    assert code.get_attribute("aria-invalid") == "true"
    error_id = code.get_attribute("aria-describedby").split()[-1]
    assert page.locator(f"#{error_id}").inner_text().strip()
    assert focused(page)["id"] == code.get_attribute("id")
    assert violations(page) == []
    page.fill("input[name=code]", fresh_code())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(reverse("home"))

    # A Django form: the summary takes the focus and links to fields that name their error.
    page.goto(reverse("patient_create"))
    submit_unchecked(page, "main form.form")
    page.wait_for_selector(".error-summary")
    assert "error-summary" in focused(page)["cls"]
    name = page.locator("#id_birth_name")
    assert name.get_attribute("aria-invalid") == "true"
    assert "id_birth_name_error" in name.get_attribute("aria-describedby")
    assert page.locator("#id_birth_name_error").inner_text().strip()
    assert page.locator(".error-summary a[href='#id_birth_name']").count() == 1
    assert violations(page) == []
    shoot(page, "a11y-patient-create-errors", {"phone": NARROW, "desktop": DESKTOP})

    # A picker is an ARIA combobox: its list is named after the field, the option the arrows
    # reach is its active descendant, and axe finds nothing with the list open.
    box = page.locator("#id_birthplace_code_search")
    box.press_sequentially("laval", delay=30)
    page.locator("#id_birthplace_code_list [role=option]").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    listbox = page.locator("#id_birthplace_code_list")
    assert listbox.get_attribute("aria-label") == "Lieu de naissance"
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert violations(page) == []

    # The patient page: its two forms' fields keep ids of their own (« Remarque » twice).
    page.goto(reverse("patient_detail", args=[world.patient_a.pk]))
    for form_id in ("status_note", "consent_note"):
        assert page.locator(f"label[for={form_id}]").inner_text().startswith("Remarque")
    assert violations(page) == []


@pytest.mark.parametrize("device", [DESKTOP, NARROW], ids=["desktop", "phone"])
def test_focus_ring_contrasts_with_every_background(world: World, new_page, device) -> None:
    """Tab through the home page (the blue header, the page, the footer) and the login page:
    each stop shows a ring of 2 px at least, at 3:1 at least against what is behind it."""
    weak = []
    for user, url in ((world.nurse_a, reverse("home")), (None, "/compte/login/")):
        page = new_page(device, user=user)
        page.goto(url)
        seen = set()
        for _ in range(40):
            page.keyboard.press("Tab")
            ring = page.evaluate(RING)
            if ring["what"].startswith("BODY") or ring["what"] in seen:
                break  # past the last stop
            seen.add(ring["what"])
            if ring["style"] == "none" or ring["width"] < 2 or ring["ratio"] < 3:
                weak.append(ring)
        assert len(seen) > 5, seen
    assert weak == []


def test_directory_map_at_320_px(offers, new_page) -> None:  # noqa: F811
    """The directory with the map of its 23 sites on the narrowest phone: no violation, no
    sideways scroll; the map's dots out of the tab order, each still a link to its card."""
    page = new_page(NARROW)
    page.goto(reverse("directory"))
    dots = page.locator("svg.site-map a")
    assert dots.count() > 3
    assert dots.evaluate_all("(links) => links.every((a) => a.getAttribute('tabindex') === '-1')")
    href = dots.first.get_attribute("href")
    assert page.locator(href).count() == 1
    assert violations(page) == []
    shoot(page, "a11y-directory", {"phone": NARROW, "desktop": DESKTOP})
    page.get_by_role("link", name="Accessibilité : partiellement conforme").click()
    page.wait_for_url("**/accessibilite/")
    shoot(page, "a11y-statement", {"phone": NARROW, "desktop": DESKTOP})


def test_deployment_of_a_region_at_320_px(dataset: Dataset, filieres, new_page) -> None:  # noqa: F811
    page = new_page(NARROW, user=dataset.w.observer)
    page.goto(reverse("deployment_overview"))
    assert page.locator("main table.list tbody tr").count() > 3
    assert violations(page) == []
    shoot(page, "a11y-deployment", {"phone": NARROW, "desktop": DESKTOP})
