"""Side doors: each way round a rule is refused with a typed error, and nothing leaks.

Every test counts the cases it tries and the cases refused; the module prints the totals,
as the tamper suite does.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import stat
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from pelayanan.access import (
    MAX_ID_LENGTH,
    AccessPolicy,
    Actor,
    Delegation,
    DelegationRegistry,
    access_config_from_dict,
    case_sensitive_ids,
    check_access,
    id_key,
    normalize_id,
    same_id,
    set_case_sensitive_ids,
)
from pelayanan.audit.export import write_export
from pelayanan.audit.keys import (
    SigningKey,
    load_private_key,
    make_private_folder,
    write_key_pair,
    write_private_file,
)
from pelayanan.cli._main import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConfigurationError,
    InvalidFieldValueError,
    InvalidIdError,
    InvalidInstantError,
    KeyFilePermissionWarning,
    PelayananError,
    PermissionDeniedError,
    RequestError,
    SchemaVersionError,
    VaultKeyMismatchError,
)
from pelayanan.privacy import (
    MASTER_KEY_FILE,
    PrivacySettings,
    Vault,
    generate_master_key,
    load_master_key,
    write_master_key,
)
from pelayanan.routing import routing_config_from_dict
from pelayanan.sop import SOP
from pelayanan.sop.values import MAX_DEPTH, MAX_FIELDS, MAX_TEXT_LENGTH, limit_problems
from pelayanan.store import MemoryStore, SQLiteStore, Store, open_store
from pelayanan.testing import FakeClock

TALLY: collections.Counter[str] = collections.Counter()


def _tally(tried: int, refused: int) -> None:
    TALLY["tried"] += tried
    TALLY["refused"] += refused


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Print how many side doors were tried and how many were refused."""
    yield
    print(f"\n[side doors] {TALLY['tried']} cases tried, {TALLY['refused']} refused")


NIK = 3273015708910004
NAME = ["Siti", "Nurhaliza", "Rahmawati"]
ADDRESS = {"jalan": "Jl. Cihampelas No. 12", "rt": "03"}
#: What must never be found in clear: the NIK's digits, the name, the street.
SECRETS = (str(NIK).encode(), b"Nurhaliza", b"Cihampelas")

CITIZEN = Actor("warga-1", {"citizen"})
VERIFIER = Actor("ver-1", {"verifier"})
KEPALA = Actor("kepala-1", {"supervisor"}, "unit-pengaduan")
ROUTING = {
    "fields": {"region": "region"},
    "rules": [
        {"name": "pu", "when": {"category": "infrastruktur"}, "unit": "dinas-pu"},
        {"name": "kota", "when": {"region": "32.73"}, "unit": "unit-pengaduan"},
    ],
    "disposition": {"roles": ["supervisor"]},
}


def _entries(store: Store, ledger: str = "default") -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in store.entries(ledger)]


def _desk(store: Store, sop: SOP, key: SigningKey, clock: FakeClock, master: bytes) -> ServiceDesk:
    return ServiceDesk(
        store,
        sops=[sop],
        signing_key=key,
        clock=clock,
        routing=routing_config_from_dict(ROUTING),
        privacy=PrivacySettings(vault=Vault(master)),
    )


def _scan(paths: list[Path]) -> list[str]:
    """Return the files (by name) in which a secret appears in clear."""
    found = []
    for path in paths:
        data = path.read_bytes() if path.exists() else b""
        found.extend(f"{path.name}: {s.decode()}" for s in SECRETS if s in data)
    return found


