"""Replay requests from verified entries: who held them, in which state, for how long.

`RequestFlow` is a `Fold` (see `pelayanan.reports.replay`): fed the verified entries in
log order, it follows every request through its SOP states and holders, measures each
stay in a state in *working* time on a `WorkCalendar`, and counts what the SLA and flow
report needs per group (service, unit, officer or region).  It reads only these fields:

``submit``
    ``request``, ``sop`` (id, version, hash), ``to``, ``data.region`` (a dotted
    Kemendagri-style code such as ``"32.73.01"``), ``data.unit``.
``action``
    ``request``, ``action``, ``actor``, ``from``, ``to``, ``data.assigned_unit``.
``routing`` / ``assignment`` / ``disposition``
    ``request``, ``unit``, ``officer`` (or ``assignee``), ``region``.
``bukan_wewenang``
    ``request`` (counted as a re-routing against the unit holding the request).
``refused``
    ``request``, ``sop``, ``reason.rule`` (else ``reason.error``).

Requests are holder-attributed: a stay in a state counts for the unit and officer who
held the request during it (the assigned officer, else the officer who took the request
out of that state); a request is *received* by the unit that held it at submission and
by each unit it is later moved into (once per unit; the total counts it once),
*closed* by the one holding it when it reached a final state, *open* for the one holding
it now.  Personal fields are never read.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import attrs

from pelayanan.audit.kinds import (
    ACTOR,
    ASSIGNED_UNIT,
    ASSIGNEE,
    ASSIGNMENT,
    BRANCH,
    DATA,
    ERROR,
    HOLDER,
    KIND,
    KIND_ACTION,
    KIND_ASSIGNMENT,
    KIND_BUKAN_WEWENANG,
    KIND_DISPOSITION,
    KIND_REFUSED,
    KIND_ROUTING,
    KIND_SUBMIT,
    KIND_SURVEY,
    OFFICER,
    REASON,
    REGION,
    REQUEST,
    RETURNED_TO,
    ROUTING,
    RULE,
    SEQ,
    SOP_HASH,
    SOP_ID,
    SOP_VERSION,
    TO,
    UNIT,
)
from pelayanan.audit.kinds import SOP as SOP_FIELD
from pelayanan.calendar import WorkCalendar, named_calendar
from pelayanan.exceptions import ReportError
from pelayanan.reports.replay import entry_time
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry

__all__ = ["DIMENSIONS", "PERIODS", "RequestFlow", "RequestTrack", "group_keys", "period_of"]

#: The dimensions a flow report can be grouped by.
DIMENSIONS = ("service", "unit", "officer", "region")
#: The period lengths of the time series.
PERIODS = ("week", "month")
#: The key used when a dimension has no value (unassigned officer, unknown region).
NONE_KEY = "-"
#: The kinds that move a request to another unit or officer.
_ROUTE_KINDS = frozenset({KIND_ROUTING, KIND_ASSIGNMENT, KIND_DISPOSITION})
#: Where the desk's own entries record the holder afterwards, in the order they apply:
#: an assignment's decision, a disposition's resulting holder, a return's destination.
_NESTED_HOLDERS = (ASSIGNMENT, HOLDER, RETURNED_TO)


def _holder_fields(entry: Mapping[str, Any]) -> tuple[Any, Any]:
    """Return the (unit, officer) an entry moves its request to, top level or nested."""
    unit = entry.get(UNIT)
    officer = entry.get(OFFICER, entry.get(ASSIGNEE))
    for key in _NESTED_HOLDERS:
        nested = entry.get(key)
        if isinstance(nested, Mapping) and isinstance(nested.get(UNIT), str):
            unit = nested[UNIT]
            officer = nested.get(OFFICER, nested.get(ASSIGNEE))
    return unit, officer


def region_prefixes(code: str | None) -> list[str]:
    """Return a dotted region code and its parents, widest first (``32``, ``32.73``, ...)."""
    if not code:
        return [NONE_KEY]
    parts = code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def group_keys(by: str | None, *, service: str, unit: str | None, officer: str | None,
               region: str | None) -> list[str]:  # fmt: skip
    """Return the groups a request (or one of its stays) counts for under dimension *by*."""
    if by is None:
        return []
    if by == "service":
        return [service]
    if by == "unit":
        return [unit or NONE_KEY]
    if by == "officer":
        return [officer or NONE_KEY]
    return region_prefixes(region)


def period_of(instant: dt.datetime, period: str, zone: dt.tzinfo) -> str:
    """Return the label of the period holding *instant* in *zone* (``2026-W28``, ``2026-07``)."""
    local = instant.astimezone(zone).date()
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


class RequestTrack:
    """The replayed life of one request (mutable while the replay runs)."""

    __slots__ = (
        "branches_started",
        "calendar",
        "closed_at",
        "closed_seq",
        "entered",
        "entered_at",
        "first_entered",
        "hidden",
        "id",
        "officer",
        "received",
        "received_seq",
        "region",
        "sop",
        "state",
        "unit",
        "units_received",
        "updated",
    )

    def __init__(
        self,
        request_id: str,
        sop: SOP,
        received: dt.datetime,
        seq: int,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.id = request_id
        self.sop = sop
        #: The calendar its stays are measured on (the SOP's main clock's).
        self.calendar = calendar
        #: Kept out of public feeds (its data holds a value the SOP marks sensitive).
        self.hidden = False
        self.received = received
        self.received_seq = seq
        self.state = sop.initial
        self.entered = received
        #: `WorkCalendar.working_position` of `entered`, set by the fold.
        self.entered_at: tuple[int, int] | None = None
        self.updated = received
        self.unit: str | None = sop.unit
        self.officer: str | None = None
        self.region: str | None = None
        self.closed_at: dt.datetime | None = None
        self.first_entered: dict[str, dt.datetime] = {}
        self.closed_seq: int | None = None
        #: The units this request arrived in (at submission or moved in), each counted once.
        self.units_received: set[str] = set()
        #: In a parallel state: branch -> working position when it started, until it ends.
        self.branches_started: dict[str, tuple[int, int]] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        """Return the fields in `__slots__` order, the tuple `__setstate__` takes.

        A saved report state holds every track: as a tuple they pickle in a third of the
        time of the default dict of slots (0.35 s to 0.12 s for the 19,500 tracks of a
        100,000-entry log; docs/performance.md).
        """
        fields: tuple[Any, ...] = _TRACK_FIELDS(self)
        return fields

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """Set the fields from `__getstate__`'s tuple."""
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    @property
    def closed(self) -> bool:
        """Say whether the request is in a final state."""
        return self.closed_at is not None

    def keys(self, by: str | None, officer: str | None = None) -> list[str]:
        """Return the groups this request counts for now under dimension *by*."""
        return group_keys(
            by,
            service=self.sop.id,
            unit=self.unit,
            officer=officer if officer is not None else self.officer,
            region=self.region,
        )


