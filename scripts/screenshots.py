"""Every page of every demo account at phone (390 px) and desktop (1280 px) widths, to look at.

Against a running demonstration (`make demo`, or `telesante serve` over a seeded base), with the
same environment as the server (the accounts come from `telesante demo-accounts --json`):

    TELESANTE_DEMO=1 TELESANTE_DATABASE_URL=sqlite:///$PWD/var/demo.sqlite3 \\
      .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 [--only EMAIL ...]

Each account logs in through the login form (password, then the TOTP code), opens home, every
page its menu and home link to, then the first line of each list (a patient, an act, a site,
a room...). PNGs go to screenshots/demo/<account>/<n>-<page>-<phone|desktop>.png (gitignored).
It also prints what is easy to miss on a PNG: an error status, a page wider than the phone, a
desktop menu on more than one line, a template placeholder left in the text.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--lang=fr-FR",  # dates typed as a French user sees them (jj/mm/aaaa)
]
WIDTHS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
# Downloads, exits and what is not a page of the platform's own.
SKIP = re.compile(
    r"logout|/i18n/|\.(pdf|csv|xlsx|ics)(\?|$)|format=|/api/|/admin/|/jsi18n/|/static/|/media/"
    r"|/documents/"
)
PLACEHOLDERS = re.compile(r"\{\{|\{%|%\(\w+\)s|\bNone\b|\bTODO\b|lorem ipsum", re.I)
MAX_PAGES = 40


def accounts() -> list[dict]:
    out = subprocess.run(  # noqa: S603 (a fixed command of the project, no shell)
        [str(ROOT / ".venv/bin/telesante"), "demo-accounts", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def log_in(page: Page, account: dict) -> None:
    page.goto("/compte/login/")
    page.locator("input[name=login]").fill(account["email"])
    page.locator("input[name=password]").fill(account["password"])
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/compte/2fa/authenticate/")
    totp = pyotp.TOTP(account["totp_secret"])
    if 30 - time.time() % 30 < 3:  # no code typed at the end of its window
        time.sleep(30 - time.time() % 30 + 0.1)
    page.locator("input[name=code]").fill(totp.now())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/compte/" not in url)


def shape(url: str) -> str:
    """A page's kind: its path with the ids as N, and its query's names (one of each kind)."""
    parts = urlsplit(url)
    names = sorted({p.split("=")[0] for p in parts.query.split("&") if p and "page=" not in p})
    # Ids and the rooms' unguessable names alike.
    path = "/".join(
        "N" if re.search(r"\d", part) or len(part) > 20 else part for part in parts.path.split("/")
    )
    return path + ("?" + "&".join(names) if names else "")


def links(page: Page, selector: str) -> list[str]:
    found = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    return [h.split("#")[0] for h in found if h and h.startswith("/") and not SKIP.search(h)]


def check(page: Page, device: str, status: int | None) -> list[str]:
    problems = []
    if status and status >= 400:
        problems.append(f"statut {status}")
    width = WIDTHS[device]["viewport"]["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"plus large que l'écran ({scroll} px)")
    if device == "desktop":
        tops = page.eval_on_selector_all(
            "#main-nav > a", "els => new Set(els.map(e => Math.round(e.offsetTop))).size"
        )
        if tops and tops > 1:
            problems.append("menu sur plusieurs lignes")
    text = page.evaluate("(document.querySelector('main') || document.body).innerText")
    if PLACEHOLDERS.search(text):
        problems.append(f"texte suspect : {PLACEHOLDERS.search(text).group(0)!r}")
    return problems


def crawl(browser: Browser, base: str, account: dict, out: Path) -> list[str]:
    """Screenshots of one account's pages; the problems found, one line each."""
    desktop = browser.new_context(base_url=base, locale="fr-FR", **WIDTHS["desktop"])
    page = desktop.new_page()
    log_in(page, account)
    phone = browser.new_context(
        base_url=base, locale="fr-FR", storage_state=desktop.storage_state(), **WIDTHS["phone"]
    )
    pages = {"desktop": page, "phone": phone.new_page()}
    queue, seen, report = ["/"], set(), []
    name = account["email"].split("@")[0]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if shape(url) in seen:
            continue
        seen.add(shape(url))
        slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "accueil"
        for device, tab in pages.items():
            try:
                response = tab.goto(url, wait_until="load")
            except PlaywrightError as exc:  # a download, a page that never loads
                report.append(f"{name} {url} [{device}] : {exc.message.splitlines()[0]}")
                continue
            tab.wait_for_timeout(400)  # live scripts (work list, board, room) draw after load
            (out / name).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=out / name / f"{len(seen):02d}-{slug}-{device}.png", full_page=True)
            problems = check(tab, device, response.status)
            report += [f"{name} {url} [{device}] : {p}" for p in problems]
        # Home and the menu lead everywhere; from the other pages, one line of each list.
        if url == "/":
            queue += links(page, "#main-nav a[href], main a[href], footer a[href]")
        else:
            queue += links(page, "main nav a[href], main .actions a[href], main table a[href]")
            queue += links(page, "main li a[href], main .card a[href]")
    desktop.close()
    phone.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "screenshots" / "demo"))
    parser.add_argument("--only", nargs="*", help="adresses e-mail des comptes à parcourir")
    args = parser.parse_args()
    chosen = [a for a in accounts() if not args.only or a["email"] in args.only]
    report = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for account in chosen:
            report += crawl(browser, args.base, account, Path(args.out))
            print(f"{account['email']} : fait", flush=True)
        browser.close()
    print("\n".join(report) or "Rien à signaler.")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
