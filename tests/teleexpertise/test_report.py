"""The télé-expertise compte rendu as read from the PDF: letterhead, exchange of messages, and
no section title left without content."""

import io

from pypdf import PdfReader

from telesante.core.identifiers import luhn_complete
from telesante.teleexpertise import services
from tests.teleexpertise.conftest import wound_request

TITLES = {
    "Patient",
    "Professionnels et dates",
    "Question",
    "Échanges entre les professionnels",
    "Avis de l'expert",
    "Recommandations",
    "Pièces jointes",
    "Incidents techniques",
}


def report_lines(te) -> list[str]:
    with te.act.report.open("rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return [line.strip() for line in text.splitlines() if line.strip()]


def assert_no_empty_section(lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if line in TITLES:
            assert i + 1 < len(lines), f"« {line} » ends the report"
            assert lines[i + 1] not in TITLES, f"« {line} » is followed by « {lines[i + 1]} »"


def test_report_carries_letterhead_and_the_exchange_of_messages(te_world):
    t = te_world
    t.wound_expert.rpps = luhn_complete("1000123456")
    t.wound_expert.save()
    te = services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert, te)
    services.post_message(None, t.wound_expert, te, "Depuis quand ?\nFièvre ?", ask_info=True)
    services.post_message(None, t.w.nurse_a, te, "Trois semaines, sans fièvre.")
    te = services.answer(None, t.wound_expert, te, "Détersion", "Revoir à J15", "routine")

    lines = report_lines(te)
    text = "\n".join(lines)
    # Letterhead first: the expert's structure and the author with RPPS.
    assert lines[0] == "CH de Laval"
    assert "FINESS 530000021" in lines[:4]
    author = next(line for line in lines[:5] if line.startswith("Rédigé par"))
    assert t.wound_expert.display_name in author
    assert f"RPPS {t.wound_expert.rpps}" in author
    assert lines.index("Compte rendu de télé-expertise") > lines.index("CH de Laval")
    # The exchange, in order, with who wrote and when.
    exchange = text.split("Échanges entre les professionnels", 1)[1].split("Avis de l'expert")[0]
    assert exchange.index("Depuis quand ?") < exchange.index("Trois semaines, sans fièvre.")
    assert "Fièvre ?" in exchange
    assert t.w.nurse_a.display_name in exchange
    assert exchange.count(f"{te.answered_at.astimezone().year}") >= 2  # dated messages
    assert "Revoir à J15" in text
    assert_no_empty_section(lines)


def test_report_without_messages_nor_recommendations_has_no_empty_section(te_world):
    t = te_world
    te = services.create(None, t.w.nurse_a, wound_request(t))
    te = services.claim(None, t.wound_expert, te)
    te = services.answer(None, t.wound_expert, te, "Avis bref", "", "none")
    lines = report_lines(te)
    assert "Échanges entre les professionnels" not in lines
    assert "Recommandations" not in lines
    assert "Avis de l'expert" in lines
    assert_no_empty_section(lines)
