"""Value types of working calendars (private: import them from `pelayanan.calendar`)."""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Mapping, Sequence
from typing import Literal, cast, get_args

import attrs

from pelayanan._config import Problems, read_date
from pelayanan.exceptions import CalendarError

#: The public types, re-exported by `pelayanan.calendar`.
__all__ = [
    "Closure",
    "Counting",
    "Deadline",
    "Duration",
    "DurationUnit",
    "ExtraWorkingDay",
    "HolidayOverride",
    "NonWorkingDay",
    "SpecialPeriod",
    "TimeRange",
    "WeekHours",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

WeekHours = tuple[tuple["TimeRange", ...], ...]
"""Working hours per weekday, Monday first: seven tuples of `TimeRange` (empty = no work)."""

DurationUnit = Literal[
    "working_days",
    "working_hours",
    "calendar_days",
    "calendar_hours",
    "working_minutes",
    "calendar_minutes",
]

_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DURATION_RE = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d+)?)\s+(?P<kind>working|calendar)\s+(?P<unit>days?|hours?|minutes?)\s*$",
    re.IGNORECASE,
)
_MINUTES_PER_DAY = 24 * 60
# About 100 years of each unit: any longer deadline would leave the supported years.
_MAX_AMOUNT = {"days": 36_525, "hours": 36_525 * 24, "minutes": 36_525 * 24 * 60}


def _fail(path: str, message: str) -> CalendarError:
    """Build a CalendarError whose message starts with the key path."""
    return CalendarError(f"{path}: {message}" if path else message)


