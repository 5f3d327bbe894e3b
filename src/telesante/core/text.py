import unicodedata


def fold(text: str) -> str:
    """Upper-case, accent-free, single-spaced: how names are compared and searched."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    upper = plain.upper().replace("Œ", "OE").replace("Æ", "AE")  # ligatures: CŒUR = COEUR
    for separator in "-'’":  # the typographic apostrophe too (D’ARTAGNAN = D'ARTAGNAN)
        upper = upper.replace(separator, " ")
    return " ".join(upper.split())
