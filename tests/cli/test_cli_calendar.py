"""Tests for the ``calendar`` CLI group (run directly on the click group)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pelayanan.cli._calendar import calendar_group


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the group; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(calendar_group, list(args))
    return result.exit_code, result.stdout, result.stderr


class TestDeadline:
    def test_working_days_first_line(self) -> None:
        """The first stdout line is the ISO 8601 deadline with offset."""
        code, out, _ = run(
            "deadline", "--start", "2026-07-07T10:00:00+07:00", "--working-days", "3"
        )
        assert code == 0
        assert out.splitlines()[0] == "2026-07-10T16:30:00+07:00"

    def test_lebaran(self) -> None:
        """Lebaran 2026 holidays and cuti bersama are skipped by default."""
        code, out, _ = run(
            "deadline", "--start", "2026-03-17T10:00:00+07:00", "--working-days", "1"
        )
        assert (code, out.splitlines()[0]) == (0, "2026-03-25T16:00:00+07:00")

    def test_cuti_bersama_as_working(self) -> None:
        """--cuti-bersama-as-working counts 18 March 2026 (Ramadan: closes 15:00) as working."""
        code, out, _ = run(
            "deadline",
            "--start",
            "2026-03-17T10:00:00+07:00",
            "--working-days",
            "1",
            "--cuti-bersama-as-working",
        )
        assert (code, out.splitlines()[0]) == (0, "2026-03-18T15:00:00+07:00")

    def test_ramadan_hours_by_default_and_off_on_request(self) -> None:
        """A Ramadan Friday counts the Ramadan hours; --no-ramadan-hours the regular ones."""
        args = ("deadline", "--start", "2026-03-06T09:00:00+07:00", "--working-hours", "7")
        code, out, _ = run(*args)
        assert (code, out.splitlines()[0]) == (0, "2026-03-09T09:30:00+07:00")
        assert "no Ramadan hours" not in out
        code, out, _ = run(*args, "--no-ramadan-hours")
        assert (code, out.splitlines()[0]) == (0, "2026-03-09T08:30:00+07:00")
        assert "cuti bersama non-working, no Ramadan hours" in out

    def test_naive_start_in_calendar_zone(self) -> None:
        """A start without offset is wall time in --tz; output is in that zone."""
        code, out, _ = run(
            "deadline",
            "--start",
            "2026-07-07T10:00",
            "--working-days",
            "3",
            "--tz",
            "Asia/Makassar",
        )
        assert (code, out.splitlines()[0]) == (0, "2026-07-10T16:30:00+08:00")

    def test_other_zone_start_converted(self) -> None:
        """A UTC start is converted to the calendar zone (WIT)."""
        code, out, _ = run(
            "deadline",
            "--start",
            "2026-07-07T01:00:00Z",
            "--working-hours",
            "1.5",
            "--tz",
            "Asia/Jayapura",
        )
        assert (code, out.splitlines()[0]) == (0, "2026-07-07T11:30:00+09:00")

    def test_calendar_days(self) -> None:
        """--calendar-days moves the wall clock."""
        code, out, _ = run(
            "deadline", "--start", "2026-07-07T10:00:00+07:00", "--calendar-days", "30"
        )
        assert (code, out.splitlines()[0]) == (0, "2026-08-06T10:00:00+07:00")

    def test_estimated_dates_explained(self) -> None:
        """Estimated dates are named on later lines; exit stays 0."""
        code, out, err = run(
            "deadline", "--start", "2027-03-01T10:00:00+07:00", "--working-days", "20"
        )
        lines = out.splitlines()
        assert code == 0
        assert lines[0] == "2027-04-08T16:00:00+07:00"
        assert any(line.startswith("estimated: 2027-03-10") for line in lines[1:])
        assert err == ""

    @pytest.mark.parametrize(
        ("args", "needle"),
        [
            (["--start", "tomorrow", "--working-days", "3"], "not an ISO 8601"),
            (["--start", "2026-07-07T10:00", "--working-days", "-3"], "must not be negative"),
            (["--start", "2026-07-07T10:00", "--working-days", "2.5"], "whole number"),
            (
                ["--start", "2026-07-07T10:00", "--working-days", "3", "--tz", "Asia/Atlantis"],
                "unknown IANA",
            ),
            (["--start", "2026-07-07T10:00"], "exactly one of"),
            (
                ["--start", "2026-07-07T10:00", "--working-days", "1", "--calendar-days", "1"],
                "exactly one of",
            ),
            (["--working-days", "1"], "--start is required"),
            (["--start", "9999-12-30T10:00", "--calendar-days", "5"], "out of range"),
        ],
    )
    def test_bad_input_exits_2_with_one_line(self, args: list[str], needle: str) -> None:
        """Bad input exits 2 with one clear error line on stderr and no traceback."""
        code, out, err = run("deadline", *args)
        assert code == 2
        assert out == ""
        assert len(err.strip().splitlines()) == 1
        assert needle in err
        assert "Traceback" not in err


class TestShow:
    def test_lists_2026_cuti_bersama(self) -> None:
        """show lists holidays and cuti bersama with source, without weekends."""
        code, out, _ = run("show", "2026")
        assert code == 0
        cuti = [line[:10] for line in out.splitlines() if "cuti bersama" in line]
        assert cuti == [
            "2026-02-16",
            "2026-03-18",
            "2026-03-20",
            "2026-03-23",
            "2026-03-24",
            "2026-05-15",
            "2026-05-28",
            "2026-12-24",
        ]
        assert "weekend" not in out

    def test_weekends_on_request(self) -> None:
        """--weekends adds the days off by weekday."""
        _, out, _ = run("show", "2026", "--weekends")
        assert "2026-01-03 Sat  Saturday  [weekend]" in out

    def test_cuti_bersama_as_working_hides_them(self) -> None:
        """With cuti bersama working they are not listed."""
        _, out, _ = run("show", "2026", "--cuti-bersama-as-working")
        assert "cuti bersama" not in out

    def test_estimated_marked(self) -> None:
        """Estimated dates are visibly marked."""
        _, out, _ = run("show", "2027")
        assert "2027-03-10 Wed  Eid al-Fitr (estimated)" in out

    @pytest.mark.parametrize("year", ["abc", "1800"])
    def test_bad_year(self, year: str) -> None:
        """A bad year exits 2 with one line."""
        code, _, err = run("show", year)
        assert code == 2
        assert len(err.strip().splitlines()) == 1
