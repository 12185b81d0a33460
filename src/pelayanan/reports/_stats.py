"""Small exact statistics shared by the reports (integers in, integers out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

import attrs

from pelayanan.reports.ikm import round_half_up

__all__ = ["DurationStats", "duration_stats", "format_seconds", "percent", "percentile", "seconds"]


def percentile(ordered: Sequence[int], p: int) -> int:
    """Return the nearest-rank *p*-th percentile of sorted integers.

    Nearest rank (the smallest value with at least p% of the values at or below it) keeps
    the figure one of the observed values: no interpolation, no float.

    Args:
        ordered: the values, sorted ascending, at least one.
        p: the percentile, 1-100.

    Returns:
        The value at rank ``ceil(p * n / 100)``.
    """
    rank = max(1, (p * len(ordered) + 99) // 100)
    return ordered[rank - 1]


@attrs.frozen
class DurationStats:
    """Working-time figures of a set of durations, in whole seconds.

    Attributes:
        count: how many durations.
        median: the nearest-rank median.
        p90: the nearest-rank 90th percentile.
        max: the longest.
    """

    count: int
    median: int
    p90: int
    max: int

    def to_json_dict(self) -> dict[str, int]:
        """Return the figures as JSON-ready data (seconds of working time)."""
        return {
            "count": self.count,
            "median_s": self.median,
            "p90_s": self.p90,
            "max_s": self.max,
        }


def duration_stats(values: Sequence[int]) -> DurationStats:
    """Return the `DurationStats` of *values* (whole seconds, at least one)."""
    ordered = sorted(values)
    return DurationStats(
        len(ordered), percentile(ordered, 50), percentile(ordered, 90), ordered[-1]
    )


def seconds(value: dt.timedelta) -> int:
    """Return *value* in whole seconds, rounded toward zero."""
    return int(value / dt.timedelta(seconds=1))


def format_seconds(total: int) -> str:
    """Format working seconds for a terminal, e.g. ``"2h05m"`` or ``"45m"``."""
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m"


def percent(part: int, whole: int) -> str | None:
    """Return ``part / whole`` as a percentage with 2 decimals (half up), or ``None``."""
    if whole == 0:
        return None
    return str(round_half_up(Fraction(100 * part, whole), 2))
