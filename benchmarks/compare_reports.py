"""Time the SLA report against verification for one checkout, at a chosen log size.

For comparing two checkouts on a shared machine: run it for each, alternating, and
compare the ratios (CPU time, so waiting for a core does not count)::

    PYTHONPATH=/path/to/checkout/src python benchmarks/compare_reports.py /path/to/checkout 100000

Each checkout's own ``benchmarks/bench_reports.py`` builds the log and the report.
"""

from __future__ import annotations

import importlib.util
import sys
import time


def main() -> int:
    """Print the verify and report times and their ratio, wall clock and CPU."""
    root, size = sys.argv[1], int(sys.argv[2])
    spec = importlib.util.spec_from_file_location(
        "bench_reports", f"{root}/benchmarks/bench_reports.py"
    )
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_reports"] = bench
    spec.loader.exec_module(bench)
    bench.tune_collector()  # as `pelayanan` does before running a command
    sop, key, entries, notes = bench.build(size)
    wall, cpu = time.perf_counter(), time.process_time()
    bench.verify_ledger("bench", iter(entries), notes, [key.verifier])
    verify = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    bench.report(sop, key, entries, notes)
    report = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{root} n={size} wall: verify={verify[0]:.2f}s report={report[0]:.2f}s "
        f"ratio={report[0] / verify[0]:.3f}  cpu: verify={verify[1]:.2f}s "
        f"report={report[1]:.2f}s ratio={report[1] / verify[1]:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
