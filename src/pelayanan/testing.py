"""Helpers for tests of apps that embed pelayanan (and for pelayanan's own tests).

`FakeClock` stands still until told to move; `ThrowawayPostgres` runs a PostgreSQL
server of its own in a temporary folder (for tests that need a second server).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from pelayanan.clock import ensure_aware
from pelayanan.exceptions import InvalidArgumentError, StoreError

__all__ = ["FakeClock", "ThrowawayPostgres", "postgres_bin_dir"]

#: Where Debian and Ubuntu install the server binaries (one folder per major version).
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class FakeClock:
    """A clock that stands still until told to move.

    Args:
        start: the first instant it reports (timezone-aware).
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = ensure_aware(start, what="start")

    def now(self) -> dt.datetime:
        """Return the current fake instant."""
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move forward by *delta* (or ``timedelta(**kwargs)``); return the new instant.

        Raises:
            InvalidArgumentError: the step is negative (time never runs backwards).
        """
        step = delta if delta is not None else dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            msg = "a FakeClock never moves backwards"
            raise InvalidArgumentError(msg)
        self._now += step
        return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to *instant*.

        Raises:
            InvalidInstantError: *instant* is naive.
            InvalidArgumentError: *instant* is earlier than now (a `ValueError`).
        """
        ensure_aware(instant)
        if instant < self._now:
            msg = "a FakeClock never moves backwards"
            raise InvalidArgumentError(msg)
        self._now = instant

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


def postgres_bin_dir() -> Path | None:
    """Return the newest folder holding ``initdb`` and ``pg_ctl``, or ``None``.

    Looks in ``PELAYANAN_PG_BIN`` when set, else in ``/usr/lib/postgresql/*/bin`` (the
    machine's ``postgresql`` package), else on ``PATH``.
    """
    chosen = os.environ.get("PELAYANAN_PG_BIN")
    candidates = [Path(chosen)] if chosen else []
    if not chosen:
        found = sorted(Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")), key=_major, reverse=True)
        candidates += found
        on_path = shutil.which("initdb")
        if on_path is not None:
            candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _major(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """A PostgreSQL server of its own: ``initdb`` into a temporary folder, a loopback port.

    Use as a context manager; the server is stopped and its folder deleted on exit.  The
    server trusts every connection from 127.0.0.1 (it listens nowhere else), so it is for
    tests and benchmarks only.  The server binaries refuse to run as root: under root
    they run as the *os_user* account (``runuser``), which must own the folder.

    Args:
        bin_dir: the folder of ``initdb`` and ``pg_ctl`` (default: `postgres_bin_dir`).
        os_user: the account that runs the server when this process is root.
        options: extra server settings, ``-c NAME=VALUE`` style names and values.

    Raises:
        StoreError: no server binaries, or the server would not start (with its log).
    """

    def __init__(
        self,
        *,
        bin_dir: Path | None = None,
        os_user: str = "postgres",
        options: dict[str, str] | None = None,
    ) -> None:
        self.bin_dir = bin_dir if bin_dir is not None else postgres_bin_dir()
        self.os_user = os_user
        self.options = dict(options or {})
        self.port = 0
        self._folder: Path | None = None

    def __repr__(self) -> str:
        return f"ThrowawayPostgres(port={self.port}, bin_dir={self.bin_dir})"

    @property
    def url(self) -> str:
        """The server's ``postgres`` database, as a ``postgresql://`` URL."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [*args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.os_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            log = self._folder / "server.log" if self._folder is not None else None
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            msg = f"{' '.join(args[:2])} failed: {done.stderr.strip()} {tail}".strip()
            raise StoreError(msg)

    def start(self) -> str:
        """Create and start the server; return its URL.

        Raises:
            StoreError: no server binaries, or the server would not start.
        """
        if self.bin_dir is None:
            msg = (
                "no PostgreSQL server binaries (initdb, pg_ctl) in "
                f"{POSTGRES_BIN_GLOB} or on PATH: install the postgresql package"
            )
            raise StoreError(msg)
        self._folder = Path(tempfile.mkdtemp(prefix="pelayanan-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self._folder, self.os_user, self.os_user)
        data = self._folder / "data"
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        self.port = _free_port()
        settings = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self._folder),
            **self.options,
        }
        server_options = " ".join(f"-c {name}={value}" for name, value in settings.items())
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(self._folder / "server.log"),
            "-o", server_options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        folder, self._folder = self._folder, None
        if folder is None:
            return
        if self.bin_dir is not None and (folder / "data" / "postmaster.pid").exists():
            with contextlib.suppress(StoreError):
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast",
                          "-w", "stop")  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> str:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
