"""Run every example: each ``examples/*.py`` script and ``sop check`` on every example SOP.

The inspectorate's scripts of ``examples/auditor/`` take files, so they run against a fresh
demo log (``pelayanan demo``, then ``audit export`` and ``audit prove``), each with the exit
status it must give on intact and on damaged inputs.

Exits non-zero when any example fails.  Used by ``nox -s examples`` and CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the examples and return the number of failures."""
    failures = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name == "run_all.py":
            continue
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], check=False, cwd=HERE.parent)
        if result.returncode != 0:
            print(f"!! {script.name} exited {result.returncode}", flush=True)
            failures += 1
    sops = sorted(
        p for p in (HERE / "sop").glob("*") if p.suffix in {".yaml", ".yml", ".toml", ".json"}
    )
    if sops:
        from pelayanan import SOPDefinitionError, load_sop  # noqa: PLC0415 - only for SOPs

        for path in sops:
            try:
                load_sop(path)
                print(f"== sop {path.name}: valid", flush=True)
            except SOPDefinitionError as exc:
                print(f"!! sop {path.name}:\n{exc}", flush=True)
                failures += 1
    for scenario in sorted((HERE / "sop" / "scenarios").glob("*.yaml")):
        sop = next((p for p in sops if p.stem == scenario.stem), None)
        if sop is None:
            continue
        print(f"== sop simulate {sop.name} {scenario.name}", flush=True)
        command = [sys.executable, "-m", "pelayanan", "sop", "simulate", str(sop), str(scenario)]
        if subprocess.run(command, check=False, cwd=HERE.parent).returncode != 0:
            print(f"!! scenario {scenario.name} failed", flush=True)
            failures += 1
    with tempfile.TemporaryDirectory(prefix="pelayanan-auditor-") as folder:
        failures += run_auditor(Path(folder))
    print(f"examples: {failures} failed", flush=True)
    return 1 if failures else 0


def _pelayanan(*args: str | Path) -> None:
    """Run a pelayanan command, raising when it fails (the demo must set up cleanly)."""
    command = [sys.executable, "-m", "pelayanan", *map(str, args)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _auditor_runs(tmp: Path) -> list[tuple[int, list[str | Path]]]:
    """Return (expected exit status, script and arguments) for each auditor script run."""
    key = ["--trusted-key", tmp / "demo.db.keys" / "ledger-public.pem"]
    witness = ["--witness-key", tmp / "demo.db.witness" / "witness-public.pem"]
    export, tampered = tmp / "export.jsonl", tmp / "tampered.jsonl"
    lines = export.read_bytes().split(b"\n")
    request = json.loads(lines[1])["request"]
    lines[3] = lines[3].replace(b'"actor":"', b'"actor":"x', 1)  # one officer renamed
    tampered.write_bytes(b"\n".join(lines))
    since = ["--since", tmp / "demo.db.witness" / "witness.json"]
    return [
        (0, ["verify_export.py", export, *key, *since, *witness]),
        (1, ["verify_export.py", tampered, *key]),
        (0, ["check_receipt.py", tmp / "receipt.json", *key]),
        (0, ["check_extends.py", export, tmp / "all.jsonl", *key]),
        (1, ["check_extends.py", tampered, export, *key]),
        (0, ["request_verdicts.py", export, "--request", request, *key]),
        (0, ["verify_standalone.py", export, *key]),
        (
            0,
            [
                "verify_standalone.py",
                export,
                "--trusted-key",
                tmp / "demo.db.keys" / "keyring.json",
            ],
        ),
        (1, ["verify_standalone.py", tampered, *key]),
    ]


def run_auditor(tmp: Path) -> int:
    """Run the scripts of examples/auditor on a fresh demo log; return the failures."""
    db = tmp / "demo.db"
    _pelayanan("demo", "--db", db)
    _pelayanan("audit", "export", "--db", db, "-o", tmp / "export.jsonl")
    _pelayanan("audit", "export", "--db", db, "--all-checkpoints", "-o", tmp / "all.jsonl")
    _pelayanan("audit", "prove", "--db", db, "--seq", "0", "-o", tmp / "receipt.json")
    failures = 0
    for expected, (script, *args) in _auditor_runs(tmp):
        print(f"== auditor/{script} (expect exit {expected})", flush=True)
        command = [sys.executable, str(HERE / "auditor" / str(script)), *map(str, args)]
        status = subprocess.run(command, check=False, cwd=tmp).returncode
        if status != expected:
            print(f"!! auditor/{script} exited {status}, expected {expected}", flush=True)
            failures += 1
    return failures


if __name__ == "__main__":
    raise SystemExit(main())
