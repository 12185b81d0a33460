"""The calendar engine: `WorkCalendar` and the standard calendars built from it."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import itertools
import json
import warnings
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, cast

import attrs

from pelayanan._config import Problems
from pelayanan.calendar._config import read_calendar_config
from pelayanan.calendar._holidays import (
    HOLIDAYS_VERSION,
    HolidayEntry,
    holiday_entries,
    source_label,
)
from pelayanan.calendar._hours import (
    ALWAYS_HOURS,
    DEFAULT_HOURS,
    RAMADAN_HOURS,
    ramadan_period,
)
from pelayanan.calendar._ramadan import RamadanDates, ramadan_on
from pelayanan.calendar._types import (
    WEEKDAYS,
    Closure,
    Counting,
    Deadline,
    Duration,
    ExtraWorkingDay,
    HolidayOverride,
    NonWorkingDay,
    SpecialPeriod,
    TimeRange,
    WeekHours,
    check_day_hours,
    format_week_hours,
)
from pelayanan.exceptions import CalendarError, EstimatedDateError, EstimatedDateWarning

__all__ = [
    "ROUND_THE_CLOCK",
    "WorkCalendar",
    "calendar_from_config",
    "indonesian_government_calendar",
    "named_calendar",
    "round_the_clock_calendar",
]

#: The name of the built-in round-the-clock calendar (`round_the_clock_calendar`).
ROUND_THE_CLOCK = "round-the-clock"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_MIN_YEAR, _MAX_YEAR = 1946, 2200
# A calendar whose hours leave no working day for this many consecutive years is broken.
_MAX_EMPTY_YEARS = 5


def _to_us(instant: dt.datetime) -> int:
    """Return microseconds since the Unix epoch of an aware instant."""
    return (instant - _EPOCH) // _US


class _YearTable:
    """One year's working time, resolved: the structure every query bisects."""

    __slots__ = (
        "estimated",
        "first",
        "midnights",
        "non_working",
        "spans",
        "starts",
        "total",
        "workdays",
        "year",
    )

    def __init__(
        self,
        year: int,
        spans: list[list[tuple[int, int]]],
        non_working: list[NonWorkingDay],
        estimated: list[dt.date],
        midnights: list[int],
    ) -> None:
        self.year = year
        self.first = dt.date(year, 1, 1)
        # midnights[i] = epoch µs of local midnight starting day i; the last one is the
        # next year's first (so an instant of the year has midnights[0] <= us < [-1]).
        self.midnights = midnights
        self.spans = spans  # per day of year: [(start_us, end_us), ...] in epoch µs
        # starts[i] = working µs in the year before day i (prefix sum; len = days + 1).
        starts = [0]
        for day in spans:
            starts.append(starts[-1] + sum(e - s for s, e in day))
        self.starts = starts
        self.total = starts[-1]
        self.workdays = [i for i, day in enumerate(spans) if day]
        self.non_working = non_working
        self.estimated = estimated


#: How many working-day deadlines a calendar's index keeps before it starts afresh.
_MAX_DAY_DEADLINES = 1 << 16


class _CalendarIndex:
    """What one calendar has worked out so far: the work its queries share.

    Held by a `WorkCalendar` in a private field that takes no part in its equality,
    hash, repr or pickling (an unpickled or evolved calendar starts a fresh index), so
    the calendar stays a plain value.  Filled only with results that follow from the
    definition, so it never changes an answer.
    """

    __slots__ = ("day_deadlines", "fingerprints", "recent", "years")

    def __init__(self) -> None:
        self.years: dict[int, _YearTable] = {}  # resolved years (bounded by the year range)
        # The year table last located, so a run of instants in one year skips the zone
        # conversion (see `WorkCalendar._locate_fast`).
        self.recent: _YearTable | None = None
        # (year, day index, working time left that day, days) -> working-day deadline.
        self.day_deadlines: dict[tuple[int, int, bool, int], dt.datetime] = {}
        self.fingerprints: dict[tuple[int, ...], str] = {}  # years -> fingerprint

    def remember_deadline(self, key: tuple[int, int, bool, int], deadline: dt.datetime) -> None:
        """Keep a working-day deadline, starting afresh when the bound is reached."""
        if len(self.day_deadlines) >= _MAX_DAY_DEADLINES:
            self.day_deadlines.clear()
        self.day_deadlines[key] = deadline


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_TUPLE_FIELDS = (
    "closures",
    "extra_working_days",
    "special_periods",
    "holiday_overrides",
    "confirm_estimated",
)


