"""The SLA and flow report: compliance, stage times, backlog, breach attribution.

Built from a `RequestFlow` replay of the verified log and, for SLA clocks, from the
per-request clock verdicts (`pelayanan.sla.ClockVerdict`) and breach attributions
(`pelayanan.sla.BreachAttribution`) that the SLA module recomputes from the same
entries (`pelayanan.reports.clocks`).  The report never re-derives a verdict: met,
breached, running and paused are taken as given, and rolled up per group together with
the breach attribution (which unit and officer held a breached request, and for how long
in working time).

Definitions (also in ``docs/reports.md``):

* *received*, *closed*, *open*: requests received in the window; closed = reached a
  final state (and was not re-opened since); open = not closed at the report instant.
* *stage durations*: each completed stay in a state, in working seconds on the report's
  calendar; median and p90 are nearest-rank (always an observed value); states are listed
  in workflow order (as a request meets them), not alphabetically.
* *backlog by age*: open requests by whole calendar days since receipt.
* *re-opened*: actions leaving a final state; *re-routed*: ``bukan_wewenang`` entries.
* *refused attempts*: ``refused`` entries by ``reason.rule`` (else ``reason.error``).
* *compliance*: ``met / (met + breached)`` of the clocks, as a percentage with 2
  decimals rounded half up; running and paused clocks are counted, not judged, and
  those whose deadline has passed at the report instant are also counted as *overdue*.
* *breach attribution*: for each breached clock (stopped breached, or still open with
  its breach fired), the working time each unit and officer held the request while the
  clock ran.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from pelayanan.reports._stats import DurationStats, duration_stats, format_seconds, percent, seconds
from pelayanan.reports.flow import GroupCounts, RequestFlow, RequestTrack, group_keys, period_of
from pelayanan.reports.replay import ReportBasis
from pelayanan.reports.wording import workflow_order
from pelayanan.sla import BreachAttribution, ClockVerdict, Holding
from pelayanan.sop.model import AGENCY

__all__ = [
    "BACKLOG_BUCKETS",
    "VERDICT_STATUSES",
    "AttributionRow",
    "ClockFigures",
    "ClockVerdict",
    "GroupFigures",
    "Holding",
    "BreachAttribution",
    "PeriodFigures",
    "SLAReport",
    "SettledFigures",
    "Share",
    "build_sla_report",
    "share_of",
]

#: The verdict a clock can have, as the SLA module states it.
VERDICT_STATUSES = ("met", "breached", "running", "paused")
#: Backlog age buckets: label, first day, last day (``None``: no upper bound).
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2 d", 0, 2),
    ("3-5 d", 3, 5),
    ("6-10 d", 6, 10),
    ("11-20 d", 11, 20),
    ("21+ d", 21, None),
)


@attrs.frozen
class ClockFigures:
    """Compliance of one clock within a group.

    Attributes:
        clock: the clock name.
        met: clocks stopped within their target.
        breached: clocks stopped past it.
        running: clocks running at the report instant.
        paused: clocks paused at the report instant.
        overrun_s: total overrun of the breached ones, in the clocks' measure (seconds).
        overdue: running or paused clocks whose deadline is before the report instant.
    """

    clock: str
    met: int
    breached: int
    running: int
    paused: int
    overrun_s: int
    overdue: int = 0

    @property
    def compliance(self) -> str | None:
        """Return ``met / (met + breached)`` in percent (2 decimals), or ``None``."""
        return percent(self.met, self.met + self.breached)

    @property
    def compliance_with_overdue(self) -> str | None:
        """Return ``met / (met + breached + overdue)`` in percent (2 decimals), or ``None``.

        Overdue clocks still run past their deadline: they are breached so far, so this is
        the figure to read next to a backlog; `compliance` covers concluded clocks only.
        """
        return percent(self.met, self.met + self.breached + self.overdue)

    def to_json_dict(self) -> dict[str, object]:
        """Return the figures as JSON-ready data."""
        return {
            "clock": self.clock,
            "met": self.met,
            "breached": self.breached,
            "running": self.running,
            "paused": self.paused,
            "compliance": self.compliance,
            "compliance_with_overdue": self.compliance_with_overdue,
            "overrun_s": self.overrun_s,
            "overdue": self.overdue,
        }


@attrs.frozen
class GroupFigures:
    """The flow and SLA figures of one group (or of all requests)."""

    key: str
    received: int
    closed: int
    open: int
    reopened: int
    rerouted: int
    refused: tuple[tuple[str, int], ...]
    stages: tuple[tuple[str, DurationStats], ...]
    backlog: tuple[tuple[str, int], ...]
    clocks: tuple[ClockFigures, ...]
    breaches_held: int
    breach_held_s: int

    def to_json_dict(self) -> dict[str, object]:
        """Return the figures as JSON-ready data."""
        return {
            "key": self.key,
            "received": self.received,
            "closed": self.closed,
            "open": self.open,
            "reopened": self.reopened,
            "rerouted": self.rerouted,
            "refused": dict(self.refused),
            "stages": {state: stats.to_json_dict() for state, stats in self.stages},
            "backlog": dict(self.backlog),
            "clocks": [c.to_json_dict() for c in self.clocks],
            "breaches_held": self.breaches_held,
            "breach_held_s": self.breach_held_s,
        }


@attrs.frozen
class PeriodFigures:
    """One period of the time series (by receipt for clocks, by event for counts)."""

    period: str
    received: int
    closed: int
    met: int
    breached: int

    @property
    def compliance(self) -> str | None:
        """Return the period's compliance in percent, or ``None`` when nothing concluded."""
        return percent(self.met, self.met + self.breached)

    def to_json_dict(self) -> dict[str, object]:
        """Return the figures as JSON-ready data."""
        return {**attrs.asdict(self, recurse=False), "compliance": self.compliance}


