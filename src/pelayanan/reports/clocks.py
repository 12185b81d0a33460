"""SLA clock verdicts and breach attribution for the reports, from the same verified pass.

The reports never re-derive a clock verdict their own way: `ClockLogFold` is the `Fold`
that feeds each verified entry to the SLA module's `pelayanan.sla.ClockReplayer` (the
engine of `pelayanan.sla.recompute_verdicts` and `pelayanan.sla.attribute_breaches`)
while `replay_verified` verifies the log, so the clock changes are replayed on the
calendars the log names (checked by fingerprint) from exactly the verified part, in the
same single pass.  `clock_outcomes` then releases the verdicts and the attribution.

A calendar that does not match the log, or a malformed clock change, does not stop the
verification: the fold keeps the error and `clock_outcomes` raises it, so a command can
say which of the two failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from pelayanan.audit.entry import format_time, parse_time
from pelayanan.audit.kinds import TIME
from pelayanan.calendar import WorkCalendar
from pelayanan.exceptions import CalendarError
from pelayanan.sla import BreachAttribution, ClockReplayer, ClockVerdict

__all__ = ["ClockLogFold", "ClockOutcomes", "clock_outcomes"]


class ClockLogFold:
    """Replay the SLA clock changes of the verified entries, in log order.

    Args:
        calendars: calendar name -> calendar, for names the log records.
        default: the calendar for every other name (``None``: another name is an error).
        until: ignore entries recorded after this instant (verdicts "at" it).
    """

    def __init__(
        self,
        calendars: Mapping[str, WorkCalendar] | None = None,
        *,
        default: WorkCalendar | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        self.until = until
        # Entry times are fixed-width UTC text, so they compare as the instants do.
        self._until_text = format_time(until) if until is not None else None
        self._last_text: str | None = None
        #: The SLA module's replay engine the entries are fed to.
        self.replayer = ClockReplayer(dict(calendars or {}), default=default)
        #: The first calendar mismatch or malformed clock change met (then clocks stop).
        self.error: CalendarError | None = None

    @property
    def last_time(self) -> dt.datetime | None:
        """Return the time of the last entry taken (``None`` before any)."""
        return None if self._last_text is None else parse_time(self._last_text)

    @property
    def calendars(self) -> dict[str, str]:
        """Return calendar name -> the fingerprint the log recorded for it (first seen)."""
        return dict(self.replayer.calendars)

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry."""
        text = entry[TIME]
        if self._until_text is not None and text > self._until_text:
            return
        self._last_text = text
        if self.error is not None:
            return
        try:
            self.replayer.feed(entry)
        except CalendarError as exc:
            self.error = exc


@attrs.frozen
class ClockOutcomes:
    """What the SLA module recomputed from the verified log.

    Attributes:
        verdicts: one per request and clock (latest cycle), ordered by request, clock;
            without the requests a `pelayanan.reports.settled.SettledRequests` holds.
        breaches: one per breached clock (stopped breached, or open with its breach
            fired), with the units and officers that held it.
        source: a one-line statement of where they came from (shown in every report).
        calendars: calendar name -> fingerprint of each calendar the clocks ran on.
    """

    verdicts: tuple[ClockVerdict, ...] = ()
    breaches: tuple[BreachAttribution, ...] = ()
    source: str = "none: no clock verdicts were given"
    calendars: Mapping[str, str] = attrs.field(factory=dict)


def clock_outcomes(fold: ClockLogFold, *, as_of: dt.datetime | None = None) -> ClockOutcomes:
    """Return the clock verdicts and breach attribution of a finished replay.

    Args:
        fold: the fold fed during `replay_verified` (use it only once that returned).
        as_of: where open breached clocks are measured up to (default: the fold's last
            entry).

    Returns:
        The verdicts, the breach attribution and a statement of their source.

    Raises:
        CalendarFingerprintError: a calendar given has another fingerprint than the one
            the log recorded, or none was given for a name (the error names the
            recorded one).
        CalendarError: the log's clock changes are incomplete or malformed.
    """
    if fold.error is not None:
        raise fold.error
    end = as_of if as_of is not None else fold.last_time
    replayed = fold.replayer.result(as_of=end)
    if not replayed.verdicts and not fold.replayer.clocks_taken_out:
        return ClockOutcomes(source="recomputed from the verified log: no SLA clock recorded")
    fingerprints = dict(sorted(replayed.calendars.items()))
    used = ", ".join(f"{name} {fingerprint}" for name, fingerprint in fingerprints.items())
    source = f"recomputed from the verified log by pelayanan.sla on calendar {used}"
    return ClockOutcomes(replayed.verdicts, replayed.breaches, source, fingerprints)
