"""The rooms fixtures serve the téléconsultation tests too."""

from tests.rooms.conftest import tc_world  # noqa: F401
