"""At risk: open requests likely to breach, so an operations room can act before it.

For every running SLA clock of an open request at an instant *at*:

* **remaining** = working time from *at* to the clock's deadline, on the report calendar;
* **expected** = how long the request's remaining steps took before: over the requests
  of the same SOP that entered the same state and then reached a final state (in the same
  verified log, before *at*), the working time from entering that state to the final
  state, median and p90 (nearest rank), minus the working time this request has already
  spent in the state (never below zero).

A clock is **likely** to breach when the expected median exceeds the remaining time,
**possible** when only the p90 does.  Requests whose state has fewer than
``min_samples`` past examples are listed apart (no history to judge by).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings

import attrs

from pelayanan.exceptions import EstimatedDateWarning, ReportError
from pelayanan.reports._stats import format_seconds, percentile, seconds
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.replay import ReportBasis
from pelayanan.reports.sla_report import ClockVerdict

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
        expected_s: expected working seconds still needed (history median minus in_state).
        expected_p90_s: the same from the history p90.
        samples: how many past requests the history holds for this state.
        risk: ``likely`` or ``possible``.
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
    risk: str
    reason: str

    def to_json_dict(self) -> dict[str, object]:
        """Return the item as JSON-ready data."""
        return {
            "request": self.request,
            "service": self.service,
            "state": self.state,
            "unit": self.unit,
            "officer": self.officer,
            "clock": self.clock,
            "deadline": self.deadline.astimezone(dt.UTC).isoformat(),
            "remaining_s": self.remaining_s,
            "in_state_s": self.in_state_s,
            "expected_s": self.expected_s,
            "expected_p90_s": self.expected_p90_s,
            "samples": self.samples,
            "risk": self.risk,
            "reason": self.reason,
        }


@attrs.frozen
class AtRiskReport:
    """The open requests likely to breach at an instant.

    Attributes:
        basis: what it was computed from.
        at: the instant judged.
        considered: how many running clocks of open requests were judged.
        items: the clocks at risk, least slack first.
        without_history: ``(request, state)`` of running clocks with too little history.
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


def remaining_step_history(flow: RequestFlow) -> dict[tuple[str, str], list[int]]:
    """Return, per (SOP id, state), the working seconds past requests took from entering
    that state to reaching a final state (sorted ascending).

    Args:
        flow: a replay made with ``history=True``.

    Raises:
        ReportError: the replay kept no history.
    """
    if not flow.history:
        raise ReportError("the replay kept no state history; build RequestFlow(history=True)")
    found: dict[tuple[str, str], list[int]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimatedDateWarning)
        for track in flow.tracks.values():
            if track.closed_at is None:
                continue
            for state, entered in track.first_entered.items():
                if track.sop.state(state).final:
                    continue
                worked = seconds(flow.calendar.elapsed(entered, track.closed_at))
                found.setdefault((track.sop.id, state), []).append(worked)
    for values in found.values():
        values.sort()
    return found


def build_at_risk(
    flow: RequestFlow,
    basis: ReportBasis,
    *,
    verdicts: list[ClockVerdict],
    at: dt.datetime | None = None,
    min_samples: int = 3,
    verdict_source: str = "none: no clock verdicts were given",
) -> AtRiskReport:
    """Judge every running clock of the open requests against history.

    Args:
        flow: a replay made with ``history=True`` (and ``until=at`` when *at* is earlier
            than the end of the log).
        basis: the basis the report states.
        verdicts: the clock verdicts at *at*; only ``running`` ones with a deadline count.
        at: the instant judged; defaults to the last replayed entry.
        min_samples: the number of past requests needed to judge a state.
        verdict_source: a short statement of where *verdicts* came from.

    Returns:
        The report.

    Raises:
        ReportError: no instant to judge (empty log and no *at*), or a naive *at*.
    """
    when = at if at is not None else flow.last_time
    if when is None:
        raise ReportError("the log is empty; give --at to judge an instant")
    if when.tzinfo is None:
        raise ReportError("the instant to judge must carry a time zone offset")
    history = remaining_step_history(flow)
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
                or verdict.deadline is None
            ):
                continue
            considered += 1
            past = history.get((track.sop.id, track.state), [])
            if len(past) < min_samples:
                without.append((track.id, track.state))
                continue
            remaining = seconds(calendar.elapsed(when, verdict.deadline))
            in_state = max(0, seconds(calendar.elapsed(track.entered, when)))
            median = max(0, percentile(past, 50) - in_state)
            p90 = max(0, percentile(past, 90) - in_state)
            if median > remaining:
                risk = "likely"
            elif p90 > remaining:
                risk = "possible"
            else:
                continue
            local = verdict.deadline.astimezone(calendar.zone).isoformat(timespec="minutes")
            reason = (
                f"needs about {format_seconds(median)} more (p90 {format_seconds(p90)}; "
                f"{len(past)} past requests from '{track.state}' to a final state, "
                f"{format_seconds(in_state)} already spent here) but "
                f"{format_seconds(remaining)} of working time remain before the deadline {local}"
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
