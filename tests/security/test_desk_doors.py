"""Side doors through the desk: each is refused with a typed error and, where it is an
attempt to act, a recorded entry that never quotes an oversized value.

Every test counts the cases it tries and the cases refused; the module prints the totals,
as tests/security/test_side_doors.py does.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from click.testing import CliRunner

from pelayanan.access import MAX_ID_LENGTH, AccessPolicy, Actor, SubjectRule
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.audit.verify import verify_ledger
from pelayanan.cli._main import cli
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ClockWentBackwardsError,
    DuplicateRequestError,
    IdempotencyKeyReuseError,
    InvalidFieldValueError,
    InvalidInstantError,
    PermissionDeniedError,
    RequestError,
    SOPDefinitionError,
    TimeOrderError,
    UnknownSOPError,
    VaultKeyMismatchError,
)
from pelayanan.privacy import DATA_PROTECTION_OFFICER, PrivacySettings, Vault, generate_master_key
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.sop.values import MAX_TEXT_LENGTH
from pelayanan.store import MemoryStore, SQLiteStore, Store
from pelayanan.testing import FakeClock

TALLY: collections.Counter[str] = collections.Counter()


def _tally(tried: int, refused: int) -> None:
    TALLY["tried"] += tried
    TALLY["refused"] += refused


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """Print how many side doors were tried and how many were refused."""
    yield
    print(f"\n[desk doors] {TALLY['tried']} cases tried, {TALLY['refused']} refused")


CITIZEN = Actor("warga-1", {"citizen"})
VERIFIER = Actor("ver-1", {"verifier"})
KEPALA = Actor("kepala-1", {"supervisor"})
PETUGAS = Actor("petugas-1", {"officer"})
DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})
COMPLAINT = {"subject": "Lampu mati", "category": "infrastruktur"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MASTER = generate_master_key()


def _entries(store: Store, ledger: str = "default") -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in store.entries(ledger)]


class TestUnitsThroughTheDesk:
    def test_cross_unit_roles_reach_the_desk(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """An officer of another unit is refused (rule unit, recorded); a spanning role acts."""
        desk = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            access_policy=AccessPolicy(cross_unit_roles=frozenset({"inspektorat"})),
        )
        first = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        second = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        outsider = Actor("ver-9", {"verifier"}, units={"dinas-pu"})
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(first, "verify", actor=outsider)
        assert info.value.rule == "unit"
        (entry,) = [e for e in _entries(store) if e["kind"] == "refused"]
        assert entry["reason"]["rule"] == "unit"
        assert entry["actor"] == "ver-9"
        spanning = Actor("insp-1", {"verifier", "inspektorat"}, units={"inspektorat"})
        assert desk.act(second, "verify", actor=spanning).request.state == "verified"
        _tally(1, 1)


class TestVaultBoundOnFirstUse:
    def test_wrong_master_key_is_refused_before_anything_is_sealed(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A desk with another master key seals, reveals and erases nothing (SQLite)."""
        db = tmp_path / "vault.db"
        store = SQLiteStore(db)
        right = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            privacy=PrivacySettings(vault=Vault(generate_master_key())),
        )
        data = {**COMPLAINT, "nik": "3273015708910004"}
        request_id = right.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        subject = str(store.get_request(request_id).meta["subject"])  # type: ignore[union-attr]
        store.close()
        store = SQLiteStore(db)
        wrong = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            privacy=PrivacySettings(vault=Vault(generate_master_key())),
        )
        before = len(_entries(store))
        attempts: list[Callable[[], object]] = [
            lambda: wrong.submit("pengaduan-umum", actor=CITIZEN, data=data),
            lambda: wrong.reveal(request_id, "nik", actor=VERIFIER, purpose="cek"),
            lambda: wrong.erase_subject(subject, actor=DPO, reason="permintaan"),
            lambda: wrong.find_subject("3273015708910004"),
        ]
        for attempt in attempts:
            with pytest.raises(VaultKeyMismatchError):
                attempt()
        assert store.vault_key(subject) is not None
        new = _entries(store)[before:]
        assert all(e["kind"] in {"reveal_refused", "erasure_refused"} for e in new), new
        assert len(store.vault_subjects()) == 1
        store.close()
        _tally(len(attempts), len(attempts))