class TestNoPersonalDataInRefusals:
    def test_every_refusal_path_keeps_values_out(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """Wrongly typed personal values are refused by field and kind; no byte leaks."""
        db = tmp_path / "desk.db"
        store = SQLiteStore(db)
        desk = _desk(store, complaint_sop, ledger_key, clock, generate_master_key())
        ok = {"subject": "Lampu mati", "category": "infrastruktur"}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=ok).request.id
        messages: list[str] = []
        bad = [{"nik": NIK}, {"nama": NAME}, {"alamat": ADDRESS}, {"nik": NIK, "nama": NAME}]
        attempts: list[Any] = []
        for data in bad:
            attempts.append(
                lambda d=data: desk.submit("pengaduan-umum", actor=CITIZEN, data={**ok, **d})
            )
            attempts.append(lambda d=data: desk.act(request_id, "verify", actor=VERIFIER, data=d))
        attempts.append(
            lambda: desk.submit(
                "pengaduan-umum",
                actor=CITIZEN,
                data={"subject": "s", "category": "lainnya", "region": str(NIK)},
            )
        )
        attempts.append(
            lambda: desk.dispose(
                request_id,
                actor=KEPALA,
                to="dinas-pu",
                instruction="periksa",
                due=dt.datetime(2026, 7, 8),
            )
        )
        attempts.append(lambda: desk.reveal(request_id, "nik", actor=CITIZEN, purpose="cek"))
        attempts.append(
            lambda: desk.record_survey(request_id, {"u1": NIK}, actor=CITIZEN)  # type: ignore[dict-item]
        )
        attempts.append(lambda: desk.tick(dt.datetime(2026, 7, 8, 9, 0)))
        for attempt in attempts:
            with pytest.raises(PelayananError) as info:
                attempt()
            messages.append(str(info.value))
            messages.extend(
                p if isinstance(p, str) else p.render() for p in getattr(info.value, "problems", ())
            )
        _tally(len(attempts), len(attempts))  # each attempt above raised
        assert "nik: expected text, got an integer" in messages
        assert "nama: expected text, got a list" in messages
        assert "alamat: expected text, got a mapping" in messages
        for message in messages:
            assert all(s.decode() not in message for s in SECRETS), message
        refusals = [e for e in _entries(store) if e["kind"] == "refused"]
        assert len(refusals) >= 2 * len(bad)
        export = tmp_path / "audit.jsonl"
        with export.open("wb") as out:
            write_export(store, out)
        store.close()
        assert _scan([db, Path(f"{db}-wal"), export]) == []
        self._reports_hold_no_secret(db, ledger_key, tmp_path)

    @staticmethod
    def _reports_hold_no_secret(db: Path, key: SigningKey, tmp_path: Path) -> None:
        public = tmp_path / "ledger-public.pem"
        public.write_bytes(key.verifier.public_pem())
        base = ["--db", str(db), "--trusted-key", str(public)]
        runs = [["report", "sla", *base, "--format", fmt] for fmt in ("text", "json", "csv")]
        runs += [["report", "open311", *base], ["report", "at-risk", *base, "--format", "json"]]
        runs += [["report", "quality", *base, "--format", "json"]]
        for args in runs:
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, (args, result.output)
            assert all(s.decode() not in result.output for s in SECRETS), args

    def test_messages_never_quote_values(self, complaint_sop: SOP) -> None:
        """Every kind of wrong value is described by its kind, never shown."""
        from pelayanan.sop.values import value_problems

        values = [NIK, NAME, ADDRESS, 3.5, True, "x" * (MAX_TEXT_LENGTH + 1), object()]
        problems = [p for v in values for p in value_problems(complaint_sop, {"nik": v})]
        _tally(len(values), len(problems))
        assert len(problems) == len(values)
        for problem in problems:
            assert problem.startswith("nik: ")
            assert str(NIK) not in problem
            assert "Nurhaliza" not in problem

    def test_canonical_encoding_never_shows_a_number(self) -> None:
        """An integer too large for the log is refused by its size, not its digits."""
        from pelayanan.audit.canonical import canonical_json
        from pelayanan.exceptions import CanonicalEncodingError

        huge = NIK * 10_000
        with pytest.raises(CanonicalEncodingError, match="bits") as info:
            canonical_json({"nik": huge})
        assert str(huge) not in str(info.value)
        assert str(NIK) not in str(info.value)
        _tally(1, 1)


