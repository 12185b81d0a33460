"""Start and stop the web app as a separate process (for the tests, the load test, benches).

The server is exactly what ``python -m pelayanan_webapp --demo`` runs: uvicorn with
several worker processes on a free loopback port, its clock read from a file.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[1]
ROOT = WEBAPP.parents[1]
#: Where the app's clock starts: a Monday in office hours.
START = dt.datetime.fromisoformat("2026-07-06T09:00:00+07:00")


class LaunchError(RuntimeError):
    """The web app did not start; the message holds the end of its log."""


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running web app: its URL, data folder, clock file, log file and process."""

    url: str
    data: Path
    clock_file: Path
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def set_time(self, instant: dt.datetime) -> None:
        """Move the app's clock (every worker reads the file)."""
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(instant.isoformat(), encoding="utf-8")
        tmp.replace(self.clock_file)

    def stop(self) -> None:
        """Stop the server (its own process, by id) and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    data: Path, *, workers: int, store: str | None = None, tick_seconds: float = 0.5
) -> Server:
    """Start ``python -m pelayanan_webapp --demo`` on a free port and wait until it answers.

    Args:
        data: the data folder (keys, users, SQLite store unless *store*).
        workers: the number of uvicorn worker processes.
        store: a store location (e.g. a ``postgresql://`` URL) instead of SQLite.
        tick_seconds: how often each worker ticks.

    Raises:
        LaunchError: the server exited or did not answer within 60 seconds.
    """
    data.mkdir(parents=True, exist_ok=True)
    clock_file = data / "clock.txt"
    clock_file.write_text(START.isoformat(), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(WEBAPP)]),
        "WEBAPP_CLOCK_FILE": str(clock_file),
        "WEBAPP_TICK_SECONDS": str(tick_seconds),
    }
    if store is not None:
        env["PELAYANAN_STORE"] = store
    port = free_port()
    log_file = data / "server.log"
    command = [sys.executable, "-m", "pelayanan_webapp", "--demo", "--data-dir", str(data)]
    command += ["--port", str(port), "--workers", str(workers)]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", data, clock_file, log_file, env, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(f"the web app exited: {log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2):  # noqa: S310 - loopback
                return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise LaunchError(f"the web app did not start: {log_file.read_text()[-3000:]}")
