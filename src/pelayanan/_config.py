"""The one way pelayanan reads configuration: a problems collector and shared readers.

Every configuration loader (SOP files, SLA clocks, routing, access and delegations,
calendars, quality weights) reads its document through these readers into one
`Problems` collector, then raises a `ConfigurationError` (or the loader's subclass)
carrying every problem found, not only the first.  A problem carries its key path
(``rules[2].unit``) and, when the document came from a file, the file and the line
(through a key path -> line map such as `pelayanan.sop._positions` builds), so every
loader's problems render the same way: ``FILE:LINE: key.path: message`` for a file,
``key.path: message`` for a plain mapping.

Each reader takes the raw value, its key path and the collector; it returns the value
read, or ``None`` after adding a problem, so a loader carries on and finds the rest.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pelayanan.exceptions import ConfigurationError, Problem

_T = TypeVar("_T")

if TYPE_CHECKING:
    import yaml

    from pelayanan.calendar import Duration

__all__ = [
    "NAME_PATTERN",
    "Problems",
    "join",
    "parse_document",
    "read_bool",
    "read_config_file",
    "read_date",
    "read_decimal",
    "read_duration",
    "read_instant",
    "read_list",
    "read_mapping",
    "read_name",
    "read_names",
    "read_percent",
    "read_text",
    "suggest",
]

#: The identifier rule of names in configuration (states, actions, clocks, roles...).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")
_LAST_STEP = re.compile(r"(\.[^.\[]*|\[\d+\])$")
_KEY_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+|\[\d+\])*$")


def join(path: str, key: object) -> str:
    """Return the key path of *key* under *path* (``a.b``; ``b`` at the top)."""
    return f"{path}.{key}" if path else str(key)


def suggest(key: str, known: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the known name closest to *key*, or ``""``."""
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Problems:
    """Collect the problems of one configuration document.

    Args:
        source: the file the document came from (named in every problem), if any.
        lines: key path -> 1-based line, for placing problems in the file; a path with
            no line of its own takes the line of its nearest enclosing key.
        prefix: a key path prepended to every path added (a section read on its own).
    """

    def __init__(
        self,
        *,
        source: str | None = None,
        lines: Mapping[str, int] | None = None,
        prefix: str = "",
    ) -> None:
        self.source = source
        self.lines: Mapping[str, int] = lines or {}
        self.prefix = prefix
        self.items: list[Problem] = []

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def line_of(self, path: str) -> int | None:
        """Return the line of *path*, or of its nearest enclosing key, when known."""
        line = self.lines.get(path)
        parent = path
        while line is None and parent:
            shorter = _LAST_STEP.sub("", parent)
            parent = "" if shorter == parent else shorter
            line = self.lines.get(parent)
        return line

    def add(self, path: str, message: str) -> None:
        """Record that the value at *path* is wrong, and *message* says how to fix it."""
        full = join(self.prefix, path) if path else self.prefix
        self.items.append(Problem(full, message, self.source, self.line_of(full)))

    def absorb(self, error: ConfigurationError, path: str = "") -> None:
        """Record the problems of *error*, raised while reading the value at *path*.

        A problem with a key path is taken as relative to *path* (a sub-document); one
        whose message starts with a key path under *path* (``hours.friday: ...``, the
        form of calendar messages) takes that path.
        """
        for problem in error.problems:
            where, message = problem.path, problem.message
            head, sep, rest = message.partition(": ")
            if where:
                # A problem of a sub-document: its path is relative to *path*.
                where = join(path, where) if path else where
            elif sep and head.startswith(path) and _KEY_PATH.match(head):
                where, message = head, rest
            else:
                where = path
            self.add(where, message)

    def unknown(self, mapping: Mapping[Any, Any], known: Sequence[str], path: str = "") -> None:
        """Record every key of *mapping* not in *known*, with a "did you mean" hint."""
        for key in mapping:
            if key not in known:
                self.add(
                    join(path, key),
                    f"unknown key {key!r}{suggest(str(key), known)} (known: {', '.join(known)})",
                )

    def check(self, error: type[ConfigurationError] = ConfigurationError) -> None:
        """Raise *error* with every problem collected, if there is any.

        Raises:
            ConfigurationError: one or more problems were collected (as *error*).
        """
        if self.items:
            raise error(self.items)