class TestBoundedCallerValues:
    def test_oversized_ids_and_texts_are_refused_and_recorded_without_the_value(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """Each oversized caller value is an InvalidFieldValueError naming field and limit."""
        desk = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            privacy=PrivacySettings(vault=Vault(generate_master_key())),
        )
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        long_id = "R" * (MAX_ID_LENGTH + 1)
        long_text = "t" * (MAX_TEXT_LENGTH + 1)
        cases: list[tuple[Any, str, str]] = [
            (
                lambda: desk.submit(
                    "pengaduan-umum", actor=CITIZEN, data=COMPLAINT, request_id=long_id
                ),
                "request_id",
                "MAX_ID_LENGTH",
            ),
            (lambda: desk.act(long_id, "verify", actor=VERIFIER), "request_id", "MAX_ID_LENGTH"),
            (
                lambda: desk.act(request_id, "verify", actor=VERIFIER, on_behalf_of=long_id),
                "on_behalf_of",
                "MAX_ID_LENGTH",
            ),
            (
                lambda: desk.act(request_id, "reject", actor=VERIFIER, justification=long_text),
                "justification",
                "MAX_TEXT_LENGTH",
            ),
            (
                lambda: desk.reveal(request_id, "nik", actor=DPO, purpose=long_text),
                "purpose",
                "MAX_TEXT_LENGTH",
            ),
            (
                lambda: desk.erase_subject("s-1", actor=DPO, reason=long_text),
                "reason",
                "MAX_TEXT_LENGTH",
            ),
            (
                lambda: desk.place_legal_hold(actor=DPO, reason=long_text, request=request_id),
                "reason",
                "MAX_TEXT_LENGTH",
            ),
            (
                lambda: desk.bukan_wewenang(request_id, actor=VERIFIER, reason=long_text),
                "reason",
                "MAX_TEXT_LENGTH",
            ),
        ]
        before = len(_entries(store))
        for attempt, field, limit in cases:
            with pytest.raises(InvalidFieldValueError) as info:
                attempt()
            assert f"{field}: text of" in str(info.value)
            assert limit in str(info.value)
            assert long_id not in str(info.value)
            assert long_text not in str(info.value)
        new = _entries(store)[before:]
        assert len(new) == len(cases)
        for entry in new:
            text = json.dumps(entry)
            assert long_id not in text
            assert long_text not in text
            assert len(text) < 2_000
        assert store.get_request(long_id) is None
        _tally(len(cases), len(new))


class TestConfigurationRefusals:
    def test_duplicate_request_id_has_its_own_error(self, desk: ServiceDesk, store: Store) -> None:
        """Submitting under an existing id is a recorded DuplicateRequestError."""
        desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, request_id="REQ-1")
        with pytest.raises(DuplicateRequestError) as info:
            desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, request_id="REQ-1")
        assert isinstance(info.value, RequestError)
        refusal = _entries(store)[-1]
        assert refusal["kind"] == "refused"
        assert refusal["reason"]["error"] == "DuplicateRequestError"
        assert desk.get("REQ-1").version == 1
        _tally(1, 1)

    def test_duplicate_id_created_by_a_racing_writer(
        self, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """An id taken between the check and the commit is a DuplicateRequestError too."""

        class Racing(MemoryStore):
            def get_request(self, request_id: str) -> Any:
                return None  # the check sees no request: the other writer is not done yet

        store = Racing()
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
        desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, request_id="REQ-2")
        with pytest.raises(DuplicateRequestError):
            desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, request_id="REQ-2")
        assert _entries(store)[-1]["reason"]["error"] == "DuplicateRequestError"
        _tally(1, 1)

    def test_unknown_sop_at_submit_is_recorded(self, desk: ServiceDesk, store: Store) -> None:
        """Submitting under an SOP the desk does not serve is a recorded refusal."""
        with pytest.raises(UnknownSOPError):
            desk.submit("izin-tidak-ada", actor=CITIZEN, data=COMPLAINT)
        refusal = _entries(store)[-1]
        assert refusal["kind"] == "refused"
        assert refusal["sop"] is None
        assert refusal["reason"]["error"] == "UnknownSOPError"
        _tally(1, 1)


