"""Reports replayed from hand-built verified logs: each figure pinned, tampering refused."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import GENESIS_PREV, encode_entry, format_time
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.merkle import CompactRange
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.exceptions import (
    CalendarError,
    CalendarFingerprintError,
    ChainError,
    MerkleRootError,
    ReportError,
    SequenceError,
    VerificationError,
)
from pelayanan.reports._stats import percentile
from pelayanan.reports.at_risk import build_at_risk
from pelayanan.reports.clocks import ClockLogFold, ClockOutcomes, clock_outcomes
from pelayanan.reports.flow import RequestFlow, region_prefixes
from pelayanan.reports.ikm import compute_ikm
from pelayanan.reports.open311 import OPEN311_FIELDS, open311_requests, render_open311
from pelayanan.reports.quality import QualityConfig, build_quality_index
from pelayanan.reports.readable import render_at_risk_text
from pelayanan.reports.replay import LogBasis, ReportBasis, replay_verified
from pelayanan.reports.sla_report import build_sla_report
from pelayanan.reports.survey import SurveyFold
from pelayanan.reports.wording import Wording
from pelayanan.sla import (
    BreachAttribution,
    ClockVerdict,
    Holding,
    attribute_breaches,
    recompute_verdicts,
)
from pelayanan.sla import replay_clocks as replay_clocks_of
from pelayanan.sop import SOP

WIB = ZoneInfo("Asia/Jakarta")
LEDGER = "uji"
CAL = indonesian_government_calendar()


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Return July *day* 2026 at hour:minute WIB."""
    return dt.datetime(2026, 7, day, hour, minute, tzinfo=WIB)


def build_log(
    bodies: Sequence[Mapping[str, Any]], key: SigningKey
) -> tuple[list[tuple[int, bytes]], list[str]]:
    """Chain *bodies* into a ledger by hand, with a signed checkpoint per entry."""
    entries: list[tuple[int, bytes]] = []
    notes: list[str] = []
    prev = GENESIS_PREV
    tree = CompactRange()
    for seq, body in enumerate(bodies):
        data, digest = encode_entry(body, ledger=LEDGER, seq=seq, prev=prev)
        tree.append(digest)
        prev = digest.hex()
        entries.append((seq, data))
        when = dt.datetime.fromisoformat(body["time"].replace("Z", "+00:00"))
        notes.append(Checkpoint(LEDGER, seq + 1, tree.root(), when).sign(key).to_text())
    return entries, notes


class LogBuilder:
    """Write entry bodies the way the desk does, without a desk."""

    def __init__(self, sop: SOP) -> None:
        self.sop = sop
        self.bodies: list[dict[str, Any]] = []

    @property
    def ref(self) -> dict[str, str]:
        return {"id": self.sop.id, "version": self.sop.version, "hash": self.sop.content_hash}

    def submit(self, request: str, when: dt.datetime, **data: Any) -> None:
        self.bodies.append(
            {
                "time": format_time(when),
                "kind": "submit",
                "request": request,
                "sop": self.ref,
                "action": "submit",
                "actor": "warga",
                "role": "citizen",
                "from": None,
                "to": "received",
                "data": {"subject": "Jalan rusak", "category": "infrastruktur", **data},
            }
        )

    def act(
        self, request: str, when: dt.datetime, action: str, source: str, target: str,
        actor: str = "ver-1", **data: Any,
    ) -> None:  # fmt: skip
        self.bodies.append(
            {
                "time": format_time(when),
                "kind": "action",
                "request": request,
                "sop": self.ref,
                "action": action,
                "actor": actor,
                "role": "x",
                "from": source,
                "to": target,
                "data": data,
            }
        )

    def add(self, when: dt.datetime, kind: str, **fields: Any) -> None:
        self.bodies.append({"time": format_time(when), "kind": kind, **fields})

    def close_path(self, request: str, day: int, unit: str = "dinas-pu") -> None:
        """verify 10:00, dispatch 11:00, follow up 14:00, close 15:00 on *day*."""
        self.act(request, at(day, 10), "verify", "received", "verified")
        self.act(request, at(day, 11), "dispatch", "verified", "dispatched", "kepala",
                 assigned_unit=unit)  # fmt: skip
        self.act(request, at(day, 14), "follow_up", "dispatched", "followed_up", "petugas-1",
                 follow_up_note="ok")  # fmt: skip
        self.act(request, at(day, 15), "close", "followed_up", "closed", "kepala")


def replay(
    builder: LogBuilder, key: SigningKey, *, by: str | None = None, history: bool = False,
    **kwargs: Any,
) -> tuple[RequestFlow, ReportBasis]:  # fmt: skip
    entries, notes = build_log(builder.bodies, key)
    flow = RequestFlow([builder.sop], CAL, by=by, history=history, **kwargs)
    log = replay_verified(LEDGER, entries, notes, [key.verifier], [flow])
    return flow, ReportBasis.for_log(log, CAL, rules={})


