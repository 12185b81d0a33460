"""Replays of the audit log: clock verdicts and breach attribution (private).

Public through `pelayanan.sla`.  Only the log is read: the clock changes recorded in the
entries of submissions and actions (``clocks``) and the SLA events (``kind: "sla"``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from pelayanan.audit.entry import parse_time
from pelayanan.audit.kinds import (
    ACTOR,
    ASSIGNED_UNIT,
    ASSIGNEE,
    ASSIGNMENT,
    AUTHORITY,
    CLOCK,
    CLOCKS,
    COUNTING,
    DATA,
    EVENT,
    HOLDER,
    KIND,
    KIND_ACTION,
    KIND_REFUSED,
    KIND_SLA,
    KIND_SUBMIT,
    MEASURES,
    PRINCIPAL,
    REASSIGN,
    REQUEST,
    RETURNED_TO,
    ROLE,
    SEQ,
    SYSTEM_ACTOR,
    TIME,
    UNIT,
    VALID_FROM,
)
from pelayanan.calendar import Counting, Duration, WorkCalendar
from pelayanan.exceptions import CalendarError, CalendarFingerprintError, InvalidArgumentError
from pelayanan.sla._core import (
    Measure,
    as_time,
    core_change,
    core_start,
    minute,
)
from pelayanan.sop.model import AGENCY

__all__ = [
    "BreachAttribution",
    "ClockReplay",
    "ClockReplayer",
    "ClockVerdict",
    "Holding",
    "attribute_breaches",
    "recompute_verdicts",
    "recorded_verdicts",
    "replay_clocks",
]

Status = Literal["running", "paused", "met", "breached"]


# --- replay of the log --------------------------------------------------------------------


@attrs.frozen
class ClockVerdict:
    """Where one clock of one request stands, as recorded or as recomputed from the log.

    Attributes:
        request: the request id.
        clock: the clock's name.
        cycle: the clock's cycle (1, or more after resets); the latest is reported.
        status: ``met`` or ``breached`` (stopped), ``running`` or ``paused``.
        deadline: the deadline (the last one known while paused).
        finished_at: when it stopped, for met and breached.
        overrun: how far past the target it stopped, in the clock's measure (working
            time for working units); zero unless breached.
        paused: the time it spent paused, in the same measure.
        calendar: the desk calendar's name.
        fingerprint: that calendar's fingerprint, as recorded.
        measures: whose time the clock measures (``agency``, ``applicant`` or
            ``third_party``); only agency clocks count in compliance.
    """

    request: str
    clock: str
    cycle: int
    status: Status
    deadline: dt.datetime
    finished_at: dt.datetime | None
    overrun: dt.timedelta
    paused: dt.timedelta
    calendar: str
    fingerprint: str
    measures: str = AGENCY


def _decode(entry: Mapping[str, Any] | bytes | str) -> Mapping[str, Any]:
    if isinstance(entry, bytes | str):
        decoded: Mapping[str, Any] = json.loads(entry)
        return decoded
    return entry


def _clock_changes(
    entries: Iterable[Mapping[str, Any] | bytes | str],
) -> Iterable[tuple[Mapping[str, Any], str, Mapping[str, Any]]]:
    """Yield ``(entry, clock name, change)`` for every clock change in the log, in order."""
    for raw in entries:
        entry = _decode(raw)
        for change in entry.get(CLOCKS) or ():
            yield entry, change[CLOCK], change


_ZERO = dt.timedelta()


def _span(us: int) -> dt.timedelta:
    return dt.timedelta(microseconds=us) if us else _ZERO


def _verdict(request: str, clock: str, state: Mapping[str, Any]) -> ClockVerdict:
    status = state["status"]
    finished = state.get("stopped_at")
    return ClockVerdict(
        request=request,
        clock=clock,
        cycle=state["cycle"],
        status=status,
        deadline=as_time(state["deadline"]),
        finished_at=as_time(finished) if status in ("met", "breached") and finished else None,
        overrun=_span(state.get("overrun_us", 0)),
        paused=_span(state["paused_us"]),
        calendar=state["calendar"],
        fingerprint=state["fingerprint"],
        measures=state.get(MEASURES, AGENCY),
    )


def recorded_verdicts(entries: Iterable[Mapping[str, Any] | bytes | str]) -> list[ClockVerdict]:
    """Return each clock's verdict as the desk recorded it in the log (its latest change).

    Args:
        entries: the log's entries (decoded mappings, or their canonical JSON bytes).

    Returns:
        One verdict per request and clock, ordered by request then clock.
    """
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    for entry, clock, change in _clock_changes(entries):
        key = (entry[REQUEST], clock)
        # Whose time it measures is written on the clock's start only: carry it along.
        measures = change.get(MEASURES)
        if measures is None and change.get("change") not in ("start", "reset") and key in last:
            measures = last[key].get(MEASURES)
        record = {**change, "stopped_at": change["at"]}
        if measures is not None:
            record[MEASURES] = measures
        last[key] = record
    return [_verdict(r, c, last[(r, c)]) for r, c in sorted(last)]


#: (principal, delegation start) of an action taken under a delegation.
_Acting = tuple[str, dt.datetime]
#: (instant, unit, assignee, actor of an action, its delegation) on a request's timeline.
_Point = tuple[dt.datetime, str | None, str | None, str | None, _Acting | None]
_Window = tuple[dt.datetime, dt.datetime | None]
_LIVE = frozenset({"running", "paused", "breached"})
_STOPPED = frozenset({"met", "breached"})


def _shared(value: Any) -> Any:
    """Return the one shared copy of a text that every clock repeats (calendar, fingerprint).

    Each entry's JSON gives a fresh copy; shared, a replay holds it once in memory and a
    saved state (`pelayanan.reports.state`) pickles it once (the clocks' share of a
    100,000-entry state: 16.5 MiB against 11.5 MiB; docs/performance.md).
    """
    return sys.intern(value) if type(value) is str else value


def _target_key(target: Any) -> Any:
    """Return a hashable key of a recorded clock target (its config form)."""
    if type(target) is dict or isinstance(target, Mapping):
        return tuple(target.items())
    return target


@attrs.frozen
class Holding:
    """How long one unit (and officer) held a request while a clock ran.

    Attributes:
        unit: the unit responsible.
        officer: the assigned officer, or when none was assigned, the officer whose
            action ended the stretch (``None`` when neither is known).
        working_time: working time on the clock's calendar, pauses excluded.
    """

    unit: str | None
    officer: str | None
    working_time: dt.timedelta


@attrs.frozen
class BreachAttribution:
    """Who held a breached request, and for how long.

    Attributes:
        request: the request id.
        clock: the clock's name.
        overrun: how far past the target (zero for an open clock whose breach fired and
            that is still running: see ``open``).
        open: the clock has not stopped yet (holdings run up to *as_of*).
        holdings: one per unit and officer, largest share first.
    """

    request: str
    clock: str
    overrun: dt.timedelta
    open: bool
    holdings: tuple[Holding, ...]


@attrs.frozen
class ClockReplay:
    """Every clock's verdict and the breach attribution, from one replay of the log.

    Attributes:
        verdicts: as `recompute_verdicts` returns them.
        breaches: as `attribute_breaches` returns them.
        calendars: calendar name -> the fingerprint the log recorded for it.
    """

    verdicts: tuple[ClockVerdict, ...]
    breaches: tuple[BreachAttribution, ...]
    calendars: Mapping[str, str] = attrs.field(factory=dict)


_HOLDER_KEYS = (UNIT, ASSIGNED_UNIT)
#: The desk's nested holder records, in the order they apply (see `_nested_holder`).
_NESTED_HOLDERS = (ASSIGNMENT, HOLDER, RETURNED_TO)
#: The kinds whose actor, when no officer is assigned, answers for the stretch before.
_ACTING = frozenset({KIND_ACTION, KIND_SUBMIT})
_ABSENT = object()


def _holder_updates(entry: Mapping[str, Any]) -> dict[str, str | None]:
    """Return the holder fields an entry sets: unit and assignee (most entries set none)."""
    raw = entry.get(DATA)
    data: Mapping[str, Any] = raw if type(raw) is dict or isinstance(raw, Mapping) else {}
    if not (
        UNIT in entry
        or ASSIGNMENT in entry
        or HOLDER in entry
        or RETURNED_TO in entry
        or ASSIGNED_UNIT in entry
        or ASSIGNEE in entry
        or REASSIGN in entry
        or UNIT in data
        or ASSIGNED_UNIT in data
        or ASSIGNEE in data
    ):
        return {}
    found: dict[str, str | None] = {}
    for source in (data, entry):
        for key in _HOLDER_KEYS:
            if isinstance(source.get(key), str):
                found["unit"] = source[key]
                found["assignee"] = None
        assignee = source.get(ASSIGNEE, _ABSENT)
        if assignee is None or isinstance(assignee, str):
            found["assignee"] = assignee
    reassign = entry.get(REASSIGN)
    if isinstance(reassign, Mapping) and isinstance(reassign.get(UNIT), str):
        found["unit"] = reassign[UNIT]
        found["assignee"] = None
    if isinstance(reassign, Mapping) and ROLE in reassign:
        found["assignee"] = None
    found.update(_nested_holder(entry))
    return found


def _nested_holder(entry: Mapping[str, Any]) -> dict[str, str | None]:
    """Return the holder the desk's entries record in `assignment`, `holder` or `returned_to`."""
    found: dict[str, str | None] = {}
    for key in _NESTED_HOLDERS:
        nested = entry.get(key)
        if isinstance(nested, Mapping) and isinstance(nested.get(UNIT), str):
            assignee = nested.get(ASSIGNEE)
            found["unit"] = nested[UNIT]
            found["assignee"] = assignee if isinstance(assignee, str) else None
    return found


