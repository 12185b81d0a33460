"""The desk's conventions: composition, one refusal shape, ``actor=``, `ActionResult`."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.kinds import refusal_reason
from pelayanan.desk import ActionResult, ServiceDesk
from pelayanan.exceptions import (
    ErasureRefusedError,
    IncompleteRequestError,
    PelayananError,
    PermissionDeniedError,
    PrivacyError,
    RequestError,
    TransitionNotAllowedError,
)
from pelayanan.privacy import DATA_PROTECTION_OFFICER, PrivacySettings, Vault, generate_master_key
from pelayanan.reports.ikm import RULES_2017
from pelayanan.routing import routing_config_from_dict
from pelayanan.sop import SOP, Migration
from pelayanan.store import Store
from pelayanan.testing import FakeClock

SUBMISSION = {"subject": "Jalan rusak", "category": "infrastruktur"}
PERSONAL = {**SUBMISSION, "nama": "Siti Rahmawati", "nik": "3273015708910004"}
ROUTING = {
    "triage": "unit-pengaduan",
    "rules": [{"name": "pu", "when": {"category": "infrastruktur"}, "unit": "dinas-pu"}],
    "units": {"dinas-pu": {"strategy": "least_loaded", "officers": ["pu-1", "pu-2"]}},
    "disposition": {"roles": ["supervisor"]},
}
KADIS_PU = Actor("kadis-pu", {"supervisor"}, "dinas-pu")
KABID = Actor("kabid-jalan", {"supervisor"}, "bidang-jalan")
DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})


@pytest.fixture
def full_desk(
    store: Store, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock
) -> ServiceDesk:
    """A complaint desk with routing and a vault, over each store."""
    return ServiceDesk(
        store,
        sops=[complaint_sop],
        signing_key=ledger_key,
        clock=clock,
        routing=routing_config_from_dict(ROUTING),
        privacy=PrivacySettings(vault=Vault(generate_master_key())),
    )


def _last(desk: ServiceDesk) -> tuple[int, str, dict[str, Any]]:
    *_, entry = desk.store.entries(desk.ledger)
    return entry.seq, entry.hash.hex(), json.loads(entry.data)


def _closed(desk: ServiceDesk, staff: dict[str, Actor], data: dict[str, Any]) -> str:
    request_id = desk.submit("pengaduan-umum", actor=staff["citizen"], data=data).request.id
    desk.act(request_id, "verify", actor=staff["verifier"])
    desk.act(request_id, "dispatch", actor=staff["supervisor"], data={"assigned_unit": "pu"})
    desk.act(request_id, "follow_up", actor=staff["officer"], data={"follow_up_note": "ok"})
    desk.act(request_id, "close", actor=staff["supervisor"])
    return request_id


class TestComposition:
    def test_service_desk_inherits_nothing(self) -> None:
        """ServiceDesk is a plain class: its capabilities are collaborators, not mixins."""
        assert ServiceDesk.__mro__ == (ServiceDesk, object)

    def test_collaborators_share_one_recorder(self, full_desk: ServiceDesk) -> None:
        """Requests, clocks, routing and privacy record through the same Recorder."""
        parts = [vars(full_desk)[name] for name in ("_requests", "_clocks", "_routing")]
        parts.append(vars(full_desk)["_privacy"])
        recorders = {id(vars(part)["_recorder"]) for part in parts}
        assert len(recorders) == 1


class TestActionResult:
    def test_every_appending_operation_names_its_entry(
        self, full_desk: ServiceDesk, staff: dict[str, Actor], clock: FakeClock
    ) -> None:
        """Each operation that appends returns the seq and hash of the entry it appended."""
        desk = full_desk
        submitted = desk.submit("pengaduan-umum", actor=staff["citizen"], data=PERSONAL)
        assert submitted.request is not None
        request_id = submitted.request.id
        subject = submitted.request.meta["subject"]
        due = clock.now() + dt.timedelta(days=3)
        calls: list[tuple[str, Any]] = [
            ("submit", lambda: submitted),
            ("assignment", lambda: desk.assign(request_id, actor=KADIS_PU, officer="pu-2")),
            (
                "disposition",
                lambda: desk.dispose(
                    request_id, actor=KADIS_PU, to="bidang-jalan", instruction="cek", due=due
                ),
            ),
            (
                "disposition_answer",
                lambda: desk.answer_disposition(request_id, actor=KABID, answer="sudah"),
            ),
            ("action", lambda: desk.act(request_id, "verify", actor=staff["verifier"])),
            (
                "reveal",
                lambda: desk.reveal(request_id, "nik", actor=staff["verifier"], purpose="p"),
            ),
            ("reveal", lambda: desk.subject_access(subject, actor=DPO, purpose="akses")),
            ("legal_hold", lambda: desk.place_legal_hold(actor=DPO, reason="r", subject=subject)),
        ]
        for kind, call in calls:
            result = call()
            assert isinstance(result, ActionResult)
            seq, entry_hash, entry = _last(desk)
            assert (result.seq, result.entry_hash, entry["kind"]) == (seq, entry_hash, kind)
            assert not result.replayed

    def test_results_carry_what_the_operation_returned(
        self, full_desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """The value, the subject's data, the erasure and the hold ride on the result."""
        desk = full_desk
        request_id = _closed(desk, staff, PERSONAL)
        subject = desk.get(request_id).meta["subject"]
        revealed = desk.reveal(request_id, "nama", actor=staff["verifier"], purpose="telepon")
        assert revealed.value == PERSONAL["nama"]
        assert revealed.request == desk.get(request_id)
        access = desk.subject_access(subject, actor=DPO, purpose="akses")
        assert access.request is None
        assert access.subject_data is not None
        assert list(access.subject_data["requests"]) == [request_id]
        placed = desk.place_legal_hold(actor=DPO, reason="perkara", request=request_id)
        assert placed.hold is not None
        assert (placed.hold.request, placed.hold.reason) == (request_id, "perkara")
        released = desk.release_legal_hold(placed.hold.id, actor=DPO, reason="selesai")
        assert released.hold == placed.hold
        assert _last(desk)[2]["kind"] == "legal_hold_released"
        erased = desk.erase_subject(subject, actor=DPO, reason="permohonan")
        assert erased.erasure is not None
        assert erased.erasure.requests == (request_id,)
        assert (erased.erasure.seq, erased.erasure.entry_hash) == (erased.seq, erased.entry_hash)
        answers = dict.fromkeys(RULES_2017.keys, 4)
        survey = desk.record_survey(request_id, answers, actor=staff["verifier"])
        assert survey.request == desk.get(request_id)
        assert _last(desk)[:2] == (survey.seq, survey.entry_hash)

    def test_routing_results_hold_the_request_after(self, full_desk: ServiceDesk) -> None:
        """assign, dispose and bukan wewenang return the request as stored after them."""
        desk = full_desk
        citizen = Actor("warga-1", {"citizen"})
        request_id = desk.submit("pengaduan-umum", actor=citizen, data=SUBMISSION).request.id
        assigned = desk.assign(request_id, actor=KADIS_PU, officer="pu-2")
        assert assigned.request == desk.get(request_id)
        assert assigned.request.assignee == "pu-2"
        returned = desk.bukan_wewenang(request_id, actor=KADIS_PU, reason="jalan provinsi")
        assert returned.request == desk.get(request_id)
        assert returned.request.unit == "unit-pengaduan"