@pytest.fixture
def small(complaint_sop: SOP) -> LogBuilder:
    """Three requests: A closed on Monday, B dispatched to dinas-lh, C only received."""
    b = LogBuilder(complaint_sop)
    b.submit("A", at(6, 8), region="32.73.01")
    b.submit("B", at(6, 9), region="32.73.02")
    b.close_path("A", 6)
    b.act("B", at(7, 9), "verify", "received", "verified")
    b.add(at(7, 9, 30), "refused", request="B", sop=b.ref, action="dispatch", actor="ver-1",
          reason={"error": "PermissionDeniedError", "message": "m", "rule": "role"})  # fmt: skip
    b.act("B", at(7, 10), "dispatch", "verified", "dispatched", "kepala", assigned_unit="dinas-lh")
    b.add(at(7, 11), "bukan_wewenang", request="B", unit="dinas-lh")
    b.add(at(7, 11, 30), "routing", request="B", unit="dinas-pu", officer="petugas-9",
          region="32.73.05")  # fmt: skip
    b.submit("C", at(8, 8), region="32.73.01")
    b.add(at(8, 9), "refused", request="Z", sop=None, action="verify", actor="ver-1",
          reason={"error": "UnknownRequestError", "message": "m"})  # fmt: skip
    return b


class TestReplay:
    def test_basis_states_checkpoint(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """The basis names the ledger, size, root, calendar fingerprint and rules."""
        entries, notes = build_log(small.bodies, ledger_key)
        log = replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [])
        assert log.size == len(small.bodies)
        assert log.root == SignedCheckpoint.parse(notes[-1]).checkpoint.root.hex()
        basis = ReportBasis.for_log(log, CAL, rules={"x": "1"}).to_json_dict()
        assert basis["calendar"] == CAL.fingerprint
        assert basis["rules"] == {"report": "1", "x": "1"}

    def test_tampered_entry_refused(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """An entry edited after signing stops the replay with a verification error."""
        entries, notes = build_log(small.bodies, ledger_key)
        seq, data = entries[3]
        entries[3] = (seq, data.replace(b'"actor":"', b'"actor":"X', 1))
        with pytest.raises(VerificationError) as info:
            replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [])
        assert info.value.seq == 3

    def test_removed_entry_refused(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """A missing entry is refused (sequence gap)."""
        entries, notes = build_log(small.bodies, ledger_key)
        del entries[2]
        with pytest.raises(SequenceError):
            replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [])

    def test_untrusted_key_refused(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Checkpoints signed by a key the auditor does not trust are refused."""
        from pelayanan.audit.keys import generate_key_pair

        entries, notes = build_log(small.bodies, ledger_key)
        with pytest.raises(VerificationError):
            replay_verified(LEDGER, entries, notes, [generate_key_pair().verifier], [])

    def test_at_checkpoint_replays_prefix(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Replaying up to a saved checkpoint feeds exactly its entries."""
        entries, notes = build_log(small.bodies, ledger_key)
        saved = SignedCheckpoint.parse(notes[5])
        survey = SurveyFold()
        seen: list[int] = []

        class Seqs:
            def feed(self, entry: Mapping[str, Any]) -> None:
                seen.append(entry["seq"])

        log = replay_verified(
            LEDGER, entries, notes, [ledger_key.verifier], [Seqs(), survey], at=saved
        )
        assert seen == list(range(6))
        assert (log.size, log.root) == (6, saved.checkpoint.root.hex())

    def test_at_checkpoint_rewritten_prefix_refused(
        self, small: LogBuilder, ledger_key: SigningKey
    ) -> None:
        """A checkpoint whose root the log no longer has is refused."""
        entries, notes = build_log(small.bodies, ledger_key)
        other = LogBuilder(small.sop)
        other.submit("Q", at(6, 8))
        other.submit("R", at(6, 9))
        _, other_notes = build_log(other.bodies, ledger_key)
        with pytest.raises((MerkleRootError, ChainError)):
            replay_verified(
                LEDGER,
                entries,
                notes,
                [ledger_key.verifier],
                [],
                at=SignedCheckpoint.parse(other_notes[1]),
            )

    def test_empty_log(self, ledger_key: SigningKey) -> None:
        """An empty ledger replays to size 0 with no times."""
        with pytest.raises(VerificationError):
            # No checkpoint at all is fine for an empty log, but no key is not.
            replay_verified(LEDGER, [], [], [], [])
        log = replay_verified(LEDGER, [], [], [ledger_key.verifier], [])
        assert log == LogBasis(LEDGER, 0, log.root, None, None)


class TestFlow:
    def test_counts(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Received, closed, open, re-routed and refused attempts are counted."""
        flow, basis = replay(small, ledger_key)
        report = build_sla_report(flow, basis)
        total = report.total
        assert (total.received, total.closed, total.open) == (3, 1, 2)
        assert total.rerouted == 1
        assert total.reopened == 0
        assert dict(total.refused) == {"UnknownRequestError": 1, "role": 1}

    def test_stage_durations_in_working_time(
        self, small: LogBuilder, ledger_key: SigningKey
    ) -> None:
        """Stays are measured on the calendar: breaks and nights do not count."""
        flow, basis = replay(small, ledger_key)
        stages = dict(build_sla_report(flow, basis).total.stages)
        # A: received 08:00-10:00 (2 h); B: Mon 09:00 -> Tue 09:00 = 3+3+1.5 h.
        assert stages["received"].count == 2
        assert stages["received"].median == 2 * 3600
        assert stages["received"].max == int(7.5 * 3600)
        # A: dispatched 11:00 -> 14:00 over the 12:00-13:00 break = 2 h.
        assert stages["dispatched"].max == 2 * 3600
        assert stages["verified"].count == 2  # A 1 h, B 1 h

    def test_backlog_by_age(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Open requests are aged in calendar days at the last entry."""
        flow, basis = replay(small, ledger_key)
        backlog = dict(build_sla_report(flow, basis).total.backlog)
        assert backlog["0-2 d"] == 2
        later = build_sla_report(flow, basis, as_of=at(20, 8)).total.backlog
        assert dict(later) == {"0-2 d": 0, "3-5 d": 0, "6-10 d": 0, "11-20 d": 2, "21+ d": 0}

    def test_by_unit_follows_holder(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Closed counts go to the unit holding the request; routing moves open ones."""
        flow, basis = replay(small, ledger_key, by="unit")
        groups = {g.key: g for g in build_sla_report(flow, basis).groups}
        assert groups["dinas-pu"].closed == 1  # A
        assert groups["dinas-pu"].open == 1  # B, re-routed to dinas-pu
        assert groups["dinas-lh"].rerouted == 1
        assert groups["unit-pengaduan"].received == 3
        assert groups["unit-pengaduan"].open == 1  # C

    def test_by_officer(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Stays count for the assigned officer, else the officer who ended them."""
        flow, basis = replay(small, ledger_key, by="officer")
        groups = {g.key: g for g in build_sla_report(flow, basis).groups}
        assert dict(groups["petugas-1"].stages)["dispatched"].count == 1
        assert groups["petugas-9"].open == 1

    def test_by_region_hierarchy(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """A region counts for itself and every parent code."""
        flow, basis = replay(small, ledger_key, by="region")
        groups = {g.key: g for g in build_sla_report(flow, basis).groups}
        assert groups["32"].received == 3
        assert groups["32.73"].received == 3
        assert groups["32.73.01"].received == 2
        assert groups["32.73.05"].open == 1  # B re-routed there
        assert region_prefixes("32.73.01") == ["32", "32.73", "32.73.01"]

    def test_window_filters_by_receipt(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """--from/--to keep only requests received in the window (local dates)."""
        flow, basis = replay(small, ledger_key, received_from=dt.date(2026, 7, 8))
        total = build_sla_report(flow, basis).total
        assert (total.received, total.closed, total.open) == (1, 0, 1)
        assert dict(total.refused) == {"UnknownRequestError": 1}

    def test_reopened(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """An action leaving a final state counts as a re-opening."""
        b = LogBuilder(complaint_sop)
        b.submit("A", at(6, 8))
        b.close_path("A", 6)
        b.act("A", at(7, 8), "reopen", "closed", "followed_up", "kepala")
        flow, basis = replay(b, ledger_key)
        total = build_sla_report(flow, basis).total
        assert (total.reopened, total.closed, total.open) == (1, 1, 1)

    def test_periods(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """The time series counts receipts and closings per ISO week."""
        flow, basis = replay(small, ledger_key)
        periods = build_sla_report(flow, basis).periods
        assert [(p.period, p.received, p.closed) for p in periods] == [("2026-W28", 3, 1)]

    def test_unknown_sop_named(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """A log using an SOP the report was not given fails with what to pass."""
        entries, notes = build_log(small.bodies, ledger_key)
        flow = RequestFlow([], CAL)
        with pytest.raises(ReportError, match="--sop"):
            replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [flow])

    def test_bad_dimension(self, complaint_sop: SOP) -> None:
        """An unknown dimension is refused with the choices."""
        with pytest.raises(ReportError, match="service, unit"):
            RequestFlow([complaint_sop], CAL, by="planet")


def verdict(
    request: str,
    clock: str,
    status: Any,
    deadline: dt.datetime,
    *,
    finished: dt.datetime | None = None,
    overrun: dt.timedelta = dt.timedelta(0),
    paused: dt.timedelta = dt.timedelta(0),
) -> ClockVerdict:
    """Return an SLA clock verdict on the default calendar."""
    return ClockVerdict(
        request, clock, 1, status, deadline, finished, overrun, paused, "default",
        CAL.fingerprint,
    )  # fmt: skip


def verdicts() -> list[ClockVerdict]:
    """A met clock on A, a breached one on B, a running and a paused one on C."""
    return [
        verdict("A", "penyelesaian", "met", at(10, 16), finished=at(6, 15)),
        verdict(
            "B",
            "penyelesaian",
            "breached",
            at(7, 10),
            finished=at(7, 13),
            overrun=dt.timedelta(hours=3),
        ),
        verdict("C", "penyelesaian", "running", at(8, 11)),
        verdict("C", "respon", "paused", at(9, 16), paused=dt.timedelta(hours=1)),
    ]


def breaches() -> list[BreachAttribution]:
    """B's breached clock, held by two units."""
    return [
        BreachAttribution(
            "B",
            "penyelesaian",
            dt.timedelta(hours=3),
            False,
            (
                Holding("unit-pengaduan", None, dt.timedelta(hours=4)),
                Holding("dinas-lh", "petugas-3", dt.timedelta(hours=2)),
            ),
        )
    ]


class TestSLA:
    def test_compliance(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Compliance is met / (met + breached) per clock, 2 decimals."""
        flow, basis = replay(small, ledger_key)
        report = build_sla_report(flow, basis, verdicts=verdicts(), breaches=breaches())
        clocks = {c.clock: c for c in report.total.clocks}
        c = clocks["penyelesaian"]
        assert (c.met, c.breached, c.running, c.paused) == (1, 1, 1, 0)
        assert c.compliance == "50.00"
        assert c.overrun_s == 3 * 3600
        assert clocks["respon"].compliance is None
        assert report.periods[0].compliance == "50.00"

    def test_breach_attribution(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Breached clocks roll up to the units and officers that held them, with time."""
        flow, basis = replay(small, ledger_key, by="unit")
        report = build_sla_report(flow, basis, verdicts=verdicts(), breaches=breaches())
        rows = [(a.unit, a.officer, a.breached, a.held_s) for a in report.attribution]
        assert rows == [
            ("unit-pengaduan", "-", 1, 4 * 3600),
            ("dinas-lh", "petugas-3", 1, 2 * 3600),
        ]
        groups = {g.key: g for g in report.groups}
        assert (groups["dinas-lh"].breaches_held, groups["dinas-lh"].breach_held_s) == (1, 7200)
        assert report.total.breaches_held == 1

    def test_overdue_counted(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Running clocks past their deadline at the report instant are counted overdue."""
        flow, basis = replay(small, ledger_key)
        report = build_sla_report(flow, basis, verdicts=verdicts(), as_of=at(8, 12))
        clocks = {c.clock: c for c in report.total.clocks}
        assert clocks["penyelesaian"].overdue == 1
        assert clocks["respon"].overdue == 0
        assert "overdue 1" in report.render_text()

    def test_same_checkpoint_same_bytes(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Two runs on the same log give identical text, JSON and CSV."""
        outputs = []
        for _ in range(2):
            flow, basis = replay(small, ledger_key, by="region")
            report = build_sla_report(flow, basis, verdicts=verdicts(), breaches=breaches())
            outputs.append((report.render_text(), report.render_json(), report.render_csv()))
        assert outputs[0] == outputs[1]
        data = json.loads(outputs[0][1])
        assert data["basis"]["size"] == len(small.bodies)
        assert outputs[0][2].startswith("section,group,item,metric,value\n")


def clock_change(
    change: str, when: dt.datetime, *, holder: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """Return a clock change as the desk records it (only what the replay reads matters)."""
    record: dict[str, Any] = {
        "clock": "respon",
        "change": change,
        "at": format_time(when),
        "cycle": 1,
        "calendar": "default",
        "fingerprint": CAL.fingerprint,
    }
    if change == "start":
        record["target"] = {"working_hours": 4}
        record["holder"] = dict(holder or {"unit": "unit-pengaduan", "assignee": None})
    return record  # fmt: skip


@pytest.fixture
def timed(complaint_sop: SOP) -> LogBuilder:
    """A 4-working-hour clock ``respon`` on four requests (Monday 6 July, 07:30-16:00,
    lunch 12-13): A met; B breached by 1 h after moving to dinas-lh; C past its deadline
    with the breach fired, still open; D running."""
    b = LogBuilder(complaint_sop)
    b.submit("A", at(6, 8), region="32.73.01")
    b.bodies[-1]["clocks"] = [clock_change("start", at(6, 8))]
    b.submit("B", at(6, 9), region="32.73.02")
    b.bodies[-1]["clocks"] = [clock_change("start", at(6, 9))]
    b.act("B", at(6, 9, 30), "verify", "received", "verified", "ver-1")
    b.act("A", at(6, 10), "verify", "received", "verified")
    b.bodies[-1]["clocks"] = [clock_change("stop", at(6, 10))]
    b.act("B", at(6, 10), "dispatch", "verified", "dispatched", "kepala", assigned_unit="dinas-lh")
    b.add(at(6, 14, 1), "sla", request="B", actor="system", event="breach", clock="respon",
          cycle=1, key="breach")  # fmt: skip
    b.act("B", at(6, 15), "follow_up", "dispatched", "followed_up", "petugas-3",
          follow_up_note="ok")  # fmt: skip
    b.bodies[-1]["clocks"] = [clock_change("stop", at(6, 15))]
    b.add(at(7, 8), "survey", request="A", actor="fd", rules="2017", answers={})
    b.submit("C", at(8, 8), region="32.73.01")
    b.bodies[-1]["clocks"] = [clock_change("start", at(8, 8))]
    b.add(at(8, 12, 1), "sla", request="C", actor="system", event="breach", clock="respon",
          cycle=1, key="breach")  # fmt: skip
    b.add(at(8, 13), "refused", request="C", sop=b.ref, action="verify", actor="x",
          reason={"error": "PermissionDeniedError", "message": "m", "rule": "role"})  # fmt: skip
    b.submit("D", at(8, 14), region="32.73.05")
    b.bodies[-1]["clocks"] = [clock_change("start", at(8, 14))]
    return b


def replay_clocks(
    builder: LogBuilder, key: SigningKey, *, by: str | None = None, calendar: Any = CAL
) -> tuple[RequestFlow, ReportBasis, ClockOutcomes]:
    """Replay a log through the flow and the clock fold, as the CLI does."""
    entries, notes = build_log(builder.bodies, key)
    flow = RequestFlow([builder.sop], CAL, by=by)
    fold = ClockLogFold(default=calendar)
    log = replay_verified(LEDGER, entries, notes, [key.verifier], [flow, fold])
    outcomes = clock_outcomes(fold)
    return flow, ReportBasis.for_log(log, CAL, rules={}), outcomes


class TestClockReplay:
    def test_verdicts(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """The fold hands the SLA module what it needs: met, breached, running, with deadlines."""
        _, _, outcomes = replay_clocks(timed, ledger_key)
        found = {v.request: (v.status, v.deadline, v.overrun) for v in outcomes.verdicts}
        assert found == {
            "A": ("met", at(6, 12), dt.timedelta(0)),
            "B": ("breached", at(6, 14), dt.timedelta(hours=1)),
            "C": ("running", at(8, 12), dt.timedelta(0)),
            "D": ("running", at(9, 9, 30), dt.timedelta(0)),
        }
        assert outcomes.source.startswith("recomputed from the verified log by pelayanan.sla")
        assert outcomes.calendars == {"default": CAL.fingerprint}

    def test_the_fold_gives_what_the_sla_module_gives(
        self, timed: LogBuilder, ledger_key: SigningKey
    ) -> None:
        """The fold, fed while the log verifies, gives what the SLA module gives on the log."""
        _, _, outcomes = replay_clocks(timed, ledger_key)
        entries, _ = build_log(timed.bodies, ledger_key)
        whole = [data for _, data in entries]
        calendars = {"default": CAL}
        assert list(outcomes.verdicts) == recompute_verdicts(whole, calendars)
        assert list(outcomes.breaches) == attribute_breaches(whole, calendars)

    def test_holder_moved_between_cycles_is_attributed(
        self, complaint_sop: SOP, ledger_key: SigningKey
    ) -> None:
        """A clock met, the request moved to another unit while no clock ran, the clock
        started again and breached: the new stretch counts for the unit holding it then
        (the replay forgets a request's stretches while none of its clocks can breach)."""
        b = LogBuilder(complaint_sop)
        b.submit("E", at(6, 8))
        b.bodies[-1]["clocks"] = [clock_change("start", at(6, 8))]
        b.submit("F", at(6, 8, 30))
        b.act("E", at(6, 9), "verify", "received", "verified")
        b.bodies[-1]["clocks"] = [clock_change("stop", at(6, 9))]
        b.add(at(6, 10), "routing", request="E", unit="dinas-lh")
        b.act("E", at(7, 8), "dispatch", "verified", "dispatched", "kepala")
        b.bodies[-1]["clocks"] = [{**clock_change("start", at(7, 8)), "cycle": 2}]
        b.add(at(7, 12, 1), "sla", request="E", actor="system", event="breach",
              clock="respon", cycle=2, key="breach")  # fmt: skip
        entries, notes = build_log(b.bodies, ledger_key)
        fold = ClockLogFold(default=CAL)
        replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [fold])
        outcomes = clock_outcomes(fold, as_of=at(7, 14))
        assert [(v.request, v.cycle, v.status) for v in outcomes.verdicts] == [("E", 2, "running")]
        assert list(outcomes.breaches) == [
            BreachAttribution(
                "E",
                "respon",
                dt.timedelta(0),
                True,
                (Holding("dinas-lh", None, dt.timedelta(hours=5)),),  # 08:00-14:00 less lunch
            )
        ]
        calendars = {"default": CAL}
        whole = [data for _, data in entries]
        assert list(outcomes.breaches) == attribute_breaches(whole, calendars, as_of=at(7, 14))
        both = replay_clocks_of(whole, calendars, as_of=at(7, 14))
        assert (both.verdicts, both.breaches) == (outcomes.verdicts, outcomes.breaches)

    def test_a_malformed_clock_change_is_an_error_not_a_traceback(
        self, timed: LogBuilder, ledger_key: SigningKey
    ) -> None:
        """A clock change without its fields is a CalendarError naming the entry."""
        del timed.bodies[0]["clocks"][0]["target"]
        entries, notes = build_log(timed.bodies, ledger_key)
        fold = ClockLogFold(default=CAL)
        replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [fold])
        with pytest.raises(
            CalendarError, match=r"entry 0: request 'A': a clock change is malformed"
        ):
            clock_outcomes(fold)

    def test_compliance_and_attribution(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """Compliance per clock and who held the breached requests, in working time."""
        flow, basis, outcomes = replay_clocks(timed, ledger_key, by="unit")
        report = build_sla_report(
            flow, basis, verdicts=outcomes.verdicts, breaches=outcomes.breaches
        )
        (clock,) = report.total.clocks
        assert (clock.met, clock.breached, clock.running, clock.paused) == (1, 1, 2, 0)
        assert (clock.compliance, clock.overrun_s, clock.overdue) == ("50.00", 3600, 1)
        rows = [(a.unit, a.officer, a.breached, a.open, a.held_s) for a in report.attribution]
        assert rows == [
            ("unit-pengaduan", "-", 1, 1, 5 * 3600),  # C: 08:00-14:00 less lunch, still open
            ("dinas-lh", "petugas-3", 1, 0, 4 * 3600),  # B: 10:00-15:00 less lunch
            ("unit-pengaduan", "kepala", 1, 0, 1800),  # B: 09:30-10:00, until the dispatch
            ("unit-pengaduan", "ver-1", 1, 0, 1800),  # B: 09:00-09:30, until the verify
        ]
        groups = {g.key: g for g in report.groups}
        assert (groups["unit-pengaduan"].breaches_held, groups["unit-pengaduan"].breach_held_s) == (
            2,
            6 * 3600,
        )
        assert (groups["dinas-lh"].breaches_held, groups["dinas-lh"].breach_held_s) == (1, 14400)
        assert "unit-pengaduan / -: 1 (1 still open), 5h00m" in report.render_text()

    def test_by_region(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """Clock verdicts count for the request's region and its parents."""
        flow, basis, outcomes = replay_clocks(timed, ledger_key, by="region")
        report = build_sla_report(flow, basis, verdicts=outcomes.verdicts)
        groups = {g.key: {c.clock: c for c in g.clocks}["respon"] for g in report.groups}
        assert (groups["32"].met, groups["32"].breached, groups["32"].running) == (1, 1, 2)
        assert (groups["32.73.01"].met, groups["32.73.01"].running) == (1, 1)
        assert groups["32.73.02"].breached == 1

    def test_open311_and_quality(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """Running deadlines become expected_datetime; concluded clocks give sla_compliance."""
        flow, basis, outcomes = replay_clocks(timed, ledger_key)
        projected = open311_requests(flow, verdicts=outcomes.verdicts)
        feed = {r["service_request_id"]: r for r in projected}
        assert feed["D"]["expected_datetime"] == "2026-07-09T09:30:00+07:00"
        assert feed["C"]["expected_datetime"] == "2026-07-08T12:00:00+07:00"
        assert feed["B"]["expected_datetime"] is None  # its clock stopped
        assert feed["A"]["expected_datetime"] is None
        named = open311_requests(flow, verdicts=outcomes.verdicts, clock="other")
        assert all(r["expected_datetime"] is None for r in named)
        config = QualityConfig.from_mapping({"version": "t", "weights": {"sla_compliance": "1"}})
        index = build_quality_index(config, basis, flow=flow, verdicts=outcomes.verdicts)
        assert index.index == "50.00"
        assert index.components[0].entries == (0, 1)  # the submissions of A and B

    def test_other_calendar_refused(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """A calendar with another fingerprint than the log recorded is refused, naming it."""
        other = indonesian_government_calendar(cuti_bersama_working=True)
        with pytest.raises(CalendarFingerprintError) as info:
            replay_clocks(timed, ledger_key, calendar=other)
        assert info.value.recorded == CAL.fingerprint
        assert CAL.fingerprint in str(info.value)

    def test_no_clocks(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """A log without clock changes gives no verdicts, and says so."""
        _, _, outcomes = replay_clocks(small, ledger_key)
        assert outcomes.verdicts == ()
        assert "no SLA clock recorded" in outcomes.source

    def test_same_bytes(self, timed: LogBuilder, ledger_key: SigningKey) -> None:
        """The SLA part of the report is byte-identical on two runs."""
        outputs = []
        for _ in range(2):
            flow, basis, outcomes = replay_clocks(timed, ledger_key, by="officer")
            report = build_sla_report(
                flow, basis, verdicts=outcomes.verdicts, breaches=outcomes.breaches,
                verdict_source=outcomes.source,
            )  # fmt: skip
            data = json.loads(report.render_json())
            sla = {"clocks": [g["clocks"] for g in data["groups"]], "attribution":
                   data["attribution"], "periods": data["periods"]}  # fmt: skip
            outputs.append((json.dumps(sla, sort_keys=True), report.render_csv()))
        assert outputs[0] == outputs[1]
        assert "attribution" in outputs[0][1]


class TestAtRisk:
    def _history(self, sop: SOP) -> LogBuilder:
        b = LogBuilder(sop)
        for i, day in enumerate((6, 7, 8)):
            b.submit(f"H{i}", at(day, 8))
            b.close_path(f"H{i}", day)  # received -> closed in 6 working hours
        b.submit("N", at(9, 8))
        b.submit("M", at(9, 8, 30))
        return b

    def _past(self) -> list[ClockVerdict]:
        """The history requests' clocks, stopped when they closed (day 15:00)."""
        return [
            verdict(f"H{i}", "penyelesaian", "met", at(day + 2, 16), finished=at(day, 15))
            for i, day in enumerate((6, 7, 8))
        ]

    def test_likely_and_safe(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """A clock with less time left than history needs is listed with the reason."""
        flow, basis = replay(self._history(complaint_sop), ledger_key, history=True)
        judged = [
            *self._past(),
            verdict("N", "penyelesaian", "running", at(9, 11)),
            verdict("M", "penyelesaian", "running", at(13, 16)),
        ]
        report = build_at_risk(flow, basis, verdicts=judged, at=at(9, 9))
        assert report.considered == 2
        assert [i.request for i in report.items] == ["N"]
        item = report.items[0]
        assert item.risk == "likely"
        assert item.remaining_s == 2 * 3600
        assert item.in_state_s == 3600
        assert item.expected_s == 5 * 3600  # 6 h history minus 1 h already spent
        assert "3 of 3 past requests" in item.reason
        assert (item.samples, item.longer) == (3, 3)
        # The head of unit reads the same "N of M" in the report's own language.
        for lang, said in (("id", "menurut 3 dari 3 permohonan"), ("en", "the 3 of 3 past")):
            text = render_at_risk_text(report, Wording(lang), zone=ZoneInfo("Asia/Jakarta"))
            assert said in text

    def test_history_is_per_clock(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """Only the same clock's past stops count: another clock's history is not used."""
        flow, basis = replay(self._history(complaint_sop), ledger_key, history=True)
        judged = [*self._past(), verdict("N", "respon", "running", at(9, 11))]
        report = build_at_risk(flow, basis, verdicts=judged, at=at(9, 9))
        assert report.items == ()
        assert report.without_history == (("N", "received"),)

    def test_overdue_listed_first(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """A running clock past its deadline is listed as overdue, ahead of the rest."""
        flow, basis = replay(self._history(complaint_sop), ledger_key, history=True)
        judged = [
            *self._past(),
            verdict("N", "penyelesaian", "running", at(9, 11)),
            verdict("M", "penyelesaian", "running", at(9, 10)),
        ]
        report = build_at_risk(flow, basis, verdicts=judged, at=at(9, 11, 30))
        assert [(i.request, i.risk) for i in report.items] == [("M", "overdue"), ("N", "overdue")]
        assert report.items[0].remaining_s == -90 * 60
        assert "has passed" in report.items[0].reason

    def test_stalled_beyond_history(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """A request in its state longer than any past one took is listed as stalled."""
        flow, basis = replay(self._history(complaint_sop), ledger_key, history=True)
        judged = [*self._past(), verdict("N", "penyelesaian", "running", at(20, 16))]
        report = build_at_risk(flow, basis, verdicts=judged, at=at(10, 16))
        assert [(i.request, i.risk) for i in report.items] == [("N", "stalled")]
        assert "longer than any of the 3 past requests" in report.items[0].reason

    def test_without_history(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """States with too few past requests are listed apart, not guessed."""
        b = LogBuilder(complaint_sop)
        b.submit("N", at(9, 8))
        flow, basis = replay(b, ledger_key, history=True)
        judged = [verdict("N", "penyelesaian", "running", at(9, 11))]
        report = build_at_risk(flow, basis, verdicts=judged)
        assert report.items == ()
        assert report.without_history == (("N", "received"),)

    def test_until_ignores_later_entries(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """Judging an earlier instant replays the state of things at that instant."""
        b = self._history(complaint_sop)
        b.close_path("N", 9)
        flow, basis = replay(b, ledger_key, history=True, until=at(9, 9))
        assert not flow.tracks["N"].closed
        judged = [*self._past(), verdict("N", "penyelesaian", "running", at(9, 11))]
        report = build_at_risk(flow, basis, verdicts=judged, at=at(9, 9))
        assert [i.request for i in report.items] == ["N"]


class TestOpen311:
    def test_projection(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Each request becomes exactly the GeoReport v2 fields, status from the SOP."""
        flow, _ = replay(small, ledger_key)
        feed = open311_requests(flow, verdicts=verdicts())
        assert [r["service_request_id"] for r in feed] == ["A", "B", "C"]
        assert all(tuple(r) == OPEN311_FIELDS for r in feed)
        a, b, c = feed
        assert (a["status"], b["status"]) == ("closed", "open")
        assert a["status_notes"] == "Your complaint is resolved."
        assert b["agency_responsible"] == "dinas-pu"
        assert a["requested_datetime"] == "2026-07-06T08:00:00+07:00"
        assert a["updated_datetime"] == "2026-07-06T15:00:00+07:00"
        assert c["expected_datetime"] == "2026-07-08T11:00:00+07:00"
        assert a["expected_datetime"] is None

    def test_no_request_data(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """No value from the request's own data (subject, region, notes) is published."""
        flow, _ = replay(small, ledger_key)
        text = render_open311(open311_requests(flow))
        for value in ("Jalan rusak", "infrastruktur", "32.73", "warga", "ver-1", "ok"):
            assert f'"{value}"' not in text


class TestSurveyAndQuality:
    ANSWERS: ClassVar[dict[str, int]] = {
        "persyaratan": 4, "prosedur": 3, "waktu": 3, "biaya": 4, "produk": 3,
        "kompetensi": 4, "perilaku": 4, "sarana": 3, "pengaduan": 3,
    }  # fmt: skip

    def test_survey_fold_and_quality(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Survey entries feed the IKM; the index shows components, weights and entries."""
        small.add(at(8, 10), "survey", request="A", sop=small.ref, actor="loket",
                  rules="2017", answers=self.ANSWERS)  # fmt: skip
        entries, notes = build_log(small.bodies, ledger_key)
        flow = RequestFlow([small.sop], CAL)
        survey = SurveyFold(rules="2017")
        log = replay_verified(LEDGER, entries, notes, [ledger_key.verifier], [flow, survey])
        basis = ReportBasis.for_log(log, CAL, rules={})
        ikm = compute_ikm(survey.responses)
        assert survey.seqs == [len(small.bodies) - 1]
        config = QualityConfig("uji-1", {"sla_compliance": Decimal("0.6"),
                                         "ikm": Decimal("0.3"),
                                         "closure_rate": Decimal("0.1")})  # fmt: skip
        index = build_quality_index(
            config, basis, flow=flow, verdicts=verdicts(), ikm=ikm, survey_seqs=survey.seqs
        )
        parts = {c.name: c for c in index.components}
        assert parts["sla_compliance"].value == Fraction(1, 2)
        assert parts["closure_rate"].value == Fraction(1, 3)
        assert parts["ikm"].value == ikm.converted / 100
        assert parts["ikm"].entries == tuple(survey.seqs)
        assert parts["sla_compliance"].entries == (0, 1)  # A and B's submissions
        expected = 100 * (
            Fraction(6, 10) * Fraction(1, 2)
            + Fraction(3, 10) * ikm.converted / 100
            + Fraction(1, 10) * Fraction(1, 3)
        )
        assert index.exact == expected
        assert json.loads(index.render_json())["index"] == index.index

    def test_missing_component(self, small: LogBuilder, ledger_key: SigningKey) -> None:
        """Without survey responses the index is not computed and says why."""
        flow, basis = replay(small, ledger_key)
        config = QualityConfig("d", {"ikm": Decimal("1")})
        index = build_quality_index(config, basis, flow=flow)
        assert index.index is None
        assert index.missing == ("ikm",)
        assert "no data for ikm" in index.render_text()

    @pytest.mark.parametrize(
        ("mapping", "match"),
        [
            ({"version": "v", "weights": {"ikm": "0.5"}}, "sum to exactly 1"),
            ({"version": "v", "weights": {"speed": "1"}}, "unknown quality component"),
            ({"version": "v", "weights": {"ikm": 0.5}}, "decimal string"),
            ({"weights": {"ikm": "1"}}, "version"),
            ({"version": "v", "weights": {"ikm": "-1", "closure_rate": "2"}}, "positive"),
        ],
    )
    def test_bad_config(self, mapping: dict[str, Any], match: str) -> None:
        """Quality configurations are validated with a message saying what to fix."""
        with pytest.raises(ReportError, match=match):
            QualityConfig.from_mapping(mapping)


class TestPercentile:
    @settings(max_examples=50)
    @given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50), st.integers(1, 100))
    def test_nearest_rank(self, values: list[int], p: int) -> None:
        """The percentile is an observed value with at least p% of values at or below it."""
        ordered = sorted(values)
        value = percentile(ordered, p)
        assert value in ordered
        assert sum(v <= value for v in ordered) * 100 >= p * len(ordered)
        assert sum(v < value for v in ordered) * 100 < p * len(ordered)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("assignment", {"assignment": {"unit": "dinas-lh", "assignee": "petugas-7"}}),
        ("disposition", {"holder": {"unit": "dinas-lh", "assignee": "petugas-7"}}),
        ("bukan_wewenang", {"returned_to": {"unit": "dinas-lh", "assignee": "petugas-7"}}),
        ("disposition_answer", {"returned_to": {"unit": "dinas-lh", "assignee": "petugas-7"}}),
    ],
)
def test_desk_holder_records_move_the_request(
    complaint_sop: SOP, ledger_key: SigningKey, kind: str, fields: dict[str, Any]
) -> None:
    """The holder the desk nests in its entries moves the request in the flow and the
    breach attribution, as the top-level synthetic form does."""
    b = LogBuilder(complaint_sop)
    b.submit("E", at(6, 8))
    b.bodies[-1]["clocks"] = [clock_change("start", at(6, 8))]
    b.add(at(6, 9), kind, request="E", **fields)
    b.add(at(6, 12, 1), "sla", request="E", actor="system", event="breach",
          clock="respon", cycle=1, key="breach")  # fmt: skip
    flow, basis = replay(b, ledger_key, by="unit")
    groups = {g.key: g for g in build_sla_report(flow, basis).groups}
    assert groups["dinas-lh"].open == 1
    officers, _ = replay(b, ledger_key, by="officer")
    by_officer = {g.key: g.open for g in build_sla_report(officers, basis).groups}
    assert by_officer["petugas-7"] == 1
    entries, _ = build_log(b.bodies, ledger_key)
    found = attribute_breaches([data for _, data in entries], {"default": CAL})
    held = {(h.unit, h.officer): h.working_time for h in found[0].holdings}
    assert held == {
        ("unit-pengaduan", None): dt.timedelta(hours=1),
        ("dinas-lh", "petugas-7"): dt.timedelta(hours=3),  # 09:00-12:00, lunch after
    }


def test_units_moved_into_count_as_received(small: LogBuilder, ledger_key: SigningKey) -> None:
    """A unit receives what is submitted to it and what is moved into it, once each; the
    total still counts each submission once."""
    flow, basis = replay(small, ledger_key, by="unit")
    report = build_sla_report(flow, basis)
    groups = {g.key: g for g in report.groups}
    assert report.total.received == 3
    assert groups["unit-pengaduan"].received == 3
    assert groups["dinas-lh"].received == 1  # B, dispatched there
    assert groups["dinas-pu"].received == 2  # A dispatched there, B re-routed there
    for group in report.groups:
        assert group.closed + group.open <= group.received


def test_compliance_counts_overdue_side_by_side(timed: LogBuilder, ledger_key: SigningKey) -> None:
    """Next to the concluded clocks' compliance stands the figure that counts overdue running
    clocks as breached so far, in the text, the JSON and the HTML; nobody reads 50% alone."""
    flow, basis, outcomes = replay_clocks(timed, ledger_key, by="unit")
    report = build_sla_report(flow, basis, verdicts=outcomes.verdicts, breaches=outcomes.breaches)
    (clock,) = report.total.clocks
    assert (clock.compliance, clock.compliance_with_overdue) == ("50.00", "33.33")
    assert clock.to_json_dict()["compliance_with_overdue"] == "33.33"
    assert (
        "clock respon: compliance 50.00% of concluded, 33.33% counting overdue as breached "
        "(met 1, breached 1, running 2, paused 0; overdue 1)"
    ) in report.render_text()
    pytest.importorskip("matplotlib", reason="the HTML report needs the 'report' extra")
    from pelayanan.reports.html import render_html
    from pelayanan.reports.wording import Wording

    assert "compliance (overdue as breached)" in render_html(report, wording=Wording("en"))
    assert "kepatuhan (lewat tenggat = terlambat)" in render_html(report)
