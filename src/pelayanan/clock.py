"""Where time comes from: the `Clock` protocol and the system clock.

The library never reads the wall clock inside its logic.  Every component that needs
"now" takes a `Clock`; tests and simulations pass a fake one (see `pelayanan.testing`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from pelayanan.exceptions import InvalidInstantError

__all__ = ["MAX_YEAR", "MIN_YEAR", "Clock", "SystemClock", "ensure_aware", "to_utc"]

#: The earliest year of an instant given to pelayanan (deadline arithmetic and UTC
#: conversion need room on either side of it).
MIN_YEAR = 2
#: The latest year of an instant given to pelayanan.
MAX_YEAR = 9998


@runtime_checkable
class Clock(Protocol):
    """A source of timezone-aware instants."""

    def now(self) -> dt.datetime:
        """Return the current instant, timezone-aware."""


class SystemClock:
    """The real clock: UTC instants from the operating system."""

    def now(self) -> dt.datetime:
        """Return the current instant in UTC."""
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def ensure_aware(value: object, *, what: str = "instant") -> dt.datetime:
    """Return *value* unchanged if it is a timezone-aware instant in the years handled.

    Args:
        value: the datetime to check.
        what: how to name the value in the error message.

    Raises:
        InvalidInstantError: *value* is not a datetime, is naive, or falls outside the
            years `MIN_YEAR` to `MAX_YEAR` (a ``ValueError`` too).
    """
    if not isinstance(value, dt.datetime):
        msg = f"{what} must be a timezone-aware datetime, got a {type(value).__name__}"
        raise InvalidInstantError(msg)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        msg = f"{what} must be timezone-aware, got naive {value.isoformat()}"
        raise InvalidInstantError(msg)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        msg = f"{what} {value.isoformat()} is outside the years {MIN_YEAR} to {MAX_YEAR}"
        raise InvalidInstantError(msg)
    return value


def to_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC (as a plain `datetime` with `datetime.UTC`)."""
    return ensure_aware(value).astimezone(dt.UTC)
