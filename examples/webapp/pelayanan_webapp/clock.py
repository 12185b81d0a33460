"""The app's clock: the system clock, or an instant read from a file (tests, demos).

Every worker reads the same file, so a test that writes a later instant into it moves
time forward for the whole app at once, the way `pelayanan.testing.FakeClock` does for
one process.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pelayanan import Clock, SystemClock


class FileClock:
    """Return the instant written in *path* (ISO 8601 with an offset).

    Args:
        path: the file; it must exist and hold an aware instant.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> dt.datetime:
        """Return the instant in the file."""
        value = dt.datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        if value.tzinfo is None:
            msg = f"{self.path}: the instant has no UTC offset; write e.g. 2026-07-06T09:00+07:00"
            raise ValueError(msg)
        return value


def make_clock(path: Path | None) -> Clock:
    """Return a `FileClock` on *path*, or the system clock when *path* is ``None``."""
    return FileClock(path) if path is not None else SystemClock()
