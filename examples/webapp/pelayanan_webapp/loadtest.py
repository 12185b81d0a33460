"""A bounded load test: concurrent clients acting through the web app, then verification.

``python -m pelayanan_webapp.loadtest [--store URL] [--workers 4] [--clients 8]
[--complaints 50] [--time-limit 120]`` starts the app (loopback only), lets each client
file complaints and have them verified and dispatched through the officers' forms, stops
after the fixed number of complaints or the time limit, whichever comes first, and then
verifies the log with ``pelayanan audit verify --db``.  Without ``--store`` it makes its
own schema on the local PostgreSQL server (``?schema=``) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pelayanan_webapp.demo import DEMO_PASSWORD
from pelayanan_webapp.launch import Server, start_server

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Tally:
    """What the clients did: requests sent, actions taken, errors met (thread-safe)."""

    requests: int = 0
    actions: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, response: httpx.Response, *, action: bool = False) -> None:
        """Count one response; anything but a success or a redirect is an error."""
        with self.lock:
            self.requests += 1
            if response.status_code >= 400:
                self.errors.append(f"{response.request.url.path}: {response.status_code}")
            elif action:
                self.actions += 1


@dataclass(frozen=True)
class LoadResult:
    """The figures of one run."""

    workers: int
    clients: int
    complaints: int
    requests: int
    actions: int
    errors: list[str]
    seconds: float
    verify_exit: int
    verify_output: str

    @property
    def actions_per_second(self) -> float:
        """Return the desk operations (submit, verify, dispatch) per second."""
        return self.actions / self.seconds

    def summary(self) -> str:
        """Return the figures as a few lines for a terminal."""
        return (
            f"{self.workers} workers, {self.clients} clients, {self.complaints} complaints: "
            f"{self.requests} HTTP requests in {self.seconds:.1f} s "
            f"({self.requests / self.seconds:.1f} requests/s, "
            f"{self.actions_per_second:.1f} desk actions/s), {len(self.errors)} errors\n"
            f"audit verify --db: exit {self.verify_exit}: {self.verify_output.strip()}"
        )


def _session(server: Server, username: str | None) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, timeout=60, follow_redirects=False)
    page = client.get("/login" if username else "/pengaduan")
    token = _CSRF.search(page.text)
    if token is None:
        msg = "no CSRF token on the page"
        raise RuntimeError(msg)
    if username is not None:
        client.post(
            "/login",
            data={"csrf": token[1], "username": username, "password": DEMO_PASSWORD},
        )
        token = _CSRF.search(client.get("/inbox").text)
        assert token is not None
    return client, token[1]


Sessions = tuple[tuple[httpx.Client, str], tuple[httpx.Client, str], tuple[httpx.Client, str]]


def _sessions(server: Server) -> Sessions:
    """Open a client's three sessions: a citizen, the unit's verifier and its head."""
    return (
        _session(server, None),
        _session(server, "pu.verifikator"),
        _session(server, "pu.kepala"),
    )


def _client(sessions: Sessions, tally: Tally, todo: list[int], deadline: float) -> None:
    (citizen, c_token), (verifier, v_token), (head, h_token) = sessions
    while time.monotonic() < deadline:
        with tally.lock:
            if not todo:
                return
            number = todo.pop()
        data = {
            "csrf": c_token, "subject": f"Beban uji {number}", "category": "infrastruktur",
            "region": "32.73.01", "nama": f"Warga {number}", "nonce": f"load-{number}",
        }  # fmt: skip
        answer = citizen.post("/pengaduan", data=data)
        tally.count(answer, action=True)
        match = re.search(r"/pengaduan/([^/]+)/diterima", answer.headers.get("location", ""))
        if match is None:
            continue
        rid = match[1]
        nonce = f"load-{number}"
        tally.count(
            verifier.post(f"/inbox/{rid}/verify", data={"csrf": v_token, "nonce": nonce}),
            action=True,
        )
        dispatch = {"csrf": h_token, "nonce": nonce, "assigned_unit": "dinas-pu"}
        tally.count(head.post(f"/inbox/{rid}/dispatch", data=dispatch), action=True)


def run_load(
    store: str, data: Path, *, workers: int, clients: int, complaints: int, time_limit: float
) -> LoadResult:
    """Start the app on *store*, drive it with *clients* threads, stop it, verify the log."""
    server = start_server(data, workers=workers, store=store, tick_seconds=1.0)
    tally = Tally()
    todo = list(range(complaints))
    sessions: list[Sessions] = []
    try:
        # Signing in (argon2 on purpose slow) happens before the clock starts.
        sessions = [_sessions(server) for _ in range(clients)]
        started = time.monotonic()
        deadline = started + time_limit
        threads = [
            threading.Thread(target=_client, args=(session, tally, todo, deadline))
            for session in sessions
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
    finally:
        for session in sessions:
            for client, _ in session:
                client.close()
        server.stop()
    verified = subprocess.run(
        [sys.executable, "-m", "pelayanan", "audit", "verify", "--db", store,
         "--trusted-key", str(data / "keys" / "ledger-public.pem")],
        capture_output=True, text=True, env=server.env, check=False,
    )  # fmt: skip
    return LoadResult(
        workers, clients, complaints - len(todo), tally.requests, tally.actions,
        tally.errors, seconds, verified.returncode, verified.stdout + verified.stderr,
    )  # fmt: skip


def fresh_pg_schema(base: str = PG_URL) -> tuple[str, str]:
    """Create a new schema on the PostgreSQL server; return its URL and its name."""
    import psycopg  # noqa: PLC0415 - only the PostgreSQL runs need it

    schema = f"pelayanan_webapp_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?schema={schema}", schema


def drop_pg_schema(schema: str, base: str = PG_URL) -> None:
    """Drop a schema made by `fresh_pg_schema`."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 on any error or a log that does not verify."""
    parser = argparse.ArgumentParser(prog="python -m pelayanan_webapp.loadtest")
    parser.add_argument("--store", help="a store URL (default: a fresh local PostgreSQL schema)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--complaints", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    schema = None
    store = args.store
    if store is None:
        store, schema = fresh_pg_schema()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_load(
                store, Path(tmp), workers=args.workers, clients=args.clients,
                complaints=args.complaints, time_limit=args.time_limit,
            )  # fmt: skip
    finally:
        if schema is not None:
            drop_pg_schema(schema)
    print(result.summary())
    print(json.dumps({"errors": result.errors[:10]}))
    return 0 if not result.errors and result.verify_exit == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
