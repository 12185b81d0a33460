"""``pelayanan demo``: a realistic simulated stretch of complaint-desk work."""

from __future__ import annotations

import collections
import datetime as dt
import importlib.util
import json
import random
import shutil
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from pelayanan.access import Actor
from pelayanan.audit.entry import format_time
from pelayanan.audit.export import write_export
from pelayanan.audit.keyring import KeyringSigner, TrustedKey, create_key_folder
from pelayanan.audit.kinds import ACTION, ACTOR, AUTHORITY, KIND, KIND_SUBMIT, ROUTING, RULE, UNIT
from pelayanan.audit.receipt import check_receipt, make_receipt
from pelayanan.audit.verify import verify_ledger
from pelayanan.cli._common import EXIT_BAD_INPUT, default_key_dir, example, fail
from pelayanan.cli._demo_files import (
    checked_db_path,
    copy_example_sops,
    demo_lock,
    moved_store_path,
    write_demo_directory,
    write_ledger_map,
)
from pelayanan.cli._demo_privacy import PrivacyShowcase, make_citizens, privacy_showcase
from pelayanan.cli._demo_services import emergency_call_lines, pbg_lines, ramadan_line
from pelayanan.cli._demo_witness import witness_step
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import PelayananError, RequestError
from pelayanan.privacy import (
    MASTER_KEY_FILE,
    PrivacySettings,
    Vault,
    generate_master_key,
    write_master_key,
)
from pelayanan.reports.ikm import RULES_2017
from pelayanan.routing import load_routing_config
from pelayanan.sla import (
    BreachAttribution,
    ClockVerdict,
    attribute_breaches,
    recompute_verdicts,
    recorded_verdicts,
)
from pelayanan.sop import SOP, load_sop
from pelayanan.store import MemoryStore, SQLiteStore
from pelayanan.store.base import LedgerNodes
from pelayanan.store.transfer import import_export
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


#: Kecamatan of the demo city (dotted Kemendagri-style codes), for the region reports.
REGIONS = ("32.73.01", "32.73.02", "32.73.05", "32.73.10")
SURVEY_KEYS = RULES_2017.keys


def sop_path(name: str) -> Path:
    """Return the path of a bundled example SOP (``examples/sop/<name>.yaml``)."""
    bundled = resources.files("pelayanan").joinpath("_sops", f"{name}.yaml")
    if bundled.is_file():
        return Path(str(bundled))
    # Running from a source checkout: the examples folder is the single source.
    return Path(__file__).resolve().parents[3] / "examples" / "sop" / f"{name}.yaml"


def routing_path(name: str) -> Path:
    """Return the path of a bundled example routing file (``examples/routing/<name>.yaml``)."""
    bundled = resources.files("pelayanan").joinpath("_routing", f"{name}.yaml")
    if bundled.is_file():
        return Path(str(bundled))
    return Path(__file__).resolve().parents[3] / "examples" / "routing" / f"{name}.yaml"