@attrs.frozen(kw_only=True)
class WorkCalendar:
    """A working calendar in one IANA time zone.

    Build it with `indonesian_government_calendar` or `calendar_from_config`.  Instances
    are immutable values: equal when their definitions are equal, hashable and
    picklable; what a calendar works out (resolved years, deadlines, fingerprints) is
    kept in a private index that takes no part in any of that.

    Attributes:
        timezone: IANA zone, e.g. ``"Asia/Jakarta"`` (WIB), ``"Asia/Makassar"`` (WITA),
            ``"Asia/Jayapura"`` (WIT).
        hours: working hours per weekday, Monday first (seven tuples of `TimeRange`).
        cuti_bersama_working: count cuti bersama as working days (default: non-working).
        closures: agency closures (non-working, even on a regular day).
        extra_working_days: dates worked although normally off (also beats a holiday).
        special_periods: date ranges with other hours (e.g. Ramadan); must not overlap.
        holiday_overrides: corrections of the holidays package data.
        confirm_estimated: holiday dates to treat as confirmed although the package marks
            them as estimates.
        strict: refuse (`EstimatedDateError`) rather than warn when a computation crosses
            an estimated date.
        counting: how working days count the day of receipt.
        name: a label for people (part of the fingerprint).
        observe_holidays: stop on public holidays and cuti bersama from the ``holidays``
            package (``False``: ``holidays: none``, only the weekly hours, closures and
            holiday overrides apply).
        ramadan_default: work Ramadan under `RAMADAN_HOURS` on the published dates
            (later years computed and flagged estimated; see ``docs/calendar.md``),
            except where a configured special period overlaps that year's Ramadan.
    """

    timezone: str = "Asia/Jakarta"
    hours: WeekHours = DEFAULT_HOURS
    cuti_bersama_working: bool = False
    closures: tuple[Closure, ...] = ()
    extra_working_days: tuple[ExtraWorkingDay, ...] = ()
    special_periods: tuple[SpecialPeriod, ...] = ()
    holiday_overrides: tuple[HolidayOverride, ...] = ()
    confirm_estimated: tuple[dt.date, ...] = ()
    strict: bool = False
    counting: Counting = Counting.RECEIPT_DAY_ZERO
    name: str = ""
    observe_holidays: bool = True
    ramadan_default: bool = False
    _zone: zoneinfo.ZoneInfo = attrs.field(init=False, eq=False, repr=False, hash=False)
    _index: _CalendarIndex = attrs.field(
        init=False, eq=False, repr=False, hash=False, factory=_CalendarIndex
    )

    def __attrs_post_init__(self) -> None:
        try:
            zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            msg = f"timezone: unknown IANA time zone {self.timezone!r} (e.g. Asia/Jakarta)"
            raise CalendarError(msg) from None
        object.__setattr__(self, "_zone", zone)
        # Lists given for tuple fields are frozen so the value stays hashable.
        for field in _TUPLE_FIELDS:
            object.__setattr__(self, field, tuple(getattr(self, field)))
        self._validate()

    def with_counting(self, counting: Counting | None) -> WorkCalendar:
        """Return this calendar under another counting convention (itself for ``None``).

        Args:
            counting: the convention a clock chose, or ``None`` to keep the calendar's.

        Returns:
            The calendar, evolved when the convention differs.
        """
        if counting is None or counting is self.counting:
            return self
        return attrs.evolve(self, counting=counting)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the definition only: the unpickled calendar builds its own index."""
        fields = {f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if f.init}
        return (_rebuild, (type(self), fields))

    # --- validation ---------------------------------------------------------------------

    def _validate(self) -> None:
        """Refuse definitions that contradict themselves, naming the offending key."""
        if len(self.hours) != 7:
            msg = f"hours: give 7 weekdays (Monday first), got {len(self.hours)}"
            raise CalendarError(msg)
        for weekday, ranges in zip(WEEKDAYS, self.hours, strict=True):
            check_day_hours(ranges, path=f"hours.{weekday}")
        if not any(self.hours):
            msg = "hours: no weekday has working hours"
            raise CalendarError(msg)
        closed: dict[dt.date, int] = {}
        for i, closure in enumerate(self.closures):
            if closure.date in closed:
                msg = f"closures[{i}]: {closure.date} is already closures[{closed[closure.date]}]"
                raise CalendarError(msg)
            closed[closure.date] = i
        extra: set[dt.date] = set()
        for i, day in enumerate(self.extra_working_days):
            where = f"extra_working_days[{i}]"
            if day.date in closed:
                msg = f"{where}: {day.date} is also closures[{closed[day.date]}]; keep one"
                raise CalendarError(msg)
            _add_once(extra, day.date, f"{where}: {day.date} is listed twice")
            if day.hours is not None:
                check_day_hours(day.hours, path=f"{where}.hours")
                if not day.hours:
                    msg = f"{where}.hours: an extra working day needs working hours"
                    raise CalendarError(msg)
            elif not self._regular_hours(day.date)[0]:
                msg = (
                    f"{where}: {day.date} ({WEEKDAYS[day.date.weekday()]}) has no regular "
                    "hours; give hours"
                )
                raise CalendarError(msg)
        periods = sorted(enumerate(self.special_periods), key=lambda p: p[1].start)
        for (_, a), (j, b) in itertools.pairwise(periods):
            if b.start <= a.end:
                msg = f"special_periods[{j}]: {b.name!r} overlaps {a.name!r}"
                raise CalendarError(msg)
        for i, period in enumerate(self.special_periods):
            for weekday, ranges in zip(WEEKDAYS, period.hours, strict=True):
                check_day_hours(ranges, path=f"special_periods[{i}].hours.{weekday}")
        seen: set[dt.date] = set()
        for i, override in enumerate(self.holiday_overrides):
            where = f"holiday_overrides[{i}]"
            twice = f"{where}: {override.date} is overridden twice; keep one override per date"
            _add_once(seen, override.date, twice)
            if override.action == "remove" and override.date not in _package_holidays(
                override.date.year
            ):
                msg = (
                    f"{where}: {override.date} is not a holiday in the holidays package "
                    f"v{HOLIDAYS_VERSION}; nothing to remove"
                )
                raise CalendarError(msg)
            if override.action == "add" and not override.name:
                msg = f"{where}: an added holiday needs a name"
                raise CalendarError(msg)

    # --- resolution of one date ------------------------------------------------------------

    def _regular_hours(self, day: dt.date) -> tuple[tuple[TimeRange, ...], str]:
        """Return the hours of *day* before holidays, and what set them."""
        for period in self.special_periods:
            if period.start <= day <= period.end:
                return period.hours[day.weekday()], f"special period {period.name}"
        ramadan = self._default_ramadan(day)
        if ramadan is not None:
            return RAMADAN_HOURS[day.weekday()], "special period Ramadan"
        return self.hours[day.weekday()], "weekend"

    def _default_ramadan(self, day: dt.date) -> RamadanDates | None:
        """Return the default Ramadan period holding *day*, unless configured otherwise."""
        if not self.ramadan_default:
            return None
        period = ramadan_on(day)
        if period is None or any(
            p.start <= period.last and period.first <= p.end for p in self.special_periods
        ):
            return None
        return period

    def _ramadan_periods(self, year: int) -> list[RamadanDates]:
        """Return the default Ramadan periods applied to days of *year*."""
        found: list[RamadanDates] = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            period = self._default_ramadan(day)
            if period is not None and period not in found:
                found.append(period)
            day += dt.timedelta(days=1)
        return found

    def _ramadan_estimated(self, day: dt.date) -> bool:
        """Return whether *day*'s hours hang on an estimated Ramadan edge.

        A computed Ramadan may be a day off at either end, so the days whose hours change
        when it is (the day before, the first, the last and the day after) are flagged.
        """
        if not self.ramadan_default or day in self.confirm_estimated:
            return False
        for near in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)):
            period = self._default_ramadan(near)
            if period is not None and period.estimated and day in _edges(period):
                return True
        return False

    def _holiday(self, day: dt.date) -> tuple[str, str, str, bool] | None:
        """Return (name, category, source, estimated) of the holiday on *day*, if any."""
        for override in self.holiday_overrides:
            if override.date == day:
                if override.action == "remove":
                    return None
                return override.name, override.category, "holiday override", False
        if not self.observe_holidays:
            return None
        entry: HolidayEntry | None = _package_holidays(day.year).get(day)
        if entry is None:
            return None
        estimated = entry.estimated and day not in self.confirm_estimated
        return entry.name, entry.category, source_label(entry.category), estimated

    def _resolve(self, day: dt.date) -> tuple[tuple[TimeRange, ...], NonWorkingDay | None]:
        """Return the working hours of *day* and, when it has none, why."""
        for closure in self.closures:
            if closure.date == day:
                return (), NonWorkingDay(day, closure.reason, "agency closure")
        for extra in self.extra_working_days:
            if extra.date == day:
                return (extra.hours or self._regular_hours(day)[0]), None
        holiday = self._holiday(day)
        if holiday is not None:
            name, category, source, estimated = holiday
            if not (category == "government" and self.cuti_bersama_working):
                return (), NonWorkingDay(day, name, source, estimated)
        hours, why = self._regular_hours(day)
        if not hours:
            return (), NonWorkingDay(day, WEEKDAYS[day.weekday()].capitalize(), why)
        return hours, None

    def _local_us(self, day: dt.date, minute: int) -> int:
        """Return epoch µs of local wall time *minute* after midnight of *day*."""
        if minute >= 1440:
            day, minute = day + dt.timedelta(days=1), minute - 1440
        wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=self._zone)
        return _to_us(wall)

    def _table(self, year: int) -> _YearTable:
        """Return the resolved table of *year* (built once per calendar)."""
        table = self._index.years.get(year)
        if table is not None:
            return table
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            msg = f"year {year} is outside the supported range {_MIN_YEAR}-{_MAX_YEAR}"
            raise CalendarError(msg)
        spans: list[list[tuple[int, int]]] = []
        non_working: list[NonWorkingDay] = []
        estimated: list[dt.date] = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            hours, off = self._resolve(day)
            spans.append(
                [(self._local_us(day, r.start), self._local_us(day, r.end)) for r in hours]
            )
            if off is not None:
                non_working.append(off)
                if off.estimated:
                    estimated.append(day)
            elif self._ramadan_estimated(day):
                estimated.append(day)
            day += dt.timedelta(days=1)
        midnights = [self._local_us(dt.date(year, 1, 1) + dt.timedelta(days=i), 0)
                     for i in range(len(spans) + 1)]  # fmt: skip
        table = _YearTable(year, spans, non_working, estimated, midnights)
        self._index.years[year] = table
        return table

    # --- locating instants -------------------------------------------------------------------

    def _aware(self, instant: dt.datetime, what: str) -> dt.datetime:
        if not isinstance(cast("object", instant), dt.datetime):
            msg = f"{what} must be a datetime, got {instant!r}"
            raise CalendarError(msg)
        if instant.tzinfo is None or instant.utcoffset() is None:
            msg = f"{what} must be timezone-aware, got naive {instant.isoformat()}"
            raise CalendarError(msg)
        return instant.astimezone(self._zone)

    def _locate(self, local: dt.datetime) -> tuple[_YearTable, int, int]:
        """Return (year table, day index, epoch µs) of a local instant."""
        table = self._table(local.year)
        return table, (local.date() - table.first).days, _to_us(local)

    def _locate_fast(self, instant: dt.datetime) -> tuple[_YearTable, int, int]:
        """Return what `_locate` returns, without converting *instant* to the zone.

        The year table last used answers by bisecting its local midnights; another
        year (or a naive or non-datetime value, which raises `CalendarError`) takes the
        general path.
        """
        try:
            us = (instant - _EPOCH) // _US
        except TypeError:
            us = None
        index = self._index
        table = index.recent
        if us is not None and table is not None:
            bounds = table.midnights
            if bounds[0] <= us < bounds[-1]:
                return table, bisect.bisect_right(bounds, us) - 1, us
        table, day, us = self._locate(self._aware(instant, "instant"))
        index.recent = table
        return table, day, us

    def _from_us(self, us: int) -> dt.datetime:
        return (_EPOCH + dt.timedelta(microseconds=us)).astimezone(self._zone)

    def _worked_before(self, local: dt.datetime) -> tuple[_YearTable, int]:
        """Return the year table and the working µs of that year before *local*."""
        return self._worked_at(*self._locate(local))

    @staticmethod
    def _worked_at(table: _YearTable, index: int, us: int) -> tuple[_YearTable, int]:
        worked = table.starts[index]
        for start, end in table.spans[index]:
            if us >= end:
                worked += end - start
            else:
                worked += max(0, us - start)
                break
        return table, worked

    def _next_table(self, table: _YearTable, skipped: int) -> _YearTable:
        if skipped > _MAX_EMPTY_YEARS:
            msg = (
                f"the calendar has no working time for {_MAX_EMPTY_YEARS} years after {table.year}"
            )
            raise CalendarError(msg)
        return self._table(table.year + 1)

    def _next_working_us(self, local: dt.datetime) -> int:
        table, index, us = self._locate(local)
        for start, end in table.spans[index]:
            if us < end:
                return max(us, start)
        k = bisect.bisect_right(table.workdays, index)
        skipped = 0
        while k >= len(table.workdays):
            table, k = self._next_table(table, skipped), 0
            skipped += 1
        return table.spans[table.workdays[k]][0][0]

    # --- public queries -----------------------------------------------------------------------

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """Return the calendar's time zone."""
        return self._zone

    def is_working_time(self, instant: dt.datetime) -> bool:
        """Return whether *instant* falls in working time (intervals are ``[start, end)``).

        Raises:
            CalendarError: *instant* is naive or out of the supported years.
        """
        table, index, us = self._locate(self._aware(instant, "instant"))
        return any(start <= us < end for start, end in table.spans[index])

    def next_working_instant(self, instant: dt.datetime) -> dt.datetime:
        """Return *instant* if it is working time, else the next start of working time.

        Args:
            instant: any timezone-aware instant.

        Returns:
            An instant in the calendar's zone.

        Raises:
            CalendarError: *instant* is naive, or no working time follows it.
        """
        return self._from_us(self._next_working_us(self._aware(instant, "instant")))

    def add(self, start: dt.datetime, duration: Duration | Mapping[str, Any] | str) -> Deadline:
        """Return the deadline *duration* after *start*.

        Working days end at the close of the last working day counted (see `Counting`:
        by default the day of receipt is day 0 and a start outside working time counts
        from the next working instant).  Working hours consume working time to the
        microsecond; a deadline that lands exactly at the end of a working interval is
        that end (e.g. 12:00, the start of a break, or 16:00, the close), not the next
        opening.  Adding zero working hours returns *start*.  Calendar days move the
        local wall clock; calendar hours add elapsed time.

        Args:
            start: any timezone-aware instant.
            duration: a `Duration`, or its config form (``{"working_days": 3}``,
                ``"3 working days"``).

        Returns:
            The deadline in the calendar's zone, flagged with the estimated holiday dates
            between *start* and it.

        Raises:
            CalendarError: naive *start*, bad duration, or out of the supported years.
            EstimatedDateError: strict mode and the span crosses an estimated date.

        Warns:
            EstimatedDateWarning: the span crosses an estimated date (non-strict mode).
        """
        local = self._aware(start, "start")
        duration = Duration.from_config(duration)
        at = self._deadline(local, duration)
        estimated = self._flag_deadline(local, at, duration)
        return Deadline(at, local, duration, estimated, self._fingerprint_span(local, at))

    def deadline_at(
        self,
        start: dt.datetime,
        duration: Duration | Mapping[str, Any] | str,
        *,
        warn_estimated: bool = True,
    ) -> dt.datetime:
        """Return the instant *duration* after *start*, without the `Deadline` record.

        For callers that compute many deadlines and state the estimated dates they rely
        on once, elsewhere (the SLA clock replay of a report states them in its
        `ReportBasis`): no record is built, no fingerprint is taken, and with
        *warn_estimated* false nothing is warned.  A working-days deadline is the same
        for every start in one stretch of a day, so it is computed once per stretch.

        Args:
            start: any timezone-aware instant.
            duration: a `Duration`, or its config form.
            warn_estimated: as in `elapsed` (strict mode still refuses an estimated date).

        Returns:
            ``add(start, duration).at``.

        Raises:
            CalendarError: naive *start*, bad duration, or out of the supported years.
            EstimatedDateError: strict mode and the span crosses an estimated date.

        Warns:
            EstimatedDateWarning: the span crosses an estimated date, when *warn_estimated*.
        """
        duration = Duration.from_config(duration)
        if duration.unit == "working_days":
            at = self._add_working_days(start, int(duration.amount))
        else:
            at = self._deadline(self._aware(start, "start"), duration)
        if warn_estimated or self.strict:
            self._flag_deadline(self._aware(start, "start"), at, duration)
        return at

    def _flag_deadline(
        self, local: dt.datetime, at: dt.datetime, duration: Duration
    ) -> tuple[dt.date, ...]:
        """Return the estimated dates a working deadline relies on, warning (or refusing)."""
        if not duration.is_working:
            return ()
        estimated = self._estimated_between(local.date(), at.date())
        if estimated:
            self._flag(estimated, f"deadline {duration} from {local.isoformat()}")
        return estimated

    def _deadline(self, local: dt.datetime, duration: Duration) -> dt.datetime:
        if duration.unit == "calendar_days":
            return self._wall_days(local, int(duration.amount))
        if duration.unit in ("calendar_hours", "calendar_minutes"):
            return self._from_us(_to_us(local) + duration.microseconds)
        if duration.unit in ("working_hours", "working_minutes"):
            return self._add_working_us(local, duration.microseconds)
        return self._add_working_days(local, int(duration.amount))

    def elapsed(
        self, start: dt.datetime, end: dt.datetime, *, warn_estimated: bool = True
    ) -> dt.timedelta:
        """Return the working time between two instants (negative when *end* < *start*).

        Args:
            start: the first instant (timezone-aware).
            end: the second instant (timezone-aware).
            warn_estimated: emit `EstimatedDateWarning` when the span crosses an estimated
                date (callers that state estimated dates once, like reports, pass ``False``;
                strict mode still refuses).

        Raises:
            CalendarError: a naive instant, or out of the supported years.
            EstimatedDateError: strict mode and the span crosses an estimated date.

        Warns:
            EstimatedDateWarning: the span crosses an estimated date (non-strict mode).
        """
        a, b = self._aware(start, "start"), self._aware(end, "end")
        if b < a:
            return -self.elapsed(end, start, warn_estimated=warn_estimated)
        table_a, worked_a = self._worked_before(a)
        table_b, worked_b = self._worked_before(b)
        total = worked_b - worked_a
        for year in range(table_a.year, table_b.year):
            total += self._table(year).total
        if warn_estimated or self.strict:
            estimated = self._estimated_between(a.date(), b.date())
            if estimated:
                # The message is only built when there is something to say.
                self._flag(estimated, f"working time from {a.isoformat()} to {b.isoformat()}")
        return dt.timedelta(microseconds=total)

    def working_position(self, instant: dt.datetime) -> tuple[int, int]:
        """Return the position of *instant* on the calendar's working-time line.

        The position is ``(year, working µs of that local year before the instant)``;
        `elapsed_between` (or `working_us_between`) turns two of them into the working
        time between the instants, without the estimated-date check of `elapsed`.  For
        measuring many spans that share their ends (consecutive stays of a request, the
        segments of a clock): each instant is located once, not once per span.

        Args:
            instant: a timezone-aware instant.

        Returns:
            ``(year, microseconds)``: compare positions as tuples; subtract them only
            through `elapsed_between`.

        Raises:
            CalendarError: a naive instant, or out of the supported years.
        """
        table, worked = self._worked_at(*self._locate_fast(instant))
        return (table.year, worked)

    def elapsed_between(self, start: tuple[int, int], end: tuple[int, int]) -> dt.timedelta:
        """Return the working time between two `working_position` results.

        Unlike `elapsed`, this never warns about estimated dates: callers state the
        estimated dates of their span once (e.g. in a report's basis).

        Args:
            start: the position of the first instant.
            end: the position of the second (before *start* gives a negative result).

        Returns:
            The working time, as `elapsed` would measure it.
        """
        return dt.timedelta(microseconds=self.working_us_between(start, end))

    def working_us_between(self, start: tuple[int, int], end: tuple[int, int]) -> int:
        """Return the working time between two positions in whole microseconds.

        The integer form of `elapsed_between`, for callers that keep sums of measures
        as integers (SLA clock budgets are whole microseconds).

        Args:
            start: the position of the first instant.
            end: the position of the second.

        Returns:
            ``elapsed_between(start, end)`` in microseconds.
        """
        if start[0] == end[0]:
            return end[1] - start[1]
        if end < start:
            return -self.working_us_between(end, start)
        total = end[1] - start[1]
        for year in range(start[0], end[0]):
            total += self._table(year).total
        return total

    def estimated_dates_between(self, first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
        """Return the estimated, unconfirmed holiday dates from *first* to *last* inclusive."""
        return self._estimated_between(first, last)

    def non_working_days(self, year: int, *, weekends: bool = True) -> list[NonWorkingDay]:
        """Return every non-working local date of *year* with its name and source.

        Args:
            year: the year.
            weekends: include days off because the weekday has no hours (``source`` is
                ``"weekend"`` or ``"special period <name>"``).

        Returns:
            The dates in order.  Holidays on weekends are listed as holidays.

        Raises:
            CalendarError: *year* is out of the supported range.
        """
        days = self._table(year).non_working
        if weekends:
            return list(days)
        return [d for d in days if d.source != "weekend" and not d.source.startswith("special")]

    # --- fingerprints and config ---------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """Return the definition as a config mapping `calendar_from_config` reads back."""
        return {
            "name": self.name,
            "timezone": self.timezone,
            "hours": format_week_hours(self.hours),
            "cuti_bersama_working": self.cuti_bersama_working,
            "closures": [{"date": c.date.isoformat(), "reason": c.reason} for c in self.closures],
            "extra_working_days": [
                {
                    "date": e.date.isoformat(),
                    "reason": e.reason,
                    **({"hours": [str(r) for r in e.hours]} if e.hours is not None else {}),
                }
                for e in self.extra_working_days
            ],
            "special_periods": [
                {
                    "name": p.name,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "hours": format_week_hours(p.hours),
                }
                for p in self.special_periods
            ],
            "holiday_overrides": [
                {
                    "date": o.date.isoformat(),
                    "action": o.action,
                    **({"name": o.name, "category": o.category} if o.action == "add" else {}),
                }
                for o in self.holiday_overrides
            ],
            "confirm_estimated": [d.isoformat() for d in self.confirm_estimated],
            "strict": self.strict,
            "counting": self.counting.value,
            # Written only when set, so the fingerprints of existing calendars stay the same.
            **({} if self.observe_holidays else {"holidays": "none"}),
            **({"ramadan": "default"} if self.ramadan_default else {}),
        }

    @property
    def fingerprint(self) -> str:
        """Return ``sha256:<hex>`` of the definition and the holidays package version.

        Two calendars with the same fingerprint resolve every date alike under the same
        package version.  `fingerprint_for` also pins the resolved dates of given years.
        """
        return self.fingerprint_for(())

    def fingerprint_for(self, years: Iterable[int]) -> str:
        """Return ``sha256:<hex>`` of the definition, the holidays package version and the
        non-working dates the calendar resolves for *years*.

        This is what `Deadline.calendar_fingerprint` records, for the years its span uses.
        """
        key = tuple(sorted(set(years)))
        cached = self._index.fingerprints.get(key)
        if cached is not None:
            return cached
        resolved = {
            str(year): [
                [d.date.isoformat(), d.name, d.source, d.estimated]
                for d in self._table(year).non_working
            ]
            for year in key
        }
        document: dict[str, object] = {
            "definition": self.to_config(),
            "holidays_version": HOLIDAYS_VERSION,
            "non_working": resolved,
        }
        if self.ramadan_default:
            # The default dates are data of this library: pin the ones the years use.
            document["ramadan"] = {
                str(year): [
                    [p.first.isoformat(), p.last.isoformat(), p.estimated]
                    for p in self._ramadan_periods(year)
                ]
                for year in key
            }
        digest = "sha256:" + hashlib.sha256(_canonical(document).encode()).hexdigest()
        self._index.fingerprints[key] = digest
        return digest

    # --- arithmetic engines -------------------------------------------------------------------

    def _wall_days(self, local: dt.datetime, days: int) -> dt.datetime:
        try:
            # Aware + timedelta keeps the wall clock; astimezone normalises the offset.
            at = (local + dt.timedelta(days=days)).astimezone(dt.UTC).astimezone(self._zone)
        except OverflowError:
            msg = f"{days} calendar days from {local.isoformat()} is out of range"
            raise CalendarError(msg) from None
        if not _MIN_YEAR <= at.year <= _MAX_YEAR:
            msg = f"year {at.year} is outside the supported range {_MIN_YEAR}-{_MAX_YEAR}"
            raise CalendarError(msg)
        return at

    def _add_working_us(self, local: dt.datetime, amount: int) -> dt.datetime:
        if amount == 0:
            return local
        table, worked = self._worked_before(local)
        target = worked + amount
        skipped = 0
        while target > table.total:
            target -= table.total
            skipped = skipped + 1 if table.total == 0 else 0
            table = self._next_table(table, skipped)
        # The day holding the target: the last day whose start is below it.
        index = bisect.bisect_left(table.starts, target) - 1
        remaining = target - table.starts[index]
        for start, end in table.spans[index]:
            if remaining <= end - start:
                return self._from_us(start + remaining)
            remaining -= end - start
        msg = "internal error: working time table is inconsistent"  # pragma: no cover
        raise AssertionError(msg)  # pragma: no cover

    def _add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        # The deadline depends only on the day counting starts from: *start*'s own day
        # while working time remains in it, else the next working day.  Every start in
        # the same stretch shares it, so it is computed once.  (*start* may be in any
        # zone: it is located by instant.)
        table, index, us = self._locate_fast(start)
        spans = table.spans[index]
        key = (table.year, index, bool(spans) and us < spans[-1][1], days)
        found = self._index.day_deadlines.get(key)
        if found is None:
            found = self._count_working_days(self._aware(start, "start"), days)
            self._index.remember_deadline(key, found)
        return found

    def _count_working_days(self, local: dt.datetime, days: int) -> dt.datetime:
        anchor = self._from_us(self._next_working_us(local))
        table, index, _ = self._locate(anchor)
        if self.counting is Counting.RECEIPT_DAY_ONE:
            days = max(days - 1, 0)
        k = bisect.bisect_left(table.workdays, index) + days
        skipped = 0
        while k >= len(table.workdays):
            k -= len(table.workdays)
            skipped = skipped + 1 if not table.workdays else 0
            table = self._next_table(table, skipped)
        return self._from_us(table.spans[table.workdays[k]][-1][1])

    def _estimated_between(self, first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
        found: list[dt.date] = []
        for year in range(first.year, last.year + 1):
            found.extend(d for d in self._table(year).estimated if first <= d <= last)
        return tuple(found)

    def _flag(self, dates: Sequence[dt.date], what: str) -> None:
        """Warn about (or, in strict mode, refuse) reliance on estimated dates."""
        if not dates:
            return
        listed = ", ".join(d.isoformat() for d in dates)
        if self.strict:
            msg = (
                f"{what} crosses estimated holiday date(s) {listed}; confirm them "
                "(confirm_estimated) or correct them (holiday_overrides)"
            )
            raise EstimatedDateError(msg)
        warnings.warn(
            EstimatedDateWarning(
                f"{what} relies on estimated holiday date(s) {listed} (holidays package "
                f"v{HOLIDAYS_VERSION}); confirm or override them in the calendar"
            ),
            stacklevel=3,
        )

    def _fingerprint_span(self, a: dt.datetime, b: dt.datetime) -> str:
        return self.fingerprint_for(range(min(a.year, b.year), max(a.year, b.year) + 1))


@functools.lru_cache(maxsize=512)
def _edges(period: RamadanDates) -> tuple[dt.date, ...]:
    """Return the dates whose hours change if *period* is a day off at either end."""
    one = dt.timedelta(days=1)
    return (period.first - one, period.first, period.last, period.last + one)


def _add_once(seen: set[dt.date], date: dt.date, twice: str) -> None:
    """Add *date* to *seen*; refuse it with the message *twice* when it is there already."""
    if date in seen:
        raise CalendarError(twice)
    seen.add(date)


def _package_holidays(year: int) -> dict[dt.date, HolidayEntry]:
    """Return the holidays package's dates of *year*, by date (callers must not mutate)."""
    return {entry.date: entry for entry in holiday_entries(year)}


def indonesian_government_calendar(
    tz: str = "Asia/Jakarta",
    *,
    cuti_bersama_working: bool = False,
    ramadan: Iterable[tuple[dt.date, dt.date]] | Literal["default", "none"] = "default",
    closures: Iterable[Closure] = (),
    extra_working_days: Iterable[ExtraWorkingDay] = (),
    holiday_overrides: Iterable[HolidayOverride] = (),
    confirm_estimated: Iterable[dt.date] = (),
    strict: bool = False,
    counting: Counting = Counting.RECEIPT_DAY_ZERO,
    hours: WeekHours = DEFAULT_HOURS,
) -> WorkCalendar:
    """Return the calendar of an Indonesian government office.

    Hours default to `DEFAULT_HOURS` (37 h 30 min Monday-Friday from 07:30, Perpres
    21/2023); holidays and cuti bersama come from the ``holidays`` package.

    Args:
        tz: the unit's IANA zone (Asia/Jakarta or Asia/Pontianak for WIB, Asia/Makassar
            for WITA, Asia/Jayapura for WIT).
        cuti_bersama_working: count cuti bersama as working days.
        ramadan: ``"default"``: `RAMADAN_HOURS` on the published Ramadan dates (MenPANRB
            circulars; 1 Ramadan from the sidang isbat, Idul Fitri from the SKB), later
            years computed from the holidays package and flagged estimated; ``"none"``:
            no Ramadan hours; or ``(first, last)`` date pairs as announced, which replace
            the default in the years they overlap.
        closures: agency closures.
        extra_working_days: extra working days.
        holiday_overrides: corrections of the holiday data.
        confirm_estimated: estimated holiday dates to treat as confirmed.
        strict: raise `EstimatedDateError` instead of warning.
        counting: the counting convention for working days.
        hours: the agency's weekly hours, if not the default split.

    Returns:
        The calendar.

    Raises:
        CalendarError: an unknown zone, a contradictory definition or an unknown
            *ramadan* word.
    """
    if isinstance(ramadan, str) and ramadan not in ("default", "none"):
        msg = f"ramadan: expected 'default', 'none' or (first, last) date pairs, got {ramadan!r}"
        raise CalendarError(msg)
    return WorkCalendar(
        name="indonesian-government",
        timezone=tz,
        hours=hours,
        cuti_bersama_working=cuti_bersama_working,
        closures=tuple(closures),
        extra_working_days=tuple(extra_working_days),
        special_periods=tuple(
            ramadan_period(first, last, name=f"Ramadan {first.year}")
            for first, last in ([] if isinstance(ramadan, str) else ramadan)
        ),
        ramadan_default=ramadan != "none",
        holiday_overrides=tuple(holiday_overrides),
        confirm_estimated=tuple(confirm_estimated),
        strict=strict,
        counting=counting,
    )


def round_the_clock_calendar(
    tz: str = "Asia/Jakarta",
    *,
    name: str = ROUND_THE_CLOCK,
    counting: Counting = Counting.RECEIPT_DAY_ZERO,
    closures: Iterable[Closure] = (),
) -> WorkCalendar:
    """Return a calendar on which every instant counts: seven 24-hour days, no holidays.

    For services that never close (an emergency call centre): working time equals elapsed
    time, Lebaran and cuti bersama included.

    Args:
        tz: the IANA zone whose midnights end working days.
        name: the label (part of the fingerprint).
        counting: the counting convention for working days.
        closures: dates on which the service is nevertheless closed.

    Returns:
        The calendar.

    Raises:
        CalendarError: an unknown zone.
    """
    return WorkCalendar(
        name=name,
        timezone=tz,
        hours=ALWAYS_HOURS,
        closures=tuple(closures),
        counting=counting,
        observe_holidays=False,
    )


def named_calendar(
    name: str | None, calendars: Mapping[str, WorkCalendar], default: WorkCalendar
) -> WorkCalendar:
    """Return the calendar a clock names, for previews and reports.

    Args:
        name: the clock's ``calendar`` (``None``: the default).
        calendars: the calendars given, by name.
        default: the calendar for clocks that name none, or a name not given.

    Returns:
        The named calendar; for ``round-the-clock`` when not given, the built-in
        `round_the_clock_calendar` in *default*'s zone; otherwise *default*.
    """
    found = calendars.get(name) if name is not None else None
    if found is None and name == ROUND_THE_CLOCK:
        found = round_the_clock_calendar(default.timezone)
    return found or default


def calendar_from_config(
    mapping: Mapping[str, Any],
    *,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> WorkCalendar:
    """Build a calendar from a configuration mapping (e.g. a loaded YAML document).

    The keys are documented in ``docs/calendar.md``; `WorkCalendar.to_config` writes
    the same shape.

    Args:
        mapping: the configuration.
        source: the file it came from, named in every problem.
        lines: key path -> line in that file, for problems.

    Returns:
        The calendar.

    Raises:
        CalendarError: the configuration is invalid; ``problems`` lists every problem,
            each rendered as ``KEY.PATH: what is wrong`` (``FILE:LINE: KEY.PATH: ...``
            with a source).
    """
    problems = Problems(source=source, lines=lines)
    config = read_calendar_config(mapping, problems)
    problems.check(CalendarError)
    try:
        return WorkCalendar(**config)
    except CalendarError as exc:
        # The cross-field checks of the calendar itself: located like the others.
        problems.absorb(exc)
        raise CalendarError(problems.items) from None


def _rebuild(cls: type[WorkCalendar], fields: dict[str, Any]) -> WorkCalendar:
    """Rebuild a pickled calendar from its definition (see `WorkCalendar.__reduce__`)."""
    return cls(**fields)