class TestOnePersonOneSpelling:
    SPELLINGS = (
        "petugas-2 ",
        " petugas-2",
        "petugas\u200b-2",
        "\ufeffpetugas-2",
        "PETUGAS-2",
        "Petugas-2",
        "ｐｅｔｕｇａｓ－２",  # noqa: RUF001 (full-width spelling on purpose)
        "petugas-\uff12",
    )

    def test_separation_of_duties_sees_through_spellings(
        self, desk: ServiceDesk, store: Store
    ) -> None:
        """The officer who followed up cannot close under another spelling of their id."""
        data = {"subject": "Lampu mati", "category": "infrastruktur"}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        desk.act(request_id, "verify", actor=VERIFIER)
        desk.act(request_id, "dispatch", actor=KEPALA, data={"assigned_unit": "dinas-pu"})
        both = Actor("petugas-2", {"officer", "supervisor"})
        desk.act(request_id, "follow_up", actor=both, data={"follow_up_note": "diperbaiki"})
        refused = 0
        for spelling in self.SPELLINGS:
            with pytest.raises(PermissionDeniedError) as info:
                desk.act(request_id, "close", actor=Actor(spelling, {"supervisor"}))
            assert info.value.rule == "separation_of_duties:follow_up"
            refused += 1
        _tally(len(self.SPELLINGS), refused)
        recorded = [e for e in _entries(store) if e["kind"] == "refused"]
        assert len(recorded) == len(self.SPELLINGS)

    def test_no_delegation_to_oneself_under_another_spelling(self) -> None:
        """A delegation whose delegate is the principal, spelt otherwise, is refused."""
        start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
        for spelling in self.SPELLINGS:
            with pytest.raises(ConfigurationError, match="cannot delegate to themself"):
                Delegation(
                    id="SP-1",
                    principal="petugas-2",
                    delegate=spelling,
                    kind="plh",
                    roles=frozenset({"supervisor"}),
                    valid_from=start,
                    valid_until=start + dt.timedelta(days=3),
                )
        _tally(len(self.SPELLINGS), len(self.SPELLINGS))

    def test_delegation_found_under_any_spelling(self) -> None:
        """A Plh acts for the principal whichever spelling either id is given in."""
        start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
        registry = DelegationRegistry(
            [
                Delegation(
                    id="SP-2",
                    principal="Kepala-1",
                    delegate="plh-1",
                    kind="plh",
                    roles=frozenset({"supervisor"}),
                    valid_from=start,
                    valid_until=start + dt.timedelta(days=3),
                )
            ]
        )
        grant = check_access(
            Actor("PLH-1 ", {"officer"}),
            "dispatch",
            allowed_roles=["supervisor"],
            on_behalf_of="kepala-1\u200b",
            delegations=registry,
            at=start + dt.timedelta(hours=1),
        )
        assert grant.delegation is not None
        assert grant.actor == "PLH-1"

    @pytest.mark.parametrize(
        "bad",
        ["", "   ", "\u200b", "ver\x00-1", "ver\n1", "ver\u202e1", "v" * (MAX_ID_LENGTH + 1), 42],
    )
    def test_unusable_ids_are_refused(self, bad: object) -> None:
        """Empty, control characters, bidi overrides, over-long and non-text ids are refused."""
        with pytest.raises(InvalidIdError) as info:
            Actor(bad, {"citizen"})  # type: ignore[arg-type]
        assert "\x00" not in str(info.value)
        _tally(1, 1)

    def test_a_ten_megabyte_id_is_refused_quickly(self) -> None:
        """An id of 10 MB is refused before any normalisation work, naming the limit."""
        with pytest.raises(InvalidIdError, match="MAX_ID_LENGTH"):
            Actor("x" * 10_000_000, {"citizen"})
        _tally(1, 1)

    def test_roles_as_one_string_is_a_type_error(self) -> None:
        """Actor(id, "lurah") is a TypeError with a hint, not the roles l, u, r, a, h."""
        with pytest.raises(TypeError, match=r"\{'lurah'\}"):
            Actor("lurah-1", "lurah")  # type: ignore[arg-type]
        _tally(1, 1)

    def test_case_sensitive_ids_when_declared(self) -> None:
        """A host that declares case-sensitive ids gets exact comparison."""
        assert not case_sensitive_ids()
        assert same_id("Ver-1", "ver-1")
        set_case_sensitive_ids(True)
        try:
            assert not same_id("Ver-1", "ver-1")
            assert same_id("ver-1 ", "ver-1")
        finally:
            set_case_sensitive_ids(False)

    @given(st.text(max_size=40))
    def test_normalisation_is_idempotent(self, text: str) -> None:
        """Normalising a normalised id changes nothing, and its key is stable."""
        try:
            once = normalize_id(text)
        except InvalidIdError:
            return
        assert normalize_id(once) == once
        assert id_key(once) == id_key(id_key(once))

    @given(
        st.text(alphabet=st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=20),
        st.sampled_from([" ", "\u200b", "\ufeff", "\u00a0", "\t"]),
    )
    def test_equivalent_spellings_are_one_id(self, text: str, noise: str) -> None:
        """Surrounding space, invisible characters, full width and case name one person."""
        try:
            plain = normalize_id(text)
        except InvalidIdError:
            return
        # Case mappings that lose a letter (Turkish dotless i) are not spellings of one id.
        assume(text.upper().casefold() == text.casefold() == text.lower().casefold())
        wide = unicodedata.normalize("NFKC", text)
        variants = [noise + text + noise, text.upper(), text.lower(), wide, text + "\u200b"]
        for variant in variants:
            assert same_id(variant, plain), (variant, plain)


