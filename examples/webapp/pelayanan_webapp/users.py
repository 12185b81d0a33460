"""The app's own user table: officers' accounts, roles and units (SQLite, argon2 hashes)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError as PasswordMismatch

from pelayanan import Actor

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    units TEXT NOT NULL
)
"""

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    """An officer's account.

    Attributes:
        username: the login name.
        actor_id: the id the audit log records (the employee number, NIP).
        name: the display name.
        roles: SOP roles (verifier, supervisor, officer) and app roles (auditor).
        units: the units whose requests the user sees and may act on.
    """

    username: str
    actor_id: str
    name: str
    roles: frozenset[str]
    units: frozenset[str]

    @property
    def actor(self) -> Actor:
        """Return the library's actor for this user (units are checked by the desk)."""
        return Actor(self.actor_id, self.roles, units=self.units)


class UserTable:
    """Read and write the user table in *path*."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(
        self,
        username: str,
        password: str,
        *,
        actor_id: str,
        name: str,
        roles: set[str],
        units: set[str],
    ) -> None:
        """Create or replace the account *username* with an argon2 hash of *password*."""
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, ?)",
                (
                    username,
                    _HASHER.hash(password),
                    actor_id,
                    name,
                    ",".join(sorted(roles)),
                    ",".join(sorted(units)),
                ),
            )

    def get(self, username: str) -> User | None:
        """Return the account *username*, or ``None``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT username, actor_id, name, roles, units FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None:
            return None
        roles = frozenset(r for r in row[3].split(",") if r)
        units = frozenset(u for u in row[4].split(",") if u)
        return User(row[0], row[1], row[2], roles, units)

    def authenticate(self, username: str, password: str) -> User | None:
        """Return the account when *password* is right, else ``None``."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            # Hash anyway, so an unknown name takes as long as a wrong password.
            _HASHER.hash(password)
            return None
        try:
            _HASHER.verify(row[0], password)
        except PasswordMismatch:
            return None
        return self.get(username)
