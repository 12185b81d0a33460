"""CSV tables of every report (``--format csv --table``) and the Parquet export of the log."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from log_support import forge_actor
from pelayanan.audit import parquet
from pelayanan.cli._main import cli
from pelayanan.exceptions import ReportError
from pelayanan.reports.tables import SLA_TABLES, Table, pick_table, render_csv


def run(*args: str) -> tuple[int, str, str]:
    """Run the command line in-process; return the exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def rows(text: str) -> list[dict[str, str]]:
    """Parse CSV text with a header row."""
    return list(csv.DictReader(io.StringIO(text)))


def copy_db(db: Path, folder: Path) -> Path:
    """Copy a demo database with its keys folder into *folder*."""
    target = folder / "copy.db"
    shutil.copy(db, target)
    shutil.copytree(Path(f"{db}.keys"), Path(f"{target}.keys"))
    return target


class TestTables:
    """The table values and their CSV form."""

    def test_none_is_empty(self) -> None:
        """A missing figure is an empty cell; the header comes first."""
        table = Table("t", ("a", "b"), (("x", None), ("y", 2)))
        assert render_csv(table) == "a,b\nx,\ny,2\n"

    def test_unknown_table(self) -> None:
        """Asking for a table a report does not have names the ones it has."""
        with pytest.raises(ReportError, match="choose one of t, u"):
            pick_table((Table("t", (), ()), Table("u", (), ())), "v")


class TestSLATables:
    """``report sla --format csv --table``."""

    def test_every_table_into_a_folder(self, demo_db: Path, tmp_path: Path) -> None:
        """--table all -o DIR writes one CSV per table, named after it."""
        folder = tmp_path / "out"
        code, _, err = run(
            "report", "sla", "--db", str(demo_db), "--by", "unit", "--format", "csv",
            "--table", "all", "-o", str(folder),
        )  # fmt: skip
        assert code == 0, err
        assert sorted(p.stem for p in folder.iterdir()) == sorted(SLA_TABLES)
        flow = rows((folder / "flow.csv").read_text(encoding="utf-8"))
        assert flow[0]["group"] == "*"
        assert len(flow) > 1
        # Again without --force: the files exist, so the command refuses.
        code, _, err = run(
            "report", "sla", "--db", str(demo_db), "--format", "csv", "--table", "all",
            "-o", str(folder),
        )  # fmt: skip
        assert code == 2
        assert "exists" in err

    def test_clocks_table_matches_json(self, demo_db: Path) -> None:
        """The clocks table holds the figures of the JSON report, one row per clock."""
        code, out, _ = run("report", "sla", "--db", str(demo_db), "--format", "json")
        assert code == 0
        figures = {c["clock"]: c for c in json.loads(out)["total"]["clocks"]}
        code, out, _ = run(
            "report", "sla", "--db", str(demo_db), "--format", "csv", "--table", "clocks"
        )
        assert code == 0
        table = rows(out)
        assert {r["clock"] for r in table} == set(figures)
        for row in table:
            expected = figures[row["clock"]]
            assert int(row["met"]) == expected["met"]
            assert int(row["overdue"]) == expected["overdue"]
            assert row["compliance_with_overdue"] == (expected["compliance_with_overdue"] or "")

    def test_default_csv_is_the_tidy_table(self, demo_db: Path) -> None:
        """Without --table, --format csv keeps the one long table of every figure."""
        code, out, _ = run("report", "sla", "--db", str(demo_db), "--format", "csv")
        assert code == 0
        assert out.startswith("section,group,item,metric,value\n")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--table", "clocks"], "--table goes with --format csv"),
            (["--format", "csv", "--table", "all"], "add -o DIR"),
        ],
    )
    def test_bad_choice(self, demo_db: Path, args: list[str], message: str) -> None:
        """--table without CSV, or all without a folder, exits 2 before any replay."""
        code, out, err = run("report", "sla", "--db", str(demo_db), *args)
        assert (code, out) == (2, "")
        assert message in err