@attrs.frozen
class AttributionRow:
    """Breach attribution: one unit and officer, the breached clocks they held, how long.

    Attributes:
        unit: the unit (``-`` when unknown).
        officer: the officer (``-`` when unknown).
        breached: breached clocks this unit and officer held while they ran.
        open: how many of those are still running (breach fired, not stopped).
        held_s: working seconds held, over those clocks.
    """

    unit: str
    officer: str
    breached: int
    held_s: int
    open: int = 0

    def to_json_dict(self) -> dict[str, object]:
        """Return the row as JSON-ready data."""
        return attrs.asdict(self, recurse=False)


@attrs.frozen
class SLAReport:
    """The SLA and flow report of a verified log.

    Attributes:
        basis: what it was computed from (checkpoint, calendar, rule versions).
        by: the grouping dimension, or ``None``.
        received_from: the first receipt date counted, if limited.
        received_to: the last receipt date counted, if limited.
        as_of: the instant open requests are aged at (the last replayed entry by default).
        total: the figures over all counted requests.
        groups: the figures per group, sorted by key.
        periods: the time series, sorted by period.
        attribution: breach attribution per unit and officer, most breaches first.
        verdict_source: where the clock verdicts came from.
    """

    basis: ReportBasis
    by: str | None
    received_from: dt.date | None
    received_to: dt.date | None
    as_of: dt.datetime | None
    total: GroupFigures
    groups: tuple[GroupFigures, ...]
    periods: tuple[PeriodFigures, ...]
    attribution: tuple[AttributionRow, ...]
    verdict_source: str

    def to_json_dict(self) -> dict[str, object]:
        """Return the whole report as JSON-ready data (keys sorted on output)."""
        return {
            "report": "sla",
            "basis": self.basis.to_json_dict(),
            "by": self.by,
            "from": None if self.received_from is None else self.received_from.isoformat(),
            "to": None if self.received_to is None else self.received_to.isoformat(),
            "as_of": None if self.as_of is None else self.as_of.astimezone(dt.UTC).isoformat(),
            "verdict_source": self.verdict_source,
            "total": self.total.to_json_dict(),
            "groups": [g.to_json_dict() for g in self.groups],
            "periods": [p.to_json_dict() for p in self.periods],
            "attribution": [a.to_json_dict() for a in self.attribution],
        }

    def render_json(self) -> str:
        """Render as JSON text (sorted keys, 2-space indent, trailing newline)."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def render_csv(self) -> str:
        """Render as CSV rows ``section,group,item,metric,value`` (a long, tidy table)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "group", "item", "metric", "value"])
        for key, raw in self.basis.to_json_dict().items():
            value = json.dumps(raw, sort_keys=True) if isinstance(raw, dict | list) else raw
            writer.writerow(["basis", "", "", key, "" if value is None else value])
        for group in (self.total, *self.groups):
            writer.writerows(_group_csv_rows("*" if group is self.total else group.key, group))
        for period in self.periods:
            for metric, value in period.to_json_dict().items():
                if metric != "period":
                    writer.writerow(["period", "*", period.period, metric, _cell(value)])
        for row in self.attribution:
            item = f"{row.unit}/{row.officer}"
            writer.writerow(["attribution", "*", item, "breached", row.breached])
            writer.writerow(["attribution", "*", item, "open", row.open])
            writer.writerow(["attribution", "*", item, "held_s", row.held_s])
        return out.getvalue()

    def render_text(self) -> str:
        """Render as a plain-text report for a terminal (trailing newline included)."""
        lines = ["SLA and flow report", *self.basis.render_lines()]
        window = (
            f"received {self.received_from or '...'} to {self.received_to or '...'}"
            if self.received_from or self.received_to
            else "all requests"
        )
        as_of = "-" if self.as_of is None else self.as_of.astimezone(dt.UTC).isoformat()
        lines.append(f"window: {window}; open requests aged at {as_of}")
        lines.append(f"clock verdicts: {self.verdict_source}")
        lines.append("")
        lines.extend(_group_lines("all requests", self.total))
        for group in self.groups:
            lines.append("")
            lines.extend(_group_lines(f"{self.by} {group.key}", group))
        if self.periods:
            lines.extend(["", "per period      received  closed  met  breached  compliance"])
            lines.extend(
                f"  {p.period:<13} {p.received:>8}  {p.closed:>6}  {p.met:>3}  {p.breached:>8}"
                f"  {_pct(p.compliance):>10}"
                for p in self.periods
            )
        if self.attribution:
            lines.extend(
                ["", "breach attribution (unit / officer: breached clocks held, time held)"]
            )
            lines.extend(
                f"  {a.unit} / {a.officer}: {a.breached}"
                + (f" ({a.open} still open)" if a.open else "")
                + f", {format_seconds(a.held_s)}"
                for a in self.attribution
            )
        return "\n".join(lines) + "\n"


