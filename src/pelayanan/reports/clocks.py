"""SLA clock verdicts and breach attribution for the reports, from the same verified pass.

The reports never re-derive a clock verdict: they hand the entries the SLA module needs
to `pelayanan.sla.recompute_verdicts` and `pelayanan.sla.attribute_breaches`, which
replay the clock changes recorded in the log on the calendars the log names (checked by
fingerprint).  `ClockLogFold` is the `Fold` that keeps those entries while
`replay_verified` verifies the log, so the figures come from exactly the verified part.

To keep memory small the fold keeps a *slim* copy of each entry that can matter to a
clock replay: submissions, actions and any entry naming a request (holders, escalations),
reduced to the fields the SLA replay reads (time, kind, request, actor, clock changes,
SLA event fields and holder fields); refused attempts and survey responses are dropped,
and at the end only requests that recorded a clock change are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from pelayanan.calendar import WorkCalendar
from pelayanan.reports.replay import entry_time
from pelayanan.sla import BreachAttribution, ClockVerdict, attribute_breaches, recompute_verdicts

__all__ = ["ClockLogFold", "ClockOutcomes", "clock_outcomes"]

#: Top-level fields of an entry the SLA replay reads (see ``pelayanan._sla_replay``).
_KEEP = (
    "seq", "time", "kind", "request", "actor", "clocks", "event", "clock", "key",
    "unit", "assigned_unit", "assignee", "reassign",
)  # fmt: skip
#: Fields of an entry's ``data`` that move the request's holder.
_KEEP_DATA = ("unit", "assigned_unit", "assignee")
#: Entry kinds that never matter to a clock replay.
_SKIP_KINDS = frozenset({"refused", "survey"})


class ClockLogFold:
    """Keep, in log order, the slim entries `recompute_verdicts` and `attribute_breaches` read.

    Args:
        until: ignore entries recorded after this instant (verdicts "at" it).
    """

    def __init__(self, *, until: dt.datetime | None = None) -> None:
        self.until = until
        self.last_time: dt.datetime | None = None
        #: Calendar name -> the fingerprint the log recorded for it (first seen).
        self.calendars: dict[str, str] = {}
        self._entries: list[dict[str, Any]] = []
        self._with_clocks: set[str] = set()

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry."""
        now = entry_time(entry)
        if self.until is not None and now > self.until:
            return
        self.last_time = now
        request = entry.get("request")
        if not isinstance(request, str) or entry.get("kind") in _SKIP_KINDS:
            return
        slim = {key: entry[key] for key in _KEEP if key in entry}
        data = entry.get("data")
        if isinstance(data, Mapping):
            slim["data"] = {key: data[key] for key in _KEEP_DATA if key in data}
        for change in entry.get("clocks") or ():
            self._with_clocks.add(request)
            name, fingerprint = change.get("calendar"), change.get("fingerprint")
            if isinstance(name, str) and isinstance(fingerprint, str):
                self.calendars.setdefault(name, fingerprint)
        self._entries.append(slim)

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Return the kept entries of the requests that recorded a clock change, in order."""
        return [e for e in self._entries if e["request"] in self._with_clocks]


@attrs.frozen
class ClockOutcomes:
    """What the SLA module recomputed from the verified log.

    Attributes:
        verdicts: one per request and clock (latest cycle), ordered by request, clock.
        breaches: one per breached clock (stopped breached, or open with its breach
            fired), with the units and officers that held it.
        source: a one-line statement of where they came from (shown in every report).
        calendars: calendar name -> fingerprint of each calendar the clocks ran on.
    """

    verdicts: tuple[ClockVerdict, ...] = ()
    breaches: tuple[BreachAttribution, ...] = ()
    source: str = "none: no clock verdicts were given"
    calendars: Mapping[str, str] = attrs.field(factory=dict)


def clock_outcomes(
    fold: ClockLogFold,
    calendars: Mapping[str, WorkCalendar],
    *,
    default: WorkCalendar,
    as_of: dt.datetime | None = None,
) -> ClockOutcomes:
    """Recompute the clock verdicts and breach attribution of a finished replay.

    Each calendar name the log records is given the calendar of that name in
    *calendars*, else *default*; the SLA module checks it has the recorded fingerprint.

    Args:
        fold: the fold fed during `replay_verified` (use it only once that returned).
        calendars: calendar name -> calendar, for names the log records.
        default: the calendar for every other name.
        as_of: where open breached clocks are measured up to (default: the fold's last
            entry, or its ``until``).

    Returns:
        The verdicts, the breach attribution and a statement of their source.

    Raises:
        CalendarFingerprintError: a calendar given has another fingerprint than the one
            the log recorded (the error names the recorded one).
        CalendarError: the log's clock changes are incomplete.
    """
    names = {name: calendars.get(name, default) for name in fold.calendars}
    entries = fold.entries
    if not entries:
        return ClockOutcomes(source="recomputed from the verified log: no SLA clock recorded")
    verdicts = recompute_verdicts(entries, names)
    end = as_of if as_of is not None else fold.last_time
    breaches = attribute_breaches(entries, names, as_of=end)
    used = ", ".join(f"{name} {names[name].fingerprint}" for name in sorted(names))
    source = f"recomputed from the verified log by pelayanan.sla on calendar {used}"
    fingerprints = {name: names[name].fingerprint for name in sorted(names)}
    return ClockOutcomes(tuple(verdicts), tuple(breaches), source, fingerprints)