class TestActorKeyword:
    @pytest.mark.parametrize(
        "operation", ["assign", "dispose", "answer_disposition", "bukan_wewenang"]
    )
    def test_by_still_works_with_a_deprecation_warning(
        self, full_desk: ServiceDesk, clock: FakeClock, operation: str
    ) -> None:
        """The old by= spelling acts like actor= and warns, pointing at the caller."""
        desk = full_desk
        citizen = Actor("warga-1", {"citizen"})
        request_id = desk.submit("pengaduan-umum", actor=citizen, data=SUBMISSION).request.id
        due = clock.now() + dt.timedelta(days=3)
        if operation == "answer_disposition":
            desk.dispose(request_id, actor=KADIS_PU, to="bidang-jalan", instruction="cek", due=due)
        arguments: dict[str, dict[str, Any]] = {
            "assign": {"by": KADIS_PU, "officer": "pu-1"},
            "dispose": {"by": KADIS_PU, "to": "bidang-jalan", "instruction": "cek", "due": due},
            "answer_disposition": {"by": KABID, "answer": "selesai"},
            "bukan_wewenang": {"by": KADIS_PU, "reason": "bukan kami"},
        }
        with pytest.warns(DeprecationWarning, match=rf"{operation}\(by=\.\.\.\)") as caught:
            result = getattr(desk, operation)(request_id, **arguments[operation])
        assert caught[0].filename == __file__
        assert _last(desk)[2]["actor"] == arguments[operation]["by"].id
        assert result.seq == _last(desk)[0]

    def test_actor_does_not_warn(self, full_desk: ServiceDesk) -> None:
        """actor= is the spelling: no warning."""
        citizen = Actor("warga-1", {"citizen"})
        request_id = full_desk.submit("pengaduan-umum", actor=citizen, data=SUBMISSION)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            full_desk.assign(request_id.request.id, actor=KADIS_PU, officer="pu-1")

    def test_both_or_neither_is_a_type_error(self, full_desk: ServiceDesk) -> None:
        """Giving both spellings, or no actor at all, is refused before anything is recorded."""
        with pytest.raises(TypeError, match="not both"):
            full_desk.assign("REQ-1", actor=KADIS_PU, by=KADIS_PU)
        with pytest.raises(TypeError, match="needs actor="):
            full_desk.bukan_wewenang("REQ-1", reason="x")
        assert list(full_desk.store.entries(full_desk.ledger)) == []


