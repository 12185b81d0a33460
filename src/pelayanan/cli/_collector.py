"""The garbage-collector settings of the command line (kept apart: `main` runs it before
any command module is imported)."""

from __future__ import annotations

import gc

__all__ = ["OLDER_THRESHOLD", "YOUNG_THRESHOLD", "tune_collector"]

#: First-generation threshold of the garbage collector while a command runs (CPython's
#: default is 700 allocations).
YOUNG_THRESHOLD = 100_000
#: Second- and third-generation thresholds (CPython's default is 10 and 10).
OLDER_THRESHOLD = 20


def tune_collector() -> None:
    """Let the garbage collector run less often, for commands that replay whole logs.

    A report keeps a record per request and per clock while it replays the log, and each
    full collection walks all of them: with CPython's default thresholds, the reports
    benchmark over 300,000 entries took 24.5 s of CPU time instead of 17.3 s
    (docs/performance.md).  The commands are short-lived batch
    jobs that create few reference cycles, so they trade a few megabytes of uncollected
    young objects for that time (as mypy does).  Only the command line calls this: an
    application embedding the library keeps its own settings.
    """
    young, older, oldest = gc.get_threshold()
    if young == 0:
        return  # collection is switched off: leave it so
    gc.set_threshold(
        max(young, YOUNG_THRESHOLD), max(older, OLDER_THRESHOLD), max(oldest, OLDER_THRESHOLD)
    )
