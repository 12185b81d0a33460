"""Run every example: each ``examples/*.py`` script and ``sop check`` on every example SOP.

Exits non-zero when any example fails.  Used by ``nox -s examples`` and CI.
"""

from __future__ import annotations

import subprocess
import sys
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
    print(f"examples: {failures} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
