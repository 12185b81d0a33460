"""The service desk: submit and act, refusals recorded, idempotency, concurrency."""

from __future__ import annotations

import json

import pytest

from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConcurrentModificationError,
    IncompleteRequestError,
    PermissionDeniedError,
    TransitionNotAllowedError,
    UnknownRequestError,
    UnknownSOPError,
)
from pelayanan.store import Store

SUBMISSION = {"subject": "Jalan rusak", "category": "infrastruktur"}


def _entries(store: Store) -> list[dict[str, object]]:
    return [json.loads(e.data) for e in store.entries("default")]


def _walk_to(desk: ServiceDesk, staff: dict[str, Actor], state: str) -> str:
    request_id = desk.submit("pengaduan-umum", actor=staff["citizen"], data=SUBMISSION).request.id
    steps = [
        ("verified", "verify", staff["verifier"], {}),
        ("dispatched", "dispatch", staff["supervisor"], {"assigned_unit": "dinas-pu"}),
        ("followed_up", "follow_up", staff["officer"], {"follow_up_note": "diperbaiki"}),
        ("closed", "close", staff["supervisor"], {}),
    ]
    for target, action, actor, data in steps:
        if desk.get(request_id).state == state:
            break
        desk.act(request_id, action, actor=actor, data=data)
        if target == state:
            break
    return request_id


class TestSubmit:
    def test_submit_creates_request_and_entry(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A submission stores the request in the initial state and records a submit entry."""
        result = desk.submit("pengaduan-umum", actor=staff["citizen"], data=SUBMISSION)
        assert result.request.state == "received"
        assert result.request.version == 1
        assert result.seq == 0
        (entry,) = _entries(desk.store)
        assert entry["kind"] == "submit"
        assert entry["to"] == "received"
        assert entry["sop"]["version"] == "1.0.0"  # type: ignore[index]

    def test_request_is_pinned_to_sop_version_and_hash(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """The request records the exact SOP version and content hash it started under."""
        record = desk.submit("pengaduan-umum", actor=staff["citizen"], data=SUBMISSION).request
        sop = desk.sops.get("pengaduan-umum")
        assert (record.sop_version, record.sop_hash) == (sop.version, sop.content_hash)

    def test_submit_missing_fields_refused_and_recorded(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A submission without required fields raises and leaves a refused entry."""
        with pytest.raises(IncompleteRequestError) as info:
            desk.submit("pengaduan-umum", actor=staff["citizen"], data={"subject": "x"})
        assert info.value.missing == ("category",)
        (entry,) = _entries(desk.store)
        assert entry["kind"] == "refused"
        assert list(desk.store.requests()) == []

    def test_submit_wrong_role_refused(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Only the roles the SOP names may submit."""
        with pytest.raises(PermissionDeniedError) as info:
            desk.submit("pengaduan-umum", actor=staff["officer"], data=SUBMISSION)
        assert info.value.rule == "role"

    def test_unknown_sop(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Submitting under an unregistered SOP is a typed error."""
        with pytest.raises(UnknownSOPError):
            desk.submit("tidak-ada", actor=staff["citizen"], data=SUBMISSION)


class TestAct:
    def test_full_path_to_closed(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A request walks received -> verified -> dispatched -> followed_up -> closed."""
        request_id = _walk_to(desk, staff, "closed")
        record = desk.get(request_id)
        assert record.state == "closed"
        assert record.closed
        assert record.version == 5
        assert [e["to"] for e in _entries(desk.store)] == [
            "received", "verified", "dispatched", "followed_up", "closed",
        ]  # fmt: skip

    def test_wrong_state_refused_and_recorded(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """An action from the wrong state raises and is recorded; the request is unchanged."""
        request_id = _walk_to(desk, staff, "received")
        with pytest.raises(TransitionNotAllowedError) as info:
            desk.act(request_id, "close", actor=staff["supervisor"])
        assert info.value.state == "received"
        assert "verify" in info.value.allowed
        last = _entries(desk.store)[-1]
        assert last["kind"] == "refused"
        assert last["reason"]["error"] == "TransitionNotAllowedError"  # type: ignore[index]
        assert desk.get(request_id).version == 1

    def test_wrong_role_refused_and_recorded(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """An actor without the action's role is refused with rule 'role', and it is recorded."""
        request_id = _walk_to(desk, staff, "received")
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "verify", actor=staff["officer"])
        assert info.value.rule == "role"
        last = _entries(desk.store)[-1]
        assert last["reason"]["rule"] == "role"  # type: ignore[index]
        assert last["actor"] == staff["officer"].id

    def test_separation_of_duties(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """The officer who followed up may not also close, even holding the supervisor role."""
        request_id = _walk_to(desk, staff, "dispatched")
        desk.act(
            request_id,
            "follow_up",
            actor=staff["officer_supervisor"],
            data={"follow_up_note": "ok"},
        )
        with pytest.raises(PermissionDeniedError) as info:
            desk.act(request_id, "close", actor=staff["officer_supervisor"])
        assert info.value.rule == "separation_of_duties:follow_up"
        desk.act(request_id, "close", actor=staff["supervisor"])

    def test_required_field(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Dispatch needs the assigned unit; without it the action is refused."""
        request_id = _walk_to(desk, staff, "verified")
        with pytest.raises(IncompleteRequestError) as info:
            desk.act(request_id, "dispatch", actor=staff["supervisor"])
        assert info.value.missing == ("assigned_unit",)

    def test_justification_required(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Rejecting needs a written justification, which is recorded in the entry."""
        request_id = _walk_to(desk, staff, "received")
        with pytest.raises(IncompleteRequestError):
            desk.act(request_id, "reject", actor=staff["verifier"])
        desk.act(request_id, "reject", actor=staff["verifier"], justification="Bukan pengaduan")
        assert _entries(desk.store)[-1]["justification"] == "Bukan pengaduan"

    def test_unknown_request(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Acting on an unknown request raises UnknownRequestError and is recorded."""
        with pytest.raises(UnknownRequestError):
            desk.act("REQ-NOPE", "verify", actor=staff["verifier"])
        assert _entries(desk.store)[-1]["kind"] == "refused"

    def test_allowed_actions(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """allowed_actions lists what the actor's roles allow from the current state."""
        request_id = _walk_to(desk, staff, "received")
        assert desk.allowed_actions(request_id) == ["reject", "verify"]
        assert desk.allowed_actions(request_id, staff["officer"]) == []


class TestIdempotencyAndConcurrency:
    def test_idempotent_retry_applies_once(
        self, desk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """A retried action with the same key is applied once and returns the same entry."""
        request_id = _walk_to(desk, staff, "received")
        first = desk.act(request_id, "verify", actor=staff["verifier"], idempotency_key="k-1")
        again = desk.act(request_id, "verify", actor=staff["verifier"], idempotency_key="k-1")
        assert again.replayed
        assert (again.seq, again.entry_hash) == (first.seq, first.entry_hash)
        assert desk.get(request_id).version == 2
        assert len(_entries(desk.store)) == 2

    def test_stale_version_loses(self, desk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """A write based on a stale version raises ConcurrentModificationError, leaving no entry."""
        request_id = _walk_to(desk, staff, "received")
        stale = desk.get(request_id)
        desk.act(request_id, "verify", actor=staff["verifier"])
        size = desk.store.head("default").size
        with pytest.raises(ConcurrentModificationError):
            desk.store.append(
                "default",
                {"time": "2026-07-06T01:00:00.000000Z", "kind": "action"},
                time=desk.clock.now(),
                request=stale,
                expected_version=stale.version,
            )
        assert desk.store.head("default").size == size
