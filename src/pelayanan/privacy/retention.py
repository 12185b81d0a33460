"""Retention classes: how long records of a class must be kept before personal data may go.

Destroying records outside the archive retention schedule (JRA) is an offence (UU 43/2009
Pasal 86), while UU 27/2022 (PDP) Pasal 42-44 asks for deletion once the purpose or the
retention ends.  No retention period for complaint records was found in public sources
(docs/sources.md, "Personal data"), so pelayanan ships **no default period**: the host
app configures each class, and an SOP that names a class the host did not configure has
its erasures refused.

Retention runs from the moment a request reaches a final state; an open request is
still being processed and is never erased while a class applies to it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping

import attrs

from pelayanan.exceptions import ConfigurationError

__all__ = ["RetentionPeriod", "RetentionSchedule"]

_ISO = re.compile(r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?$")


@attrs.frozen
class RetentionPeriod:
    """A calendar period: years, months and days.

    Attributes:
        years: whole years.
        months: whole months.
        days: whole days.
    """

    years: int = 0
    months: int = 0
    days: int = 0

    def __attrs_post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0:
            msg = "a retention period cannot be negative"
            raise ConfigurationError(msg)

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        """Parse an ISO 8601 period of years, months and days (``P5Y``, ``P1Y6M``, ``P90D``).

        Raises:
            ConfigurationError: the text is not such a period.
        """
        match = _ISO.match(text.strip().upper())
        if match is None or text.strip().upper() == "P":
            msg = f"retention period {text!r} is not an ISO 8601 period like P5Y, P1Y6M or P90D"
            raise ConfigurationError(msg)
        parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        return cls(**parts)

    def after(self, start: dt.datetime) -> dt.datetime:
        """Return the instant this period after *start* (month ends are clamped)."""
        months = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + dt.timedelta(days=self.days)

    def __str__(self) -> str:
        text = "P"
        text += f"{self.years}Y" if self.years else ""
        text += f"{self.months}M" if self.months else ""
        text += f"{self.days}D" if self.days or text == "P" else ""
        return text


def _periods(value: Mapping[str, RetentionPeriod | str]) -> Mapping[str, RetentionPeriod]:
    periods: dict[str, RetentionPeriod] = {}
    for name, period in value.items():
        if not name.strip():
            msg = f"retention class names are non-empty strings, not {name!r}"
            raise ConfigurationError(msg)
        periods[name] = (
            period if isinstance(period, RetentionPeriod) else RetentionPeriod.parse(period)
        )
    return periods


@attrs.frozen
class RetentionSchedule:
    """The host app's retention classes: class name -> period (none by default).

    Attributes:
        classes: class name -> period; strings are parsed with `RetentionPeriod.parse`.
    """

    classes: Mapping[str, RetentionPeriod] = attrs.field(factory=dict, converter=_periods)

    def period(self, name: str) -> RetentionPeriod | None:
        """Return the period of class *name*, or ``None`` when it is not configured."""
        return self.classes.get(name)