class TestUnits:
    def test_officer_acts_only_on_own_units_requests(self, desk: ServiceDesk, store: Store) -> None:
        """An officer of dinas-pu may not verify a request held by unit-pengaduan (recorded)."""
        data = {"subject": "Lampu mati", "category": "infrastruktur"}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        outsider = Actor("ver-9", {"verifier"}, units={"dinas-pu"})
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "verify", actor=outsider)
        assert info.value.rule == "unit"
        (entry,) = [e for e in _entries(store) if e["kind"] == "refused"]
        assert entry["reason"]["rule"] == "unit"
        insider = Actor("ver-1", {"verifier"}, units={"dinas-pu", "unit-pengaduan"})
        desk.act(request_id, "verify", actor=insider)
        _tally(1, 1)

    def test_cross_unit_roles_and_actors_without_units(self) -> None:
        """A role spanning units passes; an actor declaring no unit keeps the old behaviour."""
        policy, _ = access_config_from_dict({"cross_unit_roles": ["inspektorat"]})
        assert policy.cross_unit_roles == {"inspektorat"}
        spanning = Actor("insp-1", {"verifier", "inspektorat"}, units={"inspektorat"})
        check_access(spanning, "verify", allowed_roles=["verifier"], unit="dinas-pu", policy=policy)
        check_access(Actor("ver-1", {"verifier"}), "verify", allowed_roles=["verifier"], unit="x")
        with pytest.raises(PermissionDeniedError) as info:
            check_access(
                Actor("ver-2", {"verifier"}, units={"DINAS-PU"}),
                "verify",
                allowed_roles=["verifier"],
                unit="dlh",
                policy=AccessPolicy(),
            )
        assert info.value.rule == "unit"
        check_access(
            Actor("ver-2", {"verifier"}, units={"DINAS-PU"}),
            "verify",
            allowed_roles=["verifier"],
            unit="dinas-pu",
        )
        _tally(1, 1)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database with its key folder."""
    db = tmp_path_factory.mktemp("side-doors") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "5"])
    assert result.exit_code == 0, result.output
    return db


def _commands(db: Path) -> list[list[str]]:
    return [
        ["audit", "export", "--db", str(db)],
        ["audit", "prove", "--db", str(db), "--seq", "0"],
        ["report", "sla", "--db", str(db)],
    ]


def _fingerprint(paths: list[Path]) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in paths if p.is_file()}


class TestOutputsNeverDestroyInputs:
    def test_protected_targets_are_refused(self, demo_db: Path, tmp_path: Path) -> None:
        """-o onto the store, its WAL/SHM, a key file or folder, a link: exit 2, untouched."""
        keys = Path(f"{demo_db}.keys")
        wal, shm = Path(f"{demo_db}-wal"), Path(f"{demo_db}-shm")
        wal.touch()
        shm.touch()
        link = tmp_path / "link.jsonl"
        link.symlink_to(tmp_path / "elsewhere.jsonl")
        targets = [
            demo_db,
            wal,
            shm,
            keys / "ledger-private.pem",
            keys / MASTER_KEY_FILE,
            keys / "keyring.json",
            keys / "new-file.txt",
            keys,
            link,
        ]
        guarded = [demo_db, *keys.iterdir()]
        before = _fingerprint(guarded)
        tried = refused = 0
        for command in _commands(demo_db):
            for target in targets:
                for force in ([], ["--force"]):
                    result = CliRunner().invoke(cli, [*command, "-o", str(target), *force])
                    tried += 1
                    assert result.exit_code == 2, (command, target, result.output)
                    assert "-o" in result.stderr, result.stderr
                    refused += 1
        _tally(tried, refused)
        assert _fingerprint(guarded) == before
        # No output ever lands in the -wal/-shm: the log stays empty, and the -shm holds at
        # most SQLite's own wal-index (a read-only open leaves it in place; its header
        # starts with the index version 3007000, and no export or receipt text is in it).
        assert not wal.exists() or wal.stat().st_size == 0
        index = shm.read_bytes() if shm.exists() else b""
        assert not index or index[:4] == (3007000).to_bytes(4, "little")
        assert b'"ledger"' not in index
        assert b"pelayanan" not in index
        assert not (keys / "new-file.txt").exists()
        assert not (tmp_path / "elsewhere.jsonl").exists()

    def test_existing_file_needs_force(self, demo_db: Path, tmp_path: Path) -> None:
        """An existing file is kept without --force and replaced whole with it."""
        tried = refused = 0
        for number, command in enumerate(_commands(demo_db)):
            target = tmp_path / f"out-{number}.txt"
            target.write_text("keep me")
            result = CliRunner().invoke(cli, [*command, "-o", str(target)])
            tried += 1
            assert result.exit_code == 2
            assert "--force" in result.stderr
            refused += 1
            assert target.read_text() == "keep me"
            result = CliRunner().invoke(cli, [*command, "-o", str(target), "--force"])
            assert result.exit_code == 0, result.output
            assert target.read_text() != "keep me"
            assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
        _tally(tried, refused)

    def test_new_file_is_written(self, demo_db: Path, tmp_path: Path) -> None:
        """A new file in an ordinary folder is written, with no temporary file left."""
        for number, command in enumerate(_commands(demo_db)):
            target = tmp_path / f"new-{number}.out"
            result = CliRunner().invoke(cli, [*command, "-o", str(target)])
            assert result.exit_code == 0, result.output
            assert target.stat().st_size > 0
        assert sorted(p.suffix for p in tmp_path.iterdir()) == [".out"] * 3


PG_URL = os.environ.get("PELAYANAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (skipped without a server, required under CI=true)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(PG_URL, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run under CI: {exc}")
        pytest.skip(f"no PostgreSQL server at {PG_URL}")
    schema = f"pelayanan_side_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    finally:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()


class TestKeysAreWhatTheyClaim:
    @pytest.mark.postgres
    def test_postgres_store_refuses_another_master_key(self, pg_url: str) -> None:
        """A PostgreSQL store bound to one master key refuses another."""
        store = open_store(pg_url)
        try:
            right, wrong = Vault(generate_master_key()), Vault(generate_master_key())
            right.bind(store)
            with pytest.raises(VaultKeyMismatchError):
                wrong.bind(store)
            right.bind(store)
        finally:
            store.close()
        _tally(1, 1)

    def test_store_refuses_another_master_key(self, tmp_path: Path) -> None:
        """A store bound to one master key refuses another, in memory and on disk."""
        stores: list[Store] = [MemoryStore(), SQLiteStore(tmp_path / "v.db")]
        tried = 0
        for store in stores:
            right, wrong = Vault(generate_master_key()), Vault(generate_master_key())
            right.bind(store)
            right.bind(store)
            with pytest.raises(VaultKeyMismatchError) as info:
                wrong.bind(store)
            assert info.value.expected == right.fingerprint
            tried += 1
            store.close()
        _tally(tried, tried)

    def test_store_made_before_fingerprints_is_checked_by_its_keys(
        self, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """With no fingerprint recorded, a key that does not unwrap the store's keys is refused."""
        store = MemoryStore()
        master = generate_master_key()
        desk = _desk(store, complaint_sop, ledger_key, clock, master)
        data = {"subject": "Lampu mati", "category": "infrastruktur", "nik": str(NIK)}
        desk.submit("pengaduan-umum", actor=CITIZEN, data=data)
        with pytest.raises(VaultKeyMismatchError):
            Vault(generate_master_key()).bind(store)
        Vault(master).bind(store)
        _tally(1, 1)

    def test_cli_erase_refuses_a_wrong_key(self, demo_db: Path, tmp_path: Path) -> None:
        """privacy erase with another vault master key exits 1 and erases nothing."""
        keys = tmp_path / "wrong.keys"
        keys.mkdir()
        for item in Path(f"{demo_db}.keys").iterdir():
            if item.is_file():
                (keys / item.name).write_bytes(item.read_bytes())
                (keys / item.name).chmod(0o600)
        write_master_key(generate_master_key(), keys / MASTER_KEY_FILE)
        subjects = CliRunner().invoke(cli, ["privacy", "subjects", "--db", str(demo_db)])
        # The demo database is shared with other tests, some of which erase subjects.
        store = SQLiteStore(demo_db)
        subject = next(s for s in subjects.stdout.split() if store.vault_key(s) is not None)
        store.close()
        result = CliRunner().invoke(
            cli,
            [
                "privacy", "erase", "--db", str(demo_db), "--keys", str(keys),
                "--subject", subject, "--reason", "permintaan 1",
            ],
        )  # fmt: skip
        assert result.exit_code == 2
        assert result.stderr.startswith("error: ")
        assert "not the one this store" in result.stderr
        store = SQLiteStore(demo_db)
        assert store.vault_key(subject) is not None
        store.close()
        _tally(1, 1)

    def test_key_files_are_private_whatever_the_umask(self, tmp_path: Path) -> None:
        """Key folders are 0700 and key files 0600 even under umask 000."""
        old = os.umask(0)
        try:
            write_key_pair(_key(), tmp_path / "k")
            write_master_key(generate_master_key(), tmp_path / "m" / MASTER_KEY_FILE)
            make_private_folder(tmp_path / "f")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "k" / "ledger-private.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "m" / MASTER_KEY_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o700

    def test_exposed_private_keys_warn(self, tmp_path: Path) -> None:
        """Loading a private key or master key that others can read warns."""
        write_key_pair(_key(), tmp_path)
        write_master_key(generate_master_key(), tmp_path / MASTER_KEY_FILE)
        for name in ("ledger-private.pem", MASTER_KEY_FILE):
            (tmp_path / name).chmod(0o644)
        with pytest.warns(KeyFilePermissionWarning, match="chmod 600"):
            load_private_key(tmp_path / "ledger-private.pem")
        with pytest.warns(KeyFilePermissionWarning, match="chmod 600"):
            load_master_key(tmp_path / MASTER_KEY_FILE)
        _tally(2, 2)

    def test_private_file_is_not_written_through_a_link(self, tmp_path: Path) -> None:
        """A secret is never written through a symbolic link."""
        (tmp_path / "link").symlink_to(tmp_path / "target")
        with pytest.raises(OSError, match=r"link|Too many"):
            write_private_file(tmp_path / "link", b"secret", exclusive=False)
        assert not (tmp_path / "target").exists()
        _tally(1, 1)