#: Every field of a `RequestTrack` in `__slots__` order, read as one tuple.
_TRACK_FIELDS = operator.attrgetter(*RequestTrack.__slots__)


class GroupCounts:
    """Counters of one group while the replay runs."""

    __slots__ = ("closed", "durations", "received", "refused", "reopened", "rerouted")

    def __init__(self) -> None:
        self.received = 0
        self.closed = 0
        self.reopened = 0
        self.rerouted = 0
        self.refused: Counter[str] = Counter()
        self.durations: dict[str, list[int]] = {}


def _registry(sops: SOPRegistry | Iterable[SOP]) -> SOPRegistry:
    return sops if isinstance(sops, SOPRegistry) else SOPRegistry(sops)


def _calendar_map(calendars: Mapping[str, WorkCalendar] | None) -> dict[str, WorkCalendar]:
    return dict(calendars or {})


def _check_by(_flow: object, _field: object, by: str | None) -> None:
    if by is not None and by not in DIMENSIONS:
        raise ReportError(f"cannot group by {by!r}; choose one of {', '.join(DIMENSIONS)}")


def _check_period(_flow: object, _field: object, period: str) -> None:
    if period not in PERIODS:
        raise ReportError(f"unknown period {period!r}; choose week or month")


@attrs.define(slots=False, eq=False, repr=False)
class RequestFlow:
    """Fold verified entries into request tracks and per-group flow counters.

    Args:
        sops: the SOP definitions the requests run under (every version the log names).
        calendar: the working calendar stays are measured on, unless the SOP's main clock
            (its first) names another.
        by: the dimension to group by (one of `DIMENSIONS`), or ``None`` for totals only.
        received_from: count only requests received on or after this date (calendar zone).
        received_to: count only requests received on or before this date.
        period: the length of the time-series periods (``"week"`` or ``"month"``).
        history: also keep, per request, when it first entered each state (for the
            at-risk forecast).
        until: ignore entries recorded after this instant (the state of things "at" it).
        calendars: calendars by the names clocks give: a request's stays are measured on
            the calendar of its SOP's main clock (``round-the-clock``, when not given, is
            the built-in round-the-clock calendar), so a 24-hour service shows real time.

    Raises:
        ReportError: an unknown dimension or period.
    """

    # The fields in the order the replay state has always held them.
    sops: SOPRegistry = attrs.field(converter=_registry)
    calendar: WorkCalendar
    by: str | None = attrs.field(default=None, kw_only=True, validator=_check_by)
    received_from: dt.date | None = attrs.field(default=None, kw_only=True)
    received_to: dt.date | None = attrs.field(default=None, kw_only=True)
    period: str = attrs.field(default="week", kw_only=True, validator=_check_period)
    history: bool = attrs.field(default=False, kw_only=True)
    until: dt.datetime | None = attrs.field(default=None, kw_only=True)
    tracks: dict[str, RequestTrack] = attrs.field(init=False, factory=dict)
    total: GroupCounts = attrs.field(init=False, factory=GroupCounts)
    groups: dict[str, GroupCounts] = attrs.field(init=False, factory=dict)
    periods: dict[str, Counter[str]] = attrs.field(init=False, factory=dict)
    sop_versions: set[tuple[str, str, str]] = attrs.field(init=False, factory=set)
    last_time: dt.datetime | None = attrs.field(init=False, default=None)
    _skipped: set[str] = attrs.field(init=False, factory=set)
    _zone: dt.tzinfo = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.calendar.zone, takes_self=True)
    )
    _calendars: dict[str, WorkCalendar] = attrs.field(
        default=None, kw_only=True, converter=_calendar_map
    )
    _stay_calendars: dict[tuple[str, str], WorkCalendar] = attrs.field(init=False, factory=dict)

    def stay_calendar(self, sop: SOP) -> WorkCalendar:
        """Return the calendar *sop*'s stays are measured on: its main clock's.

        The main clock is the SOP's first; without clocks, or when its calendar is not
        known, the report's calendar.
        """
        key = (sop.id, sop.version)
        found = self._stay_calendars.get(key)
        if found is None:
            name = sop.clocks[0].calendar if sop.clocks else None
            found = named_calendar(name, self._calendars, self.calendar)
            self._stay_calendars[key] = found
        return found

    @property
    def skipped(self) -> AbstractSet[str]:
        """Return the requests received outside the window (not followed, never counted)."""
        return self._skipped

    def calendars_in_use(self) -> list[WorkCalendar]:
        """Return the report's calendar and those the stays met so far are measured on."""
        return [self.calendar, *self._stay_calendars.values()]

    # -- the fold -------------------------------------------------------------------------

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry."""
        kind = entry[KIND]
        now = entry_time(entry)
        if self.until is not None and now > self.until:
            return
        self.last_time = now
        if kind == KIND_SURVEY:
            return  # a survey response moves no request
        request_id = entry.get(REQUEST)
        if kind == KIND_SUBMIT:
            self._submit(entry, now)
            return
        if not isinstance(request_id, str) or request_id in self._skipped:
            if kind == KIND_REFUSED and request_id not in self._skipped:
                self._refused(entry, None, now)
            return
        track = self.tracks.get(request_id)
        if kind == KIND_REFUSED:
            self._refused(entry, track, now)
            return
        if track is None:
            return
        if kind == KIND_ACTION:
            self._action(entry, track, now)
        elif kind in _ROUTE_KINDS:
            self._route(entry, track)
        elif kind == KIND_BUKAN_WEWENANG:
            for counts in self._counts(track.keys(self.by)):
                counts.rerouted += 1
            self._route(entry, track)
        elif isinstance(entry.get(RETURNED_TO), Mapping):
            self._route(entry, track)

    def _counts(self, keys: list[str]) -> list[GroupCounts]:
        found = [self.total]
        groups = self.groups
        for key in keys:
            counts = groups.get(key)
            if counts is None:
                counts = groups[key] = GroupCounts()
            found.append(counts)
        return found

    def _sop(self, ref: Any, seq: int) -> SOP:
        if not isinstance(ref, Mapping):
            raise ReportError(f"entry {seq} names no SOP")
        sop_id, version, digest = ref.get(SOP_ID), ref.get(SOP_VERSION), ref.get(SOP_HASH)
        try:
            sop = self.sops.get(str(sop_id), str(version))
        except LookupError:
            raise ReportError(
                f"entry {seq}: the log uses SOP {sop_id} version {version}, which was not "
                "given to the report; pass its file with --sop"
            ) from None
        if sop.content_hash != digest:
            raise ReportError(
                f"entry {seq}: SOP {sop_id} version {version} given to the report has hash "
                f"{sop.content_hash[:12]}..., the log recorded {str(digest)[:12]}...; pass the "
                "exact SOP file the requests ran under"
            )
        self.sop_versions.add((sop.id, sop.version, sop.content_hash))
        return sop

    def _in_window(self, now: dt.datetime) -> bool:
        day = now.astimezone(self._zone).date()
        if self.received_from is not None and day < self.received_from:
            return False
        return self.received_to is None or day <= self.received_to

    def _submit(self, entry: Mapping[str, Any], now: dt.datetime) -> None:
        request_id = entry[REQUEST]
        if not self._in_window(now):
            self._skipped.add(request_id)
            return
        sop = self._sop(entry.get(SOP_FIELD), entry[SEQ])
        track = RequestTrack(request_id, sop, now, entry[SEQ], self.stay_calendar(sop))
        data = entry.get(DATA)
        if isinstance(data, Mapping):
            track.hidden = sop.privacy.excluded_from_public(data)
            region = data.get(REGION)
            if isinstance(region, str) and region:
                track.region = region
            unit = data.get(UNIT)
            if isinstance(unit, str) and unit:
                track.unit = unit
        track.state = entry.get(TO) or sop.initial
        if self.history:
            track.first_entered[track.state] = now
        self.tracks[request_id] = track
        if track.unit is not None:
            track.units_received.add(track.unit)
        for counts in self._counts(track.keys(self.by)):
            counts.received += 1
        label = period_of(now, self.period, self._zone)
        self.periods.setdefault(label, Counter())["received"] += 1
        if sop.state(track.state).final:
            self._close(track, now, entry[SEQ])

    def _stay(self, track: RequestTrack, now: dt.datetime, leaver: str | None) -> None:
        # Each instant's working position is computed once: the end of this stay is the
        # start of the next.  Estimated holiday dates are stated once in the report basis.
        calendar = track.calendar or self.calendar
        position = calendar.working_position(now)
        entered = track.entered_at
        if entered is None:
            entered = calendar.working_position(track.entered)
        # Whole seconds, rounded toward zero (as `seconds` does for a timedelta).
        worked = int(calendar.working_us_between(entered, position) / 1_000_000)
        track.entered_at = position
        officer = track.officer or leaver
        state = track.state
        for counts in self._counts(track.keys(self.by, officer)):
            durations = counts.durations.get(state)
            if durations is None:
                counts.durations[state] = [worked]
            else:
                durations.append(worked)

    def _action(self, entry: Mapping[str, Any], track: RequestTrack, now: dt.datetime) -> None:
        target = entry.get(TO)
        if not isinstance(target, str):
            return
        actor = entry.get(ACTOR)
        officer = actor if isinstance(actor, str) else None
        branch = entry.get(BRANCH)
        if isinstance(branch, Mapping):
            self._branch(track, branch, now, officer)
        if target == track.state and not track.closed:
            # A self-loop, or a branch move inside a parallel state, continues the stay.
            self._route_data(entry, track)
            self._dispatched(entry, track)
            track.updated = now
            return
        self._stay(track, now, officer)
        track.branches_started = {}
        parallel = track.sop.parallel_state(target)
        if parallel is not None:
            position = (track.calendar or self.calendar).working_position(now)
            track.branches_started = {b.name: position for b in parallel.branches}
        self._dispatched(entry, track)
        sop = track.sop
        was_final = track.closed
        self._route_data(entry, track)
        track.state = target
        track.entered = now  # entered_at was set to its working position by _stay
        track.updated = now
        if self.history and target not in track.first_entered:
            track.first_entered[target] = now
        final = sop.state(target).final
        if was_final and not final:
            track.closed_at = None
            track.closed_seq = None
            for counts in self._counts(track.keys(self.by)):
                counts.reopened += 1
        elif final and not was_final:
            self._close(track, now, entry[SEQ])

    def _dispatched(self, entry: Mapping[str, Any], track: RequestTrack) -> None:
        """Follow an action that routed the request (its SOP action's ``route``)."""
        routed = entry.get(ROUTING)
        if not isinstance(routed, Mapping) or not isinstance(routed.get(UNIT), str):
            return
        if routed[UNIT] != track.unit:
            self._move(track, routed[UNIT])
        assigned = entry.get(ASSIGNMENT)
        if isinstance(assigned, Mapping) and isinstance(assigned.get(ASSIGNEE), str):
            track.officer = assigned[ASSIGNEE]

    def _branch(
        self,
        track: RequestTrack,
        branch: Mapping[str, Any],
        now: dt.datetime,
        officer: str | None,
    ) -> None:
        """Record the time a parallel branch took when an action ends it.

        The stage is named ``<parallel state>.<branch>``; it runs from the request's entry
        into the parallel state to the action that reaches one of the branch's final states.
        """
        name, reached = branch.get("name"), branch.get("to")
        started = track.branches_started.get(str(name))
        if started is None or not isinstance(reached, str):
            return
        try:
            final = track.sop.state(reached).final
        except LookupError:
            return
        if not final:
            return
        calendar = track.calendar or self.calendar
        worked = int(calendar.working_us_between(started, calendar.working_position(now)) / 1e6)
        del track.branches_started[str(name)]
        stage = f"{track.state}.{name}"
        for counts in self._counts(track.keys(self.by, track.officer or officer)):
            counts.durations.setdefault(stage, []).append(worked)

    def _route_data(self, entry: Mapping[str, Any], track: RequestTrack) -> None:
        """Move the request when an action's data names another assigned unit.

        Data that marks the request sensitive keeps it out of public feeds from then on.
        """
        data = entry.get(DATA)
        if isinstance(data, Mapping):
            track.hidden = track.hidden or track.sop.privacy.excluded_from_public(data)
            unit = data.get(ASSIGNED_UNIT)
            if isinstance(unit, str) and unit and unit != track.unit:
                self._move(track, unit)

    def _move(self, track: RequestTrack, unit: str) -> None:
        """Hand the request to another unit; the first arrival there counts as received.

        Only the unit's own group counts it: the total and the service and region groups
        counted the request once, at submission.
        """
        track.unit = unit
        track.officer = None
        if self.by == "unit" and unit not in track.units_received:
            counts = self.groups.get(unit)
            if counts is None:
                counts = self.groups[unit] = GroupCounts()
            counts.received += 1
        track.units_received.add(unit)

    def _close(self, track: RequestTrack, now: dt.datetime, seq: int) -> None:
        track.closed_at = now
        track.closed_seq = seq
        for counts in self._counts(track.keys(self.by)):
            counts.closed += 1
        label = period_of(now, self.period, self._zone)
        self.periods.setdefault(label, Counter())["closed"] += 1

    def _route(self, entry: Mapping[str, Any], track: RequestTrack) -> None:
        unit, officer = _holder_fields(entry)
        if isinstance(unit, str) and unit and unit != track.unit:
            self._move(track, unit)
        if isinstance(officer, str) and officer:
            track.officer = officer
        region = entry.get(REGION)
        if isinstance(region, str) and region:
            track.region = region

    def _refused(
        self, entry: Mapping[str, Any], track: RequestTrack | None, now: dt.datetime
    ) -> None:
        reason = entry.get(REASON)
        key = "unknown"
        if isinstance(reason, Mapping):
            key = str(reason.get(RULE) or reason.get(ERROR) or "unknown")
        if track is not None:
            keys = track.keys(self.by)
        else:
            if not self._in_window(now):
                return
            ref = entry.get(SOP_FIELD)
            service = str(ref.get(SOP_ID)) if isinstance(ref, Mapping) else NONE_KEY
            keys = group_keys(self.by, service=service, unit=None, officer=None, region=None)
        for counts in self._counts(keys):
            counts.refused[key] += 1
