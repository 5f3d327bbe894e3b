"""docs/rules.md stays true to ../shared/REGULATORY.md: every bullet of the rules has its entry
(quoted word for word), each entry names the tests that prove it or the open issue that will,
and every test it names exists.

The rules live beside the repository (shared/ next to it, as in CI's clone); a work tree kept
elsewhere names its copy with TELESANTE_REGULATORY_MD. Without the file the test is skipped,
except under CI=true where it fails."""

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RULES_DOC = REPO / "docs" / "rules.md"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[[^\]]*\])?`")
# An entry proves its rule by tests, or says which open issue will, or why it is not code.
SETTLED = re.compile(r"^- (Not yet: issue \d+|Not code: )", re.MULTILINE)


def regulatory_path() -> Path:
    given = os.environ.get("TELESANTE_REGULATORY_MD")
    return Path(given) if given else REPO.parent / "shared" / "REGULATORY.md"


def _normal(text: str) -> str:
    return " ".join(text.split())


def bullets(markdown: str) -> list[str]:
    """The bullets of the rules, each joined from its indented continuation lines."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        if line.startswith("- "):
            current = [line[2:]]
            found.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line)
        else:
            current = None
    return [_normal(" ".join(parts)) for parts in found]


def entries(doc: str) -> dict[str, str]:
    """Quoted rule → the text of its entry (up to the next heading)."""
    result = {}
    for block in re.split(r"^#{2,3} ", doc, flags=re.MULTILINE):
        quote = [line[2:] for line in block.splitlines() if line.startswith("> ")]
        if quote:
            result[_normal(" ".join(quote))] = block
    return result


@pytest.fixture(scope="module")
def regulatory() -> str:
    path = regulatory_path()
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} est introuvable : shared/ doit être cloné à côté du dépôt.")
        pytest.skip(f"{path} absent (shared/ n'est pas à côté du dépôt)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc() -> dict[str, str]:
    return entries(RULES_DOC.read_text(encoding="utf-8"))


def test_the_bullet_parser_joins_continuation_lines():
    text = "## A\n- one rule\n  on two lines.\n- another.\n\nplain text\n"
    assert bullets(text) == ["one rule on two lines.", "another."]


def test_every_rule_has_its_entry(regulatory, doc):
    missing = [b for b in bullets(regulatory) if b not in doc]
    assert not missing, "Règles sans entrée dans docs/rules.md :\n" + "\n".join(missing)


def test_no_entry_quotes_a_rule_that_is_gone(regulatory, doc):
    stale = set(doc) - set(bullets(regulatory))
    assert not stale, "Entrées de docs/rules.md sans règle :\n" + "\n".join(sorted(stale))


def test_each_entry_is_proved_or_says_which_issue_will(doc):
    unsettled = [
        q for q, body in doc.items() if not TEST_REF.search(body) and not SETTLED.search(body)
    ]
    assert not unsettled, "Entrées sans test ni issue :\n" + "\n".join(unsettled)


def test_every_named_test_exists():
    text = RULES_DOC.read_text(encoding="utf-8")
    refs = TEST_REF.findall(text)
    assert refs
    absent = []
    for path, name in set(refs):
        source = REPO / path
        if not source.exists() or not re.search(
            rf"^(async )?def {name}\(", source.read_text(encoding="utf-8"), re.MULTILINE
        ):
            absent.append(f"{path}::{name}")
    assert not absent, "Tests nommés dans docs/rules.md introuvables :\n" + "\n".join(
        sorted(absent)
    )
