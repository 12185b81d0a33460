"""At risk: open requests likely to breach, so an operations room can act before it.

For every running SLA clock of an open request at an instant *at* (the clock verdicts
recomputed by the SLA module from the log up to *at*):

* **remaining** = working time from *at* to the clock's deadline, on the report calendar;
* **history** = over the past requests of the same SOP whose same clock stopped (in the
  same verified log, before *at*) after they entered the request's current state, the
  working time from first entering that state to the clock's stop;
* **expected** = the time the remaining steps still take, given the time this request
  has already spent in the state (*in state*): over the past requests that took at least
  *in state*, their time minus *in state*; median and p90 (nearest rank).

A clock is **overdue** when its deadline has already passed (its breach is due or
fired), **likely** to breach when the expected median exceeds the remaining time,
**possible** when only the p90 does, and **stalled** when the request has been in its
state longer than any past request took to the stop (history cannot say how much more).
Clocks whose state has fewer than ``min_samples`` past examples are listed apart (no
history to judge by).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Iterable

import attrs

from pelayanan.exceptions import EstimatedDateWarning, ReportError
from pelayanan.reports._stats import format_seconds, percentile, seconds
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.replay import ReportBasis
from pelayanan.sla import ClockVerdict
from pelayanan.sop.model import AGENCY

__all__ = ["AtRiskItem", "AtRiskReport", "build_at_risk", "remaining_step_history"]


@attrs.frozen
class AtRiskItem:
    """One running clock of an open request, judged against history.

    Attributes:
        request: the request id.
        service: its SOP id.
        state: its current state.
        unit: the unit holding it.
        officer: the officer assigned, if any.
        clock: the clock name.
        deadline: the clock's deadline.
        remaining_s: working seconds from the instant to the deadline (negative: overdue).
        in_state_s: working seconds already spent in the current state.
        expected_s: expected working seconds still needed (median, given in_state); 0
            when overdue or stalled.
        expected_p90_s: the same at the p90.
        samples: how many past requests the history holds for this state.
        longer: how many of those took at least *in_state_s* to the clock's stop (the
            ones the expected times are drawn from); 0 when overdue or stalled.
        risk: ``overdue``, ``likely``, ``possible`` or ``stalled``.
        reason: the reason in words.
    """

    request: str
    service: str
    state: str
    unit: str | None
    officer: str | None
    clock: str
    deadline: dt.datetime
    remaining_s: int
    in_state_s: int
    expected_s: int
    expected_p90_s: int
    samples: int
    longer: int
    risk: str
    reason: str

    def to_json_dict(self) -> dict[str, object]:
        """Return the item as JSON-ready data (the deadline in UTC)."""
        fields = attrs.asdict(self, recurse=False)
        fields["deadline"] = self.deadline.astimezone(dt.UTC).isoformat()
        return fields


@attrs.frozen
class AtRiskReport:
    """The open requests likely to breach at an instant.

    Attributes:
        basis: what it was computed from.
        at: the instant judged.
        considered: how many running clocks of open requests were judged.
        items: the clocks at risk, least slack first.
        without_history: ``(request, state)`` of running clocks with too little history
            (an overdue clock is listed as overdue, never here).
        min_samples: the history needed to judge.
        verdict_source: where the clock verdicts came from.
    """

    basis: ReportBasis
    at: dt.datetime
    considered: int
    items: tuple[AtRiskItem, ...]
    without_history: tuple[tuple[str, str], ...]
    min_samples: int
    verdict_source: str

    def to_json_dict(self) -> dict[str, object]:
        """Return the report as JSON-ready data."""
        return {
            "report": "at-risk",
            "basis": self.basis.to_json_dict(),
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "verdict_source": self.verdict_source,
            "considered": self.considered,
            "min_samples": self.min_samples,
            "items": [item.to_json_dict() for item in self.items],
            "without_history": [
                {"request": request, "state": state} for request, state in self.without_history
            ],
        }

    def render_json(self) -> str:
        """Render as JSON text (sorted keys, trailing newline)."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def render_text(self) -> str:
        """Render as plain text for an operations room (trailing newline included)."""
        lines = ["At-risk requests", *self.basis.render_lines()]
        lines.append(
            f"at {self.at.astimezone(dt.UTC).isoformat()}: {self.considered} running clocks "
            f"judged, {len(self.items)} at risk; clock verdicts: {self.verdict_source}"
        )
        lines.extend(
            f"  {item.risk.upper():<8} {item.request} [{item.service}/{item.state}] "
            f"clock {item.clock}, unit {item.unit or '-'}, officer {item.officer or '-'}: "
            f"{item.reason}"
            for item in self.items
        )
        if self.without_history:
            lines.append(
                f"not judged (fewer than {self.min_samples} past requests from their state): "
                + ", ".join(f"{r} ({s})" for r, s in self.without_history)
            )
        return "\n".join(lines) + "\n"