def _parse(text: str, suffix: str) -> tuple[Any, dict[str, int], list[tuple[str, str]]]:
    # Imported here: `pelayanan.sop` reads its files through this module.
    from pelayanan.sop._positions import json_lines, parse_yaml, toml_lines  # noqa: PLC0415

    if suffix in {".yaml", ".yml"}:
        return parse_yaml(text)
    if suffix == ".toml":
        return tomllib.loads(text), toml_lines(text), []
    return json.loads(text), json_lines(text), []


def _yaml_message(exc: yaml.YAMLError, text: str) -> str:
    """Return one line saying what is wrong with the YAML and what to do about it."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return f"invalid YAML: {' '.join(str(exc).split())}"
    if 0 <= mark.index < len(text) and text[mark.index] == "\t":
        return "invalid YAML: a tab character here; indent with spaces, not tabs"
    context = getattr(exc, "context", None)
    what = f"{context}: {problem}" if context else problem
    return (
        f"invalid YAML: {' '.join(what.split())} (column {mark.column + 1}); check the "
        "indentation, quotes and brackets on this line and the lines before it"
    )


def _read_utf8(file: Path, source: str, error: type[ConfigurationError]) -> str:
    """Return the file's text, or raise one located problem when it is not UTF-8."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise error([Problem("", f"cannot read file: {exc}", source)]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} at column {column}); "
            "save the file as UTF-8"
        )
        raise error([Problem("", message, source, line)]) from None


def parse_document(
    text: str,
    *,
    suffix: str,
    source: str,
    error: type[ConfigurationError] = ConfigurationError,
) -> tuple[Any, dict[str, int]]:
    """Parse *text* as YAML, TOML or JSON by *suffix*; return the data and key path lines.

    Args:
        text: the document.
        suffix: ``.yaml``, ``.yml``, ``.toml`` or ``.json``.
        source: the file name, for problems.
        error: the `ConfigurationError` subclass to raise.

    Returns:
        The parsed data and key path -> line.

    Raises:
        ConfigurationError: the text does not parse (duplicate YAML keys included), or
            the suffix is unknown; raised as *error*.
    """
    import yaml  # noqa: PLC0415  (commands that read no configuration never load it)

    problems = Problems(source=source)
    if suffix not in {".yaml", ".yml", ".toml", ".json"}:
        problems.add("", f"unknown file type {suffix!r}: use .yaml, .yml, .toml or .json")
        problems.check(error)
    try:
        data, lines, duplicates = _parse(text, suffix)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise error([Problem("", _yaml_message(exc, text), source, line)]) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise error([Problem("", f"invalid TOML: {exc}", source, line)]) from None
    except json.JSONDecodeError as exc:
        raise error([Problem("", f"invalid JSON: {exc.msg}", source, exc.lineno)]) from None
    except (RecursionError, MemoryError):
        raise error([Problem("", "the document is nested too deeply", source)]) from None
    except ValueError as exc:  # e.g. YAML timestamps out of range, bad unicode escapes
        raise error([Problem("", f"cannot parse: {exc}", source)]) from None
    problems = Problems(source=source, lines=lines)
    for path, message in duplicates:
        problems.add(path, message)
    problems.check(error)
    return data, lines


def read_config_file(
    path: str | Path,
    *,
    suffix: str | None = None,
    error: type[ConfigurationError] = ConfigurationError,
) -> tuple[Any, dict[str, int]]:
    """Read and parse a configuration file; return the data and key path lines.

    Args:
        path: the file.
        suffix: the format to read it as; by default the file's own suffix.
        error: the `ConfigurationError` subclass to raise.

    Returns:
        The parsed data and key path -> line.

    Raises:
        ConfigurationError: the file cannot be read or parsed; raised as *error*.
    """
    file = Path(path)
    text = _read_utf8(file, str(path), error)
    return parse_document(text, suffix=suffix or file.suffix.lower(), source=str(path), error=error)


def read_mapping(
    value: object, path: str, problems: Problems, *, known: Sequence[str] | None = None
) -> Mapping[Any, Any] | None:
    """Return *value* if it is a mapping, else record a problem.

    Args:
        value: the value read.
        path: its key path.
        problems: where problems go.
        known: the keys the mapping may hold; any other is recorded (`Problems.unknown`).

    Returns:
        The mapping, or ``None`` when *value* is not one.
    """
    if isinstance(value, Mapping):
        if known is not None:
            problems.unknown(value, known, path)
        return value
    problems.add(path, f"expected a mapping, got {_kind(value)}")
    return None


