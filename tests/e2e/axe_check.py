"""axe-core over a page in Chromium: the WCAG 2.0 and 2.1 rules of levels A and AA. The rules
come from the npm package locked in tools/axe (`make install` runs `npm ci` there); the script
is evaluated through the debugger, which the pages' Content-Security-Policy does not block."""

import json
from functools import cache
from pathlib import Path

from tests.e2e.conftest import require_file

AXE = Path(__file__).resolve().parents[2] / "tools/axe/node_modules/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN = """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}}).then((r) =>
  r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  })))"""


@cache
def _source() -> str:
    require_file(AXE, f"{AXE} absent : make install (npm ci dans tools/axe).")
    return AXE.read_text(encoding="utf-8")


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now (rule, impact, the elements and why)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(_source())
    return page.evaluate(RUN, TAGS)


def assert_accessible(page, where: str) -> None:
    """No violation at all, or the list of them, readable, in the failure."""
    found = violations(page)
    assert found == [], f"{where} : {json.dumps(found, ensure_ascii=False, indent=1)}"