@attrs.frozen(order=True)
class TimeRange:
    """A half-open stretch ``[start, end)`` of local wall-clock time within one day.

    Attributes:
        start: minutes after local midnight when work starts (0-1439).
        end: minutes after local midnight when work stops (1-1440; 1440 is ``24:00``).
    """

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start < _MINUTES_PER_DAY or not 0 < self.end <= _MINUTES_PER_DAY:
            msg = f"time range {self} is outside 00:00-24:00"
            raise CalendarError(msg)
        if self.end <= self.start:
            msg = f"{self}: end before start"
            raise CalendarError(msg)

    @classmethod
    def parse(cls, text: str, *, path: str = "") -> TimeRange:
        """Parse ``"HH:MM-HH:MM"`` (end may be ``24:00``).

        Args:
            text: the range, e.g. ``"07:30-12:00"``.
            path: the config key path to name in errors.

        Returns:
            The range.

        Raises:
            CalendarError: the text is not a valid range or ends before it starts.
        """
        if not isinstance(text, str):
            raise _fail(path, f"expected a string 'HH:MM-HH:MM', got {text!r}")
        match = _RANGE_RE.match(text)
        if match is None:
            raise _fail(path, f"expected 'HH:MM-HH:MM', got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise _fail(path, f"{text!r} is not a valid time of day")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise _fail(path, "end before start")
        return cls(start, end)

    @property
    def seconds(self) -> int:
        """Return the length of the range in seconds."""
        return (self.end - self.start) * 60

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def parse_day_hours(value: object, *, path: str) -> tuple[TimeRange, ...]:
    """Parse one day's working hours: a list of ``"HH:MM-HH:MM"`` in increasing order.

    Args:
        value: the list from configuration (an empty list means no work that day).
        path: the config key path to name in errors.

    Returns:
        The ranges, sorted and non-overlapping.

    Raises:
        CalendarError: not a list, a bad range, or ranges that overlap or are out of order.
    """
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(path, f"expected a list of 'HH:MM-HH:MM', got {value!r}")
    ranges = tuple(TimeRange.parse(item, path=f"{path}[{i}]") for i, item in enumerate(value))
    check_day_hours(ranges, path=path)
    return ranges


def check_day_hours(ranges: Sequence[TimeRange], *, path: str) -> None:
    """Refuse ranges that overlap or are not in increasing order."""
    for i in range(1, len(ranges)):
        if ranges[i].start < ranges[i - 1].end:
            raise _fail(
                f"{path}[{i}]",
                f"{ranges[i]} overlaps or precedes {ranges[i - 1]}; list ranges in order",
            )


def format_week_hours(hours: WeekHours) -> dict[str, list[str]]:
    """Render weekly hours as the ``hours`` config mapping."""
    return {day: [str(r) for r in ranges] for day, ranges in zip(WEEKDAYS, hours, strict=True)}


def parse_date(value: object, *, path: str) -> dt.date:
    """Parse a calendar date given as `datetime.date` or ISO ``YYYY-MM-DD`` text.

    Raises:
        CalendarError: the value is not a date.
    """
    problems = Problems()
    found = read_date(value, "", problems)
    if found is None:
        raise _fail(path, problems.items[0].message)
    return found


class Counting(enum.Enum):
    """How day-based working durations count the day a request is received.

    In both conventions a request received outside working time (after hours, in a break,
    on a non-working day) is taken as received at the next working instant.
    """

    RECEIPT_DAY_ZERO = "receipt-day-zero"
    """The day of receipt is day 0: N working days end at the close of the N-th working
    day after it (3 working days from Tuesday 10:00 end at Friday's close)."""

    RECEIPT_DAY_ONE = "receipt-day-one"
    """The day of receipt is day 1: N working days end at the close of the (N-1)-th
    working day after it (3 working days from Tuesday 10:00 end at Thursday's close);
    0 working days end at the close of the day of receipt."""


@attrs.frozen
class Closure:
    """A date on which the agency is closed although it would normally work.

    Attributes:
        date: the local date.
        reason: why (shown in `WorkCalendar.non_working_days`).
    """

    date: dt.date
    reason: str = "agency closure"


@attrs.frozen
class ExtraWorkingDay:
    """A date on which the agency works although it would normally not (even a holiday).

    Attributes:
        date: the local date.
        hours: the working hours that day; ``None`` means the calendar's regular hours
            of that weekday (refused when that weekday has none).
        reason: why.
    """

    date: dt.date
    hours: tuple[TimeRange, ...] | None = None
    reason: str = ""


@attrs.frozen
class SpecialPeriod:
    """A date range with other working hours, such as Ramadan.

    Periods given here are configured; the default Ramadan dates of a government calendar
    come from `WorkCalendar.ramadan_default` instead.

    Attributes:
        name: e.g. ``"Ramadan 1447 H"``.
        start: first local date of the period.
        end: last local date of the period (inclusive).
        hours: the weekly hours in force during the period (Monday first).
    """

    name: str
    start: dt.date
    end: dt.date
    hours: WeekHours

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            msg = f"special period {self.name!r}: end {self.end} before start {self.start}"
            raise CalendarError(msg)
        if len(self.hours) != 7:
            msg = f"special period {self.name!r}: hours must give 7 weekdays"
            raise CalendarError(msg)


HolidayAction = Literal["add", "remove"]


@attrs.frozen
class HolidayOverride:
    """A correction of the holiday data for one date.

    ``add`` makes *date* a holiday (``category="government"`` makes it a cuti bersama,
    which follows the ``cuti_bersama_working`` switch); ``remove`` drops whatever the
    holidays package says about *date*.  A moved holiday is a ``remove`` plus an ``add``.
    An overridden date is authoritative: it is never reported as an estimate.

    Attributes:
        date: the local date.
        action: ``"add"`` or ``"remove"``.
        name: the holiday's name (for ``add``).
        category: ``"public"`` or ``"government"`` (for ``add``).
    """

    date: dt.date
    action: HolidayAction
    name: str = ""
    category: Literal["public", "government"] = "public"

    def __attrs_post_init__(self) -> None:
        if self.action not in ("add", "remove"):
            msg = f"holiday override action must be 'add' or 'remove', got {self.action!r}"
            raise CalendarError(msg)
        if self.category not in ("public", "government"):
            msg = f"holiday category must be 'public' or 'government', got {self.category!r}"
            raise CalendarError(msg)


@attrs.frozen
class NonWorkingDay:
    """One non-working date of a calendar, with where that comes from.

    Attributes:
        date: the local date.
        name: the holiday's or closure's name (``"Saturday"`` for a weekend day).
        source: e.g. ``"holidays package v0.109 (public)"``, ``"holidays package v0.109
            (government/cuti bersama)"``, ``"agency closure"``, ``"holiday override"``,
            ``"weekend"``, ``"special period <name>"``.
        estimated: the holidays package marks the date as an estimate (not confirmed).
    """

    date: dt.date
    name: str
    source: str
    estimated: bool = False


def _check_amount(amount: object, unit: str) -> int | float:
    """Validate a duration amount; days and minutes whole, hours in whole minutes."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        msg = f"duration amount must be a number, got {amount!r}"
        raise CalendarError(msg)
    if isinstance(amount, float) and not math.isfinite(amount):
        msg = f"duration amount must be finite, got {amount!r}"
        raise CalendarError(msg)
    if amount < 0:
        msg = f"duration must not be negative, got {amount} {unit.replace('_', ' ')}"
        raise CalendarError(msg)
    kind = unit.split("_")[1]
    if amount > _MAX_AMOUNT[kind]:
        msg = (
            f"{amount} {unit.replace('_', ' ')} is too long: at most {_MAX_AMOUNT[kind]} "
            "(about 100 years; deadlines must stay within the years 1946-2200)"
        )
        raise CalendarError(msg)
    if kind != "hours":
        if amount != int(amount):
            msg = f"{unit.replace('_', ' ')} must be a whole number, got {amount}"
            raise CalendarError(msg)
        return int(amount)
    minutes = amount * 60
    if abs(minutes - round(minutes)) > 1e-9:
        msg = f"{unit.replace('_', ' ')} must be a whole number of minutes, got {amount}"
        raise CalendarError(msg)
    return int(amount) if amount == int(amount) else round(minutes) / 60


def _parse_iso(text: str, path: str) -> Duration:
    """Read an ISO 8601 duration: ``P<n>D`` as calendar days, ``PT..H..M`` as calendar time."""
    import pendulum  # noqa: PLC0415 - only ISO spellings need it

    match = _ISO_RE.match(text)
    parsed = None
    if match is not None:
        try:
            parsed = pendulum.parse(text.strip())
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            parsed = None
    if match is None or not isinstance(parsed, pendulum.Duration):
        raise _fail(
            path,
            f"{text!r} is not a supported ISO 8601 duration; use e.g. 'P3D' (calendar days) "
            "or 'PT1H30M' (calendar hours and minutes), not both, and no years, months or weeks",
        )
    if match["days"] is not None:
        return Duration(int(match["days"]), "calendar_days")
    minutes = int(match["hours"] or 0) * 60 + int(match["minutes"] or 0)
    if minutes % 60 == 0:
        return Duration(minutes // 60, "calendar_hours")
    return Duration(minutes, "calendar_minutes")


_ISO_RE = re.compile(
    r"^\s*P(?:(?P<days>\d+)D|T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)\s*$"
)


@attrs.frozen
class Duration:
    """A length of time in one of six units.

    ``working_days`` end at the close of a working day (see `Counting`);
    ``working_hours`` consume working time minute by minute across breaks, days and
    holidays; ``calendar_days`` add days on the local wall clock; ``calendar_hours`` add
    elapsed hours.

    Attributes:
        amount: how many units, always a whole number once built: a fractional number
            of hours (a whole number of minutes) is stored as minutes, so stored and
            logged values are never floats.
        unit: one of ``working_days``, ``working_hours``, ``working_minutes``,
            ``calendar_days``, ``calendar_hours``, ``calendar_minutes``.
    """

    amount: int | float
    unit: DurationUnit

    def __attrs_post_init__(self) -> None:
        if self.unit not in get_args(DurationUnit):
            units = ", ".join(get_args(DurationUnit))
            msg = f"unknown duration unit {self.unit!r}; use one of {units}"
            raise CalendarError(msg)
        amount = _check_amount(self.amount, self.unit)
        if isinstance(amount, float):
            # Stored and logged values are canonical JSON, which has no floats: a fractional
            # hour is kept as the same whole number of minutes.
            object.__setattr__(self, "unit", self.unit.replace("hours", "minutes"))
            amount = round(amount * 60)
        object.__setattr__(self, "amount", amount)

    @classmethod
    def working_days(cls, amount: int) -> Duration:
        """Return a duration of *amount* working days."""
        return cls(amount, "working_days")

    @classmethod
    def working_hours(cls, amount: float) -> Duration:
        """Return a duration of *amount* working hours (whole minutes)."""
        return cls(amount, "working_hours")

    @classmethod
    def calendar_days(cls, amount: int) -> Duration:
        """Return a duration of *amount* calendar days."""
        return cls(amount, "calendar_days")

    @classmethod
    def calendar_hours(cls, amount: float) -> Duration:
        """Return a duration of *amount* calendar hours (whole minutes)."""
        return cls(amount, "calendar_hours")

    @classmethod
    def working_minutes(cls, amount: int) -> Duration:
        """Return a duration of *amount* working minutes."""
        return cls(amount, "working_minutes")

    @classmethod
    def calendar_minutes(cls, amount: int) -> Duration:
        """Return a duration of *amount* calendar minutes."""
        return cls(amount, "calendar_minutes")

    @classmethod
    def from_config(cls, value: object, *, path: str = "") -> Duration:
        """Read a duration from configuration.

        Args:
            value: a one-key mapping such as ``{"working_days": 3}``, a string such as
                ``"3 working days"``, ``"1.5 working hours"`` or ``"10 calendar minutes"``,
                an ISO 8601 duration (``"P3D"`` = 3 calendar days, ``"PT10M"`` = 10
                calendar minutes, ``"PT1H30M"``; working units have no ISO spelling), or a
                `Duration`.
            path: the config key path to name in errors.

        Returns:
            The duration.

        Raises:
            CalendarError: malformed, negative, too long (about 100 years at most), not a
                whole number of the smallest unit, or an unknown unit.
        """
        if isinstance(value, Duration):
            return value
        try:
            if isinstance(value, str) and value.strip().upper().startswith("P"):
                return _parse_iso(value.upper(), path)
            if isinstance(value, str):
                match = _DURATION_RE.match(value)
                if match is None:
                    raise _fail(
                        path,
                        f"expected e.g. '3 working days' or '8 working hours', got {value!r}",
                    )
                unit = f"{match['kind'].lower()}_{match['unit'].lower().rstrip('s')}s"
                text = match["amount"]
                amount: int | float = float(text) if "." in text else int(text)
                return cls(amount, cast("DurationUnit", unit))
            if isinstance(value, Mapping):
                if len(value) != 1:
                    raise _fail(
                        path, f"expected exactly one of {', '.join(get_args(DurationUnit))}"
                    )
                ((key, amount_value),) = value.items()
                if key not in get_args(DurationUnit):
                    raise _fail(
                        f"{path}.{key}" if path else str(key),
                        f"unknown duration unit; use one of {', '.join(get_args(DurationUnit))}",
                    )
                return cls(amount_value, key)
        except CalendarError as exc:
            if path and not str(exc).startswith(path):
                raise _fail(path, str(exc)) from None
            raise
        raise _fail(
            path, f"expected a mapping like {{'working_days': 3}} or a string, got {value!r}"
        )

    def to_config(self) -> dict[str, int | float]:
        """Return the duration as a one-key mapping, e.g. ``{"working_days": 3}``."""
        return {self.unit: self.amount}

    @property
    def is_working(self) -> bool:
        """Return whether the duration counts working time only."""
        return self.unit.startswith("working_")

    @property
    def microseconds(self) -> int:
        """Return the length of an hour- or minute-based duration in microseconds."""
        per_unit = 60_000_000 if self.unit.endswith("_minutes") else 3_600_000_000
        return round(self.amount * per_unit)

    def __str__(self) -> str:
        kind, unit = self.unit.split("_")
        if self.amount == 1:
            unit = unit.rstrip("s")
        return f"{self.amount} {kind} {unit}"


@attrs.frozen
class Deadline:
    """The result of `WorkCalendar.add`.

    Attributes:
        at: the deadline, timezone-aware in the calendar's zone.
        start: the instant counted from, in the calendar's zone.
        duration: the duration added.
        estimated_dates: holiday dates between start and deadline that the holidays data
            marks as estimates (empty when all dates are confirmed).
        calendar_fingerprint: `WorkCalendar.fingerprint_for` the years spanned, so a
            recorded verdict names the exact calendar it used.
    """

    at: dt.datetime
    start: dt.datetime
    duration: Duration
    estimated_dates: tuple[dt.date, ...] = ()
    calendar_fingerprint: str = ""

    @property
    def is_estimated(self) -> bool:
        """Return whether the deadline relies on an estimated holiday date."""
        return bool(self.estimated_dates)