class TestOneRefusalShape:
    def test_every_refusal_kind_carries_the_same_reason_object(
        self, full_desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """refused, reveal_refused, erasure_refused, legal_hold_refused: one reason object."""
        desk = full_desk
        request_id = desk.submit("pengaduan-umum", actor=staff["citizen"], data=PERSONAL)
        rid = request_id.request.id
        subject = request_id.request.meta["subject"]
        desk.place_legal_hold(actor=DPO, reason="perkara", subject=subject)
        elsewhere = Migration("pengaduan-umum", "0.9.0", "1.0.0", {"received": "received"})
        attempts: list[tuple[str, str, Any]] = [
            ("refused", "reason", lambda: desk.submit("pengaduan-umum", actor=DPO, data={})),
            ("refused", "reason", lambda: desk.migrate(rid, elsewhere, actor=staff["supervisor"])),
            ("refused", "reason", lambda: desk.act(rid, "close", actor=staff["verifier"])),
            (
                "refused",
                "reason",
                lambda: desk.record_survey(rid, dict.fromkeys(RULES_2017.keys, 4), actor=DPO),
            ),
            ("refused", "reason", lambda: desk.assign(rid, actor=KABID, officer="pu-1")),
            (
                "reveal_refused",
                "reason",
                lambda: desk.reveal(rid, "nama", actor=staff["officer"], purpose="ingin tahu"),
            ),
            (
                "reveal_refused",
                "reason",
                lambda: desk.subject_access(subject, actor=KABID, purpose="x"),
            ),
            (
                "erasure_refused",
                "refusal",
                lambda: desk.erase_subject(subject, actor=DPO, reason="r"),
            ),
            ("legal_hold_refused", "refusal", lambda: desk.place_legal_hold(actor=DPO, reason="r")),
        ]
        for kind, key, attempt in attempts:
            before = len(list(desk.store.entries(desk.ledger)))
            with pytest.raises(PelayananError) as info:
                attempt()
            entries = list(desk.store.entries(desk.ledger))
            assert len(entries) == before + 1
            entry = json.loads(entries[-1].data)
            assert entry["kind"] == kind
            assert entry[key] == refusal_reason(info.value)
            assert entry[key]["error"] == type(info.value).__name__

    @given(
        message=st.text(max_size=40),
        rule=st.none() | st.text(min_size=1, max_size=20),
        error=st.sampled_from(
            [PermissionDeniedError, ErasureRefusedError, TransitionNotAllowedError]
        ),
    )
    def test_reason_object_names_class_message_and_rule(
        self, message: str, rule: str | None, error: type[PelayananError]
    ) -> None:
        """The reason object is the error's class, its message and its rule when it has one."""
        exc: PelayananError
        if error is TransitionNotAllowedError:
            exc = TransitionNotAllowedError(message, "received")
        elif rule is None:
            exc = PrivacyError(message)
        else:
            exc = error(message, rule=rule)  # type: ignore[call-arg]
        reason = refusal_reason(exc)
        assert reason["error"] == type(exc).__name__
        assert reason["message"] == str(exc)
        assert reason.get("rule") == getattr(exc, "rule", None)
        assert set(reason) <= {"error", "message", "rule"}

    def test_refusals_are_recorded_before_the_error_is_raised(
        self, full_desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A refused request operation leaves exactly one refused entry and no request change."""
        desk = full_desk
        rid = desk.submit("pengaduan-umum", actor=staff["citizen"], data=SUBMISSION).request.id
        before = desk.get(rid)
        with pytest.raises(IncompleteRequestError):
            desk.dispose(rid, actor=KADIS_PU, to="bidang-jalan", instruction="  ")
        assert desk.get(rid) == before
        _, _, entry = _last(desk)
        assert (entry["kind"], entry["action"], entry["from"]) == ("refused", "dispose", "received")
        assert isinstance(IncompleteRequestError("dispose", ["x"]), RequestError)