class _ReplayedClock:
    """One clock as replayed: its state (`sla._core` form), measure and running windows.

    Slotted: a big log holds hundreds of thousands of these, so no per-instance dict.
    """

    __slots__ = ("measure", "state", "windows")

    def __init__(
        self, state: dict[str, Any], measure: Measure, windows: tuple[_Window, ...]
    ) -> None:
        self.state = state  # native instants, plus the cycle, calendar and fingerprint
        self.measure = measure
        self.windows = windows  # (start, end) pairs of running time; end None while running

    def change(self, kind: str, at: dt.datetime) -> None:
        """Apply a ``pause``, ``resume`` or ``stop`` change at *at* (the clock has not stopped)."""
        state, windows = self.state, self.windows
        if kind == "resume":
            self.windows = (*windows, (at, None))
        elif kind == "pause" or state["status"] == "running":
            # A pause, or a stop while running, ends the running window.
            self.windows = (*windows[:-1], (windows[-1][0], at))
        self.state = core_change(kind, state, self.measure, at, native=True)


class ClockReplayer:
    """Replay the clock changes of an audit log, fed its entries one by one in log order.

    This is the engine of `recompute_verdicts`, `attribute_breaches` and
    `replay_clocks`; a report feeds it while the log is verified (see
    `pelayanan.reports.clocks`), so the log is read once.  Only the clock changes
    recorded in the entries are used (times, targets, calendar names and fingerprints),
    and the holders the entries set.  Memory stays proportional to the clocks, not the
    log: a request's holder timeline is kept only while one of its clocks runs, is
    paused or breached.

    Args:
        calendars: calendar name -> calendar, as the desk was configured.
        default: the calendar for a name not in *calendars* (``None``: such a name is a
            `CalendarFingerprintError`).  Every calendar must have the fingerprint the
            log recorded, so newer holiday data never silently changes a past verdict.
    """

    def __init__(
        self, calendars: Mapping[str, WorkCalendar], *, default: WorkCalendar | None = None
    ) -> None:
        self._given = calendars
        self._default = default
        #: Calendar name -> the fingerprint the log recorded for it (first seen).
        self.calendars: dict[str, str] = {}
        self._checked: dict[tuple[str, str], WorkCalendar] = {}
        # (calendar name, fingerprint, target) -> (target, measure index): a log repeats a
        # handful of targets and calendars, each parsed and checked once.
        self._kinds: dict[tuple[str, str, Any, str | None], tuple[Duration, Measure]] = {}
        # (request, clock) -> the clock as replayed so far, while it can still change
        # verdict or be attributed (running, paused, breached).
        self._clocks: dict[tuple[str, str], _ReplayedClock] = {}
        # (request, clock) -> the verdict of a clock stopped within its target: final
        # until a start or reset, so it is judged once and kept in its final form (in a
        # saved report state too: docs/performance.md, "Incremental reports").
        self._met: dict[tuple[str, str], ClockVerdict] = {}
        # request -> the names of its clocks (a tuple, likewise untracked).
        self._clocks_of: dict[str, tuple[str, ...]] = {}
        self._breach_fired: set[tuple[str, str]] = set()
        self._holders: dict[str, dict[str, str | None]] = {}
        self._timeline: dict[str, list[_Point]] = {}
        self._idle: set[str] = set()
        self._last_time: str | None = None
        #: Clocks of requests handed out by `take_out` (and not put back): their verdicts
        #: are kept elsewhere (`pelayanan.reports.settled`).
        self.clocks_taken_out = 0

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next entry of the log (its parsed JSON object).

        Raises:
            CalendarFingerprintError: a calendar the log names is missing or has another
                fingerprint than the one recorded (the error names the recorded one).
            CalendarError: the entry's clock changes are incomplete or malformed.
        """
        text = entry.get(TIME)
        if type(text) is str:
            self._last_time = text
        request = entry.get(REQUEST)
        if type(request) is not str:
            return
        kind = entry.get(KIND)
        if kind == KIND_REFUSED:
            return
        changes = entry.get(CLOCKS)
        at: dt.datetime | None = None
        current = self._holders.get(request)
        if current is None:
            current = self._holders[request] = {"unit": None, "assignee": None}
        if changes:
            at = self._minute(entry, text)
            try:
                self._apply(entry, request, at, changes, current)
            except CalendarError:
                raise
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                where = f"entry {entry.get(SEQ)}: request {request!r}"
                msg = f"{where}: a clock change is malformed ({exc!r}); the log is incomplete"
                raise CalendarError(msg) from None
        elif kind == KIND_SLA and entry.get(EVENT) == "breach":
            self._breach_fired.add((request, entry.get(CLOCK)))  # type: ignore[arg-type]
            self._idle.discard(request)
        updates = _holder_updates(entry)
        if updates:
            current.update(updates)
        if request in self._idle:
            return  # holders still move, but no stretch of it can be attributed
        actor = entry.get(ACTOR) if kind in _ACTING else None
        if actor == SYSTEM_ACTOR:
            actor = None  # the system answers for no stretch: the officers around it do
        if at is None:
            at = self._minute(entry, text)
        points = self._timeline.get(request)
        if points is None:
            points = self._timeline[request] = []
        points.append((at, current["unit"], current["assignee"], actor, _acting(entry)))
        if changes and not self._live(request):
            # No clock of the request can be attributed any more: forget its stretches
            # (a clock that starts again starts a new stretch at its own entry).
            del self._timeline[request]
            self._idle.add(request)

    @staticmethod
    def _minute(entry: Mapping[str, Any], text: Any) -> dt.datetime:
        try:
            # `minute`, without its zone conversion: `parse_time` gives UTC already.
            return parse_time(text).replace(second=0, microsecond=0)
        except ValueError:
            where = f"entry {entry.get(SEQ)}" if SEQ in entry else "the last entry"
            msg = f"{where}: {text!r} is not an entry time; the log is malformed"
            raise CalendarError(msg) from None

    def _live(self, request: str) -> bool:
        fired = self._breach_fired
        clocks = self._clocks
        for name in self._clocks_of[request]:
            clock = clocks.get((request, name))
            if (clock is not None and clock.state["status"] in _LIVE) or (request, name) in fired:
                return True
        return False

    def _calendar(
        self, name: str, recorded: str, where: str, counting: str | None = None
    ) -> WorkCalendar:
        calendar = self._checked.get((name, recorded))
        if calendar is not None:
            return calendar
        self.calendars.setdefault(name, recorded)
        given = self._given.get(name, self._default)
        if given is None:
            raise CalendarFingerprintError(name, recorded, None, where=where)
        if counting is not None:
            # The clock counted on the calendar under its own convention.
            given = given.with_counting(Counting(counting))
        if given.fingerprint != recorded:
            raise CalendarFingerprintError(name, recorded, given.fingerprint, where=where)
        self._checked[(name, recorded)] = given
        return given

    def _kind(
        self, change: Mapping[str, Any], entry: Mapping[str, Any], request: str
    ) -> tuple[Duration, Measure]:
        """Return the target and the measure of a clock start (cached by config)."""
        name, recorded, raw = change["calendar"], change["fingerprint"], change["target"]
        key = (name, recorded, _target_key(raw), change.get(COUNTING))
        found = self._kinds.get(key)
        if found is None:
            where = f"entry {entry.get(SEQ)}: request {request!r}, clock {change['clock']!r}"
            calendar = self._calendar(name, recorded, where, change.get(COUNTING))
            target = Duration.from_config(raw)
            found = self._kinds[key] = (target, Measure(calendar, target, warn_estimated=False))
        return found

    def _apply(
        self,
        entry: Mapping[str, Any],
        request: str,
        at: dt.datetime,
        changes: Any,
        holder: dict[str, str | None],
    ) -> None:
        clocks, met = self._clocks, self._met
        for change in changes:
            name = change["clock"]
            kind = change["change"]
            key = (request, name)
            clock = clocks.get(key)
            if kind in {"start", "reset"}:
                target, measure = self._kind(change, entry, request)
                if clock is None and met.pop(key, None) is None:
                    self._clocks_of[request] = (*self._clocks_of.get(request, ()), name)
                state = core_start(measure, target, at, native=True)
                state["cycle"] = change["cycle"]
                state["calendar"] = _shared(change["calendar"])
                state["fingerprint"] = _shared(change["fingerprint"])
                state[MEASURES] = _shared(change.get(MEASURES, AGENCY))
                clocks[key] = _ReplayedClock(state, measure, ((at, None),))
                self._idle.discard(request)
            elif clock is None or clock.state["status"] in _STOPPED:
                where = f"entry {entry.get(SEQ)}: request {request!r}, clock {name!r}"
                when = (
                    "before the clock started"
                    if clock is None and key not in met
                    else "after the clock stopped"
                )
                raise CalendarError(f"{where}: a {kind!r} change {when}; the log is incomplete")
            else:
                clock.change(kind, at)
                if clock.state["status"] == "met":
                    met[key] = _verdict(request, name, clock.state)
                    del clocks[key]
            started = change.get("holder")
            if started is not None and holder["unit"] is None and isinstance(started, Mapping):
                holder.update(started)

    # -- results ------------------------------------------------------------------------------

    def verdicts(self) -> list[ClockVerdict]:
        """Return one verdict per request and clock fed so far, by request then clock."""
        clocks, met = self._clocks, self._met
        return [
            met[key] if key in met else _verdict(key[0], key[1], clocks[key].state)
            for key in sorted([*clocks, *met])
        ]

    def measures(self) -> dict[tuple[str, str], str]:
        """Return (request, clock) -> whose time it measures, for the clocks fed so far."""
        found = {key: clock.state.get(MEASURES, AGENCY) for key, clock in self._clocks.items()}
        found.update((key, verdict.measures) for key, verdict in self._met.items())
        return found

    def breaches(self, *, as_of: dt.datetime | None = None) -> list[BreachAttribution]:
        """Return the breach attribution of the clocks fed so far (see `attribute_breaches`)."""
        end = minute(as_of) if as_of is not None else None
        if end is None and self._last_time is not None:
            end = self._minute({}, self._last_time)
        breached = sorted(key for key in self._clocks if self._attributable(key))
        return [self._breach(request, clock, end) for request, clock in breached]

    def _attributable(self, key: tuple[str, str]) -> bool:
        """Say whether a replayed clock is a breach of the service (stopped or fired)."""
        state = self._clocks[key].state
        # Only the agency's clocks are breaches of the service: an applicant's window or
        # a third party's time is never attributed to the agency's officers.
        return state.get(MEASURES, AGENCY) == AGENCY and (
            state["status"] == "breached"
            or (key in self._breach_fired and state["status"] in ("running", "paused"))
        )

    def _breach(self, request: str, clock: str, end: dt.datetime | None) -> BreachAttribution:
        replayed = self._clocks[(request, clock)]
        state = replayed.state
        opened = state["status"] in ("running", "paused")
        holdings = self._holdings(request, state, replayed.windows, end)
        overrun = dt.timedelta(microseconds=state.get("overrun_us", 0))
        return BreachAttribution(request, clock, overrun, opened, holdings)

    # -- requests whose clocks have all stopped -----------------------------------------------

    def checked_calendars(self) -> list[WorkCalendar]:
        """Return the calendars the clocks fed so far run on (each checked by fingerprint)."""
        return list(self._checked.values())

    def steady(self, request: str) -> bool:
        """Say whether only another entry naming *request* can change its clocks' outcomes.

        True unless a clock of it has a fired breach and still runs (or is paused): that
        one's attribution grows with the instant it is measured up to.  A running clock's
        verdict is final until an entry changes it (its deadline is known; whether it is
        overdue is for the report instant to say).
        """
        clocks = self._clocks
        for name in self._clocks_of.get(request, ()):
            key = (request, name)
            clock = clocks.get(key)
            if (
                clock is not None
                and clock.state["status"] not in _STOPPED
                and self._attributable(key)
            ):
                return False
        return True

    def outcomes_of(self, request: str) -> tuple[list[ClockVerdict], list[BreachAttribution]]:
        """Return the verdicts and breach attributions of one `steady` request.

        Raises:
            InvalidArgumentError: the request is not steady.
        """
        if not self.steady(request):
            raise InvalidArgumentError(f"request {request!r} has a breached clock still running")
        names = sorted(self._clocks_of.get(request, ()))
        verdicts = [
            self._met[(request, name)]
            if (request, name) in self._met
            else _verdict(request, name, self._clocks[(request, name)].state)
            for name in names
        ]
        breaches = [
            self._breach(request, name, None)
            for name in names
            if (request, name) in self._clocks and self._attributable((request, name))
        ]
        return verdicts, breaches

    def take_out(self, request: str) -> tuple[Any, ...]:
        """Remove everything the replay holds of *request*; return it for `put_back`.

        Verdicts and attributions from then on leave the request out, until it is put back
        (before any further entry naming it is fed).
        """
        names = self._clocks_of.pop(request, ())
        clocks = tuple(self._clocks.pop((request, name), None) for name in names)
        met = tuple(self._met.pop((request, name), None) for name in names)
        fired = tuple((request, name) in self._breach_fired for name in names)
        self._breach_fired.difference_update((request, name) for name in names)
        idle = request in self._idle
        self._idle.discard(request)
        self.clocks_taken_out += len(names)
        holders = self._holders.pop(request, None)
        return names, clocks, met, fired, holders, self._timeline.pop(request, None), idle

    def put_back(self, request: str, taken: tuple[Any, ...]) -> None:
        """Restore what `take_out` returned for *request*."""
        names, clocks, met, fired, holders, timeline, idle = taken
        if names:
            self._clocks_of[request] = names
        for name, clock, verdict, was_fired in zip(names, clocks, met, fired, strict=True):
            if clock is not None:
                self._clocks[(request, name)] = clock
            if verdict is not None:
                self._met[(request, name)] = verdict
            if was_fired:
                self._breach_fired.add((request, name))
        if holders is not None:
            self._holders[request] = holders
        if timeline is not None:
            self._timeline[request] = timeline
        if idle:
            self._idle.add(request)
        self.clocks_taken_out -= len(names)

    def _holdings(
        self,
        request: str,
        state: Mapping[str, Any],
        windows: tuple[_Window, ...],
        end: dt.datetime | None,
    ) -> tuple[Holding, ...]:
        calendar = self._checked[(state["calendar"], state["fingerprint"])]
        shares: dict[tuple[str | None, str | None], dt.timedelta] = {}
        points = self._timeline.get(request, [])
        for start, closed in windows:
            stop = closed if closed is not None else end
            if stop is None or stop <= start:
                continue
            for i, (at, unit, assignee, _, _) in enumerate(points):
                if at >= stop:
                    break
                nxt = points[i + 1][0] if i + 1 < len(points) else stop
                a, b = max(at, start), min(nxt, stop)
                if b <= a:
                    continue
                for officer, x, y in _answerable(assignee, points[i + 1 :], a, b):
                    share = calendar.elapsed(x, y, warn_estimated=False)
                    if share:
                        key = (unit, officer)
                        shares[key] = shares.get(key, dt.timedelta()) + share
        return tuple(
            Holding(unit, officer, time)
            for (unit, officer), time in sorted(
                shares.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1] or "")
            )
        )

    def result(self, *, as_of: dt.datetime | None = None) -> ClockReplay:
        """Return the verdicts and the breach attribution of the clocks fed so far."""
        return ClockReplay(
            tuple(self.verdicts()), tuple(self.breaches(as_of=as_of)), dict(self.calendars)
        )


def _acting(entry: Mapping[str, Any]) -> _Acting | None:
    """Return (principal, delegation start) of an entry's authority, when it records one."""
    authority = entry.get(AUTHORITY)
    if not isinstance(authority, Mapping):
        return None
    principal, since = authority.get(PRINCIPAL), authority.get(VALID_FROM)
    if not (isinstance(principal, str) and isinstance(since, str)):
        return None
    try:
        return principal, parse_time(since)
    except ValueError:
        return None


