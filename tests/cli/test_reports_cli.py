"""The report commands on the demo database, and survey responses through the desk."""

from __future__ import annotations

import datetime as dt
import gc
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from log_support import forge_actor
from pelayanan.access import Actor
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.cli import _main
from pelayanan.cli._common import OLDER_THRESHOLD, YOUNG_THRESHOLD, tune_collector
from pelayanan.cli._main import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import ReportError, TransitionNotAllowedError, UnknownRequestError
from pelayanan.reports import html
from pelayanan.store import SQLiteStore

ANSWERS = {
    "persyaratan": 4, "prosedur": 3, "waktu": 3, "biaya": 4, "produk": 3,
    "kompetensi": 4, "perilaku": 4, "sarana": 3, "pengaduan": 3,
}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo database (with its keys folder) made by ``pelayanan demo``, and what it printed."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db, result.stdout


@pytest.fixture(scope="module")
def demo_db(demo: tuple[Path, str]) -> Path:
    """The demo database."""
    return demo[0]


def demo_sla_table(printed: str) -> dict[str, tuple[int, ...]]:
    """Parse the demo's SLA table: clock -> (met, breached, running, overdue)."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["clock", "met"])
    table: dict[str, tuple[int, ...]] = {}
    for line in lines[start + 1 :]:
        cells = line.split()
        if len(cells) != 5 or not cells[1].isdigit():
            break
        table[cells[0]] = tuple(int(c) for c in cells[1:])
    return table


def demo_held_hours(printed: str) -> dict[str, str]:
    """Parse the demo's line 'breached clocks were held by (working time): unit 1.5 h, ...'."""
    line = next(x for x in printed.splitlines() if "breached clocks were held by" in x)
    shares = line.split(": ", 1)[1].split(", ")
    return {share.rsplit(" ", 2)[0]: share.rsplit(" ", 2)[1] for share in shares}


def sla_states(db: Path) -> dict[str, dict[str, dict[str, object]]]:
    """Return each request's SLA clock states as the desk stored them (``meta["sla"]``)."""
    store = SQLiteStore(db)
    try:
        return {r.id: dict(r.meta.get("sla", {})) for r in store.requests()}
    finally:
        store.close()


def rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 instant (``Z`` or an offset)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _copy(db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copy(db, target)
    shutil.copytree(Path(str(db) + ".keys"), Path(str(target) + ".keys"))
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestSLACommand:
    @pytest.mark.parametrize("by", ["service", "unit", "officer", "region"])
    def test_text(self, demo_db: Path, by: str) -> None:
        """The SLA report runs for every dimension, summary first, checkpoint in the footer."""
        code, out, _ = run("report", "sla", "--db", str(demo_db), "--by", by)
        assert code == 0
        assert out.startswith("Laporan Pelayanan: pemkot-contoh\nKeadaan per ")
        summary, footer = out.index("\nRINGKASAN\n"), out.index("\nDASAR TEKNIS\n")
        assert summary < footer
        assert "  checkpoint: ledger pemkot-contoh, size " in out[footer:]

    def test_same_bytes_every_run(self, demo_db: Path) -> None:
        """The same log gives the same JSON and CSV bytes."""
        for fmt in ("json", "csv"):
            first = run("report", "sla", "--db", str(demo_db), "--format", fmt)
            assert first == run("report", "sla", "--db", str(demo_db), "--format", fmt)

    def test_json_figures(self, demo_db: Path) -> None:
        """The JSON holds the flow figures the demo produced, consistently."""
        _, out, _ = run("report", "sla", "--db", str(demo_db), "--format", "json", "--by", "unit")
        data = json.loads(out)
        total = data["total"]
        assert total["received"] == total["closed"] + total["open"]
        # A request moved into a unit counts as received there too: every unit received
        # what it closed or holds open, and the units together received at least the total.
        assert sum(g["received"] for g in data["groups"]) >= total["received"]
        assert sum(g["open"] for g in data["groups"]) == total["open"]
        for group in data["groups"]:
            assert group["closed"] + group["open"] <= group["received"], group["key"]
        assert len(data["groups"]) >= 3
        assert total["refused"]

    def test_tampered_refused(self, demo_db: Path, tmp_path: Path) -> None:
        """An edited entry makes the report refuse with exit 1, reason first."""
        db = _copy(demo_db, tmp_path)
        forge_actor(db, 7)
        for command in (["sla"], ["at-risk"], ["open311"], ["quality"], ["ikm"]):
            code, out, err = run("report", *command, "--db", str(db))
            assert code == 1, command
            assert out == ""
            assert err.splitlines()[0].startswith("error: the log does not verify: entry 7: ")

    def test_checkpoint_option(self, demo_db: Path, tmp_path: Path) -> None:
        """--checkpoint reports on the log up to a saved checkpoint."""
        conn = sqlite3.connect(demo_db)
        (note,) = conn.execute("SELECT note FROM checkpoints WHERE size = 40").fetchone()
        conn.close()
        saved = tmp_path / "cp.txt"
        saved.write_text(note, encoding="utf-8")
        code, out, _ = run(
            "report", "sla", "--db", str(demo_db), "--checkpoint", str(saved), "--format", "json"
        )
        assert code == 0
        assert json.loads(out)["basis"]["size"] == 40

    def test_bad_date(self, demo_db: Path) -> None:
        """A malformed --from is bad input (exit 2)."""
        code, _, err = run("report", "sla", "--db", str(demo_db), "--from", "juli")
        assert code == 2
        assert "YYYY-MM-DD" in err

    def test_html_needs_extra(self, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without matplotlib, --format html exits 2 saying what to install."""
        monkeypatch.setattr(html, "available", lambda: False)
        code, _, err = run("report", "sla", "--db", str(demo_db), "--format", "html")
        assert code == 2
        assert "pelayanan[report]" in err


class TestSLAFromTheDemo:
    def test_agrees_with_the_demo_table(self, demo: tuple[Path, str]) -> None:
        """The report's clock figures are the ones the demo printed, clock by clock."""
        db, printed = demo
        table = demo_sla_table(printed)
        assert table["follow_up"][1] + table["verification"][1] > 0  # the demo breaches
        _, out, _ = run("report", "sla", "--db", str(db), "--format", "json")
        data = json.loads(out)
        clocks = {c["clock"]: c for c in data["total"]["clocks"]}
        assert set(clocks) == set(table)
        for name, (met, breached, running, overdue) in table.items():
            c = clocks[name]
            assert (c["met"], c["breached"], c["running"] + c["paused"]) == (met, breached, running)
            assert c["overdue"] == overdue
        assert data["verdict_source"].startswith("recomputed from the verified log")

    def test_summary_breaches_equal_the_report(self, demo: tuple[Path, str]) -> None:
        """The demo's summary line counts the breached clocks the report counts."""
        db, printed = demo
        line = next(x for x in printed.splitlines() if x.startswith("SLA (desk.tick"))
        stated = int(line.rsplit("; ", 1)[1].split()[0])
        _, out, _ = run("report", "sla", "--db", str(db), "--format", "json")
        clocks = json.loads(out)["total"]["clocks"]
        assert stated == sum(c["breached"] for c in clocks) > 0
        assert line.endswith(f"; {stated} clocks breached")

    def test_attribution_agrees_with_the_demo(self, demo: tuple[Path, str]) -> None:
        """Breach attribution per unit is the working time the demo printed."""
        db, printed = demo
        held = demo_held_hours(printed)
        _, out, _ = run("report", "sla", "--db", str(db), "--format", "json", "--by", "unit")
        data = json.loads(out)
        by_unit: dict[str, int] = {}
        for row in data["attribution"]:
            by_unit[row["unit"]] = by_unit.get(row["unit"], 0) + row["held_s"]
        assert {u: f"{s / 3600:.1f}" for u, s in by_unit.items()} == held
        groups = {g["key"]: g for g in data["groups"]}
        for unit, seconds in by_unit.items():
            assert groups[unit]["breach_held_s"] == seconds
        _, text, _ = run("report", "sla", "--db", str(db), "--lang", "en")
        assert "\nBREACHES BY UNIT AND OFFICER\n" in text

    def test_sla_part_same_bytes(self, demo_db: Path) -> None:
        """The SLA part (clocks, attribution, periods) is byte-identical on two runs."""
        parts = []
        for _ in range(2):
            _, out, _ = run("report", "sla", "--db", str(demo_db), "--format", "json", "--by",
                            "officer")  # fmt: skip
            data = json.loads(out)
            sla = {"clocks": [data["total"]["clocks"], *(g["clocks"] for g in data["groups"])],
                   "attribution": data["attribution"], "periods": data["periods"],
                   "source": data["verdict_source"]}  # fmt: skip
            parts.append(json.dumps(sla, sort_keys=True).encode())
        assert parts[0] == parts[1]
        assert b'"breached": 1' in parts[0]

    def test_other_calendar_refused(self, demo_db: Path, tmp_path: Path) -> None:
        """A calendar whose fingerprint is not the recorded one: exit 1, one line naming it."""
        calendar = tmp_path / "cal.yaml"
        config = indonesian_government_calendar(cuti_bersama_working=True).to_config()
        calendar.write_text(yaml.safe_dump(config), encoding="utf-8")
        recorded = indonesian_government_calendar().fingerprint
        for command in (["sla"], ["at-risk"], ["open311"], ["quality"]):
            code, out, err = run("report", *command, "--db", str(demo_db), "--calendar",
                                 str(calendar))  # fmt: skip
            assert code == 1, command
            assert out == ""
            (line,) = err.splitlines()
            assert line.startswith("error: the log's SLA clocks ran on calendar 'default'")
            assert recorded in line
            assert "--calendar" in line

    def test_named_calendar(self, demo_db: Path, tmp_path: Path) -> None:
        """--calendar NAME=FILE gives the calendar a clock names; a wrong one is refused."""
        right = tmp_path / "right.yaml"
        right.write_text(yaml.safe_dump(indonesian_government_calendar().to_config()))
        wrong = tmp_path / "wrong.yaml"
        wrong.write_text(yaml.safe_dump({"name": "lain"}))
        assert run("report", "sla", "--db", str(demo_db), "--calendar", f"default={right}")[0] == 0
        code, _, err = run("report", "sla", "--db", str(demo_db), "--calendar", f"default={wrong}")
        assert code == 1
        assert "default=FILE" in err
        code, _, err = run(
            "report", "sla", "--db", str(demo_db), "--calendar", str(right), "--calendar",
            str(wrong),
        )  # fmt: skip
        assert code == 2


class TestOtherCommands:
    def test_open311(self, demo_db: Path) -> None:
        """The Open311 feed is a JSON array without request data."""
        code, out, _ = run("report", "open311", "--db", str(demo_db))
        assert code == 0
        feed = json.loads(out)
        assert {r["status"] for r in feed} == {"open", "closed"}
        for value in ("Jalan", "warga-", "32.73"):
            assert value not in out

    def test_open311_expected_datetime(self, demo_db: Path) -> None:
        """expected_datetime is the earliest running deadline the desk stored (or --clock's)."""
        states = sla_states(demo_db)
        for option in ([], ["--clock", "resolution"]):
            code, out, _ = run("report", "open311", "--db", str(demo_db), *option)
            assert code == 0
            listed = 0
            for item in json.loads(out):
                running = [
                    rfc3339(str(state["deadline"]))
                    for name, state in states[item["service_request_id"]].items()
                    if state["status"] == "running" and (not option or name == option[1])
                ]
                expected = item["expected_datetime"]
                if item["status"] == "closed" or not running:
                    assert expected is None
                else:
                    assert rfc3339(expected) == min(running)
                    listed += 1
            assert listed > 0

    def test_at_risk(self, demo_db: Path) -> None:
        """at-risk runs and states where its clock verdicts come from."""
        code, out, _ = run("report", "at-risk", "--db", str(demo_db), "--format", "json")
        assert code == 0
        data = json.loads(out)
        assert data["report"] == "at-risk"
        assert data["verdict_source"].startswith("recomputed from the verified log")
        code, _, err = run("report", "at-risk", "--db", str(demo_db), "--at", "2026-07-20")
        assert code == 2
        assert "offset" in err

    def test_at_risk_at_demo_end(self, demo_db: Path) -> None:
        """At the demo's end instant some request is at risk, its deadline the stored one."""
        end = "2026-07-24T16:30:00+07:00"  # the demo's last tick: Friday of week 3, 16:30
        code, out, _ = run(
            "report", "at-risk", "--db", str(demo_db), "--at", end, "--format", "json"
        )
        assert code == 0
        data = json.loads(out)
        assert data["items"]
        assert {"likely", "possible"} & {i["risk"] for i in data["items"]}
        states = sla_states(demo_db)
        for item in data["items"]:
            state = states[item["request"]][item["clock"]]
            assert state["status"] == "running"
            assert rfc3339(item["deadline"]) == rfc3339(str(state["deadline"]))
            assert item["reason"]
        code, out, _ = run("report", "at-risk", "--db", str(demo_db), "--at", end, "--lang", "en")
        assert "LIKELY TO BREACH" in out

    def test_at_risk_earlier_instant(self, demo_db: Path) -> None:
        """--at an earlier instant judges the clocks as they ran then (later entries ignored)."""
        code, out, _ = run("report", "at-risk", "--db", str(demo_db), "--at",
                           "2026-07-15T12:00:00+07:00", "--format", "json")  # fmt: skip
        assert code == 0
        data = json.loads(out)
        assert data["considered"] > 0
        for item in data["items"]:
            assert rfc3339(item["deadline"]) > rfc3339("2026-07-06T00:00:00+07:00")

    def test_ikm_db(self, demo_db: Path) -> None:
        """ikm --db computes the IKM of the survey entries in the verified log."""
        code, out, _ = run("report", "ikm", "--db", str(demo_db), "--format", "json")
        assert code == 0
        data = json.loads(out)
        assert data["respondents"] > 0
        assert data["mutu"] in "ABCD"
        assert data["basis"]["rules"]["ikm"] == "2017"

    def test_ikm_exactly_one_source(self, demo_db: Path, tmp_path: Path) -> None:
        """ikm takes FILE.csv or --db, not both, not neither."""
        assert run("report", "ikm")[0] == 2
        csv = tmp_path / "s.csv"
        csv.write_text(",".join(ANSWERS) + "\n" + ",".join(map(str, ANSWERS.values())) + "\n")
        assert run("report", "ikm", str(csv), "--db", str(demo_db))[0] == 2
        assert run("report", "ikm", str(csv))[0] == 0

    def test_ikm_db_other_rules(self, demo_db: Path) -> None:
        """Asking for rules no response was recorded under is bad input."""
        code, _, err = run("report", "ikm", "--db", str(demo_db), "--rules", "2004")
        assert code == 2
        assert "no survey response under rules 2004" in err

    def test_quality(self, demo_db: Path, tmp_path: Path) -> None:
        """The quality index shows its components; a config file changes the weights."""
        config = tmp_path / "q.yaml"
        config.write_text('version: uji\nweights: {ikm: "0.7", closure_rate: "0.3"}\n')
        code, out, _ = run(
            "report", "quality", "--db", str(demo_db), "--config", str(config), "--format", "json"
        )
        assert code == 0
        data = json.loads(out)
        assert data["index"] is not None
        assert [c["name"] for c in data["components"]] == ["ikm", "closure_rate"]
        code, out, _ = run("report", "quality", "--db", str(demo_db), "--format", "json")
        sla = json.loads(out)["components"][0]
        assert (sla["name"], code) == ("sla_compliance", 0)
        assert sla["value"] is not None
        assert json.loads(out)["index"] is not None
        config.write_text('version: uji\nweights: {ikm: "0.7"}\n')
        assert run("report", "quality", "--db", str(demo_db), "--config", str(config))[0] == 2


class TestRecordSurvey:
    def _closed(self, desk: ServiceDesk, staff: dict[str, Actor]) -> str:
        request = desk.submit(
            "pengaduan-umum", actor=staff["citizen"], data={"subject": "s", "category": "lainnya"}
        ).request.id
        desk.act(request, "verify", actor=staff["verifier"])
        desk.act(request, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "u"})
        desk.act(request, "follow_up", actor=staff["officer"], data={"follow_up_note": "n"})
        desk.act(request, "close", actor=staff["supervisor"])
        return request

    def test_recorded(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A response against a closed request is one survey entry with the answers only."""
        request = self._closed(desk, staff)
        result = desk.record_survey(request, ANSWERS, actor=staff["verifier"])
        assert not result.replayed
        assert result.request is not None
        assert result.request.id == request
        seq = result.seq
        entry = json.loads(next(desk.store.entries(desk.ledger, seq, seq + 1)).data)
        assert entry["kind"] == "survey"
        assert entry["answers"] == ANSWERS
        assert entry["rules"] == "2017"

    def test_open_request_refused(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A response against an open request is refused and the refusal recorded."""
        request = desk.submit(
            "pengaduan-umum", actor=staff["citizen"], data={"subject": "s", "category": "lainnya"}
        ).request.id
        with pytest.raises(TransitionNotAllowedError):
            desk.record_survey(request, ANSWERS, actor=staff["verifier"])
        last = list(desk.store.entries(desk.ledger))[-1]
        entry = json.loads(last.data)
        assert (entry["kind"], entry["action"]) == ("refused", "survey")

    def test_unknown_request(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A response against no request is refused (recorded)."""
        with pytest.raises(UnknownRequestError):
            desk.record_survey("NOPE", ANSWERS, actor=staff["verifier"])

    @pytest.mark.parametrize(
        "answers",
        [
            {k: v for k, v in ANSWERS.items() if k != "waktu"},
            {**ANSWERS, "rasa": 3},
            {**ANSWERS, "waktu": 5},
        ],
    )
    def test_bad_answers(
        self, desk: ServiceDesk, staff: dict[str, Actor], answers: dict[str, int]
    ) -> None:
        """Missing or unknown unsur and out-of-range answers are refused by the IKM rules."""
        request = self._closed(desk, staff)
        size = desk.store.head(desk.ledger).size
        with pytest.raises(ReportError):
            desk.record_survey(request, answers, actor=staff["verifier"])
        assert desk.store.head(desk.ledger).size == size


class TestCollectorTuning:
    """The command line runs with fewer garbage collections; embedding apps are untouched."""

    @pytest.fixture(autouse=True)
    def _restore(self) -> Iterator[None]:
        previous = gc.get_threshold()
        yield
        gc.set_threshold(*previous)

    def test_main_raises_the_thresholds(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`main` tunes the collector before running the command."""
        gc.set_threshold(700, 10, 10)
        monkeypatch.setattr(_main, "cli", lambda: None)
        _main.main()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)

    def test_higher_settings_and_switched_off_collection_are_kept(self) -> None:
        """A threshold already higher stays, and a collector switched off stays off."""
        gc.set_threshold(YOUNG_THRESHOLD * 2, 5, OLDER_THRESHOLD * 3)
        tune_collector()
        assert gc.get_threshold() == (YOUNG_THRESHOLD * 2, OLDER_THRESHOLD, OLDER_THRESHOLD * 3)
        gc.set_threshold(0, 10, 10)
        tune_collector()
        assert gc.get_threshold() == (0, 10, 10)


def test_sla_at_ages_and_judges_at_the_instant(demo_db: Path) -> None:
    """`report sla --at` leaves later entries out and ages open requests at the instant."""
    _, whole, _ = run("report", "sla", "--db", str(demo_db), "--format", "json")
    code, early, _ = run(
        "report", "sla", "--db", str(demo_db), "--format", "json",
        "--at", "2026-07-10T17:00:00+07:00",
    )  # fmt: skip
    assert code == 0
    assert "2026-07-10T10:00:00+00:00" in early
    assert json.loads(early)["total"]["received"] < json.loads(whole)["total"]["received"]
    code, _, err = run("report", "sla", "--db", str(demo_db), "--at", "2026-07-10T17:00")
    assert code == 2
    assert "no offset" in err