class TestTimeOnlyMovesForward:
    def test_tick_far_in_the_future_is_refused(self, desk: ServiceDesk, store: Store) -> None:
        """tick(9999-12-31) and a clock outside 1946-2200 are typed errors, nothing written."""
        desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT)
        size = store.head("default").size
        instants = [
            dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
            dt.datetime(2201, 1, 1, tzinfo=dt.UTC),
            dt.datetime(1945, 12, 31, tzinfo=dt.UTC),
        ]
        for instant in instants:
            with pytest.raises(InvalidInstantError):
                desk.tick(instant)
        clock = FakeClock(dt.datetime(2300, 1, 1, tzinfo=dt.UTC))
        far = ServiceDesk(store, sops=desk.sops, signing_key=generate_key_pair(), clock=clock)
        with pytest.raises(InvalidInstantError):
            far.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT)
        assert store.head("default").size == size
        _tally(len(instants) + 1, len(instants) + 1)

    def test_an_earlier_clock_is_refused_or_held(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """An entry earlier than the head is refused; with clock_skew="hold" it is held."""
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        behind = FakeClock(clock.now() - dt.timedelta(hours=1))
        late = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=behind)
        with pytest.raises(ClockWentBackwardsError):
            late.act(request_id, "verify", actor=VERIFIER)
        with pytest.raises(ClockWentBackwardsError):
            late.act(request_id, "verify", actor=CITIZEN)  # even a refusal keeps time order
        assert desk.get(request_id).state == "received"
        held = ServiceDesk(
            store, sops=[complaint_sop], signing_key=ledger_key, clock=behind, clock_skew="hold"
        )
        held.act(request_id, "verify", actor=VERIFIER)
        first, second = _entries(store)[-2:]
        assert second["time"] == first["time"]
        assert second["host_time"] < second["time"]
        _tally(2, 2)

    def test_escalation_actions_carry_the_tick_time(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """The system's action is stamped with the tick that fired it, not the desk clock."""
        desk = ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock)
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        desk.act(request_id, "verify", actor=VERIFIER)
        desk.act(request_id, "dispatch", actor=KEPALA, data={"assigned_unit": "dinas-pu"})
        desk.act(request_id, "follow_up", actor=PETUGAS, data={"follow_up_note": "diperbaiki"})
        desk.tick(dt.datetime(2026, 8, 3, 8, 0, tzinfo=dt.UTC))
        times = [e["time"] for e in _entries(store)]
        assert times == sorted(times)
        assert _entries(store)[-1]["action"] == "auto_close"
        _tally(1, 1)

    def test_verifier_reports_time_going_backwards(self, ledger_key: SigningKey) -> None:
        """A log whose times decrease verifies as 'entry N: time goes backwards'."""
        store = MemoryStore()
        base = {"kind": "survey", "request": "R", "sop": None, "actor": "a", "rules": "r"}
        for time in ("2026-07-06T02:00:00.000000Z", "2026-07-06T01:00:00.000000Z"):
            at = dt.datetime.fromisoformat(time)
            store.append(
                "default",
                {**base, "time": time, "answers": {}},
                time=at,
                sign=lambda checkpoint: checkpoint.sign(ledger_key),
            )
        stored = ((e.seq, e.data) for e in store.entries("default"))
        with pytest.raises(TimeOrderError, match=r"^entry 1: time goes backwards"):
            verify_ledger("default", stored, store.checkpoints("default"), [ledger_key.verifier])
        _tally(1, 1)


