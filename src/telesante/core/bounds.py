"""Plausible windows for the dates, times and ids the platform accepts.

A date in year 1 or 9999 is valid ISO 8601 but overflows Python's date arithmetic and the
databases; an id beyond 64 bits overflows SQLite. Each is refused with a French message before
any computation: the API types below for malformed input (422); `moment_error` and `day_error`
for what a page's form or a service receives (400), and services narrow the window per field
(a measurement from before its monitoring began, an appointment in the past).
"""

import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

# Bigint primary keys: anything above cannot exist.
MAX_ID = 2**63 - 1
# No record of the platform predates this, nor is planned after the other end.
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)


def _out_of_range() -> PydanticCustomError:
    return PydanticCustomError("date_range", _("Date hors de la période plausible (2000 à 2099)."))


def _moment(value: datetime.datetime) -> datetime.datetime:
    if not EARLIEST <= value < LATEST:
        raise _out_of_range()
    return value


def _day(value: datetime.date) -> datetime.date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise _out_of_range()
    return value


def _wall_time(value: datetime.time) -> datetime.time:
    # Opening hours and reading hours are local wall-clock times, compared with naive times.
    if value.tzinfo is not None:
        raise PydanticCustomError(
            "wall_time", _("Heure locale attendue, sans fuseau (format HH:MM).")
        )
    return value


# API field types: a moment with its time zone within the window, a day within it, a local time.
Moment = Annotated[AwareDatetime, AfterValidator(_moment)]
Day = Annotated[datetime.date, AfterValidator(_day)]
WallTime = Annotated[datetime.time, AfterValidator(_wall_time)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def moment_error(value: datetime.datetime) -> str:
    """The French refusal of a moment outside the platform's years, or "" (forms, services)."""
    try:
        _moment(value)
    except PydanticCustomError as exc:
        return str(exc)
    return ""


def day_error(value: datetime.date) -> str:
    """The French refusal of a day outside the platform's years, or "" (forms and services)."""
    try:
        _day(value)
    except PydanticCustomError as exc:
        return str(exc)
    return ""
