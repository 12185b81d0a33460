"""Tests for the `pelayanan report ikm` command (pelayanan.cli._report_ikm)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pelayanan.cli._report_ikm import ikm_command
from pelayanan.reports.ikm import RULES_2004, RULES_2017

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "survey" / "skm-2026.csv"
HEADER = ",".join(RULES_2017.keys)


def run(*args: str, stdin: str | None = None) -> Result:
    """Invoke the command in-process and return its result."""
    return CliRunner().invoke(ikm_command, list(args), input=stdin)


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    """Write a survey CSV and return its path."""
    path = tmp_path / "skm.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


#: See tests/test_ikm.py EDGE_SURVEY: exact 88.33 (A), with 0.111 88.25 (B).
EDGE_ROWS = [
    ",".join("3" if r < k else "4" for k in [5, 5, 5, 5, 5, 5, 4, 4, 4]) for r in range(10)
]


class TestSuccess:
    """Valid surveys."""

    def test_command_name(self) -> None:
        """The command object is called "ikm" for mounting under `report`."""
        assert ikm_command.name == "ikm"

    def test_text_output_for_the_example(self) -> None:
        """The default text output leads with the score and category; exit 0."""
        result = run(str(EXAMPLE))
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == "IKM 80.19  mutu B (Baik)"
        assert "30 respondents" in result.stdout

    def test_json_output_for_the_example(self) -> None:
        """--format json prints the contract keys with string figures."""
        result = run(str(EXAMPLE), "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["ikm"] == "80.19"
        assert data["mutu"] == "B"
        assert data["kinerja"] == "Baik"
        assert data["respondents"] == 30
        assert data["rules"]["name"] == "2017"
        assert data["weighting"] == "exact"
        assert [u["key"] for u in data["unsur"]] == list(RULES_2017.keys)

    def test_weight_option_changes_the_category(self, tmp_path: Path) -> None:
        """--weight 0.111 applies the published convention: A (88.33) becomes B (88.25)."""
        path = write_csv(tmp_path, *EDGE_ROWS)
        exact = json.loads(run(str(path), "--format", "json").stdout)
        rounded = json.loads(run(str(path), "--format", "json", "--weight", "0.111").stdout)
        assert (exact["ikm"], exact["mutu"]) == ("88.33", "A")
        assert (rounded["ikm"], rounded["mutu"], rounded["weighting"]) == (
            "88.25",
            "B",
            "rounded",
        )

    def test_rules_2004(self, tmp_path: Path) -> None:
        """--rules 2004 reads the 14 unsur of 2004 and uses its bands: 75.00 is B there."""
        header = ",".join(RULES_2004.keys)
        path = write_csv(tmp_path, ",".join(["4"] * 14), ",".join(["2"] * 14), header=header)
        result = run(str(path), "--rules", "2004", "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert (data["ikm"], data["mutu"], data["rules"]["name"]) == ("75.00", "B", "2004")

    def test_reads_standard_input(self) -> None:
        """FILE "-" reads the survey from standard input."""
        result = run("-", stdin=HEADER + "\n" + ",".join(["4"] * 9) + "\n")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("IKM 100.00  mutu A (Sangat Baik)")


class TestBadInput:
    """Bad input: exit 2 with one line on stderr, no traceback."""

    def assert_one_line_error(self, result: Result, fragment: str) -> None:
        """Check the exit status, the single stderr line and the absence of a traceback."""
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        assert fragment in lines[0]
        assert "Traceback" not in result.output

    def test_answer_outside_range(self, tmp_path: Path) -> None:
        """An answer 5 names the file, line and column."""
        path = write_csv(tmp_path, "4,4,4,4,4,4,4,4,4", "4,4,4,4,5,4,4,4,4")
        result = run(str(path))
        self.assert_one_line_error(result, "skm.csv:3: column 5 (produk): 5 is outside 1-4")

    def test_not_an_integer(self, tmp_path: Path) -> None:
        """A non-integer answer is refused."""
        path = write_csv(tmp_path, "4,4,4,4,4,4,4,4,baik")
        self.assert_one_line_error(run(str(path)), "column 9 (sarana): 'baik' is not an integer")

    def test_missing_column(self, tmp_path: Path) -> None:
        """A missing unsur column is refused."""
        header = ",".join(RULES_2017.keys[1:])
        path = write_csv(tmp_path, "4,4,4,4,4,4,4,4", header=header)
        self.assert_one_line_error(run(str(path)), "missing unsur column persyaratan")

    def test_unknown_column(self, tmp_path: Path) -> None:
        """An unknown column is refused."""
        path = write_csv(tmp_path, "4,4,4,4,4,4,4,4,4,4", header=HEADER + ",parkir")
        self.assert_one_line_error(run(str(path)), "column 10 (parkir): unknown unsur")

    def test_duplicate_column(self, tmp_path: Path) -> None:
        """A duplicate column is refused."""
        path = write_csv(tmp_path, "4,4,4,4,4,4,4,4,4,4", header=HEADER + ",waktu")
        self.assert_one_line_error(run(str(path)), "duplicate column, also column 3")

    def test_short_row(self, tmp_path: Path) -> None:
        """A short row is refused."""
        path = write_csv(tmp_path, "4,4,4,4")
        self.assert_one_line_error(run(str(path)), "skm.csv:2: the row has 4 values")

    def test_empty_survey(self, tmp_path: Path) -> None:
        """A header without respondents is refused."""
        path = write_csv(tmp_path)
        self.assert_one_line_error(run(str(path)), "no respondents")

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is refused in one line."""
        result = run(str(tmp_path / "tidak-ada.csv"))
        self.assert_one_line_error(result, "tidak-ada.csv: cannot read the file")

    def test_2017_file_with_2004_rules(self) -> None:
        """The example (2017 keys) read with --rules 2004 fails on a foreign column."""
        result = run(str(EXAMPLE), "--rules", "2004")
        self.assert_one_line_error(result, "unknown unsur for rules 2004")

    @pytest.mark.parametrize(
        ("weight", "fragment"),
        [
            ("abc", "--weight 'abc' is not a decimal number"),
            ("NaN", "--weight 'NaN' is not a decimal number"),
            ("0.5", "weight 0.5 is not 1/9 rounded or truncated"),
            ("-0.111", "must be a positive decimal"),
        ],
    )
    def test_bad_weight(self, weight: str, fragment: str) -> None:
        """A --weight that is not 1/n rounded is refused in one line."""
        self.assert_one_line_error(run(str(EXAMPLE), "--weight", weight), fragment)


def test_regulation_u_columns_score_like_keys(tmp_path: Path) -> None:
    """A sheet headed U1-U9 scores exactly as the same sheet headed by unsur keys."""
    rows = ("4,3,3,4,3,4,4,3,2", "3,3,3,3,3,3,3,3,1")
    by_u = write_csv(tmp_path, *rows, header=",".join(f"U{n}" for n in range(1, 10)))
    keyed = tmp_path / "keyed"
    keyed.mkdir()
    by_key = write_csv(keyed, *rows, header=",".join(RULES_2017.keys))
    first, second = run(str(by_u)), run(str(by_key))
    assert first.exit_code == 0, first.output
    assert first.output == second.output
