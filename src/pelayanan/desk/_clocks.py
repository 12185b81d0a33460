"""The desk's SLA collaborator: clock engines, ``tick``, and the actions escalations take.

A `ClockEngine` per SOP version turns actions into clock changes (the request
collaborator writes them into the action's entry); `Clocks.tick` fires the warnings,
breaches and escalations that are due, one ``sla`` entry each, and takes the action an
escalation names as the system.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from pelayanan.access import SYSTEM, Actor
from pelayanan.audit import kinds
from pelayanan.calendar import WorkCalendar
from pelayanan.desk._recorder import Recorder, sop_entry_ref
from pelayanan.desk._result import ActionResult
from pelayanan.exceptions import (
    CalendarError,
    ConcurrentModificationError,
    RequestError,
    SOPDefinitionError,
    UnknownSOPError,
)
from pelayanan.sla import (
    ClockDef,
    ClockEngine,
    DueEvent,
    FiredEvent,
    check_clock_defs,
    event_body,
    next_due,
)
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry
from pelayanan.store.base import RequestRecord

__all__ = ["Act", "Clocks"]


class Act(Protocol):
    """The request operation an escalation's action goes through (`ServiceDesk.act`)."""

    def __call__(
        self,
        request_id: str,
        action: str,
        *,
        actor: Actor,
        justification: str | None = None,
        at: dt.datetime | None = None,
    ) -> ActionResult:
        """Take *action* on request *request_id* as *actor*, at *at* (default: now)."""


class Clocks:
    """Keep the SLA clock engines of a desk's SOPs and fire what falls due.

    Args:
        recorder: the desk's recorder.
        sops: the desk's SOPs; each one's clocks are checked now.
        calendars: working calendars by name.
        specs: clocks by SOP id, overriding the ones an SOP declares.

    Raises:
        SOPDefinitionError: a clock names an unknown action or state.
        CalendarError: a clock names a calendar the desk does not have.
    """

    def __init__(
        self,
        recorder: Recorder,
        sops: SOPRegistry,
        *,
        calendars: Mapping[str, WorkCalendar],
        specs: Mapping[str, Sequence[ClockDef]],
    ) -> None:
        self._recorder = recorder
        self._sops = sops
        self._calendars = calendars
        self._specs = {sop_id: tuple(defs) for sop_id, defs in specs.items()}
        self._engines: dict[tuple[str, str], ClockEngine] = {}
        for sop in sops:
            self.engine(sop)

    def engine(self, sop: SOP) -> ClockEngine:
        """Return the SLA clock engine of *sop*, checking its clocks once.

        Raises:
            SOPDefinitionError: a clock names an unknown action or state.
        """
        engine = self._engines.get(sop.key)
        if engine is None:
            # Clocks given to the desk for an SOP override the ones the SOP declares.
            specs = self._specs.get(sop.id, sop.clocks)
            problems = check_clock_defs(
                specs,
                states=[s.id for s in sop.states],
                actions=[a.name for a in sop.actions],
                source=sop.source,
            )
            if problems:
                raise SOPDefinitionError(problems)
            try:
                engine = ClockEngine(specs, calendars=self._calendars, unit=sop.unit)
            except CalendarError as exc:
                msg = (
                    f"SOP {sop.id!r} version {sop.version}: {exc}; pass it in the desk's "
                    "calendars, or name a calendar the desk has"
                )
                raise CalendarError(msg) from None
            self._engines[sop.key] = engine
        return engine

    def tick(self, at: dt.datetime, *, limit: int | None, act: Act) -> list[FiredEvent]:
        """Fire the events due at *at* (`ServiceDesk.tick`).

        Args:
            at: the instant to tick at.
            limit: at most this many due requests.
            act: the request operation an escalation's action goes through, so the
                system's action is authorized, guarded and recorded like anyone's.

        Returns:
            The events fired, in the order recorded.
        """
        fired: list[FiredEvent] = []
        for record, sop in self._due(at, limit):
            fired.extend(self._tick_request(record, sop, at, act))
        return fired

    def _due(self, at: dt.datetime, limit: int | None) -> Iterator[tuple[RequestRecord, SOP]]:
        for record in self._recorder.store.due_requests(at, limit=limit):
            if record.ledger != self._recorder.ledger:
                continue  # another desk's ledger ticks its own requests
            try:
                sop = self._sops.get(record.sop_id, record.sop_version)
            except UnknownSOPError:
                continue
            yield record, sop

    def _tick_request(
        self,
        record: RequestRecord,
        sop: SOP,
        now: dt.datetime,
        act: Act,
    ) -> list[FiredEvent]:
        """Fire *record*'s due events, one entry each, until none is due or a writer races."""
        engine = self.engine(sop)
        fired: list[FiredEvent] = []
        while True:
            clocks: Mapping[str, Any] = record.meta.get("sla", {})
            due = engine.due(clocks, now)
            if not due:
                return fired
            event = due[0]
            spec = engine.spec(event.clock)
            body = event_body(
                event, clocks, request=record.id, at=now, notify=spec.notify, unit=record.unit
            )
            body[kinds.SOP] = sop_entry_ref(sop)
            clocks = engine.fire(clocks, event)
            moved: Mapping[str, str] | None = body.get("reassign")
            updated = _after_event(record, clocks, moved, now)
            try:
                result = self._recorder.commit(
                    body, time=now, request=updated, expected_version=record.version
                )
            except ConcurrentModificationError:
                return fired  # another tick or an officer changed it first: theirs stands
            action: str | None = body.get("action")
            notify: list[str] = body.get("notify", [])
            fired.append(
                FiredEvent(
                    record.id,
                    event.clock,
                    event.event,
                    event.key,
                    event.due,
                    result.seq,
                    tuple(notify),
                    moved,
                    action,
                )
            )
            record = updated
            if action is not None:
                record = self._system_action(record, action, event, now, act)

    def _system_action(
        self,
        record: RequestRecord,
        action: str,
        event: DueEvent,
        at: dt.datetime,
        act: Act,
    ) -> RequestRecord:
        """Take an escalation's *action* as the system at *at*; return the request after."""
        # Only the tick that committed the escalation entry gets here, so the system acts
        # at most once; a refusal is recorded by act() like any other.  The action is
        # stamped with the escalation entry's time, so the log never goes back in time
        # and the clock it stops is judged at the instant the breach was seen.
        reason = f"SLA escalation: clock {event.clock!r} {event.key}"
        try:
            result = act(record.id, action, actor=SYSTEM, justification=reason, at=at)
        except RequestError:
            return self._recorder.store.get_request(record.id) or record
        return result.request


def _after_event(
    record: RequestRecord,
    clocks: Mapping[str, Any],
    moved: Mapping[str, str] | None,
    now: dt.datetime,
) -> RequestRecord:
    """Return *record* with its new clock state, and its new holder when reassigned."""
    meta: dict[str, Any] = {**record.meta, "sla": clocks}
    unit, assignee = record.unit, record.assignee
    if moved is not None:
        assignee = None
        if "unit" in moved:
            unit = moved["unit"]
        else:
            meta["assigned_role"] = moved["role"]
    return attrs.evolve(
        record,
        version=record.version + 1,
        meta=meta,
        unit=unit,
        assignee=assignee,
        next_due=next_due(clocks),
        updated_at=now,
    )
