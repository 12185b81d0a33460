"""Indonesian holiday data from the ``holidays`` package (private).

National holidays are the package's ``public`` category; cuti bersama (collective leave
set each year by the joint decree (SKB) of three ministers) are its ``government``
category, named "... Joint Holiday".  Dates the package has only computed, not seen in a
decree (Islamic and lunar dates of future years), carry its estimated label, e.g.
``"Eid al-Fitr (estimated)"``.  The package exposes no per-date flag, so the label is
read back through the package's own ``estimated_label`` format rather than a hard-coded
suffix; names are pinned to ``en_US`` so they (and calendar fingerprints) do not depend
on the process locale.

Only the package's Indonesia module is loaded: importing ``holidays.countries.indonesia``
the usual way first runs ``holidays.countries``, which imports all of the package's ~250
countries (about 65 ms of the 215 ms of CPU time a ``pelayanan calendar deadline`` run
took; `benchmarks/bench_cli.py` times the command).  `_indonesia`
loads that one module from its file with the standard `importlib.util` machinery (its
own imports never touch ``holidays.countries``); the class, its rules and its translations
are the package's, so the holidays are the same (pinned by an equivalence test).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import sys
from pathlib import Path
from typing import Literal

import attrs
import holidays
from holidays.holiday_base import HolidayBase
from holidays.version import __version__ as _package_version

__all__ = ["HOLIDAYS_VERSION", "HolidayEntry", "holiday_entries", "source_label"]

#: The package's release, as it reports it (``holidays.__version__``, the distribution's
#: version, pinned equal by a test).
HOLIDAYS_VERSION: str = _package_version
_LANGUAGE = "en_US"


@attrs.frozen
class HolidayEntry:
    """One holiday date as the package reports it.

    Attributes:
        date: the date.
        name: the name(s), joined with ``"; "`` when several fall on one date.
        category: ``"public"`` (national holiday) or ``"government"`` (cuti bersama).
        estimated: every name on the date is an estimate (a date that also carries a
            fixed holiday is certain to be off whatever the estimate says).
    """

    date: dt.date
    name: str
    category: Literal["public", "government"]
    estimated: bool


def source_label(category: str) -> str:
    """Return the `NonWorkingDay.source` text for a holidays-package category."""
    what = "public" if category == "public" else "government/cuti bersama"
    return f"holidays package v{HOLIDAYS_VERSION} ({what})"


def _is_marked(name: str, label_format: str) -> bool:
    """Return whether *name* was produced by a ``"... %s ..."`` label format."""
    prefix, _, suffix = label_format.partition("%s")
    return (
        len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix)
    )


#: The name the Indonesia module is loaded under when `_indonesia` loads it itself.
_MODULE = "pelayanan.calendar._holidays_indonesia"


@functools.lru_cache(maxsize=1)
def _indonesia() -> type[HolidayBase]:
    """Return the holidays package's ``Indonesia`` class, loading only its module.

    When a host application has already imported ``holidays.countries``, its class is
    used; otherwise the module file ``holidays/countries/indonesia.py`` is executed
    under a private module name.
    """
    loaded = sys.modules.get("holidays.countries.indonesia")
    if loaded is None:
        path = Path(holidays.__file__).parent / "countries" / "indonesia.py"
        spec = importlib.util.spec_from_file_location(_MODULE, path)
        if spec is None or spec.loader is None:  # pragma: no cover - the package is broken
            msg = f"cannot load the holidays package's Indonesia module from {path}"
            raise ImportError(msg)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE] = loaded
        spec.loader.exec_module(loaded)
    cls: type[HolidayBase] = loaded.Indonesia
    return cls


@functools.lru_cache(maxsize=512)
def holiday_entries(year: int) -> tuple[HolidayEntry, ...]:
    """Return the Indonesian holidays and cuti bersama of *year*, sorted by date.

    A date in both categories is reported once, as ``public``.
    """
    found: dict[dt.date, HolidayEntry] = {}
    for category in ("public", "government"):
        # What ``holidays.country_holidays("ID", ...)`` builds, without the registry.
        data = _indonesia()(categories=(category,), years=year, language=_LANGUAGE)
        labels = (data.tr(data.estimated_label), data.tr(data.observed_estimated_label))
        for day in sorted(data):
            if day in found:
                continue
            names = data.get_list(day)
            estimated = all(any(_is_marked(n, lab) for lab in labels) for n in names)
            found[day] = HolidayEntry(day, "; ".join(names), category, estimated)
    return tuple(found[d] for d in sorted(found))
