"""Actions per second through the reference web app against ``desk.act`` called directly.

The figure: complaints filed, verified and dispatched through the web app's forms
(``examples/webapp``: uvicorn with 4 worker processes, 8 concurrent HTTP clients) on
PostgreSQL.  The baseline: the same three desk operations per complaint called in one
process on a desk built the same way (same SOP, routing, vault) on the same server, in a
fresh schema.  Both counts are desk operations per second; their ratio is the cost of
HTTP, sessions, CSRF, templates and the worker processes.  Needs the ``webapp``
dependency group and the PostgreSQL server at 127.0.0.1:5432 (a row says so otherwise).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "webapp"))


def _direct_rate(store: str, data: Path, complaints: int) -> float:
    """Return desk operations per second called directly in one process."""
    from pelayanan_webapp.clock import FileClock
    from pelayanan_webapp.demo import DEMO_USERS, prepare_data_dir
    from pelayanan_webapp.launch import START
    from pelayanan_webapp.service import SERVICE, build_desk

    from pelayanan import Actor
    from pelayanan.hosting import HostSettings

    env = prepare_data_dir(data)
    host = HostSettings.from_env({**env, "PELAYANAN_STORE": store})
    clock_file = data / "clock.txt"
    clock_file.write_text(START.isoformat(), encoding="utf-8")
    desk = build_desk(host, FileClock(clock_file))

    def officer(name: str) -> Actor:
        actor_id, _, roles, units = DEMO_USERS[name]
        return Actor(actor_id, roles, units=units)

    verifier, head = officer("pu.verifikator"), officer("pu.kepala")
    started = time.perf_counter()
    for number in range(complaints):
        citizen = Actor(f"warga-bench-{number}", {"citizen"})
        data_ = {"subject": f"Beban uji {number}", "category": "infrastruktur",
                 "region": "32.73.01", "nama": f"Warga {number}"}  # fmt: skip
        rid = desk.submit(SERVICE, actor=citizen, data=data_).request.id
        desk.act(rid, "verify", actor=verifier)
        desk.act(rid, "dispatch", actor=head, data={"assigned_unit": "dinas-pu"})
    elapsed = time.perf_counter() - started
    desk.store.close()
    return 3 * complaints / elapsed


def _skipped(note: str) -> list[dict[str, Any]]:
    nan = float("nan")
    return [
        {"figure": "web app actions/s", "value": nan, "unit": "actions/s",
         "baseline": "skipped", "baseline_value": nan, "ratio": nan, "note": note}
    ]  # fmt: skip


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure the web app's action rate as a ratio to direct ``desk.act`` calls."""
    try:
        from pelayanan_webapp.loadtest import drop_pg_schema, fresh_pg_schema, run_load
    except ImportError as exc:
        return _skipped(f"install the webapp dependency group ({exc.name} is missing)")
    try:
        direct_store, direct_schema = fresh_pg_schema()
    except Exception as exc:
        return _skipped(f"no PostgreSQL server: {exc}")
    complaints = 12 if quick else 100
    web_store, web_schema = fresh_pg_schema()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            direct = _direct_rate(direct_store, Path(tmp) / "direct", complaints)
            result = run_load(
                web_store, Path(tmp) / "web", workers=4, clients=8, complaints=complaints,
                time_limit=300,
            )  # fmt: skip
    finally:
        drop_pg_schema(direct_schema)
        drop_pg_schema(web_schema)
    web = result.actions_per_second
    return [
        {
            "figure": "web app desk actions/s (4 uvicorn workers, 8 clients, PostgreSQL)",
            "value": web,
            "unit": "actions/s",
            "baseline": "desk.submit/act called directly, 1 process, PostgreSQL",
            "baseline_value": direct,
            "ratio": web / direct,
            "note": (
                f"{result.actions} actions, {len(result.errors)} errors, "
                f"audit verify exit {result.verify_exit}"
            ),
        }
    ]