def _key() -> SigningKey:
    from pelayanan.audit.keys import generate_key_pair

    return generate_key_pair()


class _FixedClock:
    """A clock that returns whatever it was given (a host's faulty clock)."""

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant

    def now(self) -> dt.datetime:
        return self.instant


class TestBoundedInput:
    def _nested(self, depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(depth):
            value = {"x": value}
        return value

    def test_oversized_data_is_refused_and_recorded(self, desk: ServiceDesk, store: Store) -> None:
        """Deep, long, wide and badly named data is refused by field and limit, and recorded."""
        ok = {"subject": "Lampu mati", "category": "infrastruktur"}
        cases: list[tuple[dict[Any, Any], str]] = [
            ({"uraian": self._nested(5_000)}, "MAX_DEPTH"),
            ({"lampiran": self._nested(MAX_DEPTH + 1)}, "MAX_DEPTH"),
            ({"uraian": "x" * 10_000_000}, "MAX_TEXT_LENGTH"),
            ({"daftar": ["x"] * 5_000}, "MAX_ITEMS"),
            ({f"f{i}": 1 for i in range(MAX_FIELDS + 1)}, "MAX_FIELDS"),
            ({"n" * 1_000: 1}, "MAX_FIELD_NAME_LENGTH"),
            ({7: "x"}, "field name must be text"),
        ]
        for data, limit in cases:
            with pytest.raises(InvalidFieldValueError, match=limit):
                desk.submit("pengaduan-umum", actor=CITIZEN, data={**ok, **data})
        refusals = [e for e in _entries(store) if e["kind"] == "refused"]
        assert len(refusals) == len(cases)
        assert max(len(json.dumps(e)) for e in refusals) < 2_000
        _tally(len(cases), len(refusals))

    def test_limits_allow_ordinary_data(self) -> None:
        """Ordinary nested documents are within every limit."""
        data = {"ktp": {"id": "DOK-1", "pages": [1, 2]}, "uraian": "x" * 500}
        assert limit_problems(data) == []

    def test_clock_instants_are_checked(self, complaint_sop: SOP, ledger_key: SigningKey) -> None:
        """A naive clock instant, or one at year 1, is a typed error (no OverflowError)."""
        clocks = [
            _FixedClock(dt.datetime(2026, 7, 6, 8, 0)),  # naive
            _FixedClock(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))),
            _FixedClock(dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)),
        ]
        for clock in clocks:
            desk = ServiceDesk(
                MemoryStore(), sops=[complaint_sop], signing_key=ledger_key, clock=clock
            )
            with pytest.raises(InvalidInstantError):
                desk.submit("pengaduan-umum", actor=CITIZEN, data={"subject": "s"})
            with pytest.raises(InvalidInstantError):
                desk.tick()
        _tally(2 * len(clocks), 2 * len(clocks))

    @pytest.mark.parametrize("damage", ["", "two", "-1", "0", "9" * 40, "3.0"])
    def test_damaged_schema_version_is_typed(self, tmp_path: Path, damage: str) -> None:
        """A corrupted schema_version is a SchemaVersionError, never a ValueError."""
        db = tmp_path / "s.db"
        SQLiteStore(db).close()
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (damage,))
        conn.close()
        with pytest.raises(SchemaVersionError, match="damaged"):
            SQLiteStore(db)
        _tally(1, 1)

    def test_request_errors_are_typed(self, desk: ServiceDesk) -> None:
        """A refused bounded input is a RequestError the host can catch with the others."""
        with pytest.raises(RequestError):
            desk.submit("pengaduan-umum", actor=CITIZEN, data={"uraian": "x" * 20_000})
