"""Fixtures of the web app's end-to-end tests: a running server and headless Chromium.

The server is the real thing: ``python -m pelayanan_webapp --demo`` with two uvicorn
worker processes, on a free loopback port, its clock read from a file the tests move.
Outside CI the tests skip with a reason when Chromium or Playwright is missing; under
``CI=true`` they fail instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WEBAPP = Path(__file__).resolve().parents[1]
ROOT = WEBAPP.parents[1]
START = dt.datetime.fromisoformat("2026-07-06T09:00:00+07:00")  # a Monday, office hours


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _need(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running web app: its URL, data folder, clock file and log file."""

    url: str
    data: Path
    clock_file: Path
    log_file: Path
    env: dict[str, str]

    def set_time(self, instant: dt.datetime) -> None:
        """Move the app's clock (every worker reads the file)."""
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(instant.isoformat(), encoding="utf-8")
        tmp.replace(self.clock_file)


def start_server(data: Path, *, workers: int, store: str | None = None) -> tuple[Server, Any]:
    """Start ``python -m pelayanan_webapp --demo``; return the server and its process."""
    port = _free_port()
    clock_file = data / "clock.txt"
    data.mkdir(parents=True, exist_ok=True)
    clock_file.write_text(START.isoformat(), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(WEBAPP)]),
        "WEBAPP_CLOCK_FILE": str(clock_file),
        "WEBAPP_TICK_SECONDS": "0.5",
    }
    if store is not None:
        env["PELAYANAN_STORE"] = store
    log_file = data / "server.log"
    command = [sys.executable, "-m", "pelayanan_webapp", "--demo", "--data-dir", str(data)]
    command += ["--port", str(port), "--workers", str(workers)]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web app exited: {log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail(f"the web app did not start: {log_file.read_text()[-3000:]}")
    return Server(url, data, clock_file, log_file, env), process


def stop_server(process: Any) -> None:
    """Stop the server started by `start_server` (its own process, by id)."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The web app on SQLite with two workers, for the whole module."""
    running, process = start_server(tmp_path_factory.mktemp("webapp"), workers=2)
    yield running
    stop_server(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    executable = _chromium()
    if executable is None:
        _need("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright is not installed (the webapp dependency group)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