def _cell(value: object) -> object:
    return "" if value is None else value


def _pct(value: str | None) -> str:
    return "-" if value is None else f"{value}%"


def _group_lines(title: str, group: GroupFigures) -> list[str]:
    lines = [
        (
            f"{title}: received {group.received}, closed {group.closed}, open {group.open}, "
            f"re-opened {group.reopened}, re-routed {group.rerouted}"
        )
    ]
    lines.extend(
        f"  clock {clock.clock}: compliance {_pct(clock.compliance)}"
        + (
            f" of concluded, {_pct(clock.compliance_with_overdue)} counting overdue as breached"
            if clock.overdue
            else ""
        )
        + f" (met {clock.met}, "
        f"breached {clock.breached}, running {clock.running}, paused {clock.paused}"
        + (f"; overdue {clock.overdue}" if clock.overdue else "")
        + ")"
        for clock in group.clocks
    )
    if group.breaches_held:
        lines.append(
            f"  held breached clocks: {group.breaches_held}, "
            f"for {format_seconds(group.breach_held_s)} of working time"
        )
    if group.stages:
        lines.append("  time in state (working): state  n  median  p90  max")
        lines.extend(
            f"    {state}  {s.count}  {format_seconds(s.median)}  {format_seconds(s.p90)}  "
            f"{format_seconds(s.max)}"
            for state, s in group.stages
        )
    if any(count for _, count in group.backlog):
        lines.append(
            "  backlog by age: " + ", ".join(f"{label} {count}" for label, count in group.backlog)
        )
    if group.refused:
        lines.append(
            "  refused attempts: "
            + ", ".join(f"{reason} {count}" for reason, count in group.refused)
        )
    return lines


def _bucket(days: int) -> str:
    for label, first, last in BACKLOG_BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    return BACKLOG_BUCKETS[0][0]


