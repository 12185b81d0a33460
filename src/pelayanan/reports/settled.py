"""Settled requests: what a saved SLA report state keeps of a request at rest.

A request adds the same to the SLA report, whatever the report instant, except for its
age in the backlog and whether its running clocks are overdue, unless a clock of it has
a fired breach and still runs (its attribution grows with the instant).  Only a later
entry naming it (an action, a routing, a refused attempt, a privacy operation) can
change its share otherwise.  So a state need not carry every request as objects to be
unpickled, replayed and summed again at every refresh:

* `SettledRequests.settle` (called before a state is saved) takes each such request out
  of the `RequestFlow` and the `ClockLogFold`, adds its share (`share_of`, counted by the
  same code as the full report) to `SettledFigures` with its receipt time and running
  clocks' deadlines when it is open, and keeps the request itself as bytes
  (`pelayanan.reports.state.pack`);
* as a fold fed *before* the flow and clock folds, it puts a request back (its share
  taken back out of the sums, its track and clocks unpickled) as soon as an entry names
  it, so the other folds see it exactly as a full replay would;
* `build_sla_report(..., settled=settled.figures)` adds the sums to the live requests',
  judging the open settled ones at the report instant.

A refresh then pays for the new entries and the requests they name, not for the whole
history (docs/performance.md, "Incremental reports").  The report's bytes are those of a
full replay: a property test settles and resumes at random points of random logs.

Only the SLA report's figures are settled: the at-risk forecast, the quality index and
the head of unit's summary read every past request, and their states keep them whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pelayanan.audit.kinds import REQUEST
from pelayanan.calendar import WorkCalendar
from pelayanan.reports.clocks import ClockLogFold
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.sla_report import SettledFigures, Share, share_of
from pelayanan.reports.state import pack, unpack
from pelayanan.sop import SOP

__all__ = ["SettledRequests"]

#: The share of a request the report does not count (received outside its window).
_NOTHING: Share = ((), ())


class SettledRequests:
    """The settled requests of a replay into *flow* and *clocks* (a fold; feed it first).

    Args:
        flow: the request flow fold of the SLA report.
        clocks: the clock fold fed the same entries.

    Attributes:
        figures: the SLA sums of the settled requests (for `build_sla_report`).
    """

    def __init__(self, flow: RequestFlow, clocks: ClockLogFold) -> None:
        self.flow = flow
        self.clocks = clocks
        self.figures = SettledFigures()
        # request -> its track, its clocks as the replayer held them, and its share.
        self._kept: dict[str, bytes] = {}

    def __len__(self) -> int:
        """Return how many requests are settled."""
        return len(self._kept)

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Put back the request an entry names, if it is settled (before the folds see it).

        Raises:
            ReportStateError: the kept request cannot be read back (a state whose tag
                checked: a bug, or a forged state).
        """
        request = entry.get(REQUEST)
        if type(request) is str and request in self._kept:
            self._put_back(request)

    def settle(self) -> int:
        """Settle every request at rest (see `ClockReplayer.steady`); return how many.

        The flow and clock folds then hold only the other requests, and `figures` the
        settled ones' sums.  A clock fold that met a malformed change (its `error` is
        set) settles nothing: the report will fail the same way a full replay does.
        """
        flow, replayer = self.flow, self.clocks.replayer
        if self.clocks.error is not None:
            return 0
        done = [request for request in flow.tracks if replayer.steady(request)]
        for request in done:
            verdicts, breaches = replayer.outcomes_of(request)
            share = share_of(flow, flow.tracks[request], verdicts, breaches)
            track = flow.tracks.pop(request)
            self._kept[request] = pack((track, replayer.take_out(request), share))
            self.figures.add(share)
        # A request received outside the report's window counts for nothing; its clocks
        # are kept aside all the same (a narrow --from would otherwise leave them all).
        outside = [
            request
            for request in flow.skipped
            if request not in self._kept and replayer.steady(request)
        ]
        for request in outside:
            self._kept[request] = pack((None, replayer.take_out(request), _NOTHING))
        return len(done) + len(outside)

    def _put_back(self, request: str) -> None:
        track, taken, share = unpack(self._kept.pop(request), self._references())
        if track is not None:
            self.flow.tracks[request] = track
        self.clocks.replayer.put_back(request, taken)
        self.figures.take_back(share)

    def _references(self) -> list[WorkCalendar | SOP]:
        """Return the calendars and SOPs a kept request may name (this run's own)."""
        return [
            *self.flow.calendars_in_use(),
            *self.clocks.replayer.checked_calendars(),
            *self.flow.sops,
        ]