def remaining_step_history(
    flow: RequestFlow, verdicts: Iterable[ClockVerdict]
) -> dict[tuple[str, str, str], list[int]]:
    """Return, per (SOP id, clock, state), the working seconds past requests took from
    first entering that state to the clock's stop (sorted ascending).

    Only clocks that stopped (met or breached) after the request entered the state
    count: the time the remaining steps of that clock actually took.

    Args:
        flow: a replay made with ``history=True``.
        verdicts: the clock verdicts of the same replay.

    Raises:
        ReportError: the replay kept no history.
    """
    if not flow.history:
        raise ReportError("the replay kept no state history; build RequestFlow(history=True)")
    found: dict[tuple[str, str, str], list[int]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimatedDateWarning)
        for verdict in verdicts:
            track = flow.tracks.get(verdict.request)
            stopped = verdict.finished_at
            if track is None or stopped is None:
                continue
            for state, entered in track.first_entered.items():
                if entered > stopped or track.sop.state(state).final:
                    continue
                worked = seconds(flow.calendar.elapsed(entered, stopped))
                found.setdefault((track.sop.id, verdict.clock, state), []).append(worked)
    for values in found.values():
        values.sort()
    return found


def build_at_risk(
    flow: RequestFlow,
    basis: ReportBasis,
    *,
    verdicts: Iterable[ClockVerdict],
    at: dt.datetime | None = None,
    min_samples: int = 3,
    verdict_source: str = "none: no clock verdicts were given",
) -> AtRiskReport:
    """Judge every running clock of the open requests against history.

    Args:
        flow: a replay made with ``history=True`` (and ``until=at`` when *at* is earlier
            than the end of the log).
        basis: the basis the report states.
        verdicts: the clock verdicts at *at* (`pelayanan.sla.recompute_verdicts` of the
            log up to *at*); ``running`` ones are judged, stopped ones give the history.
        at: the instant judged; defaults to the basis's instant (the newest
            checkpoint's time), else the last replayed entry.
        min_samples: the number of past requests needed to judge a state.
        verdict_source: a short statement of where *verdicts* came from.

    Returns:
        The report.

    Raises:
        ReportError: no instant to judge (empty log and no *at*), or a naive *at*.
    """
    when = next((t for t in (at, basis.at, flow.last_time) if t is not None), None)
    if when is None:
        raise ReportError("the log is empty; give --at to judge an instant")
    if when.tzinfo is None:
        raise ReportError("the instant to judge must carry a time zone offset")
    verdicts = list(verdicts)
    history = remaining_step_history(flow, verdicts)
    items: list[AtRiskItem] = []
    without: list[tuple[str, str]] = []
    considered = 0
    calendar = flow.calendar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimatedDateWarning)
        for verdict in sorted(verdicts, key=lambda v: (v.request, v.clock)):
            track = flow.tracks.get(verdict.request)
            if (
                track is None
                or track.closed
                or verdict.status != "running"
                or verdict.measures != AGENCY
            ):
                continue
            considered += 1
            past = history.get((track.sop.id, verdict.clock, track.state), [])
            in_state = max(0, seconds(calendar.elapsed(track.entered, when)))
            local = verdict.deadline.astimezone(calendar.zone).isoformat(timespec="minutes")
            longer: list[int] = []
            if verdict.deadline < when:
                # Past the deadline the clock is breached already: no forecast needed.
                overdue = seconds(calendar.elapsed(verdict.deadline, when))
                remaining, median, p90, risk = -overdue, 0, 0, "overdue"
                reason = (
                    f"the deadline {local} has passed: {format_seconds(overdue)} of working "
                    f"time overdue, {format_seconds(in_state)} in '{track.state}'"
                )
            elif len(past) < min_samples:
                without.append((track.id, track.state))
                continue
            else:
                remaining = seconds(calendar.elapsed(when, verdict.deadline))
                # Condition on the time already spent: only past requests that were still
                # short of the stop after as long in this state tell how much more it takes.
                longer = [value - in_state for value in past if value >= in_state]
                if not longer:
                    median = p90 = 0
                    risk = "stalled"
                    reason = (
                        f"{format_seconds(in_state)} in '{track.state}' already, longer than "
                        f"any of the {len(past)} past requests took from there to the stop of "
                        f"clock {verdict.clock} (no history to say how much more); "
                        f"{format_seconds(remaining)} of working time remain before the "
                        f"deadline {local}"
                    )
                else:
                    median, p90 = percentile(longer, 50), percentile(longer, 90)
                    if median > remaining:
                        risk = "likely"
                    elif p90 > remaining:
                        risk = "possible"
                    else:
                        continue
                    reason = (
                        f"needs about {format_seconds(median)} more (p90 "
                        f"{format_seconds(p90)}; {len(longer)} of {len(past)} past requests "
                        f"from '{track.state}' to the stop of clock {verdict.clock} were still "
                        f"running after {format_seconds(in_state)}, as long as this one has "
                        f"been here) but {format_seconds(remaining)} of working time remain "
                        f"before the deadline {local}"
                    )
            items.append(
                AtRiskItem(
                    request=track.id,
                    service=track.sop.id,
                    state=track.state,
                    unit=track.unit,
                    officer=track.officer,
                    clock=verdict.clock,
                    deadline=verdict.deadline,
                    remaining_s=remaining,
                    in_state_s=in_state,
                    expected_s=median,
                    expected_p90_s=p90,
                    samples=len(past),
                    longer=len(longer),
                    risk=risk,
                    reason=reason,
                )
            )
    items.sort(key=lambda i: (i.remaining_s - i.expected_s, i.request, i.clock))
    return AtRiskReport(
        basis=basis,
        at=when,
        considered=considered,
        items=tuple(items),
        without_history=tuple(without),
        min_samples=min_samples,
        verdict_source=verdict_source,
    )
