"""The web app's settings: everything comes from the environment, as in production.

The library's part (store location, ledger, ledger key, vault master key) is read by
`pelayanan.hosting.HostSettings.from_env` from the ``PELAYANAN_*`` variables; the web
app's own part from the ``WEBAPP_*`` variables below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pelayanan.hosting import HostSettings

EXAMPLES = Path(__file__).resolve().parents[2]
SOP_FILE = EXAMPLES / "sop" / "pengaduan.yaml"
ROUTING_FILE = EXAMPLES / "routing" / "pemkot.yaml"


@dataclass(frozen=True)
class WebSettings:
    """The web app's settings.

    Attributes:
        host: the library's settings (store, ledger, keys).
        users_db: the SQLite file of the app's own user table.
        session_secret: the key that signs session cookies.
        clock_file: a file holding the current instant (ISO 8601), for tests and
            demonstrations; ``None``: the system clock.
        tick_seconds: how often each worker calls ``desk.tick``.
    """

    host: HostSettings
    users_db: Path
    session_secret: str
    clock_file: Path | None
    tick_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Read the settings from the environment (default ``os.environ``).

        ``WEBAPP_DATA_DIR`` (default ``webapp-data``) holds the defaults: the SQLite store
        ``pelayanan.db``, the user table ``users.db`` and ``session-secret``.
        ``WEBAPP_SESSION_SECRET_FILE``, ``WEBAPP_USERS_DB``, ``WEBAPP_CLOCK_FILE`` and
        ``WEBAPP_TICK_SECONDS`` override them.

        Raises:
            pelayanan.ConfigurationError: the library's settings are incomplete.
            OSError: the session secret file cannot be read.
        """
        values = os.environ if env is None else env
        data = Path(values.get("WEBAPP_DATA_DIR", "webapp-data"))
        host = HostSettings.from_env(values, default_store=str(data / "pelayanan.db"))
        secret_file = Path(values.get("WEBAPP_SESSION_SECRET_FILE", data / "session-secret"))
        clock = values.get("WEBAPP_CLOCK_FILE", "").strip()
        return cls(
            host=host,
            users_db=Path(values.get("WEBAPP_USERS_DB", data / "users.db")),
            session_secret=secret_file.read_text(encoding="utf-8").strip(),
            clock_file=Path(clock) if clock else None,
            tick_seconds=float(values.get("WEBAPP_TICK_SECONDS", "30")),
        )
