"""The officer directory a host passes to the readable reports: NIP to name and unit.

The log records officers by NIP only; names are personal data that change (marriage,
transfer) and never enter the log.  A head of unit still wants to read names, so the host
may pass a directory file (``--directory FILE``, YAML, JSON or TOML) when it renders a
report::

    officers:
      "199001052015031002": {name: Siti Rahmawati, unit: dinas-lh}
      "197504081998031004": {name: Bambang Sutrisno}
    units:                                # optional: unit id -> name
      dinas-lh: Dinas Lingkungan Hidup

The file is read as hostile input: NIPs are 18 digits, names and unit names printable
text of bounded length (no control or direction-changing characters), a bounded number of
entries and a bounded file size.  Every problem is reported at once, ``FILE:LINE:
key.path: message`` (`DirectoryError`), through the shared configuration reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from pelayanan._config import Problems, read_config_file, read_mapping
from pelayanan.exceptions import DirectoryError, Problem

__all__ = ["Directory", "Officer", "directory_from_mapping", "load_directory"]

_NIP = re.compile(r"^[0-9]{18}$")
_UNIT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Bounds on what a directory may hold.
MAX_ENTRIES: Final = 100_000
MAX_TEXT: Final = 120
MAX_BYTES: Final = 20_000_000


@attrs.frozen
class Officer:
    """One officer of the directory.

    Attributes:
        name: the name to show.
        unit: the unit id, if given.
    """

    name: str
    unit: str | None = None


@attrs.frozen
class Directory:
    """NIP -> officer, and unit id -> unit name.

    Attributes:
        officers: the officers by NIP.
        units: the unit names by unit id.
    """

    officers: Mapping[str, Officer] = attrs.field(factory=dict)
    units: Mapping[str, str] = attrs.field(factory=dict)


def _text(value: object, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "write the name as non-empty text")
        return None
    if len(value) > MAX_TEXT or not value.isprintable():
        problems.add(
            path, f"write printable text of at most {MAX_TEXT} characters (no control characters)"
        )
        return None
    return value.strip()


def _unit(value: object, path: str, problems: Problems) -> str | None:
    if isinstance(value, str) and _UNIT.match(value):
        return value
    problems.add(path, "a unit id is lower-case letters, digits, '.', '_' or '-' (like dinas-lh)")
    return None


def _nip(key: object, path: str, problems: Problems) -> str | None:
    # An unquoted NIP is read by YAML as an integer: take it back as its digits.
    text = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
    if isinstance(text, str) and _NIP.match(text):
        return text
    problems.add(path, "an officer is keyed by an 18-digit NIP (quote it in YAML)")
    return None


def _officers(value: object, problems: Problems) -> dict[str, Officer]:
    found: dict[str, Officer] = {}
    section = read_mapping(value, "officers", problems) or {}
    if len(section) > MAX_ENTRIES:
        problems.add(
            "officers", f"{len(section)} officers; a directory holds at most {MAX_ENTRIES}"
        )
        return found
    for key, raw in section.items():
        path = f"officers.{key}"
        nip = _nip(key, path, problems)
        spec = read_mapping(raw, path, problems)
        if nip is None or spec is None:
            continue
        problems.unknown(spec, ("name", "unit"), path)
        name = _text(spec.get("name"), f"{path}.name", problems)
        unit = _unit(spec["unit"], f"{path}.unit", problems) if "unit" in spec else None
        if name is not None:
            found[nip] = Officer(name, unit)
    return found


def directory_from_mapping(
    mapping: Mapping[str, Any],
    *,
    source: str | None = None,
    lines: Mapping[str, int] | None = None,
) -> Directory:
    """Build a directory from ``{"officers": {NIP: {name, unit}}, "units": {id: name}}``.

    Args:
        mapping: the parsed document.
        source: the file it came from, named in every problem.
        lines: key path -> line in that file, for problems.

    Returns:
        The directory.

    Raises:
        DirectoryError: every problem found, each with its key path.
    """
    problems = Problems(source=source, lines=lines)
    spec = read_mapping(mapping, "", problems) or {}
    problems.unknown(spec, ("officers", "units"))
    officers = _officers(spec.get("officers", {}), problems)
    units: dict[str, str] = {}
    raw_units = read_mapping(spec.get("units", {}), "units", problems) or {}
    if len(raw_units) > MAX_ENTRIES:
        problems.add("units", f"{len(raw_units)} units; a directory holds at most {MAX_ENTRIES}")
        raw_units = {}
    for key, raw in raw_units.items():
        unit = _unit(key, f"units.{key}", problems)
        name = _text(raw, f"units.{key}", problems)
        if unit is not None and name is not None:
            units[unit] = name
    problems.check(DirectoryError)
    return Directory(officers, units)


def load_directory(path: str | Path) -> Directory:
    """Read a directory file (YAML, JSON or TOML by its suffix).

    Args:
        path: the file.

    Returns:
        The directory.

    Raises:
        DirectoryError: the file is too large, cannot be read or parsed, or holds an
            invalid entry; every problem is ``FILE:LINE: key.path: message``.
    """
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise DirectoryError(
            [Problem("", f"cannot read file: {exc.strerror}", str(path))]
        ) from None
    if size > MAX_BYTES:
        message = f"the file has {size} bytes; a directory file holds at most {MAX_BYTES}"
        raise DirectoryError([Problem("", message, str(path))])
    document, lines = read_config_file(path, error=DirectoryError)
    return directory_from_mapping(document, source=str(path), lines=lines)
