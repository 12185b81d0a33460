"""Ramadan dates applied by default: published years, and estimates for later years.

Ramadan hours (`RAMADAN_HOURS`, MenPANRB circulars, e.g. SE MenPANRB 51/2020 and
6/2023: Mon-Thu 08:00-15:00, break 12:00-12:30; Fri 08:00-15:30, break 11:30-12:30)
hold from 1 Ramadan to the day before 1 Syawal (Idul Fitri).  1 Ramadan is set each
year by the Ministry of Religious Affairs' sidang isbat and 1 Syawal by the joint decree
(SKB) on national holidays; the table below holds the years whose dates were published.
A later year is computed from the ``holidays`` package's Idul Fitri date (30 days
before it, the longest month) and flagged estimated, as estimated holidays are.
Sources are listed in ``docs/sources.md``.
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs

from pelayanan.calendar._holidays import holiday_entries

__all__ = ["PUBLISHED_RAMADAN", "RamadanDates", "default_ramadan", "ramadan_on"]


@attrs.frozen
class RamadanDates:
    """The dates worked under Ramadan hours in one year.

    Attributes:
        first: 1 Ramadan.
        last: the last day of Ramadan (the day before Idul Fitri).
        source: where the dates come from.
        estimated: computed, not yet published.
    """

    first: dt.date
    last: dt.date
    source: str
    estimated: bool = False


PUBLISHED_RAMADAN: dict[int, RamadanDates] = {
    2024: RamadanDates(
        dt.date(2024, 3, 12),
        dt.date(2024, 4, 9),
        "sidang isbat Kemenag 10 Mar 2024 (1 Ramadan 1445 H); SKB 2024 (Idul Fitri 10 Apr)",
    ),
    2025: RamadanDates(
        dt.date(2025, 3, 1),
        dt.date(2025, 3, 30),
        "sidang isbat Kemenag 28 Feb 2025 (1 Ramadan 1446 H); SKB 2025 (Idul Fitri 31 Mar)",
    ),
    2026: RamadanDates(
        dt.date(2026, 2, 19),
        dt.date(2026, 3, 20),
        "sidang isbat Kemenag 17 Feb 2026 (1 Ramadan 1447 H); SKB 2026 (Idul Fitri 21 Mar)",
    ),
}
"""1 Ramadan to the eve of Idul Fitri for the years whose dates are published."""

_LAST_PUBLISHED = max(PUBLISHED_RAMADAN)
_RAMADAN_DAYS = 30


def _is_first_syawal(name: str) -> bool:
    """Return whether a package holiday name is 1 Syawal (not its second day or leave)."""
    return any(part in ("Eid al-Fitr", "Eid al-Fitr (estimated)") for part in name.split("; "))


@functools.lru_cache(maxsize=256)
def default_ramadan(year: int) -> tuple[RamadanDates, ...]:
    """Return the default Ramadan periods whose Idul Fitri falls in *year*.

    Published years come from `PUBLISHED_RAMADAN`; a year after the last published one
    is computed from the ``holidays`` package's Idul Fitri dates and marked estimated
    (a year may hold two, e.g. 2033); years before the table have none (configure a
    special period).  A period may begin in the year before.

    Args:
        year: the Gregorian year of Idul Fitri.

    Returns:
        The periods, in date order (empty when there are none).
    """
    published = PUBLISHED_RAMADAN.get(year)
    if published is not None:
        return (published,)
    if year < _LAST_PUBLISHED:
        return ()
    found: list[RamadanDates] = []
    for entry in holiday_entries(year):
        if entry.category == "public" and _is_first_syawal(entry.name):
            eve = entry.date - dt.timedelta(days=1)
            first = entry.date - dt.timedelta(days=_RAMADAN_DAYS)
            source = f"computed from the holidays package's Eid al-Fitr {entry.date}"
            found.append(RamadanDates(first, eve, source, estimated=True))
    return tuple(found)


def ramadan_on(day: dt.date) -> RamadanDates | None:
    """Return the default Ramadan period that holds *day*, if any."""
    for year in (day.year, day.year + 1):
        for period in default_ramadan(year):
            if period.first <= day <= period.last:
                return period
    return None
