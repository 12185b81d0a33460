"""Fixtures of the web app's end-to-end tests: a running server and headless Chromium.

The server is the real thing: ``python -m pelayanan_webapp --demo`` with two uvicorn
worker processes, on a free loopback port, its clock read from a file the tests move.
Outside CI the tests skip with a reason when Chromium or Playwright is missing; under
``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pelayanan_webapp.launch import LaunchError, Server, start_server


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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The web app on SQLite with two workers, for the whole module."""
    try:
        running = start_server(tmp_path_factory.mktemp("webapp"), workers=2)
    except LaunchError as exc:
        pytest.fail(str(exc))
    yield running
    running.stop()


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