def _answerable(
    assignee: str | None, later: list[_Point], a: dt.datetime, b: dt.datetime
) -> list[tuple[str | None, dt.datetime, dt.datetime]]:
    """Return who answers for the stretch [a, b): (officer, from, to) pieces.

    The assigned officer; when none, the officer whose action ended the stretch, except
    for the part before that officer's delegation began, which is the principal's.
    """
    if assignee is not None:
        return [(assignee, a, b)]
    point = next((p for p in later if p[3] is not None), None)
    if point is None:
        return [(None, a, b)]
    officer, acting = point[3], point[4]
    if acting is None or acting[1] <= a:
        return [(officer, a, b)]
    principal, since = acting
    if since >= b:
        return [(principal, a, b)]
    return [(principal, a, since), (officer, since, b)]


def _replayed(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
) -> ClockReplayer:
    replayer = ClockReplayer(calendars)
    for entry in entries:
        replayer.feed(_decode(entry))
    return replayer


def recompute_verdicts(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
) -> list[ClockVerdict]:
    """Recompute every clock's verdict from the audit log and the calendars it names.

    Only the clock changes recorded in the entries (their times, targets, calendar names
    and fingerprints) are used: nothing the desk stored beside the log.  Each calendar
    given must have the fingerprint the log recorded, so newer holiday data never
    silently changes a past verdict.

    Args:
        entries: the log's entries in order (decoded mappings or canonical JSON bytes).
        calendars: calendar name -> calendar, as the desk was configured.

    Returns:
        One verdict per request and clock, ordered by request then clock.

    Raises:
        CalendarFingerprintError: a calendar the log names is missing or has another
            fingerprint than the one recorded (the error names the recorded one).
        CalendarError: the log's clock changes are incomplete.
    """
    return _replayed(entries, calendars).verdicts()


