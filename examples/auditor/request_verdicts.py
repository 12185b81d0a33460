"""Recompute one request's SLA verdicts from a verified export and show the entries behind them.

A complaint to the Ombudsman often turns on one question: was this request handled in
time?  This script first verifies the export (so every entry it shows is one the agency
signed), then replays that request's clock changes on the working calendar the log names
(checked by fingerprint, so newer holiday data never silently changes a past verdict),
and prints each clock's verdict with the entries it rests on.

Example::

    python examples/auditor/request_verdicts.py export.jsonl --request ADU-2026-00004 \\
        --trusted-key ledger-public.pem

The desk's calendar is assumed to be the Indonesian government calendar in the zone
``--tz`` (named ``default`` in the log); a log made on another calendar stops with the
fingerprint it recorded.

Exit status: 0 verdicts shown, 1 the export fails verification or the request is not in
it, 2 an input cannot be read or the calendar does not match the log.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pelayanan import (
    PelayananError,
    indonesian_government_calendar,
    load_public_key,
    verify_export,
)
from pelayanan.audit.export import read_export
from pelayanan.exceptions import CalendarError
from pelayanan.sla import ClockVerdict, recompute_verdicts


def request_entries(path: Path, request: str) -> list[dict[str, Any]]:
    """Return the entries of *path* about *request*, in log order."""
    found = []
    for record in read_export(path):
        if record.kind == "entry":
            entry = json.loads(record.data)
            if entry.get("request") == request:
                found.append(entry)
    return found


def describe(entry: dict[str, Any]) -> str:
    """Return one line for an entry: seq, time, kind, action and its clock changes."""
    changes = ", ".join(
        f"{c['clock']} {c['change']}" + (f" (due {c['deadline']})" if c.get("deadline") else "")
        for c in entry.get("clocks", [])
    )
    extra = f" [{entry['event']} {entry['clock']}]" if entry.get("kind") == "sla" else ""
    action = entry.get("action") or "-"
    line = f"  #{entry['seq']:<6} {entry['time']}  {entry['kind']:<10} {action:<14}{extra}"
    return (line + (f"  clocks: {changes}" if changes else "")).rstrip()


def verdict_line(verdict: ClockVerdict) -> str:
    """Return one line for a clock verdict."""
    status, due = verdict.status.upper(), f"{verdict.deadline:%Y-%m-%d %H:%M}"
    line = f"  {verdict.clock} (cycle {verdict.cycle}): {status}, due {due} UTC"
    if verdict.finished_at is not None:
        line += f", stopped {verdict.finished_at:%Y-%m-%d %H:%M} UTC"
    if verdict.overrun:
        line += f", late by {verdict.overrun}"
    if verdict.paused:
        line += f", paused {verdict.paused}"
    return line


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, verify, replay the request's clocks and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the JSONL export file")
    parser.add_argument("--request", required=True, help="the request id, e.g. ADU-2026-00004")
    parser.add_argument(
        "--trusted-key",
        type=Path,
        action="append",
        required=True,
        help="the ledger's public key (PEM); repeat for several",
    )
    parser.add_argument("--tz", default="Asia/Jakarta", help="the desk calendar's IANA zone")
    args = parser.parse_args(argv)
    try:
        keys = [load_public_key(path) for path in args.trusted_key]
        calendars = {"default": indonesian_government_calendar(args.tz)}
    except (OSError, PelayananError) as exc:
        print(f"cannot read the inputs: {exc}", file=sys.stderr)
        return 2
    try:
        for report in verify_export(args.export, keys, jobs=1):
            print(f"OK {report.summary()}")
        entries = request_entries(args.export, args.request)
    except PelayananError as exc:
        print(f"VERDICT: NOT VERIFIED. {exc}: the log cannot be relied on.")
        return 1
    if not entries:
        print(f"request {args.request} does not appear in the export")
        return 1
    try:
        verdicts = recompute_verdicts(entries, calendars)
    except CalendarError as exc:
        print(f"cannot replay the clocks on this calendar: {exc}", file=sys.stderr)
        return 2
    print(f"entries of {args.request} ({len(entries)}):")
    print("\n".join(describe(entry) for entry in entries))
    print(f"SLA verdicts recomputed from the log ({len(verdicts)} clocks):")
    print("\n".join(verdict_line(v) for v in verdicts) or "  (no clock)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
