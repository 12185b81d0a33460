"""Side doors through the desk: each is refused with a typed error and, where it is an
attempt to act, a recorded entry that never quotes an oversized value.

Every test counts the cases it tries and the cases refused; the module prints the totals,
as tests/security/test_side_doors.py does.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pelayanan.access import MAX_ID_LENGTH, AccessPolicy, Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    DuplicateRequestError,
    InvalidFieldValueError,
    PermissionDeniedError,
    RequestError,
    UnknownSOPError,
    VaultKeyMismatchError,
)
from pelayanan.privacy import DATA_PROTECTION_OFFICER, PrivacySettings, Vault, generate_master_key
from pelayanan.sop import SOP
from pelayanan.sop.values import MAX_TEXT_LENGTH
from pelayanan.store import SQLiteStore, Store
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
DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})
COMPLAINT = {"subject": "Lampu mati", "category": "infrastruktur"}


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

    def test_unknown_sop_at_submit_is_recorded(self, desk: ServiceDesk, store: Store) -> None:
        """Submitting under an SOP the desk does not serve is a recorded refusal."""
        with pytest.raises(UnknownSOPError):
            desk.submit("izin-tidak-ada", actor=CITIZEN, data=COMPLAINT)
        refusal = _entries(store)[-1]
        assert refusal["kind"] == "refused"
        assert refusal["sop"] is None
        assert refusal["reason"]["error"] == "UnknownSOPError"
        _tally(1, 1)
