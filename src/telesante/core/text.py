import csv
import io
import unicodedata


def fold(text: str) -> str:
    """Upper-case, accent-free, single-spaced: how names are compared and searched."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    upper = plain.upper().replace("Œ", "OE").replace("Æ", "AE")  # ligatures: CŒUR = COEUR
    for separator in "-'’":  # the typographic apostrophe too (D’ARTAGNAN = D'ARTAGNAN)
        upper = upper.replace(separator, " ")
    return " ".join(upper.split())


# A byte order mark first: spreadsheet software then reads a CSV file as UTF-8 (accents).
BOM = "\ufeff"


def csv_text(header: list, rows: list[list]) -> str:
    """A French spreadsheet's CSV: semicolons (the comma is the decimal mark), CRLF, BOM."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