def _prepare(db: Path) -> None:
    if db.exists():
        try:
            existing = SQLiteStore(db)
            marker = existing.get_meta(DEMO_MARKER)
            existing.close()
        except PelayananError:
            marker = None
        if marker != "1":
            fail(
                f"{db} exists and is not a pelayanan demo database; choose another --db",
                EXIT_BAD_INPUT,
            )
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
            Path(str(moved_store_path(db)) + suffix).unlink(missing_ok=True)
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
    # -- privacy: the vault master key the host app would keep in its KMS --
    master_key = generate_master_key()
    write_master_key(master_key, keys_dir / MASTER_KEY_FILE)
    citizens = make_citizens(seed)
    citizen_rng = random.Random(f"citizen-choice-{seed}")
    sop: SOP = load_sop(sop_path("pengaduan"))
    store = SQLiteStore(db)
    store.set_meta(DEMO_MARKER, "1")
    vault = Vault(master_key)
    vault.bind(store)  # the store remembers which master key seals its personal data
    counter = iter(range(1, 10_000))
    desk = ServiceDesk(
        store,
        sops=[sop],
        signing_key=key,
        ledger="pemkot-contoh",
        clock=clock,
        id_factory=lambda: f"ADU-2026-{next(counter):05d}",
        routing=load_routing_config(routing_path("pemkot")),
        privacy=PrivacySettings(vault=vault),
    )
    staff = _staff()
    refused: collections.Counter[str] = collections.Counter()
    sla_events: collections.Counter[str] = collections.Counter()
    open_ids: list[str] = []
    surveys = 0

    def attempt(request_id: str, action: str, actor: Actor, **kwargs: object) -> bool:
        try:
            desk.act(request_id, action, actor=actor, **kwargs)  # type: ignore[arg-type]
        except RequestError as exc:
            refused[getattr(exc, "rule", None) or type(exc).__name__] += 1
            return False
        return True

    day = clock.now()
    for day_number in range(15):
        # Week 2, Monday to Wednesday: the verifiers are away at a training (SLA backlog).
        training = day_number in (5, 6, 7)
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
            data = {"subject": subject, "category": category, "region": rng.choice(REGIONS)}
            data.update(citizen_rng.choice(citizens))  # sealed; some citizens complain twice
            result = desk.submit(sop.id, actor=actor, data=data)
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
            acting: dict[str, object] = {}
            if dt.date(2026, 7, 13) <= clock.now().date() < dt.date(2026, 7, 18):
                # The head of unit is on leave: a verifier acts as Plt under a warrant.
                acting = {"on_behalf_of": supervisor.id}
                supervisor, verifier = staff["verifier"][1], staff["verifier"][0]
            officer = rng.choice(staff["officer"])
            assigned = record.data.get("assigned_unit")
            unit_officers = [o for o in staff["officer"] if o.unit == assigned]
            if unit_officers:
                officer = unit_officers[0]
            if record.state == "received" and training:
                continue
            if record.state == "dispatched" and assigned == "dinas-lh" and rng.random() < 0.7:
                continue  # the environment office is short-staffed: follow-ups lag
            if record.state == "received":
                if rng.random() < 0.08:
                    attempt(request_id, "reject", verifier, justification="Bukan pengaduan")
                else:
                    attempt(request_id, "verify", verifier)
            elif record.state == "verified":
                if rng.random() < 0.15:
                    attempt(request_id, "dispatch", supervisor, **acting)  # no unit: refused
                if rng.random() < 0.1:
                    attempt(request_id, "dispatch", verifier, data={"assigned_unit": "x"})
                attempt(
                    request_id,
                    "dispatch",
                    supervisor,
                    data={"assigned_unit": officer.unit},
                    **acting,
                )
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
                closer = rng.choice([supervisor, verifier])
                by_plt = acting if closer is supervisor else {}
                if attempt(request_id, "close", closer, **by_plt) and rng.random() < 0.7:
                    answers = {k: rng.choice((2, 3, 3, 3, 4, 4)) for k in SURVEY_KEYS}
                    desk.record_survey(request_id, answers, actor=staff["frontdesk"][0])
                    surveys += 1
        # At each day's close the host app ticks: warnings, breaches, escalations.
        clock.set(max(day.replace(hour=16, minute=30), clock.now()))
        sla_events.update(event.event for event in desk.tick())
        day = day + dt.timedelta(days=1)

    clock.advance(days=1)
    showcase = privacy_showcase(desk, staff)
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
    transfer = _export_and_reimport(store, key.keyring.keys)
    # --- witness step: a witness countersigns the final checkpoint (PATH.witness/) ---
    witnessed = witness_step(store, ledger, key.keyring.keys, db, clock.now())
    states = collections.Counter(r.state for r in store.requests())
    log = [e.data for e in store.entries(ledger)]
    verdicts = recompute_verdicts(log, desk.calendars)
    routed: collections.Counter[str] = collections.Counter()
    plt_actions: collections.Counter[str] = collections.Counter()
    for raw in log:
        entry = json.loads(raw)
        if entry[KIND] == KIND_SUBMIT and ROUTING in entry:
            routed[f"{entry[ROUTING][RULE]} -> {entry[ROUTING][UNIT]}"] += 1
        if AUTHORITY in entry:
            kind = entry[AUTHORITY][KIND]
            plt_actions[f"{entry[ACTION]} by {entry[ACTOR]} ({kind})"] += 1
    store.close()
    services = [
        *emergency_call_lines(sop_path("panggilan-darurat-112")),
        *pbg_lines(sop_path("pbg"), vault, dt.datetime(2026, 7, 27, 8, 30, tzinfo=WIB)),
        ramadan_line(desk.calendars["default"]),
    ]
    return {
        "services": services,
        "sop": sop,
        "states": states,
        "refused": refused,
        "report": report,
        "keys_dir": keys_dir,
        "ledger": ledger,
        "privacy": showcase,
        "surveys": surveys,
        "sla_events": sla_events,
        "verdicts": verdicts,
        "verdicts_match": verdicts == recorded_verdicts(log),
        "attributions": attribute_breaches(log, desk.calendars),
        "fingerprint": desk.calendars["default"].fingerprint,
        "end": clock.now(),
        "key": key.keyring.keys[-1],
        "receipt": receipt_check.summary(),
        "transfer": transfer,
        "routed": routed,
        "plt_actions": plt_actions,
        "witness": witnessed,
    }


