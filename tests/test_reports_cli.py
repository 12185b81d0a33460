"""The report commands on the demo database, and survey responses through the desk."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pelayanan.access import Actor
from pelayanan.cli._demo import run_demo
from pelayanan.cli._main import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import ReportError, TransitionNotAllowedError, UnknownRequestError
from pelayanan.reports import html

ANSWERS = {
    "persyaratan": 4, "prosedur": 3, "waktu": 3, "biaya": 4, "produk": 3,
    "kompetensi": 4, "perilaku": 4, "sarana": 3, "pengaduan": 3,
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database (with its keys folder), made once for the module."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    run_demo(db, 1)
    return db


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
        """The SLA report runs for every dimension and states its checkpoint."""
        code, out, _ = run("report", "sla", "--db", str(demo_db), "--by", by)
        assert code == 0
        assert out.startswith("SLA and flow report\ncheckpoint: ledger pemkot-contoh, size ")

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
        assert sum(g["received"] for g in data["groups"]) == total["received"]
        assert len(data["groups"]) >= 3
        assert total["refused"]

    def test_tampered_refused(self, demo_db: Path, tmp_path: Path) -> None:
        """An edited entry makes the report refuse with exit 1, reason first."""
        db = _copy(demo_db, tmp_path)
        conn = sqlite3.connect(db)
        (data,) = conn.execute("SELECT data FROM entries WHERE seq = 7").fetchone()
        conn.execute(
            "UPDATE entries SET data = ? WHERE seq = 7",
            (bytes(data).replace(b'"actor":"', b'"actor":"X', 1),),
        )
        conn.commit()
        conn.close()
        for command in (["sla"], ["at-risk"], ["open311"], ["quality"], ["ikm"]):
            code, out, err = run("report", *command, "--db", str(db))
            assert code == 1, command
            assert out == ""
            assert err.splitlines()[0].startswith("refused: the log does not verify: entry 7: ")

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
        """Without matplotlib, --format html exits 1 saying what to install."""
        monkeypatch.setattr(html, "available", lambda: False)
        code, _, err = run("report", "sla", "--db", str(demo_db), "--format", "html")
        assert code == 1
        assert "pelayanan[report]" in err


class TestOtherCommands:
    def test_open311(self, demo_db: Path) -> None:
        """The Open311 feed is a JSON array without request data."""
        code, out, _ = run("report", "open311", "--db", str(demo_db))
        assert code == 0
        feed = json.loads(out)
        assert {r["status"] for r in feed} == {"open", "closed"}
        for value in ("Jalan", "warga-", "32.73"):
            assert value not in out

    def test_at_risk(self, demo_db: Path) -> None:
        """at-risk runs and states where its clock verdicts come from."""
        code, out, _ = run("report", "at-risk", "--db", str(demo_db), "--format", "json")
        assert code == 0
        assert json.loads(out)["report"] == "at-risk"
        code, _, err = run("report", "at-risk", "--db", str(demo_db), "--at", "2026-07-20")
        assert code == 2
        assert "offset" in err

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
        config.write_text('version: uji\nweights: {ikm: "0.7"}\n')
        assert run("report", "quality", "--db", str(demo_db), "--config", str(config))[0] == 2


class TestRecordSurvey:
    def _closed(self, desk: ServiceDesk, staff: dict[str, Actor]) -> str:
        request = desk.submit(
            "pengaduan-umum", actor=staff["citizen"], data={"subject": "s", "category": "c"}
        ).request.id
        desk.act(request, "verify", actor=staff["verifier"])
        desk.act(request, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "u"})
        desk.act(request, "follow_up", actor=staff["officer"], data={"follow_up_note": "n"})
        desk.act(request, "close", actor=staff["supervisor"])
        return request

    def test_recorded(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A response against a closed request is one survey entry with the answers only."""
        request = self._closed(desk, staff)
        seq = desk.record_survey(request, ANSWERS, actor=staff["verifier"])
        entry = json.loads(next(desk.store.entries(desk.ledger, seq, seq + 1)).data)
        assert entry["kind"] == "survey"
        assert entry["answers"] == ANSWERS
        assert entry["rules"] == "2017"

    def test_open_request_refused(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A response against an open request is refused and the refusal recorded."""
        request = desk.submit(
            "pengaduan-umum", actor=staff["citizen"], data={"subject": "s", "category": "c"}
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