def read_list(value: object, path: str, problems: Problems) -> Sequence[Any] | None:
    """Return *value* if it is a list, else record a problem."""
    if isinstance(value, list | tuple):
        return value
    problems.add(path, f"expected a list, got {_kind(value)}")
    return None


def read_each(
    value: object,
    path: str,
    problems: Problems,
    read_item: Callable[[Any, str, Problems], _T | None],
) -> list[_T]:
    """Return what *read_item* makes of each item of the list *value*, skipping failures.

    Args:
        value: the list.
        path: its key path; item *i* is read at ``path[i]``.
        problems: where problems go (*read_item* records its own).
        read_item: reads one item, returning ``None`` for one it could not read.

    Returns:
        The items read, in order.
    """
    items = read_list(value, path, problems) or ()
    made = (read_item(item, f"{path}[{i}]", problems) for i, item in enumerate(items))
    return [item for item in made if item is not None]


def read_text(
    value: object, path: str, problems: Problems, *, required: bool = False
) -> str | None:
    """Return *value* if it is text (non-blank when *required*), else record a problem."""
    if not isinstance(value, str):
        problems.add(path, f"expected text, got {value!r}")
        return None
    if required and not value.strip():
        problems.add(path, "must not be empty")
        return None
    return value


def read_bool(value: object, path: str, problems: Problems) -> bool | None:
    """Return *value* if it is ``true`` or ``false``, else record a problem."""
    if isinstance(value, bool):
        return value
    problems.add(path, f"expected true or false, got {value!r}")
    return None


def read_name(value: object, path: str, problems: Problems, *, what: str = "name") -> str | None:
    """Return *value* if it is a name (lower-case letters, digits and ``_``), else record it."""
    if isinstance(value, str) and NAME_PATTERN.match(value):
        return value
    problems.add(
        path,
        f"{value!r} is not a valid {what}: use lower-case letters, digits and _ (like 'verify')",
    )
    return None


def read_names(value: object, path: str, problems: Problems) -> tuple[str, ...] | None:
    """Return one name or a list of names (non-empty text) as a tuple, else record it."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list | tuple) and all(isinstance(v, str) and v for v in items):
        return tuple(items)
    problems.add(path, "expected a name or a list of names")
    return None


def read_duration(value: object, path: str, problems: Problems) -> Duration | None:
    """Return a `Duration` read as `Duration.from_config` reads it, else record a problem."""
    # Imported here: the calendar package reads its own configuration through this module.
    from pelayanan.calendar import Duration  # noqa: PLC0415

    try:
        return Duration.from_config(value, path=path)
    except ConfigurationError as exc:
        problems.absorb(exc, path)
    except (TypeError, ValueError, OverflowError):
        problems.add(path, "must be a duration such as {working_days: 3}")
    return None


def read_percent(
    value: object, path: str, problems: Problems, *, low: int = 1, high: int | None = None
) -> int | None:
    """Return a whole percentage written ``'150%'`` or ``{percent: 150}``, else record it."""
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if match is not None:
        number: object = int(match.group(1))
    elif isinstance(value, Mapping) and "percent" in value:
        number = value["percent"]
    else:
        number = value
    if type(number) is not int or number < low or (high is not None and number > high):
        upper = f" to {high}" if high is not None else ""
        problems.add(path, f"a percentage must be a whole number from {low}{upper}, got {value!r}")
        return None
    return number


def read_decimal(value: object, path: str, problems: Problems) -> Decimal | None:
    """Return an exact decimal written as a string or an integer, else record a problem."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.add(path, 'write it as a decimal string, e.g. "0.5"')
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problems.add(path, f"is not a decimal: {value!r}")
        return None


def read_date(value: object, path: str, problems: Problems) -> dt.date | None:
    """Return a calendar date (a `datetime.date` or ``YYYY-MM-DD``), else record a problem."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, dt.datetime):
        problems.add(path, f"expected a date, got the datetime {value.isoformat()}")
    else:
        problems.add(path, f"expected a date YYYY-MM-DD, got {value!r}")
    return None


def read_instant(value: object, path: str, problems: Problems) -> dt.datetime | None:
    """Return an aware instant (ISO 8601 text with an offset), else record a problem."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            problems.add(path, f"{value!r} is not an ISO 8601 date-time")
            return None
    else:
        problems.add(path, "must be an ISO 8601 date-time with an offset")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        problems.add(path, "needs a UTC offset, e.g. 2026-07-06T00:00:00+07:00")
        return None
    return parsed


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