@click.command("demo", epilog=example("pelayanan demo --db pelayanan-demo.db --seed 7"))
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
    path = checked_db_path(db)
    with demo_lock(path):
        figures = run_demo(path, seed)
        directory = write_demo_directory(path)
        sop_file, scenario = _copy_example(path, "pengaduan")
        more = [_copy_example(path, name) for name in ("pbg", "panggilan-darurat-112")]
        ledger_map = write_ledger_map(path)
    sop = figures["sop"]
    states: collections.Counter[str] = figures["states"]  # type: ignore[assignment]
    refused: collections.Counter[str] = figures["refused"]  # type: ignore[assignment]
    report = figures["report"]
    assert isinstance(sop, SOP)
    click.echo(f"pelayanan demo (seed {seed}): three working weeks of a complaint desk")
    click.echo(f"  SOP       {sop.id} {sop.version} ({sop.title}), hash {sop.content_hash[:12]}")
    click.echo(
        f"            {len(sop.states)} states, {len(sop.actions)} actions, "
        f"{len(sop.clocks)} clocks; checked at load (pelayanan sop check)"
    )
    click.echo(f"  database  {db}   keys {figures['keys_dir']}/")
    click.echo(f"requests submitted: {sum(states.values())}")
    for state in sop.states:
        if states.get(state.id):
            click.echo(f"  {state.id:<12} {states[state.id]:>4}  ({state.label_id})")
    routed: collections.Counter[str] = figures["routed"]  # type: ignore[assignment]
    click.echo("routed on submission (rule -> unit, by category and region):")
    for rule, count in sorted(routed.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"  {rule:<48} {count:>4}")
    plt_actions: collections.Counter[str] = figures["plt_actions"]  # type: ignore[assignment]
    click.echo("acting official (Plt, 13-17 July) with the head of unit's authority:")
    for what, count in sorted(plt_actions.items()):
        click.echo(f"  {what:<48} {count:>4}")
    click.echo(f"refused attempts recorded in the log: {sum(refused.values())}")
    for reason, count in sorted(refused.items()):
        click.echo(f"  {reason:<36} {count:>4}")
    _echo_sla(figures)
    click.echo(f"audit log: {report.size} entries, {report.checkpoints} signed checkpoints")  # type: ignore[attr-defined]
    active = figures["key"]
    assert isinstance(active, TrustedKey)
    click.echo(
        f"ledger key: {active.name} (id {active.key.key_id}), valid from "
        f"{format_time(active.valid_from) if active.valid_from else '-'} (keyring.json)"
    )
    showcase = figures["privacy"]
    assert isinstance(showcase, PrivacyShowcase)
    click.echo(
        f"personal data: {showcase.subjects} data subjects; nama, nik, telepon, alamat "
        "sealed (AES-256-GCM, one key per subject)"
    )
    click.echo(f"  reveal recorded          {showcase.revealed}")
    click.echo(f"  reveal refused, recorded {showcase.reveal_refused}")
    click.echo(f"  erasure refused          {showcase.held} ({showcase.hold_refusal})")
    click.echo(f"  erased (key destroyed)   {showcase.erased}")
    click.echo(f"verification: OK {report.summary()}")  # type: ignore[attr-defined]
    click.echo(f"receipt: {figures['receipt']}")
    click.echo(f"export: {figures['transfer']}")
    click.echo(str(figures["witness"]))  # the witness step
    click.echo(f"survey responses (SKM) recorded: {figures['surveys']}")
    for line in figures["services"]:  # type: ignore[attr-defined]
        click.echo(line)
    # Imported here: the report command's modules load only when the demo reaches this line.
    from pelayanan.cli._report import head_of_unit_summary  # noqa: PLC0415

    click.echo(f"head of unit's summary (pelayanan report sla --db {db}):")
    for line in head_of_unit_summary(str(path)):
        click.echo(line)
    click.echo("next:")
    click.echo(f"  pelayanan audit verify --db {db}")
    click.echo(f"  pelayanan audit export --db {db} -o audit.jsonl")
    click.echo(f"  pelayanan audit prove --db {db} --seq 0 -o receipt.json")
    click.echo(f"  pelayanan audit check-proof receipt.json --keys {figures['keys_dir']}")
    click.echo(f"  pelayanan keys rotate --db {db}")
    click.echo(f"  pelayanan privacy subjects --db {db}")
    click.echo(
        f"  pelayanan privacy show --db {db} --subject {showcase.held} --purpose 'akses subjek'"
    )
    click.echo(f"  pelayanan report sla --db {db} --by unit")
    click.echo(
        f"  pelayanan report sla --db {db} --format html -o report.html --directory {directory}"
    )
    click.echo(f"  pelayanan report ikm --db {db}")
    click.echo(f"  pelayanan report at-risk --db {db}")
    click.echo(f"  pelayanan report sla --db {db} --format json --state report.state")
    click.echo(f"  pelayanan sop check {sop_file}")
    click.echo(f"  pelayanan sop diagram {sop_file}")
    click.echo(f"  pelayanan sop simulate {sop_file} {scenario}")
    for other_sop, other_scenario in more:
        click.echo(f"  pelayanan sop simulate {other_sop} {other_scenario}")
    click.echo(f"  pelayanan report sla --db {db} --format csv --table all -o tables")
    if importlib.util.find_spec("pyarrow") is not None:
        click.echo(f"  pelayanan audit export --db {db} --format parquet -o log.parquet")
    # A SQLite path in a ledger map, --to included, is relative to the map's folder.
    moved = moved_store_path(path)
    target = moved.name if path.parent.resolve() == Path.cwd().resolve() else moved.resolve()
    click.echo(
        f"  pelayanan store move --map {ledger_map} --ledger {figures['ledger']} "
        f"--to {target} --keys {figures['keys_dir']}"
    )


