"""Saved report states: a replay carried on from a checkpoint gives the full replay's bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import pickle
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import format_time, parse_time
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import VerifierKey
from pelayanan.audit.merkle import CompactRange
from pelayanan.audit.verify import LedgerVerifier, ResumePoint
from pelayanan.calendar import WorkCalendar, indonesian_government_calendar
from pelayanan.cli._common import load_trusted_keys
from pelayanan.cli._main import cli
from pelayanan.exceptions import (
    CalendarError,
    InvalidArgumentError,
    MerkleRootError,
    ReportStateError,
)
from pelayanan.reports import state as state_module
from pelayanan.reports.at_risk import build_at_risk
from pelayanan.reports.clocks import ClockLogFold, clock_outcomes
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.open311 import open311_requests, render_open311
from pelayanan.reports.quality import DEFAULT_QUALITY, build_quality_index
from pelayanan.reports.replay import LogBasis, ReportBasis, replay_verified
from pelayanan.reports.settled import SettledRequests
from pelayanan.reports.sla_report import build_sla_report
from pelayanan.reports.state import (
    SavedReplay,
    dump_state,
    load_state,
    state_config,
    state_key,
)
from pelayanan.reports.survey import SurveyFold
from pelayanan.sop import SOP, load_sop
from pelayanan.store import SQLiteStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sop"
KEY = b"k" * 32
CONFIG = state_config("test", {"by": None})


class DemoLog:
    """The demo's log: its entries, checkpoint notes (with their sizes) and keys."""

    def __init__(self, db: Path) -> None:
        store = SQLiteStore(db, read_only=True)
        try:
            (self.ledger,) = store.ledgers()
            self.entries = [(e.seq, e.data) for e in store.entries(self.ledger)]
            self.notes = [
                (SignedCheckpoint.parse(n).checkpoint.size, n)
                for n in store.iter_checkpoints(self.ledger)
            ]
        finally:
            store.close()
        self.keys: list[VerifierKey | TrustedKey] = load_trusted_keys((), None, str(db))
        self.sops: list[SOP] = [load_sop(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
        self.calendar: WorkCalendar = indonesian_government_calendar()

    def folds(self) -> tuple[RequestFlow, SurveyFold, ClockLogFold]:
        """Return fresh folds for every report."""
        flow = RequestFlow(self.sops, self.calendar, history=True)
        return flow, SurveyFold(rules="2017"), ClockLogFold(default=self.calendar)

    def replay(self, folds: tuple[Any, ...], size: int, start: int = 0, **kw: Any) -> LogBasis:
        """Replay entries ``start..size`` (with their checkpoints) into *folds*."""
        return replay_verified(
            self.ledger,
            self.entries[start:size],
            [note for at, note in self.notes if start <= at <= size],
            self.keys,
            list(folds),
            **kw,
        )

    @property
    def references(self) -> list[WorkCalendar | SOP]:
        """The calendar and SOPs states refer to."""
        return [self.calendar, *self.sops]

    def save_and_load(self, log: LogBasis, folds: tuple[Any, ...]) -> SavedReplay:
        """Save *folds* after *log* as a state file's bytes and read them back."""
        saved = dump_state(log, folds, config=CONFIG, key=KEY)
        return load_state(
            saved, config=CONFIG, key=KEY, ledger=self.ledger, references=self.references
        )


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> DemoLog:
    """The demo's log, read once."""
    db = tmp_path_factory.mktemp("state") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return DemoLog(db)


def render_all(demo: DemoLog, log: LogBasis, folds: tuple[Any, ...]) -> list[str]:
    """Return every report of a finished replay, as text."""
    flow, survey, clock_log = folds
    clocks = clock_outcomes(clock_log, as_of=log.instant)
    basis = ReportBasis.for_log(log, demo.calendar, rules={"n": str(len(survey.responses))})
    sla = build_sla_report(
        flow, basis, verdicts=clocks.verdicts, breaches=clocks.breaches, as_of=basis.at
    )
    out = [sla.render_text(), sla.render_json(), sla.render_csv()]
    if basis.at is not None:
        at_risk = build_at_risk(flow, basis, verdicts=clocks.verdicts)
        out.append(at_risk.render_json())
    quality = build_quality_index(DEFAULT_QUALITY, basis, flow=flow, verdicts=clocks.verdicts)
    out.append(quality.render_json())
    out.append(render_open311(open311_requests(flow, verdicts=clocks.verdicts)))
    return out


class TestResumedReplay:
    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(data=st.data())
    def test_resumed_replay_gives_the_full_replays_bytes(
        self, demo_log: DemoLog, data: st.DataObject
    ) -> None:
        """For any log (a prefix of the demo) and split point, resuming a state is exact."""
        size = data.draw(st.integers(1, len(demo_log.entries)), label="log size")
        split = data.draw(st.integers(1, size), label="split point")
        full_folds = demo_log.folds()
        full = render_all(demo_log, demo_log.replay(full_folds, size), full_folds)

        first = demo_log.folds()
        loaded = demo_log.save_and_load(demo_log.replay(first, split), first)
        resumed = demo_log.replay(
            loaded.folds, size, split, resume=loaded.resume, first_time=loaded.first_time
        )
        assert render_all(demo_log, resumed, loaded.folds) == full

    def test_a_frontier_that_is_not_the_checkpoints_tree_is_refused(
        self, demo_log: DemoLog
    ) -> None:
        """The verifier takes no entry after a resume point whose tree the note does not sign."""
        folds = demo_log.folds()
        point = demo_log.replay(folds, 10).resume
        assert point is not None
        wrong = CompactRange(10, [b"\x11" * 32, *point.frontier.hashes[1:]])
        with pytest.raises(MerkleRootError, match="not the one the checkpoint"):
            LedgerVerifier(
                demo_log.ledger,
                demo_log.keys,
                resume=ResumePoint(point.checkpoint, wrong, point.prev, point.last_time),
            )


class TestStateFile:
    @pytest.fixture
    def saved(self, demo_log: DemoLog) -> bytes:
        """A state saved after the first 50 entries."""
        folds = demo_log.folds()
        log = demo_log.replay(folds, 50)
        return dump_state(log, folds, config=CONFIG, key=KEY)

    def _load(self, demo_log: DemoLog, data: bytes, **changes: Any) -> Any:
        kwargs: dict[str, Any] = {
            "config": CONFIG, "key": KEY, "ledger": demo_log.ledger,
            "references": demo_log.references, **changes,
        }  # fmt: skip
        return load_state(data, **kwargs)

    def test_round_trip(self, demo_log: DemoLog, saved: bytes) -> None:
        """A state reads back bound to its checkpoint, its folds sharing this run's SOPs."""
        loaded = self._load(demo_log, saved)
        assert loaded.resume.checkpoint.checkpoint.size == 50
        assert loaded.folds[2].replayer is not None
        assert not saved.count(b"holidays")  # calendars are saved by fingerprint only

    @pytest.mark.parametrize("offset", [30, 200, 5000, -1])
    def test_a_changed_byte_is_refused(self, demo_log: DemoLog, saved: bytes, offset: int) -> None:
        """Any changed byte (tag, header or folds) fails the authentication tag."""
        changed = bytearray(saved)
        changed[offset] ^= 1
        with pytest.raises(ReportStateError, match=r"tag does not check|not a report state"):
            self._load(demo_log, bytes(changed))

    def test_a_state_of_another_format_is_refused(self, demo_log: DemoLog, saved: bytes) -> None:
        """A state saved in an older format is named as such (the report is then rebuilt)."""
        older = saved.replace(state_module.STATE_FORMAT.encode(), b"pelayanan-report-state/1", 1)
        with pytest.raises(ReportStateError, match="another state format"):
            self._load(demo_log, older)

    def test_another_key_is_refused(self, demo_log: DemoLog, saved: bytes) -> None:
        """A state made under another key does not check."""
        with pytest.raises(ReportStateError, match="tag does not check"):
            self._load(demo_log, saved, key=b"x" * 32)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"config": state_config("test", {"by": "unit"})}, "other report options"),
            ({"ledger": "lain"}, "is for ledger"),
            ({"references": []}, "which this run does not use"),
        ],
    )
    def test_a_state_for_another_run_is_refused(
        self, demo_log: DemoLog, saved: bytes, change: dict[str, Any], message: str
    ) -> None:
        """Other options, another ledger or other calendars and SOPs: refused with why."""
        with pytest.raises(ReportStateError, match=message):
            self._load(demo_log, saved, **change)

    def test_another_library_version_is_refused(
        self, demo_log: DemoLog, saved: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A state saved by another version of pelayanan is not used."""
        monkeypatch.setattr(state_module, "__version__", "0.0.0-other")
        with pytest.raises(ReportStateError, match="saved by pelayanan"):
            self._load(demo_log, saved)

    def test_a_signed_state_naming_a_foreign_callable_is_refused(self, demo_log: DemoLog) -> None:
        """Even under the right key, unpickling resolves no function outside the folds."""
        folds = demo_log.folds()
        log = demo_log.replay(folds, 5)
        saved = dump_state(log, folds, config=CONFIG, key=KEY)
        header = saved.split(b"\n", 2)[1]
        payload = pickle.dumps(io.StringIO)  # any global outside the allowed ones
        body = header + b"\n" + payload
        tag = hmac.new(KEY, body, hashlib.sha256).hexdigest()
        data = f"{state_module.STATE_FORMAT} {tag}\n".encode() + body
        with pytest.raises(ReportStateError, match="never holds"):
            self._load(demo_log, data)

    def test_key_file_is_made_once_and_private(self, tmp_path: Path) -> None:
        """The key file is made on first use (owner-only), then read back the same."""
        path = tmp_path / "state.key"
        assert state_key(path, create=False) is None
        key = state_key(path, create=True)
        assert key is not None
        assert len(key) == 32
        assert path.stat().st_mode & 0o077 == 0
        assert state_key(path, create=False) == key
        path.write_bytes(b"short")
        with pytest.raises(ReportStateError, match="not a report state key"):
            state_key(path, create=False)


_CALENDAR = indonesian_government_calendar()
#: The changes a clock in each status takes, the last of each an error of the log.
_NEXT = {
    None: ("start", "start", "start", "pause"),
    "running": ("pause", "stop", "stop", "reset", "resume"),
    "paused": ("resume", "resume", "stop", "reset", "pause"),
    "stopped": ("start", "reset", "start", "stop"),
}
_AFTER = {"start": "running", "reset": "running", "resume": "running", "pause": "paused"}


def _clock_entries(steps: list[tuple[int, int, int, int]]) -> list[dict[str, Any]]:
    """Return entries changing clocks: (request, clock, choice of change, minutes after).

    The choice picks among the changes the clock's status allows, now and then one it
    does not (then the log is malformed, and both replays must say so alike).
    """
    at = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
    status: dict[tuple[int, int], str | None] = {}
    entries: list[dict[str, Any]] = []
    for seq, (request, clock, choice, minutes) in enumerate(steps):
        at += dt.timedelta(minutes=minutes)
        when = format_time(at)
        allowed = _NEXT[status.get((request, clock))]
        change = allowed[choice % (len(allowed) - 1)] if choice else allowed[-1]
        status[(request, clock)] = _AFTER.get(change, "stopped")
        record: dict[str, Any] = {"clock": f"c{clock}", "change": change, "at": when}
        if change in ("start", "reset"):
            record.update(
                calendar="default", fingerprint=_CALENDAR.fingerprint, cycle=seq,
                target={"working_hours": 2 + clock}, holder={"unit": f"u{seq % 3}"},
            )  # fmt: skip
        entries.append({
            "seq": seq, "time": when, "kind": "action", "request": f"r{request}",
            "actor": f"officer-{seq % 2}", "clocks": [record],
        })  # fmt: skip
    return entries


def _outcomes(fold: ClockLogFold, as_of: dt.datetime) -> object:
    try:
        return clock_outcomes(fold, as_of=as_of)
    except CalendarError as exc:
        return str(exc)


class TestClockReplayAcrossAState:
    """Clocks paused, resumed, stopped (met or breached) and restarted across the split."""

    @settings(max_examples=150, deadline=None)
    @given(
        steps=st.lists(
            st.tuples(
                st.integers(0, 2),
                st.integers(0, 1),
                st.integers(0, 99),
                st.sampled_from([0, 5, 50, 200, 1500]),
            ),
            min_size=1,
            max_size=40,
        ),
        data=st.data(),
    )
    def test_a_saved_and_resumed_clock_replay_equals_the_full_one(
        self, steps: list[tuple[int, int, int, int]], data: st.DataObject
    ) -> None:
        entries = _clock_entries(steps)
        split = data.draw(st.integers(0, len(entries)), label="split point")
        as_of = parse_time(entries[-1]["time"]) + dt.timedelta(days=2)
        whole = ClockLogFold(default=_CALENDAR)
        for entry in entries:
            whole.feed(entry)
        first = ClockLogFold(default=_CALENDAR)
        for entry in entries[:split]:
            first.feed(entry)
        event("malformed" if whole.error else "well formed")
        if first.error is not None:  # such a fold is not saved; its error stands
            assert _outcomes(first, as_of) == _outcomes(whole, as_of)
            return
        out = io.BytesIO()
        state_module._Pickler(out).dump(first)
        references = {("calendar", _CALENDAR.fingerprint): _CALENDAR}
        resumed = state_module._Unpickler(io.BytesIO(out.getvalue()), references).load()
        for entry in entries[split:]:
            resumed.feed(entry)
        assert _outcomes(resumed, as_of) == _outcomes(whole, as_of)

    def test_a_change_after_a_stop_is_a_malformed_log(self) -> None:
        """A met clock is kept as its verdict; a change to it is refused as before a save."""
        for finished in ((0, 0, 1, 0), (0, 0, 2, 5)), ((0, 0, 1, 0), (0, 0, 2, 500)):
            entries = _clock_entries([*finished, (0, 0, 0, 5)])
            fold = ClockLogFold(default=_CALENDAR)
            for entry in entries:
                fold.feed(entry)
            with pytest.raises(CalendarError, match="'stop' change after the clock stopped"):
                clock_outcomes(fold)


def _sla_bytes(demo: DemoLog, log: LogBasis, folds: tuple[Any, ...]) -> list[str]:
    """Return the SLA report of a replay into (settled, flow, survey, clocks) folds."""
    settled, flow, _, clock_log = folds
    clocks = clock_outcomes(clock_log, as_of=log.instant)
    basis = ReportBasis.for_log(log, demo.calendar, rules={})
    sla = build_sla_report(
        flow, basis, verdicts=clocks.verdicts, breaches=clocks.breaches, as_of=basis.at,
        verdict_source=clocks.source, settled=None if settled is None else settled.figures,
    )  # fmt: skip
    return [sla.render_json(), sla.render_csv(), sla.render_text()]


def _settling_folds(
    demo: DemoLog, by: str | None, window: tuple[dt.date | None, dt.date | None] = (None, None)
) -> tuple[Any, ...]:
    flow = RequestFlow(
        demo.sops, demo.calendar, by=by, received_from=window[0], received_to=window[1]
    )
    clock_log = ClockLogFold(default=demo.calendar)
    return SettledRequests(flow, clock_log), flow, SurveyFold(rules="2017"), clock_log


class TestSettledRequests:
    """Requests at rest are kept as their sums, and put back when an entry names them."""

    @settings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(data=st.data())
    def test_settling_and_resuming_at_any_points_gives_the_full_replays_bytes(
        self, demo_log: DemoLog, data: st.DataObject
    ) -> None:
        """Any log (a prefix of the demo), any saves between: the SLA report's exact bytes."""
        by = data.draw(st.sampled_from([None, "unit", "officer", "region", "service"]), label="by")
        days = st.one_of(st.none(), st.dates(dt.date(2026, 7, 1), dt.date(2026, 8, 10)))
        window = data.draw(st.tuples(days, days), label="received from, to")
        size = data.draw(st.integers(1, len(demo_log.entries)), label="log size")
        splits = sorted(set(data.draw(st.lists(st.integers(1, size), min_size=1, max_size=3))))
        whole = (None, *_settling_folds(demo_log, by, window)[1:])
        full = _sla_bytes(demo_log, demo_log.replay(whole[1:], size), whole)

        folds = _settling_folds(demo_log, by, window)
        log = demo_log.replay(folds, splits[0])
        put_back = 0
        for start, end in zip(splits, [*splits[1:], size], strict=True):
            settled = folds[0]
            settled.settle()
            kept = len(settled)
            loaded = demo_log.save_and_load(log, folds)
            folds = loaded.folds
            log = demo_log.replay(
                folds, end, start, resume=loaded.resume, first_time=loaded.first_time
            )
            put_back += kept - len(folds[0])
        event("a settled request was put back" if put_back else "none put back")
        folds[0].settle()
        assert _sla_bytes(demo_log, log, folds) == full

    def test_the_demo_settles_most_requests_and_puts_back_those_named_again(
        self, demo_log: DemoLog
    ) -> None:
        """At half the demo requests settle; later entries name some of them again."""
        half = len(demo_log.entries) // 2
        folds = _settling_folds(demo_log, "unit")
        log = demo_log.replay(folds, half)
        settled, flow, _, _ = folds
        live = len(flow.tracks)
        assert settled.settle() > 0
        assert len(settled) + len(flow.tracks) == live
        kept = len(settled)
        demo_log.replay(
            folds, len(demo_log.entries), half, resume=log.resume, first_time=log.first_time
        )
        assert len(settled) < kept, "no settled request was named again in the demo's log"

    def test_a_running_clock_whose_breach_fired_keeps_its_request_live(self) -> None:
        """Its attribution grows with the instant: the request is not steady, not settled."""
        entries = _clock_entries([(0, 0, 1, 0), (1, 0, 1, 0)])
        entries.append({
            "seq": 2, "time": entries[-1]["time"], "kind": "sla", "event": "breach",
            "request": "r0", "clock": "c0",
        })  # fmt: skip
        fold = ClockLogFold(default=_CALENDAR)
        for entry in entries:
            fold.feed(entry)
        replayer = fold.replayer
        assert not replayer.steady("r0")
        assert replayer.steady("r1")  # running, no breach fired: only an entry can change it
        with pytest.raises(InvalidArgumentError, match="breached clock still running"):
            replayer.outcomes_of("r0")
        before = clock_outcomes(fold)
        taken = replayer.take_out("r1")
        assert [v.request for v in clock_outcomes(fold).verdicts] == ["r0"]
        replayer.put_back("r1", taken)
        assert clock_outcomes(fold) == before

    def test_requests_outside_the_window_are_set_aside_too(self, demo_log: DemoLog) -> None:
        """Their clocks count for nothing; a state keeps them aside, not in the replay."""
        folds = _settling_folds(demo_log, None, (dt.date(2026, 7, 13), None))
        demo_log.replay(folds, len(demo_log.entries))
        settled, flow, _, clock_log = folds
        replayer = clock_log.replayer
        with_clocks = {r for r in flow.skipped if replayer.steady(r) and replayer.outcomes_of(r)[0]}
        assert with_clocks
        settled.settle()
        left = {verdict.request for verdict in clock_outcomes(clock_log).verdicts}
        assert not left & with_clocks
