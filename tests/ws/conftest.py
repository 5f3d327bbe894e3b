"""The WebSocket tests meet every consumer: the rooms' and the télésurveillance fixtures."""

from tests.rooms.conftest import tc_world  # noqa: F401
from tests.telesurveillance.conftest import tsv  # noqa: F401