class _GroupSLA:
    def __init__(self) -> None:
        self.clocks: dict[str, Counter[str]] = {}
        self.open = 0
        self.backlog: Counter[str] = Counter()
        self.breached: set[tuple[str, str]] = set()
        #: Breached clocks of settled requests (each request's own, so none is in both).
        self.settled_breached = 0
        self.held = 0


class _SLAGroups:
    """The SLA sums of the whole report and of each group, created on first use."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.total = _GroupSLA()
        self.groups: dict[str, _GroupSLA] = {key: _GroupSLA() for key in keys}

    def of(self, keys: list[str]) -> list[_GroupSLA]:
        """Return the sums a request with group *keys* adds to, the total first."""
        found = [self.total]
        for key in keys:
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _GroupSLA()
            found.append(group)
        return found

    def one(self, key: str | None) -> _GroupSLA:
        """Return the sums of group *key* (``None``: the total), created on first use."""
        return self.total if key is None else self.of([key])[1]


class _Row:
    """One unit and officer's breach attribution while it is summed."""

    __slots__ = ("breached", "held", "settled", "settled_open", "still_open")

    def __init__(self) -> None:
        self.breached: set[tuple[str, str]] = set()
        self.still_open: set[tuple[str, str]] = set()
        self.held = 0
        #: Breached clocks (and of them, still open) of settled requests.
        self.settled = 0
        self.settled_open = 0


_Attribution = dict[tuple[str, str], _Row]

#: A settled request's share of the report: the (what it adds to, how much) pairs, and
#: the instants the report instant is compared with (see `SettledFigures`).
Share = tuple[tuple[tuple[tuple[Any, ...], int], ...], tuple[tuple[tuple[Any, ...], int], ...]]

_MICROSECOND = dt.timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _us(instant: dt.datetime) -> int:
    """Return an instant as whole microseconds since 1970 (exact, unlike `timestamp`)."""
    return (instant - _EPOCH) // _MICROSECOND


@attrs.define
class SettledFigures:
    """The SLA sums of *settled* requests, whose share only a later entry can change.

    A request is settled when no clock of it has a fired breach still running (see
    `pelayanan.reports.settled`): then its verdicts, breach attribution and groups are
    fixed until an entry names it again, and the report instant changes only its age in
    the backlog and whether a running clock is overdue.  A saved report state keeps the
    share instead of the request.  `sums` maps what a share adds to onto how much:

    * ``("G", group)``, ``("C", group, clock)``, ``("P", period)``, ``("A", unit,
      officer)``: how many settled requests made that group, clock row, period or
      attribution row exist (a row with no request left disappears, as in a full
      replay);
    * ``("c", group, clock, status_or_overrun)``, ``("b", group)`` (breached clocks
      held), ``("h", group)`` (working seconds held), ``("p", period, status)``,
      ``("a", unit, officer, "n" | "open" | "held")``: the amounts.

    `instants` holds, sorted, the receipt instants of the open ones under ``("r",
    group)`` (the backlog by age) and the deadlines of their running and paused agency
    clocks under ``("d", group, clock)`` (overdue: before the report instant), in
    microseconds since 1970.  The group ``None`` is the total.

    Attributes:
        sums: the sums over every settled request.
        instants: the sorted instants of the open ones.
    """

    sums: Counter[tuple[Any, ...]] = attrs.field(factory=Counter)
    instants: dict[tuple[Any, ...], list[int]] = attrs.field(factory=dict)

    def add(self, share: Share) -> None:
        """Add one request's share."""
        amounts, instants = share
        sums = self.sums
        for key, amount in amounts:
            sums[key] += amount
        for key, instant in instants:
            bisect.insort(self.instants.setdefault(key, []), instant)

    def take_back(self, share: Share) -> None:
        """Subtract a share `add` took (the request is named again)."""
        amounts, instants = share
        sums = self.sums
        for key, amount in amounts:
            left = sums[key] - amount
            if left:
                sums[key] = left
            else:
                del sums[key]
        for key, instant in instants:
            found = self.instants[key]
            del found[bisect.bisect_left(found, instant)]
            if not found:
                del self.instants[key]

    def _merge(self, sums: _SLAGroups, period_sla: dict[str, Counter[str]],
               attribution: _Attribution, when: dt.datetime | None) -> None:  # fmt: skip
        """Add the settled sums to a report's live ones, the open ones judged at *when*."""
        self._merge_sums(sums, period_sla, attribution)
        now = None if when is None else _us(when)
        for key, instants in self.instants.items():
            group = sums.one(key[1])
            if key[0] == "r":
                group.open += len(instants)
                for label, count in _ages(instants, now):
                    group.backlog[label] += count
            elif now is not None:
                group.clocks[key[2]]["overdue"] += bisect.bisect_left(instants, now)

    def _merge_sums(self, sums: _SLAGroups, period_sla: dict[str, Counter[str]],
                    attribution: _Attribution) -> None:  # fmt: skip
        for key, amount in self.sums.items():
            kind = key[0]
            if kind == "G":
                sums.one(key[1])
            elif kind == "C":
                sums.one(key[1]).clocks.setdefault(key[2], Counter())
            elif kind == "c":
                sums.one(key[1]).clocks.setdefault(key[2], Counter())[key[3]] += amount
            elif kind == "b":
                sums.one(key[1]).settled_breached += amount
            elif kind == "h":
                sums.one(key[1]).held += amount
            elif kind in ("P", "p"):
                counter = period_sla.setdefault(key[1], Counter())
                if kind == "p":
                    counter[key[2]] += amount
            else:
                row = attribution.setdefault((key[1], key[2]), _Row())
                _add_settled(row, key, amount)


