"""Where time comes from: the `Clock` protocol and the system clock.

The library never reads the wall clock inside its logic.  Every component that needs
"now" takes a `Clock`; tests and simulations pass a fake one (see `pelayanan.testing`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from pelayanan.exceptions import InvalidArgumentError

__all__ = ["Clock", "SystemClock", "ensure_aware", "to_utc"]


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


def ensure_aware(value: dt.datetime, *, what: str = "instant") -> dt.datetime:
    """Return *value* unchanged if it is timezone-aware, else raise `InvalidArgumentError`.

    Args:
        value: the datetime to check.
        what: how to name the value in the error message.

    Raises:
        InvalidArgumentError: *value* is naive (a `ValueError`).
    """
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        msg = f"{what} must be timezone-aware, got naive {value.isoformat()}"
        raise InvalidArgumentError(msg)
    return value


def to_utc(value: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC (as a plain `datetime` with `datetime.UTC`)."""
    return ensure_aware(value).astimezone(dt.UTC)
