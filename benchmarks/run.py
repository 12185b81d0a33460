"""Run every ``benchmarks/bench_*.py``; print a table and write ``bench-results.json``.

Each module exposes ``run(quick: bool = False) -> list[dict]`` with rows holding
``figure``, ``value``, ``unit``, ``baseline``, ``baseline_value`` and ``ratio`` (the figure
against a baseline measured in the same run, since the machine is shared and noisy),
optionally ``target`` and ``note``.

Usage: ``python benchmarks/run.py [--quick] [--only NAME] [-o FILE]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}"
    return str(value)


def main() -> int:
    """Run the benchmarks and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    parser.add_argument("-o", "--output", default="bench-results.json")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and path.stem != f"bench_{args.only}":
            continue
        started = time.perf_counter()
        module = _load(path)
        rows.extend({"module": path.stem, **row} for row in module.run(quick=args.quick))
        print(f"# {path.stem}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    headers = ["figure", "value", "unit", "baseline", "baseline_value", "ratio", "target"]
    table = [[_fmt(row.get(h, "")) for h in headers] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for line in table:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    payload = {
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
    }
    Path(args.output).write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