def _ages(received: list[int], now: int | None) -> Iterator[tuple[str, int]]:
    """Count sorted receipt instants by backlog bucket of their age at *now* (as `_bucket`)."""
    if now is None:
        yield BACKLOG_BUCKETS[0][0], len(received)
        return
    for label, first, last in BACKLOG_BUCKETS:
        # Whole days of age = floor((now - r) / day), counted from 0 (a later r is 0 days).
        upto = len(received) if first == 0 else bisect.bisect_right(received, now - first * _DAY_US)
        older = 0 if last is None else bisect.bisect_right(received, now - (last + 1) * _DAY_US)
        if upto > older:
            yield label, upto - older


def _add_settled(row: _Row, key: tuple[Any, ...], amount: int) -> None:
    """Add an ``("a", ...)`` amount of `SettledFigures` to an attribution row."""
    if key[0] == "A":
        return
    metric = key[3]
    if metric == "n":
        row.settled += amount
    elif metric == "open":
        row.settled_open += amount
    else:
        row.held += amount


def share_of(
    flow: RequestFlow,
    track: RequestTrack,
    verdicts: Iterable[ClockVerdict],
    breaches: Iterable[BreachAttribution],
) -> Share:
    """Return one settled request's share of the report (see `SettledFigures`).

    Args:
        flow: the replay, still holding the request's track.
        track: the request's track.
        verdicts: the request's clock verdicts (none with an open breach).
        breaches: the request's breach attributions (stopped clocks only).

    Returns:
        The (key, amount) pairs and the (key, instant) pairs; counted by the same code
        as a full report, but for the report instant.
    """
    sums = _SLAGroups(())
    verdicts = list(verdicts)
    period_sla = _count_verdicts(flow, verdicts, None, sums)
    attribution = _attribute_breaches(flow, breaches, sums)
    instants: list[tuple[tuple[Any, ...], int]] = []
    if not track.closed:
        groups = track.keys(flow.by)
        sums.of(groups)  # the groups an open request makes exist, as `_count_backlog`
        keys: list[str | None] = [None, *groups]
        instants.extend((("r", key), _us(track.received)) for key in keys)
        instants.extend(
            (("d", key, verdict.clock), _us(verdict.deadline))
            for verdict in verdicts
            if verdict.measures == AGENCY and verdict.status in ("running", "paused")
            for key in keys
        )
    found: Counter[tuple[Any, ...]] = Counter()
    for key, group in [(None, sums.total), *sums.groups.items()]:
        if key is not None:
            found["G", key] = 1
        for clock, counter in group.clocks.items():
            found["C", key, clock] = 1
            found.update({("c", key, clock, m): n for m, n in counter.items() if n})
        found["b", key] = len(group.breached)
        found["h", key] = group.held
    for label, counter in period_sla.items():
        found["P", label] = 1
        found.update({("p", label, status): n for status, n in counter.items() if n})
    for (unit, officer), row in attribution.items():
        found["A", unit, officer] = 1
        found["a", unit, officer, "n"] = len(row.breached)
        found["a", unit, officer, "open"] = len(row.still_open)
        found["a", unit, officer, "held"] = row.held
    return tuple((key, n) for key, n in found.items() if n), tuple(instants)