class TestIdempotencyKeysMeanOneOperation:
    def test_keys_are_scoped_by_ledger(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """One key on two ledgers is two operations, each with its own request and entry."""
        desks = [
            ServiceDesk(store, sops=[complaint_sop], signing_key=ledger_key, clock=clock, ledger=x)
            for x in ("kota", "kabupaten")
        ]
        first, second = (
            d.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, idempotency_key="K-1")
            for d in desks
        )
        assert first.request.id != second.request.id
        assert second.request.ledger == "kabupaten"
        assert not second.replayed
        again = desks[1].submit(
            "pengaduan-umum", actor=CITIZEN, data=COMPLAINT, idempotency_key="K-1"
        )
        assert again.replayed
        assert (again.request.id, again.seq, again.entry_hash) == (
            second.request.id,
            second.seq,
            second.entry_hash,
        )
        _tally(1, 1)

    def test_a_key_reused_for_another_operation_is_refused_and_recorded(
        self, desk: ServiceDesk, store: Store
    ) -> None:
        """Another request, action, actor or data under a used key is refused, recorded."""
        one = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT, idempotency_key="S")
        other = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        desk.act(one.request.id, "verify", actor=VERIFIER, idempotency_key="A")
        nobody = Actor("warga-2", set())
        cases: list[tuple[Callable[[], object], str]] = [
            (lambda: desk.act(other, "verify", actor=VERIFIER, idempotency_key="S"), "request"),
            (lambda: desk.act(other, "verify", actor=VERIFIER, idempotency_key="A"), "request"),
            (
                lambda: desk.act(one.request.id, "reject", actor=VERIFIER, idempotency_key="A"),
                "action",
            ),
            (
                lambda: desk.submit(
                    "pengaduan-umum", actor=nobody, data=COMPLAINT, idempotency_key="S"
                ),
                "actor",
            ),
            (
                lambda: desk.submit(
                    "pengaduan-umum",
                    actor=CITIZEN,
                    data={**COMPLAINT, "subject": "Jalan rusak"},
                    idempotency_key="S",
                ),
                "data",
            ),
        ]
        before = len(_entries(store))
        for attempt, differs in cases:
            with pytest.raises(IdempotencyKeyReuseError) as info:
                attempt()
            assert info.value.differs == differs
            assert isinstance(info.value, RequestError)
        new = _entries(store)[before:]
        assert [e["reason"]["error"] for e in new] == ["IdempotencyKeyReuseError"] * len(cases)
        assert desk.get(other).state == "received"
        _tally(len(cases), len(new))

    def test_a_replay_is_authorised_like_the_first_call(
        self, desk: ServiceDesk, store: Store
    ) -> None:
        """The same actor id without the role the first call used gets no replay."""
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=COMPLAINT).request.id
        desk.act(request_id, "verify", actor=VERIFIER, idempotency_key="V")
        assert desk.act(request_id, "verify", actor=VERIFIER, idempotency_key="V").replayed
        demoted = Actor("ver-1", {"citizen"})
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "verify", actor=demoted, idempotency_key="V")
        assert info.value.rule == "role"
        assert _entries(store)[-1]["kind"] == "refused"
        _tally(1, 1)


NIK_1, NIK_2 = "3273015708910004", "3273015708910012"


def _complaint_with(may_change: list[str]) -> SOP:
    data = yaml.safe_load((EXAMPLES / "sop" / "pengaduan.yaml").read_text())
    for action in data["actions"]:
        if action["name"] == "verify":
            action["may_change"] = may_change
    return sop_from_dict(data)