def attribute_breaches(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
    *,
    as_of: dt.datetime | None = None,
) -> list[BreachAttribution]:
    """Attribute each breached clock's running time to the units and officers holding it.

    The holder of a request is read from the log: the ``holder`` recorded when the clock
    started, then every ``unit`` / ``assigned_unit`` / ``assignee`` an entry or its data
    sets (disposisi, routing, assignment, an escalation's reassignment).  The officer of a
    stretch is the assignee, or when none is assigned, the actor of the committed action
    that ended the stretch.  Stretches are measured in working time on the clock's
    calendar, over the clock's running windows only (pauses count against no one).

    Args:
        entries: the log's entries in order.
        calendars: calendar name -> calendar, checked by fingerprint as in
            `recompute_verdicts`.
        as_of: where open clocks whose breach already fired are measured up to
            (default: the last entry's time).

    Returns:
        One attribution per breached clock (stopped breached, or open with a fired
        breach), ordered by request then clock.

    Raises:
        CalendarFingerprintError: a calendar is missing or has another fingerprint.
    """
    return _replayed(entries, calendars).breaches(as_of=as_of)


def replay_clocks(
    entries: Iterable[Mapping[str, Any] | bytes | str],
    calendars: Mapping[str, WorkCalendar],
    *,
    as_of: dt.datetime | None = None,
) -> ClockReplay:
    """Return `recompute_verdicts` and `attribute_breaches` of the log from one replay.

    Args:
        entries: the log's entries in order (decoded mappings or canonical JSON bytes).
        calendars: calendar name -> calendar, checked by fingerprint.
        as_of: where open breached clocks are measured up to (default: the last entry).

    Raises:
        CalendarFingerprintError: a calendar is missing or has another fingerprint.
        CalendarError: the log's clock changes are incomplete.
    """
    return _replayed(entries, calendars).result(as_of=as_of)