def build_sla_report(
    flow: RequestFlow,
    basis: ReportBasis,
    *,
    verdicts: Iterable[ClockVerdict] = (),
    breaches: Iterable[BreachAttribution] = (),
    verdict_source: str = "none: no clock verdicts were given",
    as_of: dt.datetime | None = None,
    settled: SettledFigures | None = None,
) -> SLAReport:
    """Build the SLA and flow report from a finished replay.

    Args:
        flow: the replay, fed with the whole verified log (or the part up to a checkpoint).
        basis: the basis the report states.
        verdicts: the clock verdicts recomputed from the same entries
            (`pelayanan.sla.recompute_verdicts`).
        breaches: the breach attribution recomputed from the same entries
            (`pelayanan.sla.attribute_breaches`).
        verdict_source: a short statement of where *verdicts* came from.
        as_of: the instant open requests are aged at; defaults to the basis's instant
            (the newest checkpoint's time), else the last replayed entry.
        settled: the sums of the requests a saved state settled (they are in neither
            *flow* nor *verdicts* nor *breaches*; see `pelayanan.reports.settled`).

    Returns:
        The report.
    """
    when = next((t for t in (as_of, basis.at, flow.last_time) if t is not None), None)
    order = workflow_order(flow.sops)
    sums = _SLAGroups(flow.groups)
    _count_backlog(flow, when, sums)
    period_sla = _count_verdicts(flow, verdicts, when, sums)
    attribution = _attribute_breaches(flow, breaches, sums)
    if settled is not None:
        settled._merge(sums, period_sla, attribution, when)
    periods = tuple(
        PeriodFigures(
            label,
            flow.periods.get(label, Counter())["received"],
            flow.periods.get(label, Counter())["closed"],
            period_sla.get(label, Counter())["met"],
            period_sla.get(label, Counter())["breached"],
        )
        for label in sorted(set(flow.periods) | set(period_sla))
    )
    rows = sorted(
        (
            AttributionRow(
                unit,
                officer,
                len(row.breached) + row.settled,
                row.held,
                len(row.still_open) + row.settled_open,
            )
            for (unit, officer), row in attribution.items()
        ),
        key=lambda r: (-r.breached, -r.held_s, r.unit, r.officer),
    )
    return SLAReport(
        basis=basis,
        by=flow.by,
        received_from=flow.received_from,
        received_to=flow.received_to,
        as_of=when,
        total=_figures("*", flow.total, sums.total, order),
        groups=tuple(
            _figures(key, flow.groups.get(key), sums.groups[key], order)
            for key in sorted(sums.groups)
        ),
        periods=periods,
        attribution=tuple(rows),
        verdict_source=verdict_source,
    )


def _count_backlog(flow: RequestFlow, when: dt.datetime | None, sums: _SLAGroups) -> None:
    """Count the open requests of each group by age in calendar days at *when*."""
    for track in flow.tracks.values():
        if track.closed:
            continue
        days = 0 if when is None else max(0, (when - track.received).days)
        for group in sums.of(track.keys(flow.by)):
            group.open += 1
            group.backlog[_bucket(days)] += 1


def _count_verdicts(
    flow: RequestFlow,
    verdicts: Iterable[ClockVerdict],
    when: dt.datetime | None,
    sums: _SLAGroups,
) -> dict[str, Counter[str]]:
    """Add each verdict to its request's groups; return the verdict counts per period."""
    # Every figure is a sum, so the order verdicts come in does not matter; a request's
    # verdicts usually come together, and share its groups and period.
    zone = flow.calendar.zone
    period_sla: dict[str, Counter[str]] = {}
    last_request: str | None = None
    found: RequestTrack | None = None
    found_groups: list[_GroupSLA] = []
    label = ""
    for verdict in verdicts:
        if verdict.measures != AGENCY:
            continue  # an applicant's or third party's time is not the service's
        if verdict.request != last_request:
            last_request = verdict.request
            found = flow.tracks.get(verdict.request)
            if found is not None:
                found_groups = sums.of(found.keys(flow.by))
                label = period_of(found.received, flow.period, zone)
        if found is None:
            continue  # outside the window, or not in the replayed part of the log
        status = verdict.status
        overdue = status in ("running", "paused") and when is not None and verdict.deadline < when
        overrun = seconds(verdict.overrun) if verdict.overrun else 0
        for group in found_groups:
            counter = group.clocks.get(verdict.clock)
            if counter is None:
                counter = group.clocks[verdict.clock] = Counter()
            counter[status] += 1
            if overrun:
                counter["overrun"] += overrun
            if overdue:
                counter["overdue"] += 1
        period_sla.setdefault(label, Counter())[status] += 1
    return period_sla