class TestSubjectRulesReadWhatIsStored:
    POLICY = AccessPolicy((SubjectRule(action="verify", field="pelapor_id"),))

    def test_the_subject_cannot_approve_by_naming_someone_else(
        self, store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """The stored subject is compared, and the caller's other id is refused, recorded."""
        # The subject field is the access policy's, not declared by the SOP.
        open_sop = attrs.evolve(complaint_sop, strict_fields=False)
        desk = ServiceDesk(
            store,
            sops=[open_sop],
            signing_key=ledger_key,
            clock=clock,
            access_policy=self.POLICY,
        )
        data = {**COMPLAINT, "pelapor_id": "ver-1"}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "verify", actor=VERIFIER, data={"pelapor_id": "warga-9"})
        assert info.value.rule == "separation_of_duties:subject:pelapor_id"
        other = Actor("ver-2", {"verifier"})
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "verify", actor=other, data={"pelapor_id": "warga-9"})
        assert info.value.rule == "immutable:pelapor_id"
        refusals = [e for e in _entries(store) if e["kind"] == "refused"]
        assert len(refusals) == 2
        assert desk.get(request_id).data["pelapor_id"] == "ver-1"
        assert desk.act(request_id, "verify", actor=other).request.state == "verified"
        _tally(2, 2)

    def test_a_nik_changes_only_through_may_change_with_commitments(
        self, store: Store, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A NIK is immutable unless the action may change it; then only tags are recorded."""
        for may_change, allowed in (([], False), (["nik"], True)):
            sop = _complaint_with(may_change)
            desk = ServiceDesk(
                store,
                sops=[sop],
                signing_key=ledger_key,
                clock=clock,
                ledger=f"l{len(may_change)}",
                privacy=PrivacySettings(vault=Vault(MASTER)),
            )
            data = {**COMPLAINT, "nik": NIK_1}
            request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
            if not allowed:
                with pytest.raises(PermissionDeniedError) as info:
                    desk.act(request_id, "verify", actor=VERIFIER, data={"nik": NIK_2})
                assert info.value.rule == "immutable:nik"
                # The same NIK again is no change.
                desk.act(request_id, "verify", actor=VERIFIER, data={"nik": NIK_1})
                continue
            desk.act(request_id, "verify", actor=VERIFIER, data={"nik": NIK_2})
            entry = _entries(store, desk.ledger)[-1]
            vault = Vault(MASTER)
            assert entry["changed"] == {
                "nik": {"old": vault.index_tag("nik", NIK_1), "new": vault.index_tag("nik", NIK_2)}
            }
            text = json.dumps(entry)
            assert NIK_1 not in text
            assert NIK_2 not in text
            assert desk.reveal(request_id, "nik", actor=VERIFIER, purpose="cek").value == NIK_2
        _tally(1, 1)


class TestErasureFinishesOrSaysItDidNot:
    def test_a_reader_holding_a_snapshot_is_reported_then_scrubbed(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """With a reader open, erasure reports the pages held; after it closes, none remain."""
        db = tmp_path / "erase.db"
        store = SQLiteStore(db)
        settings = PrivacySettings(vault=Vault(MASTER), erasure_wait=0.2)
        desk = ServiceDesk(
            store, sops=[complaint_sop], signing_key=ledger_key, clock=clock, privacy=settings
        )
        data = {**COMPLAINT, "nik": NIK_1}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        subject = str(desk.get(request_id).meta["subject"])
        wrapped = store.vault_key(subject)
        assert wrapped is not None
        reader = sqlite3.connect(db)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM requests").fetchall()
        clock.advance(dt.timedelta(days=1))
        erasure = desk.erase_subject(subject, actor=DPO, reason="permintaan").erasure
        assert erasure is not None
        assert erasure.overwritten is False
        assert erasure.held_by is not None
        assert "read transaction" in erasure.held_by
        assert str(db) in erasure.held_by
        reader.rollback()
        reader.close()
        assert store.vault_scrub(wait=1.0) is None
        files = [db, Path(f"{db}-wal")]
        assert all(wrapped.wrapped not in p.read_bytes() for p in files if p.exists())
        store.close()
        _tally(1, 1)

    def test_without_readers_the_erasure_overwrites_at_once(
        self, tmp_path: Path, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """An erasure with no other reader says the old pages were overwritten."""
        store = SQLiteStore(tmp_path / "alone.db")
        desk = ServiceDesk(
            store,
            sops=[complaint_sop],
            signing_key=ledger_key,
            clock=clock,
            privacy=PrivacySettings(vault=Vault(MASTER)),
        )
        data = {**COMPLAINT, "nik": NIK_1}
        request_id = desk.submit("pengaduan-umum", actor=CITIZEN, data=data).request.id
        subject = str(desk.get(request_id).meta["subject"])
        erasure = desk.erase_subject(subject, actor=DPO, reason="permintaan").erasure
        assert erasure is not None
        assert (erasure.overwritten, erasure.held_by) == (True, None)
        store.close()


def test_may_change_names_declared_fields() -> None:
    """An SOP whose may_change names an undeclared field is refused when it is loaded."""
    data = yaml.safe_load((EXAMPLES / "sop" / "pengaduan.yaml").read_text())
    data["actions"][0]["may_change"] = ["nomor_induk"]
    with pytest.raises(SOPDefinitionError, match=r"actions\[0\]\.may_change"):
        sop_from_dict(data)
    _tally(1, 1)


def test_cli_erase_reports_whether_old_pages_were_overwritten(tmp_path: Path) -> None:
    """pelayanan privacy erase says whether the erased key's old pages were overwritten."""
    db = tmp_path / "demo.db"
    assert CliRunner().invoke(cli, ["demo", "--db", str(db), "--seed", "3"]).exit_code == 0
    store = SQLiteStore(db)
    listed = CliRunner().invoke(cli, ["privacy", "subjects", "--db", str(db)]).stdout.split()
    live = [s for s in listed if store.vault_key(s) is not None]
    store.close()
    # The demo holds some subjects (legal hold, retention): erase the first one it allows.
    for subject in live:
        args = ["privacy", "erase", "--db", str(db), "--subject", subject, "--reason", "minta"]
        result = CliRunner().invoke(cli, args)
        if result.exit_code == 0:
            break
    assert result.exit_code == 0, result.output
    assert "old pages overwritten: yes" in result.stdout
