"""A site is under-served (sous-dense) when its commune's APL is at most the threshold
(REGULATORY.md, Territory: APL ≤ 2.5, a setting)."""

from decimal import Decimal

import pytest

from tests.conftest import make_structure


@pytest.mark.parametrize(
    ("apl", "underserved"),
    [
        (None, False),
        (Decimal("0"), True),
        (Decimal("2.49"), True),
        (Decimal("2.50"), True),
        (Decimal("2.51"), False),
    ],
)
def test_under_served_up_to_and_including_the_threshold(territory, apl, underserved):
    site = make_structure("EHPAD des Aulnes")
    site.apl = apl
    site.save()
    site.refresh_from_db()
    assert site.underserved is underserved


def test_the_threshold_is_a_setting(territory, settings):
    settings.TELESANTE_APL_UNDERSERVED = 3.0
    site = make_structure("EHPAD des Aulnes")
    site.apl = Decimal("2.90")
    site.save()
    assert site.underserved is True
