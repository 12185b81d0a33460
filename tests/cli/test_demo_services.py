"""The demo's other services: the 112 call on Idul Fitri, the PBG's parallel reviews and
the Ramadan hours line, each computed by the desk and calendar, the same on every run."""

from __future__ import annotations

import datetime as dt

from pelayanan.calendar import indonesian_government_calendar
from pelayanan.cli._demo import WIB, sop_path
from pelayanan.cli._demo_services import emergency_call_lines, pbg_lines, ramadan_line
from pelayanan.privacy import Vault, generate_master_key


def test_emergency_call_ticks_warning_then_breach_with_whom_to_notify() -> None:
    """Tick at 09:06 fires the warning; at 09:16 the breach and both escalations."""
    lines = emergency_call_lines(sop_path("panggilan-darurat-112"))
    assert "Sat 2026-03-21 09:00" in lines[0]
    ticks = [line.split()[1:4] for line in lines if line.startswith("  tick ")]
    assert ticks == [
        ["09:06:", "dispatch", "warning:50"],
        ["09:16:", "dispatch", "breach"],
        ["09:16:", "dispatch", "escalation:1"],
        ["09:16:", "dispatch", "escalation:2"],
    ]
    assert all("notify supervisor, unit:call-center-112" in line for line in lines[1:5])
    assert lines[4].endswith("reassigned to role supervisor")
    assert lines[-1].strip().startswith("16 minutes counted on the holiday")
    assert lines[-1].endswith("would count 0)")
    assert emergency_call_lines(sop_path("panggilan-darurat-112")) == lines


def test_pbg_branches_refusal_and_the_move_on() -> None:
    """Each review finishes its own branch; the last one moves the file to the assessment."""
    start = dt.datetime(2026, 7, 27, 8, 30, tzinfo=WIB)
    lines = pbg_lines(sop_path("pbg"), Vault(generate_master_key()), start)
    assert lines[1] == (
        "  branches: arsitektur telaah_arsitektur, struktur telaah_struktur, mep telaah_mep"
    )
    assert lines[2] == ("  refused, recorded (fields:writes): tpa-struktur writing ba_arsitektur")
    assert "struktur struktur_selesai, mep telaah_mep" in lines[3]
    assert "arsitektur arsitektur_selesai" in lines[4]
    assert lines[5].endswith("last branch done, moved to penilaian_retribusi")
    assert len(lines) == 6


def test_ramadan_friday_after_hours_counts_from_monday() -> None:
    """15:45 on a Ramadan Friday is after the Ramadan hours; the next working day counts."""
    line = ramadan_line(indonesian_government_calendar())
    assert "received Fri 2026-03-06 15:45, counted from Mon 2026-03-09 08:00" in line
    assert line.endswith("(an ordinary Friday counts from 15:45)")
