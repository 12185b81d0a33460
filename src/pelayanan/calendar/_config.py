"""Reading calendar definitions from configuration mappings (private).

Every error is a `CalendarError` whose message starts with the key path of the problem,
e.g. ``hours.friday[0]: end before start``.  Cross-field checks (overlapping special
periods, a date both closed and worked) are made by `WorkCalendar` itself, with the same
key paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pelayanan.calendar._holidays import holiday_entries
from pelayanan.calendar._hours import DEFAULT_HOURS, RAMADAN_HOURS
from pelayanan.calendar._types import (
    WEEKDAYS,
    Closure,
    Counting,
    ExtraWorkingDay,
    HolidayOverride,
    SpecialPeriod,
    TimeRange,
    WeekHours,
    parse_date,
    parse_day_hours,
)
from pelayanan.exceptions import CalendarError

__all__ = ["KEYS", "parse_calendar_config"]

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
)


def _fail(path: str, message: str) -> CalendarError:
    return CalendarError(f"{path}: {message}")


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected a mapping, got {type(value).__name__}")
    return value


def _list(value: object, path: str) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(path, f"expected a list, got {type(value).__name__}")
    return value


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"expected text, got {value!r}")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"expected true or false, got {value!r}")
    return value


def _only(item: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in item:
        if key not in allowed:
            where = str(key) if path == "$" else f"{path}.{key}"
            raise _fail(where, f"unknown key; expected one of {', '.join(allowed)}")


def _week(value: object, path: str, base: WeekHours) -> WeekHours:
    """Parse a weekday -> ranges mapping; weekdays left out keep *base*."""
    if value == "ramadan":
        return RAMADAN_HOURS
    if isinstance(value, str):
        raise _fail(path, f"expected a weekday mapping or 'ramadan', got {value!r}")
    days = _mapping(value, path)
    _only(days, WEEKDAYS, path)
    return tuple(
        parse_day_hours(days[day], path=f"{path}.{day}") if day in days else base[i]
        for i, day in enumerate(WEEKDAYS)
    )


def _closure(item: object, path: str) -> Closure:
    if not isinstance(item, Mapping):
        return Closure(parse_date(item, path=path))
    _only(item, ("date", "reason"), path)
    if "date" not in item:
        raise _fail(path, "a closure needs a date")
    reason = _text(item.get("reason", "agency closure"), f"{path}.reason")
    return Closure(parse_date(item["date"], path=f"{path}.date"), reason)


def _extra(item: object, path: str) -> ExtraWorkingDay:
    if not isinstance(item, Mapping):
        return ExtraWorkingDay(parse_date(item, path=path))
    _only(item, ("date", "hours", "reason"), path)
    if "date" not in item:
        raise _fail(path, "an extra working day needs a date")
    hours: tuple[TimeRange, ...] | None = None
    if "hours" in item:
        hours = parse_day_hours(item["hours"], path=f"{path}.hours")
    reason = _text(item.get("reason", ""), f"{path}.reason")
    return ExtraWorkingDay(parse_date(item["date"], path=f"{path}.date"), hours, reason)


def _period(item: object, path: str, base: WeekHours) -> SpecialPeriod:
    item = _mapping(item, path)
    _only(item, ("name", "start", "end", "hours"), path)
    for key in ("name", "start", "end", "hours"):
        if key not in item:
            raise _fail(path, f"a special period needs {key!r}")
    name = _text(item["name"], f"{path}.name")
    start = parse_date(item["start"], path=f"{path}.start")
    end = parse_date(item["end"], path=f"{path}.end")
    if end < start:
        raise _fail(f"{path}.end", f"{end} is before start {start}")
    return SpecialPeriod(name, start, end, _week(item["hours"], f"{path}.hours", base))


def _package_name(day: dt.date) -> tuple[str, str] | None:
    for entry in holiday_entries(day.year):
        if entry.date == day:
            return entry.name, entry.category
    return None


def _overrides(item: object, path: str) -> list[HolidayOverride]:
    item = _mapping(item, path)
    _only(item, ("date", "action", "name", "category", "to"), path)
    if "date" not in item:
        raise _fail(path, "an override needs a date")
    day = parse_date(item["date"], path=f"{path}.date")
    action = item.get("action", "add" if "name" in item else None)
    category = item.get("category", "public")
    if category not in ("public", "government"):
        raise _fail(f"{path}.category", f"expected 'public' or 'government', got {category!r}")
    if action == "remove":
        return [HolidayOverride(day, "remove")]
    if action == "add":
        name = _text(item.get("name", ""), f"{path}.name")
        if not name:
            raise _fail(f"{path}.name", "an added holiday needs a name")
        return [HolidayOverride(day, "add", name, category)]
    if action == "move":
        if "to" not in item:
            raise _fail(path, "a moved holiday needs 'to' (the new date)")
        to = parse_date(item["to"], path=f"{path}.to")
        known = _package_name(day)
        if known is None:
            raise _fail(f"{path}.date", f"{day} is not a holiday in the holidays package")
        name = _text(item.get("name", known[0]), f"{path}.name")
        return [
            HolidayOverride(day, "remove"),
            HolidayOverride(to, "add", name, item.get("category", known[1])),
        ]
    raise _fail(f"{path}.action", f"expected 'add', 'remove' or 'move', got {action!r}")


def parse_calendar_config(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return `WorkCalendar` keyword arguments read from a config mapping.

    Raises:
        CalendarError: the first problem found, prefixed with its key path.
    """
    config = _mapping(mapping, "$")
    _only(config, KEYS, "$")
    out: dict[str, Any] = {}
    if "name" in config:
        out["name"] = _text(config["name"], "name")
    if "timezone" in config:
        out["timezone"] = _text(config["timezone"], "timezone")
    hours = DEFAULT_HOURS
    if "hours" in config:
        if config["hours"] == "ramadan":
            raise _fail("hours", "Ramadan hours belong in special_periods")
        hours = _week(config["hours"], "hours", DEFAULT_HOURS)
        out["hours"] = hours
    for key in ("cuti_bersama_working", "strict"):
        if key in config:
            out[key] = _bool(config[key], key)
    if "closures" in config:
        out["closures"] = tuple(
            _closure(item, f"closures[{i}]")
            for i, item in enumerate(_list(config["closures"], "closures"))
        )
    if "extra_working_days" in config:
        out["extra_working_days"] = tuple(
            _extra(item, f"extra_working_days[{i}]")
            for i, item in enumerate(_list(config["extra_working_days"], "extra_working_days"))
        )
    if "special_periods" in config:
        out["special_periods"] = tuple(
            _period(item, f"special_periods[{i}]", hours)
            for i, item in enumerate(_list(config["special_periods"], "special_periods"))
        )
    if "holiday_overrides" in config:
        overrides: list[HolidayOverride] = []
        for i, item in enumerate(_list(config["holiday_overrides"], "holiday_overrides")):
            overrides.extend(_overrides(item, f"holiday_overrides[{i}]"))
        out["holiday_overrides"] = tuple(overrides)
    if "confirm_estimated" in config:
        out["confirm_estimated"] = tuple(
            parse_date(item, path=f"confirm_estimated[{i}]")
            for i, item in enumerate(_list(config["confirm_estimated"], "confirm_estimated"))
        )
    if "counting" in config:
        try:
            out["counting"] = Counting(config["counting"])
        except ValueError:
            choices = ", ".join(c.value for c in Counting)
            raise _fail(
                "counting", f"expected one of {choices}, got {config['counting']!r}"
            ) from None
    return out