class TestOtherReports:
    """The at-risk, quality, IKM and Open311 tables."""

    @pytest.mark.parametrize(
        ("command", "first"),
        [
            (["at-risk"], "request,service,state,unit,officer,clock,deadline,risk"),
            (["quality"], "component,weight,numerator,denominator,value"),
            (["ikm"], "key,name,weight,total,nrr,nrr_exact"),
            (["open311"], "service_request_id,status,status_notes"),
        ],
    )
    def test_first_table_by_default(self, demo_db: Path, command: list[str], first: str) -> None:
        """--format csv alone prints the report's first table."""
        code, out, err = run("report", *command, "--db", str(demo_db), "--format", "csv")
        assert code == 0, err
        assert out.startswith(first)
        assert len(rows(out)) >= 1

    def test_open311_rows(self, demo_db: Path) -> None:
        """The Open311 table has one row per request of the JSON feed, in the same order."""
        _, out, _ = run("report", "open311", "--db", str(demo_db))
        feed = json.loads(out)
        _, out, _ = run("report", "open311", "--db", str(demo_db), "--format", "csv")
        assert [r["service_request_id"] for r in rows(out)] == [
            r["service_request_id"] for r in feed
        ]

    def test_ikm_result_table(self, demo_db: Path) -> None:
        """The IKM result table holds the exact score next to the rounded one."""
        code, out, _ = run(
            "report", "ikm", "--db", str(demo_db), "--format", "csv", "--table", "result"
        )
        assert code == 0
        (row,) = rows(out)
        assert row["ikm"] == "82.68"
        assert row["ikm_exact"] == "12650/153"

    def test_ikm_basis_needs_a_log(self, tmp_path: Path) -> None:
        """A CSV survey has no log basis to print."""
        survey = Path(__file__).resolve().parents[2] / "examples" / "survey" / "skm-2026.csv"
        code, _, err = run("report", "ikm", str(survey), "--format", "csv", "--table", "basis")
        assert code == 2
        assert "--table basis needs --db" in err


needs_pyarrow = pytest.mark.skipif(
    not parquet.available() and os.environ.get("CI") != "true",
    reason="pyarrow (the parquet extra) is not installed; CI installs it",
)


@needs_pyarrow
class TestParquetExport:
    """``audit export --format parquet``: the verified log's flat rows."""

    def test_reads_back(self, demo_db: Path, tmp_path: Path) -> None:
        """Every entry is one row, in order, with the whitelisted columns only."""
        import pyarrow.parquet as pq

        target = tmp_path / "log.parquet"
        code, out, err = run(
            "audit", "export", "--db", str(demo_db), "--format", "parquet", "-o", str(target)
        )
        assert code == 0, err
        table = pq.read_table(target)
        assert table.schema.names == [name for name, _ in parquet.FLAT_COLUMNS]
        conn = sqlite3.connect(demo_db)
        (count,) = conn.execute("SELECT count(*) FROM entries").fetchone()
        conn.close()
        assert f"exported {count} verified entries" in out
        data = table.to_pydict()
        assert data["seq"] == list(range(count))
        kinds = data["kind"]
        assert all(a is None for a, k in zip(data["actor"], kinds, strict=True) if k == "submit")
        assert "refused" in kinds
        assert any(e == "IncompleteRequestError" for e in data["refusal_error"])
        assert data["time"][0].tzinfo is not None

    def test_no_personal_values(self, demo_db: Path, tmp_path: Path) -> None:
        """Nothing of the requests' data or of the free texts reaches the file."""
        target = tmp_path / "log.parquet"
        code, _, _ = run(
            "audit", "export", "--db", str(demo_db), "--format", "parquet", "-o", str(target)
        )
        assert code == 0
        raw = target.read_bytes()
        for text in (b"Pungutan liar", b"Klarifikasi", b"subj-", b"integritas"):
            assert text not in raw

    def test_refuses_an_unverified_log(self, demo_db: Path, tmp_path: Path) -> None:
        """A tampered log exits 1 with the reason, and no file is written."""
        db = copy_db(demo_db, tmp_path)
        forge_actor(db, 7)
        target = tmp_path / "log.parquet"
        code, _, err = run(
            "audit", "export", "--db", str(db), "--format", "parquet", "-o", str(target)
        )
        assert code == 1
        assert err.startswith("error: the log does not verify: entry 7: ")
        assert not target.exists()
        assert list(tmp_path.glob(".log.parquet.*")) == []
