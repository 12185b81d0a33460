"""Standard working hours and time zones of Indonesian government offices.

Kept apart from the calendar engine so that configuration readers can use the defaults
without importing the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pelayanan.calendar._types import SpecialPeriod, TimeRange, WeekHours

__all__ = [
    "ALWAYS_HOURS",
    "DEFAULT_HOURS",
    "INDONESIAN_TIMEZONES",
    "RAMADAN_HOURS",
    "ramadan_period",
]

INDONESIAN_TIMEZONES: Mapping[str, str] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}
"""The zones of Indonesia (UTC+7, +7, +8, +9; no daylight saving)."""


def _r(text: str) -> TimeRange:
    return TimeRange.parse(text)


_MON_THU = (_r("07:30-12:00"), _r("13:00-16:00"))
_FRI = (_r("07:30-11:30"), _r("13:00-16:30"))
DEFAULT_HOURS: WeekHours = (_MON_THU, _MON_THU, _MON_THU, _MON_THU, _FRI, (), ())
"""Default weekly hours: 37 h 30 min Monday-Friday from 07:30 (Perpres 21/2023).

The split (Mon-Thu 07:30-16:00, break 12:00-13:00; Fri 07:30-16:30, break 11:30-13:00) is
an agency-configurable schedule that meets the rule, not itself law.
"""

ALWAYS_HOURS: WeekHours = ((_r("00:00-24:00"),),) * 7
"""Round-the-clock hours: every day 00:00-24:00 (``hours: always``)."""

_RAMADAN_MON_THU = (_r("08:00-12:00"), _r("12:30-15:00"))
_RAMADAN_FRI = (_r("08:00-11:30"), _r("12:30-15:30"))
RAMADAN_HOURS: WeekHours = (
    _RAMADAN_MON_THU,
    _RAMADAN_MON_THU,
    _RAMADAN_MON_THU,
    _RAMADAN_MON_THU,
    _RAMADAN_FRI,
    (),
    (),
)
"""Ramadan hours per the MenPANRB circulars: 32 h 30 min a week from 08:00 (Mon-Thu
08:00-15:00, break 12:00-12:30; Fri 08:00-15:30, break 11:30-12:30)."""


def ramadan_period(start: dt.date, end: dt.date, *, name: str = "Ramadan") -> SpecialPeriod:
    """Return a special period with Ramadan hours from *start* to *end* (inclusive).

    Args:
        start: the first working date under Ramadan hours (as announced for the year).
        end: the last such date.
        name: the period's name, e.g. ``"Ramadan 1447 H"``.

    Returns:
        The period, with `RAMADAN_HOURS`.

    Raises:
        CalendarError: *end* is before *start*.
    """
    return SpecialPeriod(name, start, end, RAMADAN_HOURS)
