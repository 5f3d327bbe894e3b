"""Numbers as a French user types them (core/numbers.py)."""

import pytest
from django.core.exceptions import ValidationError

from telesante.core import numbers


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3,5", 3.5),
        ("3.5", 3.5),
        (" 1 200,5 ", 1200.5),
        ("1\u202f200", 1200.0),
        ("\u22122,5", -2.5),
        (",5", 0.5),
        (7, 7.0),
        (2.25, 2.25),
        ("", None),
        (None, None),
    ],
)
def test_parse_accepts_the_french_way(raw, value):
    assert numbers.parse(raw) == value


@pytest.mark.parametrize("raw", ["3,5,2", "1e3", "quatre", "nan", "inf", "3 ,5 kg", True])
def test_parse_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError, match="Saisissez un nombre"):
        numbers.parse(raw)


def test_bounds_integer_and_unit_in_french():
    assert numbers.parse("12", integer=True, low=5, high=120) == 12
    with pytest.raises(ValueError, match=r"^Saisissez un nombre entier\.$"):
        numbers.parse("3,5", integer=True)
    with pytest.raises(ValueError, match=r"^Valeur attendue entre 5 et 120 min\.$"):
        numbers.parse("121", low=5, high=120, unit="min")
    with pytest.raises(ValueError, match=r"^Valeur minimale : 0,5 kg\.$"):
        numbers.parse("0,2", low=0.5, unit="kg")
    with pytest.raises(ValueError, match=r"^Valeur maximale : 10\.$"):
        numbers.parse("10,5", high=10)


def test_posted_names_the_field_and_keeps_the_default():
    assert numbers.posted({}, "hours", default=24, integer=True) == 24
    with pytest.raises(ValidationError) as exc:
        numbers.posted({"hours": "2,5"}, "hours", integer=True)
    assert exc.value.message_dict == {"hours": ["Saisissez un nombre entier."]}


def test_form_field_shows_the_unit_and_the_comma():
    field = numbers.NumberField(unit="kg", low=0, high=300)
    assert field.clean("72,5") == 72.5
    html = field.widget.render("weight", 72.5)
    assert 'inputmode="decimal"' in html and 'value="72,5"' in html
    assert '<span class="unit" data-unit-of="weight">kg</span>' in html
    with pytest.raises(ValidationError, match="entre 0 et 300 kg"):
        field.clean("301")
