"""Phone numbers shown as a French reader reads them."""

import pytest

from telesante.notifications.templatetags.phones import phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+33612345678", "06 12 34 56 78"),
        ("+33139980054", "01 39 98 00 54"),
        ("+32470123456", "+32470123456"),  # a Belgian mobile stays international
        ("+3361234567", "+3361234567"),  # too short for a French number: as stored
        ("", ""),
    ],
)
def test_french_numbers_in_pairs_others_as_stored(stored: str, shown: str) -> None:
    assert phone(stored) == shown
