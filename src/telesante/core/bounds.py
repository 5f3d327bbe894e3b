"""Plausible windows for the values the platform accepts.

An id beyond 64 bits overflows SQLite; it is refused before any query.
"""

from typing import Annotated

from pydantic import Field

# Bigint primary keys: anything above cannot exist.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
