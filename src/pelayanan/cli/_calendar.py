"""``pelayanan calendar``: deadlines and non-working days on the government calendar.

Bad input exits with status 2 and one ``error: ...`` line on stderr (never a traceback);
options are read as text and checked here, so each mistake gets its own hint.  This
module imports nothing from `pelayanan.cli._common` (keys, stores): a deadline needs
only the calendar.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import NoReturn

import click

from pelayanan.calendar import (
    INDONESIAN_TIMEZONES,
    Duration,
    WorkCalendar,
    indonesian_government_calendar,
)
from pelayanan.cli._main import EXIT_BAD_INPUT, error_line, example
from pelayanan.exceptions import CalendarError, EstimatedDateWarning

__all__ = ["calendar_group"]

_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not locale-dependent


def _fail(message: str) -> NoReturn:
    """Print one error line to stderr and exit with status 2."""
    click.echo(error_line(message), err=True)
    raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _calendar(tz: str, cuti_bersama_as_working: bool, *, ramadan: bool = True) -> WorkCalendar:
    try:
        return indonesian_government_calendar(
            tz,
            cuti_bersama_working=cuti_bersama_as_working,
            ramadan="default" if ramadan else "none",
        )
    except CalendarError as exc:
        _fail(str(exc))


def _parse_start(text: str | None, cal: WorkCalendar) -> dt.datetime:
    if text is None:
        _fail("--start is required (ISO 8601, e.g. 2026-07-07T10:00:00+07:00)")
    try:
        start = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--start {text!r} is not an ISO 8601 date-time (e.g. 2026-07-07T10:00:00+07:00)")
    if start.tzinfo is None:
        # A start without an offset is wall time in the calendar's zone.
        start = start.replace(tzinfo=cal.zone)
    return start


def _parse_duration(
    working_days: str | None, calendar_days: str | None, working_hours: str | None
) -> Duration:
    given = [
        (flag, unit, value)
        for flag, unit, value in (
            ("--working-days", "working_days", working_days),
            ("--calendar-days", "calendar_days", calendar_days),
            ("--working-hours", "working_hours", working_hours),
        )
        if value is not None
    ]
    if len(given) != 1:
        _fail("give exactly one of --working-days, --calendar-days, --working-hours")
    flag, unit, value = given[0]
    value = str(value)
    try:
        amount: int | float = float(value) if unit == "working_hours" else int(value)
    except ValueError:
        kind = "a number" if unit == "working_hours" else "a whole number"
        _fail(f"{flag} must be {kind}, got {value!r}")
    try:
        return Duration.from_config({unit: amount})
    except CalendarError as exc:
        _fail(f"{flag}: {exc}")


def _describe(cal: WorkCalendar) -> str:
    zone = INDONESIAN_TIMEZONES.get(cal.timezone, "")
    cuti = "working" if cal.cuti_bersama_working else "non-working"
    ramadan = "" if cal.ramadan_default else ", no Ramadan hours"
    return (
        f"calendar: Indonesian government, {cal.timezone}{f' ({zone})' if zone else ''}, "
        f"cuti bersama {cuti}{ramadan}"
    )


@click.group(
    name="calendar",
    epilog=example("pelayanan calendar deadline --start 2026-07-07T10:00+07:00 --working-days 5"),
)
def calendar_group() -> None:
    """Working calendars: deadlines and non-working days."""


@calendar_group.command(
    epilog=example("pelayanan calendar deadline --start 2026-07-07T10:00+07:00 --working-days 5")
)
@click.option("--start", "start_text", metavar="ISO8601", help="When the clock starts.")
@click.option("--working-days", metavar="N", help="Working days to add.")
@click.option("--calendar-days", metavar="N", help="Calendar days to add.")
@click.option("--working-hours", metavar="N", help="Working hours to add (decimals allowed).")
@click.option("--tz", default="Asia/Jakarta", show_default=True, help="IANA time zone.")
@click.option("--cuti-bersama-as-working", is_flag=True, help="Count cuti bersama as working.")
@click.option(
    "--no-ramadan-hours",
    is_flag=True,
    help="Use the regular hours during Ramadan (by default the published Ramadan hours apply).",
)
def deadline(
    *,
    start_text: str | None,
    working_days: str | None,
    calendar_days: str | None,
    working_hours: str | None,
    tz: str,
    cuti_bersama_as_working: bool,
    no_ramadan_hours: bool,
) -> None:
    """Print the deadline (ISO 8601 with offset, first line) on the government calendar.

    A start without an offset is read as wall time in the calendar's zone.
    """
    cal = _calendar(tz, cuti_bersama_as_working, ramadan=not no_ramadan_hours)
    start = _parse_start(start_text, cal)
    duration = _parse_duration(working_days, calendar_days, working_hours)
    try:
        with warnings.catch_warnings():
            # The estimated dates are reported below, in words, instead.
            warnings.simplefilter("ignore", EstimatedDateWarning)
            result = cal.add(start, duration)
    except CalendarError as exc:
        _fail(str(exc))
    click.echo(result.at.isoformat())
    click.echo(f"{duration} from {result.start.isoformat()}; {_describe(cal)}")
    if result.estimated_dates:
        names = {d.date: d.name for d in cal.non_working_days(result.at.year)}
        names.update({d.date: d.name for d in cal.non_working_days(result.start.year)})
        for day in result.estimated_dates:
            click.echo(f"estimated: {day.isoformat()} {names.get(day, '')} is not yet confirmed")
    click.echo(f"fingerprint: {result.calendar_fingerprint}")


@calendar_group.command(epilog=example("pelayanan calendar show 2026 --tz Asia/Makassar"))
@click.argument("year_text", metavar="YEAR")
@click.option("--tz", default="Asia/Jakarta", show_default=True, help="IANA time zone.")
@click.option("--cuti-bersama-as-working", is_flag=True, help="Count cuti bersama as working.")
@click.option("--weekends", is_flag=True, help="Also list days off because of the weekday.")
def show(*, year_text: str, tz: str, cuti_bersama_as_working: bool, weekends: bool) -> None:
    """List the non-working days of YEAR with name and source (weekends only on request)."""
    cal = _calendar(tz, cuti_bersama_as_working)
    try:
        year = int(year_text)
        days = cal.non_working_days(year, weekends=weekends)
    except ValueError as exc:
        detail = str(exc) if isinstance(exc, CalendarError) else f"not a year: {year_text!r}"
        _fail(detail)
    for day in days:
        mark = " (estimated)" if day.estimated and "(estimated)" not in day.name else ""
        weekday = _DAY_ABBR[day.date.weekday()]
        click.echo(f"{day.date.isoformat()} {weekday}  {day.name}{mark}  [{day.source}]")
