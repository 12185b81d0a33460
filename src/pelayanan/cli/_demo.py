"""``pelayanan demo``: a realistic simulated stretch of complaint-desk work."""

from __future__ import annotations

import collections
import datetime as dt
import random
import shutil
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from pelayanan.access import Actor
from pelayanan.audit.entry import format_time
from pelayanan.audit.keyring import KeyringSigner, TrustedKey, create_key_folder
from pelayanan.audit.receipt import check_receipt, make_receipt
from pelayanan.audit.verify import verify_ledger
from pelayanan.cli._common import default_key_dir, fail
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import PelayananError, RequestError
from pelayanan.sop import SOP, load_sop
from pelayanan.store import SQLiteStore
from pelayanan.store.base import LedgerNodes
from pelayanan.testing import FakeClock

__all__ = ["demo_command", "sop_path"]

WIB = ZoneInfo("Asia/Jakarta")
DEMO_MARKER = "demo"

SUBJECTS = [
    ("Jalan berlubang di depan pasar", "infrastruktur"),
    ("Lampu penerangan jalan mati", "infrastruktur"),
    ("Sampah tidak diangkut tiga hari", "kebersihan"),
    ("Antrean layanan KTP terlalu lama", "administrasi-kependudukan"),
    ("Pungutan liar di loket perizinan", "integritas"),
    ("Saluran air tersumbat", "infrastruktur"),
    ("Petugas puskesmas tidak ramah", "kesehatan"),
    ("Bantuan sosial belum diterima", "sosial"),
]


def sop_path(name: str) -> Path:
    """Return the path of a bundled example SOP (``examples/sop/<name>.yaml``)."""
    bundled = resources.files("pelayanan").joinpath("_sops", f"{name}.yaml")
    if bundled.is_file():
        return Path(str(bundled))
    # Running from a source checkout: the examples folder is the single source.
    return Path(__file__).resolve().parents[3] / "examples" / "sop" / f"{name}.yaml"


def _prepare(db: Path) -> None:
    if db.exists():
        try:
            existing = SQLiteStore(db)
            marker = existing.get_meta(DEMO_MARKER)
            existing.close()
        except PelayananError:
            marker = None
        if marker != "1":
            fail(f"{db} exists and is not a pelayanan demo database; choose another --db", 1)
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.rmtree(default_key_dir(str(db)), ignore_errors=True)


def _staff() -> dict[str, list[Actor]]:
    return {
        "frontdesk": [Actor("198703122010012001", {"frontdesk"}, "unit-pengaduan")],
        "verifier": [
            Actor("199001052015031002", {"verifier"}, "unit-pengaduan"),
            Actor("198811202012122003", {"verifier"}, "unit-pengaduan"),
        ],
        "supervisor": [Actor("197504081998031004", {"supervisor"}, "unit-pengaduan")],
        "officer": [
            Actor("199203302019031005", {"officer"}, "dinas-pu"),
            Actor("199405172020122006", {"officer"}, "dinas-lh"),
            Actor("198912012014031007", {"officer", "supervisor"}, "dinas-kesehatan"),
        ],
    }


