"""The second PostgreSQL server: a throwaway one the test session starts and stops itself.

Tests that need two servers (the contract suite on the second one, moving a ledger
between servers) take ``second_postgres``, the URL of a server that `ThrowawayPostgres`
creates with ``initdb`` in a temporary folder on a free loopback port, once per session.
Without the server binaries (``/usr/lib/postgresql/*/bin``) they skip with the reason,
except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pelayanan.exceptions import StoreError
from pelayanan.testing import ThrowawayPostgres


@pytest.fixture(scope="session")
def second_postgres() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL server, started once per session."""
    server = ThrowawayPostgres()
    try:
        url = server.start()
    except StoreError as exc:
        server.stop()
        if os.environ.get("CI") == "true":
            pytest.fail(f"the second PostgreSQL server must start under CI (CI=true): {exc}")
        pytest.skip(f"cannot start a second PostgreSQL server: {exc}")
    try:
        yield url
    finally:
        server.stop()
