"""Helpers for tests of apps that embed pelayanan (and for pelayanan's own tests)."""

from __future__ import annotations

import datetime as dt

from pelayanan.clock import ensure_aware
from pelayanan.exceptions import InvalidArgumentError

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that stands still until told to move.

    Args:
        start: the first instant it reports (timezone-aware).
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = ensure_aware(start, what="start")

    def now(self) -> dt.datetime:
        """Return the current fake instant."""
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move forward by *delta* (or ``timedelta(**kwargs)``); return the new instant.

        Raises:
            InvalidArgumentError: the step is negative (time never runs backwards).
        """
        step = delta if delta is not None else dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            msg = "a FakeClock never moves backwards"
            raise InvalidArgumentError(msg)
        self._now += step
        return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to *instant*.

        Raises:
            InvalidInstantError: *instant* is naive.
            InvalidArgumentError: *instant* is earlier than now (a `ValueError`).
        """
        ensure_aware(instant)
        if instant < self._now:
            msg = "a FakeClock never moves backwards"
            raise InvalidArgumentError(msg)
        self._now = instant

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"
