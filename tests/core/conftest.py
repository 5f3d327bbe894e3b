"""The work list reads every app: their fixtures, for tests/core."""

from tests.rooms.conftest import tc_world  # noqa: F401
from tests.teleexpertise.conftest import te_world  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401
