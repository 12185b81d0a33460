"""Reading calendar definitions from configuration mappings (private).

The configuration is read through the shared readers of `pelayanan._config`: every
problem is collected and raised together as one `CalendarError` whose ``problems`` each
render as ``key.path: message``, e.g. ``hours.friday[0]: end before start``.  Cross-field
checks (overlapping special periods, a date both closed and worked) are made by
`WorkCalendar` itself, with the same key paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

from pelayanan._config import (
    Problems,
    read_bool,
    read_date,
    read_list,
    read_mapping,
    read_text,
    suggest,
)
from pelayanan.calendar._holidays import holiday_entries
from pelayanan.calendar._hours import ALWAYS_HOURS, DEFAULT_HOURS, RAMADAN_HOURS
from pelayanan.calendar._types import (
    WEEKDAYS,
    Closure,
    Counting,
    ExtraWorkingDay,
    HolidayOverride,
    SpecialPeriod,
    TimeRange,
    WeekHours,
    parse_day_hours,
)
from pelayanan.exceptions import CalendarError

__all__ = ["KEYS", "parse_calendar_config", "read_calendar_config"]

T = TypeVar("T")

KEYS = (
    "name",
    "timezone",
    "hours",
    "cuti_bersama_working",
    "closures",
    "extra_working_days",
    "special_periods",
    "holiday_overrides",
    "confirm_estimated",
    "strict",
    "counting",
    "holidays",
    "ramadan",
)


def _guard(problems: Problems, path: str, read: Callable[[], T]) -> T | None:
    """Run a calendar parser, recording its `CalendarError` as a problem at *path*."""
    try:
        return read()
    except CalendarError as exc:
        problems.absorb(exc, path)
        return None


def _day(value: object, path: str, problems: Problems) -> tuple[TimeRange, ...] | None:
    return _guard(problems, path, lambda: parse_day_hours(value, path=path))


def _week(value: object, path: str, base: WeekHours, problems: Problems) -> WeekHours | None:
    """Read a weekday -> ranges mapping; weekdays left out keep *base*."""
    if value == "ramadan":
        return RAMADAN_HOURS
    if value == "always":
        return ALWAYS_HOURS
    if isinstance(value, str):
        problems.add(path, f"expected a weekday mapping, 'always' or 'ramadan', got {value!r}")
        return None
    days = read_mapping(value, path, problems, known=WEEKDAYS)
    if days is None:
        return None
    week = list(base)
    for i, day in enumerate(WEEKDAYS):
        if day in days:
            ranges = _day(days[day], f"{path}.{day}", problems)
            # An empty list is a day off; None is a problem already recorded.
            week[i] = base[i] if ranges is None else ranges
    return tuple(week)


def _closure(item: object, path: str, problems: Problems) -> Closure | None:
    if not isinstance(item, Mapping):
        day = read_date(item, path, problems)
        return None if day is None else Closure(day)
    problems.unknown(item, ("date", "reason"), path)
    if "date" not in item:
        problems.add(path, "a closure needs a date")
        return None
    reason = read_text(item.get("reason", "agency closure"), f"{path}.reason", problems)
    day = read_date(item["date"], f"{path}.date", problems)
    return None if day is None or reason is None else Closure(day, reason)


def _extra(item: object, path: str, problems: Problems) -> ExtraWorkingDay | None:
    if not isinstance(item, Mapping):
        day = read_date(item, path, problems)
        return None if day is None else ExtraWorkingDay(day)
    problems.unknown(item, ("date", "hours", "reason"), path)
    if "date" not in item:
        problems.add(path, "an extra working day needs a date")
        return None
    hours: tuple[TimeRange, ...] | None = None
    if "hours" in item:
        where = f"{path}.hours"
        hours = _day(item["hours"], where, problems)
    reason = read_text(item.get("reason", ""), f"{path}.reason", problems)
    day = read_date(item["date"], f"{path}.date", problems)
    if day is None or reason is None or ("hours" in item and hours is None):
        return None
    return ExtraWorkingDay(day, hours, reason)


def _period(item: object, path: str, base: WeekHours, problems: Problems) -> SpecialPeriod | None:
    spec = read_mapping(item, path, problems)
    if spec is None:
        return None
    problems.unknown(spec, ("name", "start", "end", "hours"), path)
    missing = [key for key in ("name", "start", "end", "hours") if key not in spec]
    for key in missing:
        problems.add(path, f"a special period needs {key!r}")
    if missing:
        return None
    name = read_text(spec["name"], f"{path}.name", problems)
    start = read_date(spec["start"], f"{path}.start", problems)
    end = read_date(spec["end"], f"{path}.end", problems)
    if start is not None and end is not None and end < start:
        problems.add(f"{path}.end", f"{end} is before start {start}")
        end = None
    hours = _week(spec["hours"], f"{path}.hours", base, problems)
    if name is None or start is None or end is None or hours is None:
        return None
    return SpecialPeriod(name, start, end, hours)


def _package_name(day: dt.date) -> tuple[str, str] | None:
    for entry in holiday_entries(day.year):
        if entry.date == day:
            return entry.name, entry.category
    return None


def _moved(
    spec: Mapping[str, Any], day: dt.date, path: str, problems: Problems
) -> list[HolidayOverride]:
    if "to" not in spec:
        problems.add(path, "a moved holiday needs 'to' (the new date)")
        return []
    to = read_date(spec["to"], f"{path}.to", problems)
    known = _package_name(day)
    if known is None:
        problems.add(f"{path}.date", f"{day} is not a holiday in the holidays package")
        return []
    name = read_text(spec.get("name", known[0]), f"{path}.name", problems)
    if to is None or name is None:
        return []
    return [
        HolidayOverride(day, "remove"),
        HolidayOverride(to, "add", name, spec.get("category", known[1])),
    ]


def _overrides(item: object, path: str, problems: Problems) -> list[HolidayOverride]:
    spec = read_mapping(item, path, problems)
    if spec is None:
        return []
    problems.unknown(spec, ("date", "action", "name", "category", "to"), path)
    if "date" not in spec:
        problems.add(path, "an override needs a date")
        return []
    day = read_date(spec["date"], f"{path}.date", problems)
    action = spec.get("action", "add" if "name" in spec else None)
    category = spec.get("category", "public")
    if category not in ("public", "government"):
        message = f"expected 'public' or 'government', got {category!r}"
        problems.add(f"{path}.category", message)
    actions = ("add", "remove", "move")
    if action not in actions:
        message = f"expected 'add', 'remove' or 'move', got {action!r}"
        problems.add(f"{path}.action", message + suggest(str(action), actions))
    if day is None or category not in ("public", "government") or action not in actions:
        return []
    if action == "remove":
        return [HolidayOverride(day, "remove")]
    if action == "move":
        return _moved(spec, day, path, problems)
    return _added(spec, day, category, path, problems)


def _added(
    spec: Mapping[str, Any],
    day: dt.date,
    category: Literal["public", "government"],
    path: str,
    problems: Problems,
) -> list[HolidayOverride]:
    name = read_text(spec.get("name", ""), f"{path}.name", problems)
    if name == "":
        problems.add(f"{path}.name", "an added holiday needs a name")
    return [HolidayOverride(day, "add", name, category)] if name else []


def _items(config: Mapping[str, Any], key: str, problems: Problems) -> Iterator[tuple[object, str]]:
    """Yield each item of the list at *key* with its key path."""
    for i, item in enumerate(read_list(config[key], key, problems) or ()):
        yield item, f"{key}[{i}]"


def _counting(value: object, problems: Problems) -> Counting | None:
    try:
        return Counting(value)
    except ValueError:
        choices = [c.value for c in Counting]
        message = f"expected one of {', '.join(choices)}, got {value!r}"
        problems.add("counting", message + suggest(str(value), choices))
        return None


def _lists(config: Mapping[str, Any], hours: WeekHours, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    readers: dict[str, Callable[[object, str], Any]] = {
        "closures": lambda item, path: _closure(item, path, problems),
        "extra_working_days": lambda item, path: _extra(item, path, problems),
        "special_periods": lambda item, path: _period(item, path, hours, problems),
        "confirm_estimated": lambda item, path: read_date(item, path, problems),
    }
    for key, read in readers.items():
        if key in config:
            found = [read(item, path) for item, path in _items(config, key, problems)]
            out[key] = tuple(x for x in found if x is not None)
    if "holiday_overrides" in config:
        overrides: list[HolidayOverride] = []
        for item, path in _items(config, "holiday_overrides", problems):
            overrides.extend(_overrides(item, path, problems))
        out["holiday_overrides"] = tuple(overrides)
    return out


def read_calendar_config(mapping: object, problems: Problems) -> dict[str, Any]:
    """Return `WorkCalendar` keyword arguments read from a config mapping.

    Args:
        mapping: the configuration.
        problems: the collector every problem goes to.

    Returns:
        The keyword arguments (of what could be read; see *problems*).
    """
    config = read_mapping(mapping, "", problems)
    if config is None:
        return {}
    problems.unknown(config, KEYS)
    out: dict[str, Any] = {}
    for key in ("name", "timezone"):
        if key in config:
            out[key] = read_text(config[key], key, problems)
    hours = DEFAULT_HOURS
    if config.get("hours") == "ramadan":
        problems.add("hours", "Ramadan hours belong in special_periods")
    elif "hours" in config:
        hours = _week(config["hours"], "hours", DEFAULT_HOURS, problems) or DEFAULT_HOURS
        out["hours"] = hours
    for key in ("cuti_bersama_working", "strict"):
        if key in config:
            out[key] = read_bool(config[key], key, problems)
    out.update(_lists(config, hours, problems))
    if "counting" in config:
        out["counting"] = _counting(config["counting"], problems)
    if "holidays" in config:
        out["observe_holidays"] = _holidays(config["holidays"], problems)
    # Government office hours take Ramadan hours by default; a calendar with its own
    # hours (a round-the-clock line, a hospital shift) keeps them unless it asks.
    out["ramadan_default"] = _ramadan(config.get("ramadan"), "hours" not in config, problems)
    return out


def _switch(value: object, key: str, on: str, meaning: str, problems: Problems) -> bool | None:
    """Read a key that is *on* or ``none``: ``True``, ``False``, or ``None`` (a problem)."""
    if value in (on, "none"):
        return value == on
    problems.add(key, f"expected {on!r} ({meaning}) or 'none', got {value!r}")
    return None


def _ramadan(value: object, default: bool, problems: Problems) -> bool:
    """Read ``ramadan``: ``default`` (published dates, later years estimated) or ``none``."""
    if value is None:
        return default
    found = _switch(value, "ramadan", "default", "Ramadan hours on the published dates", problems)
    return default if found is None else found


def _holidays(value: object, problems: Problems) -> bool | None:
    """Read ``holidays``: ``package`` (the default) or ``none`` (ignore public holidays)."""
    return _switch(value, "holidays", "package", "public holidays and cuti bersama", problems)


def parse_calendar_config(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return `WorkCalendar` keyword arguments read from a config mapping.

    Raises:
        CalendarError: the configuration is invalid; ``problems`` lists every problem.
    """
    problems = Problems()
    out = read_calendar_config(mapping, problems)
    problems.check(CalendarError)
    return out