def _attribute_breaches(
    flow: RequestFlow, breaches: Iterable[BreachAttribution], sums: _SLAGroups
) -> _Attribution:
    """Add each breach holding to its groups; return the holdings per unit and officer."""
    attribution: _Attribution = {}
    for breach in breaches:
        held_by = flow.tracks.get(breach.request)
        if held_by is None:
            continue
        ident = (breach.request, breach.clock)
        for holding in breach.holdings:
            held = seconds(holding.working_time)
            keys = group_keys(
                flow.by,
                service=held_by.sop.id,
                unit=holding.unit,
                officer=holding.officer,
                region=held_by.region,
            )
            for group in sums.of(keys):
                group.breached.add(ident)
                group.held += held
            row = attribution.setdefault((holding.unit or "-", holding.officer or "-"), _Row())
            row.breached.add(ident)
            if breach.open:
                row.still_open.add(ident)
            row.held += held
    return attribution


def _figures(
    key: str, counts: GroupCounts | None, sla: _GroupSLA, order: Mapping[str, int]
) -> GroupFigures:
    """Combine a group's flow counts and SLA sums into its report figures.

    Stages are listed in workflow order (*order*, see `workflow_order`), unknown ones last.
    """
    counts = counts if counts is not None else GroupCounts()
    last = len(order)
    return GroupFigures(
        key=key,
        received=counts.received,
        closed=counts.closed,
        open=sla.open,
        reopened=counts.reopened,
        rerouted=counts.rerouted,
        refused=tuple(sorted(counts.refused.items())),
        stages=tuple(
            (state, duration_stats(counts.durations[state]))
            for state in sorted(counts.durations, key=lambda s: (order.get(s, last), s))
        ),
        backlog=tuple((label, sla.backlog[label]) for label, _, _ in BACKLOG_BUCKETS),
        clocks=tuple(
            ClockFigures(
                name, c["met"], c["breached"], c["running"], c["paused"], c["overrun"], c["overdue"]
            )
            for name, c in sorted(sla.clocks.items())
        ),
        breaches_held=len(sla.breached) + sla.settled_breached,
        breach_held_s=sla.held,
    )


def _group_csv_rows(name: str, group: GroupFigures) -> Iterator[list[object]]:
    """Yield the CSV rows of one group's figures (see `SLAReport.render_csv`)."""
    for metric in ("received", "closed", "open", "reopened", "rerouted"):
        yield ["flow", name, "", metric, getattr(group, metric)]
    for reason, count in group.refused:
        yield ["refused", name, reason, "count", count]
    for state, stats in group.stages:
        for metric, value in stats.to_json_dict().items():
            yield ["stage", name, state, metric, value]
    for bucket, count in group.backlog:
        yield ["backlog", name, bucket, "open", count]
    for clock in group.clocks:
        for metric, cell in clock.to_json_dict().items():
            if metric != "clock":
                yield ["clock", name, clock.clock, metric, _cell(cell)]
    yield ["breach", name, "", "breaches_held", group.breaches_held]
    yield ["breach", name, "", "breach_held_s", group.breach_held_s]


def verdicts_by_request(verdicts: Iterable[ClockVerdict]) -> Mapping[str, list[ClockVerdict]]:
    """Group verdicts by request id (in clock-name order)."""
    found: dict[str, list[ClockVerdict]] = {}
    for verdict in sorted(verdicts, key=lambda v: (v.request, v.clock)):
        found.setdefault(verdict.request, []).append(verdict)
    return found