def run_demo(db: Path, seed: int) -> dict[str, object]:
    """Simulate three working weeks of a complaint desk into *db*; return the figures."""
    rng = random.Random(seed)
    _prepare(db)
    clock = FakeClock(dt.datetime(2026, 7, 6, 7, 45, tzinfo=WIB))
    keys_dir = default_key_dir(str(db))
    create_key_folder(keys_dir, valid_from=clock.now())
    key = KeyringSigner.from_folder(keys_dir)
    sop: SOP = load_sop(sop_path("pengaduan"))
    store = SQLiteStore(db)
    store.set_meta(DEMO_MARKER, "1")
    counter = iter(range(1, 10_000))
    desk = ServiceDesk(
        store,
        sops=[sop],
        signing_key=key,
        ledger="pemkot-contoh",
        clock=clock,
        id_factory=lambda: f"ADU-2026-{next(counter):05d}",
    )
    staff = _staff()
    refused: collections.Counter[str] = collections.Counter()
    open_ids: list[str] = []

    def attempt(request_id: str, action: str, actor: Actor, **kwargs: object) -> bool:
        try:
            desk.act(request_id, action, actor=actor, **kwargs)  # type: ignore[arg-type]
        except RequestError as exc:
            refused[getattr(exc, "rule", None) or type(exc).__name__] += 1
            return False
        return True

    day = clock.now()
    for _ in range(15):
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        clock.set(max(day.replace(hour=7, minute=45), clock.now()))
        for _ in range(rng.randint(2, 4)):
            clock.advance(minutes=rng.randint(5, 40))
            subject, category = rng.choice(SUBJECTS)
            actor = (
                Actor(f"warga-{rng.randint(1000, 9999)}", {"citizen"})
                if rng.random() < 0.6
                else staff["frontdesk"][0]
            )
            result = desk.submit(
                sop.id, actor=actor, data={"subject": subject, "category": category}
            )
            open_ids.append(result.request.id)
        for request_id in list(open_ids):
            clock.advance(minutes=rng.randint(3, 25))
            record = desk.get(request_id)
            if record.closed:
                open_ids.remove(request_id)
                continue
            if rng.random() < 0.35:
                continue  # the desk did not get to it today
            verifier = rng.choice(staff["verifier"])
            supervisor = staff["supervisor"][0]
            officer = rng.choice(staff["officer"])
            if record.state == "received":
                if rng.random() < 0.08:
                    attempt(request_id, "reject", verifier, justification="Bukan pengaduan")
                else:
                    attempt(request_id, "verify", verifier)
            elif record.state == "verified":
                if rng.random() < 0.15:
                    attempt(request_id, "dispatch", supervisor)  # forgot the unit: refused
                if rng.random() < 0.1:
                    attempt(request_id, "dispatch", verifier, data={"assigned_unit": "x"})
                attempt(request_id, "dispatch", supervisor, data={"assigned_unit": officer.unit})
            elif record.state == "dispatched":
                attempt(
                    request_id,
                    "follow_up",
                    officer,
                    data={"follow_up_note": "Ditindaklanjuti oleh " + str(officer.unit)},
                )
            elif record.state == "followed_up":
                doer = record.meta.get("actors", {}).get("follow_up", [""])[0]
                if doer == staff["officer"][2].id and rng.random() < 0.5:
                    attempt(request_id, "close", staff["officer"][2])  # separation of duties
                attempt(request_id, "close", rng.choice([supervisor, verifier]))
        day = day + dt.timedelta(days=1)

    ledger = desk.ledger
    report = verify_ledger(
        ledger,
        ((e.seq, e.data) for e in store.entries(ledger)),
        store.iter_checkpoints(ledger),
        key.keyring.keys,
    )
    # A citizen's receipt for the first complaint, checked as the citizen would: offline.
    first = next(store.entries(ledger, 0, 1))
    note = store.latest_checkpoint(ledger)
    assert note is not None
    receipt = make_receipt(ledger, 0, first.hash, note, LedgerNodes(store, ledger))
    receipt_check = check_receipt(receipt, key.keyring.keys)
    states = collections.Counter(r.state for r in store.requests())
    store.close()
    return {
        "sop": sop,
        "states": states,
        "refused": refused,
        "report": report,
        "keys_dir": keys_dir,
        "ledger": ledger,
        "key": key.keyring.keys[-1],
        "receipt": receipt_check.summary(),
    }


@click.command("demo")
@click.option(
    "--db",
    default="pelayanan-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The SQLite file to create (replaced if it is an earlier demo database).",
)
@click.option("--seed", default=1, show_default=True, help="Random seed of the simulation.")
def demo_command(db: str, seed: int) -> None:
    """Run a realistic simulated stretch of service-desk work and verify its audit log."""
    figures = run_demo(Path(db), seed)
    sop = figures["sop"]
    states: collections.Counter[str] = figures["states"]  # type: ignore[assignment]
    refused: collections.Counter[str] = figures["refused"]  # type: ignore[assignment]
    report = figures["report"]
    assert isinstance(sop, SOP)
    click.echo(f"pelayanan demo (seed {seed}): three working weeks of a complaint desk")
    click.echo(f"  SOP       {sop.id} {sop.version} ({sop.title}), hash {sop.content_hash[:12]}")
    click.echo(f"  database  {db}   keys {figures['keys_dir']}/")
    click.echo(f"requests submitted: {sum(states.values())}")
    for state in sop.states:
        if states.get(state.id):
            click.echo(f"  {state.id:<12} {states[state.id]:>4}  ({state.label_id})")
    click.echo(f"refused attempts recorded in the log: {sum(refused.values())}")
    for reason, count in sorted(refused.items()):
        click.echo(f"  {reason:<36} {count:>4}")
    click.echo(f"audit log: {report.size} entries, {report.checkpoints} signed checkpoints")  # type: ignore[attr-defined]
    active = figures["key"]
    assert isinstance(active, TrustedKey)
    click.echo(
        f"ledger key: {active.name} (id {active.key.key_id}), valid from "
        f"{format_time(active.valid_from) if active.valid_from else '-'} (keyring.json)"
    )
    click.echo(f"verification: OK {report.summary()}")  # type: ignore[attr-defined]
    click.echo(f"receipt: {figures['receipt']}")
    click.echo("next:")
    click.echo(f"  pelayanan audit verify --db {db}")
    click.echo(f"  pelayanan audit export --db {db} -o audit.jsonl")
    click.echo(f"  pelayanan audit prove --db {db} --seq 0 -o receipt.json")
    click.echo(f"  pelayanan audit check-proof receipt.json --keys {figures['keys_dir']}")
    click.echo(f"  pelayanan keys rotate --db {db}")