def _copy_example(db: Path, name: str) -> tuple[str, str]:
    """Copy the example SOP *name* and its scenario beside *db*; return their shown paths."""
    sop = sop_path(name)
    return copy_example_sops(db, sop, sop.parent / "scenarios" / f"{name}.yaml")


def _export_and_reimport(store: SQLiteStore, keys: Sequence[TrustedKey]) -> str:
    """Export the log as an auditor receives it, then load it into an empty store."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        with path.open("wb") as out:
            written = write_export(store, out)
        kept = sum(1 for line in path.open("rb") if line.startswith(b'{"checkpoint"'))
        copy = MemoryStore()
        reports = import_export(copy, path, keys)
    roots_match = all(
        (copy.head(r.ledger).size, copy.head(r.ledger).range.root())
        == (store.head(r.ledger).size, store.head(r.ledger).range.root())
        for r in reports
    )
    return (
        f"{written} entries and {kept} signed checkpoints exported (JSONL), verified and "
        f"imported into an empty store: {'same size and root' if roots_match else 'MISMATCH'}"
    )


def _echo_sla(figures: dict[str, object]) -> None:
    events: collections.Counter[str] = figures["sla_events"]  # type: ignore[assignment]
    verdicts: list[ClockVerdict] = figures["verdicts"]  # type: ignore[assignment]
    attributions: list[BreachAttribution] = figures["attributions"]  # type: ignore[assignment]
    breached = sum(1 for verdict in verdicts if verdict.status == "breached")
    # The tick's alerts are not the breached clocks: a clock stopped late between two ticks
    # is breached without an alert, so both are printed and named apart.
    click.echo(
        f"SLA (desk.tick at each day's close): {events['warning']} warnings, "
        f"{events['breach']} breach alerts, {events['escalation']} escalations recorded; "
        f"{breached} clocks breached"
    )
    table: dict[str, collections.Counter[str]] = {}
    for verdict in verdicts:
        table.setdefault(verdict.clock, collections.Counter())[verdict.status] += 1
    end: dt.datetime = figures["end"]  # type: ignore[assignment]
    for verdict in verdicts:
        if verdict.status in ("running", "paused") and verdict.deadline < end:
            table[verdict.clock]["overdue"] += 1
    click.echo(f"  {'clock':<14} {'met':>5} {'breached':>9} {'running':>8} {'(overdue)':>10}")
    for name, counts in table.items():
        click.echo(
            f"  {name:<14} {counts['met']:>5} {counts['breached']:>9} "
            f"{counts['running'] + counts['paused']:>8} {counts['overdue']:>10}"
        )
    match = "match" if figures["verdicts_match"] else "DO NOT match"
    fingerprint = str(figures["fingerprint"])
    click.echo(
        f"  verdicts recomputed from the audit log on calendar {fingerprint[:19]}...: "
        f"{match} the recorded ones"
    )
    held: collections.Counter[str] = collections.Counter()
    for attribution in attributions:
        for holding in attribution.holdings:
            held[holding.unit or "?"] += int(holding.working_time.total_seconds() // 60)
    if held:
        shares = ", ".join(f"{unit} {minutes / 60:.1f} h" for unit, minutes in held.most_common())
        click.echo(f"  breached clocks were held by (working time): {shares}")
