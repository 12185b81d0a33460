"""The entry vocabulary: every kind a real desk writes equals what its builder returns.

Each test drives a `ServiceDesk` through the kinds it writes and compares the stored
body (the entry without its chain fields) with the builder called on the same inputs,
so the builders are pinned to the bytes the desk writes today.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import SYSTEM, Actor
from pelayanan.audit import entry as entry_module
from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.kinds import (
    CHAIN_FIELDS,
    COMMON_FIELDS,
    KIND,
    KIND_ACTION,
    KIND_ASSIGNMENT,
    KIND_BUKAN_WEWENANG,
    KIND_DISPOSITION,
    KIND_DISPOSITION_ANSWER,
    KIND_ERASURE,
    KIND_ERASURE_REFUSED,
    KIND_LEGAL_HOLD,
    KIND_LEGAL_HOLD_REFUSED,
    KIND_LEGAL_HOLD_RELEASED,
    KIND_MIGRATION,
    KIND_REFUSED,
    KIND_REVEAL,
    KIND_REVEAL_REFUSED,
    KIND_SLA,
    KIND_SUBMIT,
    KIND_SURVEY,
    KINDS,
    SYSTEM_ACTOR,
    action_body,
    assignment_body,
    bukan_wewenang_body,
    disposition_answer_body,
    disposition_body,
    erasure_body,
    erasure_refused_body,
    legal_hold_body,
    legal_hold_refused_body,
    legal_hold_release_refused_body,
    legal_hold_released_body,
    migration_body,
    refusal_reason,
    refused_body,
    render_kinds_table,
    reveal_body,
    reveal_refused_body,
    sla_body,
    sop_ref,
    subject_reveal_body,
    subject_reveal_refused_body,
    submit_body,
    survey_body,
)
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ErasureRefusedError,
    MigrationError,
    PermissionDeniedError,
    PrivacyError,
    UnknownRequestError,
)
from pelayanan.privacy import DATA_PROTECTION_OFFICER, PrivacySettings, Vault, generate_master_key
from pelayanan.reports.ikm import RULES_2017
from pelayanan.routing import AssignmentDecision, DispositionTarget, routing_config_from_dict
from pelayanan.sop import SOP, SOPRegistry, sop_from_dict
from pelayanan.store import MemoryStore
from pelayanan.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {"subject": "Jalan rusak", "category": "infrastruktur", "region": "32.73.01.1001"}
PERSONAL = {"nama": "Siti Nurhaliza", "nik": "3273015708910004"}
CITIZEN = Actor("warga-1", {"citizen"})
VERIFIER = Actor("ver-1", {"verifier"}, "unit-pengaduan")
KEPALA = Actor("kepala-1", {"supervisor"}, "unit-pengaduan")
KADIS_PU = Actor("kadis-pu", {"supervisor"}, "dinas-pu")
KABID_AIR = Actor("kabid-air", {"supervisor"}, "bidang-air")
STAF_JALAN = Actor("staf-jl", set(), "bidang-jalan")
WAKIL = Actor("wakil-1", {"staff"}, "sekretariat")
OFFICER = Actor("petugas-1", {"officer"}, "dinas-pu")
DPO = Actor("dpo-1", {DATA_PROTECTION_OFFICER})


#: The authority the Plt's entries record (the delegation begins at the fixture clock's start).
PLT_AUTHORITY = {
    "principal": "kepala-1",
    "delegation": "PLT-1",
    "kind": "plt",
    "valid_from": "2026-07-06T01:00:00.000000Z",
}


def _routing(now: dt.datetime) -> dict[str, Any]:
    return {
        "triage": "unit-pengaduan",
        "fields": {"region": "region"},
        "rules": [{"name": "pu", "when": {"category": "infrastruktur"}, "unit": "dinas-pu"}],
        "units": {"dinas-pu": {"strategy": "least_loaded", "officers": ["pu-1", "pu-2"]}},
        "disposition": {"roles": ["supervisor"]},
        "access": {
            "delegations": [
                {
                    "id": "PLT-1",
                    "kind": "plt",
                    "principal": "kepala-1",
                    "delegate": "wakil-1",
                    "roles": ["supervisor"],
                    "unit": "unit-pengaduan",
                    "valid_from": now.isoformat(),
                    "valid_until": (now + dt.timedelta(days=30)).isoformat(),
                }
            ]
        },
    }


@pytest.fixture
def full_desk(complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    """A complaint desk with routing (and a Plt), a vault, and the SOP's own SLA clocks."""
    return ServiceDesk(
        MemoryStore(),
        sops=[complaint_sop],
        signing_key=ledger_key,
        clock=clock,
        routing=routing_config_from_dict(_routing(clock.now())),
        privacy=PrivacySettings(vault=Vault(generate_master_key())),
    )


@pytest.fixture
def plain_desk(complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    """A complaint desk without routing, vault or clocks: the optional fields stay out."""
    return ServiceDesk(
        MemoryStore(),
        sops=[complaint_sop],
        signing_key=ledger_key,
        clock=clock,
        clocks={complaint_sop.id: ()},
    )


def _bodies(desk: ServiceDesk) -> Iterator[dict[str, Any]]:
    for stored in desk.store.entries(desk.ledger):
        entry = json.loads(stored.data)
        yield {k: v for k, v in entry.items() if k not in CHAIN_FIELDS}


def _last(desk: ServiceDesk) -> dict[str, Any]:
    return list(_bodies(desk))[-1]


def _described(body: Mapping[str, Any]) -> None:
    """Check *body* against its kind's description: every required field, nothing else."""
    kind = KINDS[body[KIND]]
    keys = set(body) - set(COMMON_FIELDS)
    assert set(kind.required) <= keys, f"{kind.name}: missing {set(kind.required) - keys}"
    assert keys <= set(kind.fields), f"{kind.name}: undescribed {keys - set(kind.fields)}"


def _same(desk: ServiceDesk, expected: dict[str, Any]) -> dict[str, Any]:
    """Assert the desk's last entry body equals *expected*, byte for byte once encoded."""
    body = _last(desk)
    assert body == expected
    assert canonical_json(body) == canonical_json(expected)
    _described(body)
    return body


def _ref(sop: SOP) -> dict[str, str]:
    return sop_ref(sop.id, sop.version, sop.content_hash)


def _close(desk: ServiceDesk, request_id: str) -> None:
    desk.act(request_id, "verify", actor=VERIFIER)
    desk.act(request_id, "dispatch", actor=KEPALA, data={"assigned_unit": "dinas-pu"})
    desk.act(request_id, "follow_up", actor=OFFICER, data={"follow_up_note": "ok"})
    desk.act(request_id, "close", actor=VERIFIER)


class TestRequestKinds:
    def test_submit_with_every_optional_field(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """Routing, assignment, clocks and sealed personal fields, as the desk writes them."""
        request_id = full_desk.submit(
            complaint_sop.id, actor=CITIZEN, data={**PUBLIC, **PERSONAL}
        ).request.id
        body = _last(full_desk)
        assert set(body["personal"]) == set(PERSONAL)
        routing = full_desk.routing
        assert routing is not None
        routed = routing.table.route(routing.attributes(complaint_sop.id, PUBLIC))
        _same(
            full_desk,
            submit_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(complaint_sop),
                actor=CITIZEN.id,
                role="citizen",
                to=complaint_sop.initial,
                data=PUBLIC,
                personal=body["personal"],
                routing=routed.record(),
                assignment={
                    "unit": "dinas-pu",
                    "assignee": "pu-1",
                    "strategy": "least_loaded",
                    "reason": body["assignment"]["reason"],
                    "load": {"pu-1": 0, "pu-2": 0},
                },
                clocks=body["clocks"],
            ),
        )
        assert [c["clock"] for c in body["clocks"]] == ["verification"]

    def test_submit_and_actions_without_optional_fields(
        self, plain_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """Without routing, vault or clocks, none of the optional fields appear."""
        ref = _ref(complaint_sop)
        request_id = plain_desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
        _same(
            plain_desk,
            submit_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=CITIZEN.id,
                role="citizen",
                to="received",
                data=PUBLIC,
            ),
        )
        clock.advance(hours=1)
        plain_desk.act(request_id, "verify", actor=VERIFIER)
        _same(
            plain_desk,
            action_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                action="verify",
                actor=VERIFIER.id,
                role="verifier",
                source="received",
                to="verified",
                data={},
            ),
        )

    def test_action_with_justification_authority_personal_and_clocks(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """A Plt's dispatch names the authority; a rejection carries its justification."""
        ref = _ref(complaint_sop)
        data = {**PUBLIC, "category": "sosial"}
        request_id = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=data).request.id
        clock.advance(hours=1)
        full_desk.act(request_id, "verify", actor=VERIFIER, data={"telepon": "+628123456789"})
        body = _last(full_desk)
        assert set(body["personal"]) == {"telepon"}
        _same(
            full_desk,
            action_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                action="verify",
                actor=VERIFIER.id,
                role="verifier",
                source="received",
                to="verified",
                data={},
                personal=body["personal"],
                clocks=body["clocks"],
            ),
        )
        clock.advance(hours=1)
        full_desk.act(
            request_id,
            "dispatch",
            actor=WAKIL,
            data={"assigned_unit": "dinas-pu"},
            on_behalf_of=KEPALA.id,
        )
        body = _last(full_desk)
        _same(
            full_desk,
            action_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                action="dispatch",
                actor=WAKIL.id,
                role="supervisor",
                source="verified",
                to="dispatched",
                data={"assigned_unit": "dinas-pu"},
                authority=PLT_AUTHORITY,
                clocks=body["clocks"],
            ),
        )
        other = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=data).request.id
        full_desk.act(other, "reject", actor=VERIFIER, justification="bukan pengaduan")
        body = _last(full_desk)
        _same(
            full_desk,
            action_body(
                at=clock.now(),
                request=other,
                sop=ref,
                action="reject",
                actor=VERIFIER.id,
                role="verifier",
                source="received",
                to="rejected",
                data={},
                justification="bukan pengaduan",
                clocks=body["clocks"],
            ),
        )

    def test_refused(self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock) -> None:
        """Refusals carry the error, its rule when it has one, and a claimed authority."""
        with pytest.raises(UnknownRequestError) as unknown:
            full_desk.act("NOPE", "verify", actor=WAKIL, on_behalf_of=KEPALA.id)
        _same(
            full_desk,
            refused_body(
                at=clock.now(),
                request="NOPE",
                sop=None,
                action="verify",
                actor=WAKIL.id,
                state=None,
                reason=refusal_reason(unknown.value),
                on_behalf_of=KEPALA.id,
            ),
        )
        request_id = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
        with pytest.raises(PermissionDeniedError) as denied:
            full_desk.act(request_id, "verify", actor=CITIZEN)
        assert refusal_reason(denied.value)["rule"] == denied.value.rule
        _same(
            full_desk,
            refused_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(complaint_sop),
                action="verify",
                actor=CITIZEN.id,
                state="received",
                reason=refusal_reason(denied.value),
            ),
        )

    def test_survey(self, plain_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock) -> None:
        """A survey response holds the answers of every unsur and the rule set's name."""
        request_id = plain_desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
        _close(plain_desk, request_id)
        answers = dict.fromkeys(RULES_2017.keys, 3)
        plain_desk.record_survey(request_id, answers, actor=VERIFIER)
        _same(
            plain_desk,
            survey_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(complaint_sop),
                actor=VERIFIER.id,
                rules=RULES_2017.name,
                answers=answers,
            ),
        )

    def test_migration(self, complaint_sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> None:
        """A migration names both SOP versions, the state mapping's result and its note."""
        data = yaml.safe_load((ROOT / "examples" / "sop" / "pengaduan.yaml").read_text())
        data["version"] = "1.1.0"
        data["migrations"] = [
            {
                "from_version": "1.0.0",
                "states": {"received": "received"},
                "roles": ["supervisor"],
                "note": "clearer labels",
            },
        ]
        registry = SOPRegistry([complaint_sop])
        desk = ServiceDesk(MemoryStore(), sops=registry, signing_key=ledger_key, clock=clock)
        request_id = desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
        newer = sop_from_dict(data)
        registry.register(newer)
        migration = registry.migration(complaint_sop.id, "1.0.0", "1.1.0")
        with pytest.raises(PermissionDeniedError):
            desk.migrate(request_id, migration, actor=VERIFIER)
        desk.migrate(request_id, migration, actor=KEPALA)
        _same(
            desk,
            migration_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(newer),
                from_sop=_ref(complaint_sop),
                actor=KEPALA.id,
                role="supervisor",
                source="received",
                to="received",
                note="clearer labels",
            ),
        )
        with pytest.raises(MigrationError) as refused:
            desk.migrate(request_id, migration, actor=KEPALA)
        _same(
            desk,
            refused_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(newer),
                action="migrate",
                actor=KEPALA.id,
                state="received",
                reason=refusal_reason(refused.value),
            ),
        )


#: The ``threshold`` each event of the example SOP's clocks records.
THRESHOLDS: dict[tuple[str, str], Any] = {
    ("follow_up", "escalation:2"): {"working_days": 2},
}


def _threshold(clock: str, key: str) -> Any:
    if (clock, key) in THRESHOLDS:
        return THRESHOLDS[(clock, key)]
    if key.startswith("warning:"):
        return int(key.removeprefix("warning:"))
    return "100%" if key.startswith("escalation:") else None


class TestSLAKind:
    def test_every_sla_event_matches_the_builder(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """Warnings, breaches, and escalations that notify, reassign and act, as built."""
        ids = []
        for steps in (0, 2, 3):
            request_id = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
            if steps >= 2:
                full_desk.act(request_id, "verify", actor=VERIFIER)
                full_desk.act(
                    request_id, "dispatch", actor=KADIS_PU, data={"assigned_unit": "dinas-pu"}
                )
            if steps >= 3:
                full_desk.act(request_id, "follow_up", actor=OFFICER, data={"follow_up_note": "ok"})
            ids.append(request_id)
        states = {i: full_desk.get(i).meta["sla"] for i in ids}
        at = clock.now() + dt.timedelta(days=30)
        fired = full_desk.tick(at)
        by_seq = {
            b["seq"]: b
            for b in map(json.loads, (e.data for e in full_desk.store.entries(full_desk.ledger)))
        }
        assert {e.event for e in fired} == {"warning", "breach", "escalation"}
        assert any(e.notify for e in fired)
        assert any(e.reassign for e in fired)
        assert any(e.action for e in fired)
        for event in fired:
            state = states[event.request_id][event.clock]
            body = {k: v for k, v in by_seq[event.seq].items() if k not in CHAIN_FIELDS}
            expected = sla_body(
                at=at,
                request=event.request_id,
                event=event.event,
                clock=event.clock,
                cycle=state["cycle"],
                key=event.key,
                due=event.due,
                deadline=state["deadline"],
                calendar=state["calendar"],
                fingerprint=state["fingerprint"],
                sop=_ref(complaint_sop),
                threshold=_threshold(event.clock, event.key),
                notify=event.notify,
                reassign=event.reassign,
                action=event.action,
            )
            assert body == expected
            _described(body)
        assert SYSTEM.id == SYSTEM_ACTOR
        closed = _last(full_desk)
        assert (closed[KIND], closed["actor"], closed["action"]) == (
            KIND_ACTION,
            SYSTEM_ACTOR,
            "auto_close",
        )
        _described(closed)


class TestRoutingKinds:
    def test_assignment_disposition_answer_and_return(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """A chain with a parallel pair, answered and returned, then joined back."""
        ref = _ref(complaint_sop)
        sosial = {**PUBLIC, "category": "sosial"}
        request_id = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=sosial).request.id
        full_desk.assign(request_id, actor=KEPALA, officer="ver-9")
        manual = AssignmentDecision("unit-pengaduan", "ver-9", "manual", "chosen by kepala-1")
        _same(
            full_desk,
            assignment_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=KEPALA.id,
                state="received",
                assignment=manual.record(),
                role="supervisor",
            ),
        )
        due = clock.now() + dt.timedelta(days=5)
        full_desk.dispose(
            request_id,
            actor=WAKIL,
            to="dinas-pu",
            instruction="Segera",
            due=due,
            on_behalf_of=KEPALA.id,
        )
        body = _last(full_desk)
        _same(
            full_desk,
            disposition_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=WAKIL.id,
                state="received",
                group="G1",
                parent=None,
                from_unit="unit-pengaduan",
                instruction="Segera",
                dispositions=[
                    {
                        "id": "D1",
                        "unit": "dinas-pu",
                        "officer": None,
                        "due": body["dispositions"][0]["due"],
                    }
                ],
                holder={"unit": "dinas-pu", "assignee": "pu-1"},
                role="supervisor",
                authority=PLT_AUTHORITY,
                assignment=body["assignment"],
            ),
        )
        assert body["assignment"]["assignee"] == "pu-1"
        clock.advance(hours=2)
        targets = [DispositionTarget(unit="bidang-jalan"), DispositionTarget(unit="bidang-air")]
        full_desk.dispose(request_id, actor=KADIS_PU, to=targets, instruction="Cek", due=due)
        body = _last(full_desk)
        _same(
            full_desk,
            disposition_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=KADIS_PU.id,
                state="received",
                group="G2",
                parent="D1",
                from_unit="dinas-pu",
                instruction="Cek",
                dispositions=[
                    {
                        "id": "D2",
                        "unit": "bidang-jalan",
                        "officer": None,
                        "due": body["dispositions"][0]["due"],
                    },
                    {
                        "id": "D3",
                        "unit": "bidang-air",
                        "officer": None,
                        "due": body["dispositions"][1]["due"],
                    },
                ],
                holder={"unit": "dinas-pu", "assignee": "pu-1"},
                role="supervisor",
            ),
        )
        full_desk.answer_disposition(request_id, actor=STAF_JALAN, answer="Sudah ditambal")
        _same(
            full_desk,
            disposition_answer_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=STAF_JALAN.id,
                state="received",
                disposition="D2",
                answer="Sudah ditambal",
            ),
        )
        full_desk.bukan_wewenang(request_id, actor=KABID_AIR, reason="Bukan saluran kami")
        _same(
            full_desk,
            bukan_wewenang_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=KABID_AIR.id,
                state="received",
                reason="Bukan saluran kami",
                disposition="D3",
                joined="G2",
                returned_to={"unit": "dinas-pu", "assignee": KADIS_PU.id},
            ),
        )
        full_desk.answer_disposition(request_id, actor=KADIS_PU, answer="Ditangani")
        _same(
            full_desk,
            disposition_answer_body(
                at=clock.now(),
                request=request_id,
                sop=ref,
                actor=KADIS_PU.id,
                state="received",
                disposition="D1",
                answer="Ditangani",
                joined="G1",
                returned_to={"unit": "unit-pengaduan", "assignee": WAKIL.id},
            ),
        )

    def test_bukan_wewenang_of_a_routed_request(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """Returned by the unit a rule routed it to: no disposition, back to triage."""
        request_id = full_desk.submit(complaint_sop.id, actor=CITIZEN, data=PUBLIC).request.id
        full_desk.bukan_wewenang(request_id, actor=KADIS_PU, reason="Jalan provinsi")
        _same(
            full_desk,
            bukan_wewenang_body(
                at=clock.now(),
                request=request_id,
                sop=_ref(complaint_sop),
                actor=KADIS_PU.id,
                state="received",
                reason="Jalan provinsi",
                returned_to={"unit": "unit-pengaduan", "assignee": None},
            ),
        )


class TestPrivacyKinds:
    def test_reveals(self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock) -> None:
        """Field and subject reveals, and their refusals."""
        request_id = full_desk.submit(
            complaint_sop.id, actor=CITIZEN, data={**PUBLIC, **PERSONAL}
        ).request.id
        subject = full_desk.get(request_id).meta["subject"]
        full_desk.reveal(request_id, "nama", actor=VERIFIER, purpose="verifikasi")
        _same(
            full_desk,
            reveal_body(
                at=clock.now(),
                actor=VERIFIER.id,
                request=request_id,
                field="nama",
                subject=subject,
                role="verifier",
                purpose="verifikasi",
            ),
        )
        with pytest.raises(PermissionDeniedError) as denied:
            full_desk.reveal(request_id, "nama", actor=OFFICER, purpose="ingin tahu")
        _same(
            full_desk,
            reveal_refused_body(
                at=clock.now(),
                actor=OFFICER.id,
                request=request_id,
                field="nama",
                subject=None,
                purpose="ingin tahu",
                reason=refusal_reason(denied.value),
            ),
        )
        full_desk.subject_access(subject, actor=DPO, purpose="permintaan akses")
        _same(
            full_desk,
            subject_reveal_body(
                at=clock.now(),
                actor=DPO.id,
                subject=subject,
                requests=[request_id],
                fields=sorted(PERSONAL),
                role=DATA_PROTECTION_OFFICER,
                purpose="permintaan akses",
            ),
        )
        with pytest.raises(PermissionDeniedError) as refused:
            full_desk.subject_access(subject, actor=VERIFIER, purpose="x")
        _same(
            full_desk,
            subject_reveal_refused_body(
                at=clock.now(),
                actor=VERIFIER.id,
                subject=subject,
                purpose="x",
                reason=refusal_reason(refused.value),
            ),
        )

    def test_holds_and_erasure(
        self, full_desk: ServiceDesk, complaint_sop: SOP, clock: FakeClock
    ) -> None:
        """A hold refuses erasure until released; every step and refusal as built."""
        request_id = full_desk.submit(
            complaint_sop.id, actor=CITIZEN, data={**PUBLIC, **PERSONAL}
        ).request.id
        subject = full_desk.get(request_id).meta["subject"]
        hold = full_desk.place_legal_hold(actor=DPO, reason="perkara 12", subject=subject).hold
        _same(
            full_desk,
            legal_hold_body(
                at=clock.now(),
                actor=DPO.id,
                role=DATA_PROTECTION_OFFICER,
                hold=hold.id,
                subject=subject,
                request=None,
                reason="perkara 12",
            ),
        )
        with pytest.raises(PermissionDeniedError) as denied:
            full_desk.place_legal_hold(actor=VERIFIER, reason="r", request=request_id)
        _same(
            full_desk,
            legal_hold_refused_body(
                at=clock.now(),
                actor=VERIFIER.id,
                subject=None,
                request=request_id,
                reason="r",
                refusal=refusal_reason(denied.value),
            ),
        )
        with pytest.raises(ErasureRefusedError) as held:
            full_desk.erase_subject(subject, actor=DPO, reason="permintaan hapus")
        _same(
            full_desk,
            erasure_refused_body(
                at=clock.now(),
                actor=DPO.id,
                subject=subject,
                requests=[request_id],
                reason="permintaan hapus",
                refusal=refusal_reason(held.value),
            ),
        )
        assert refusal_reason(held.value)["rule"] == "legal_hold"
        with pytest.raises(PrivacyError) as missing:
            full_desk.release_legal_hold("hold-none", actor=DPO, reason="selesai")
        _same(
            full_desk,
            legal_hold_release_refused_body(
                at=clock.now(),
                actor=DPO.id,
                hold="hold-none",
                reason="selesai",
                refusal=refusal_reason(missing.value),
            ),
        )
        full_desk.release_legal_hold(hold.id, actor=DPO, reason="selesai")
        _same(
            full_desk,
            legal_hold_released_body(
                at=clock.now(),
                actor=DPO.id,
                role=DATA_PROTECTION_OFFICER,
                hold=hold.id,
                subject=subject,
                request=None,
                reason="selesai",
            ),
        )
        known = full_desk.store.vault_subject(subject)  # type: ignore[attr-defined]
        full_desk.erase_subject(subject, actor=DPO, reason="permintaan hapus")
        _same(
            full_desk,
            erasure_body(
                at=clock.now(),
                actor=DPO.id,
                role=DATA_PROTECTION_OFFICER,
                subject=subject,
                kid=known.kid,
                requests=[request_id],
                reason="permintaan hapus",
            ),
        )


# -- the registry itself -------------------------------------------------------------------

BUILDERS: dict[str, tuple[Callable[..., dict[str, Any]], ...]] = {
    KIND_SUBMIT: (submit_body,),
    KIND_ACTION: (action_body,),
    KIND_REFUSED: (refused_body,),
    KIND_SURVEY: (survey_body,),
    KIND_MIGRATION: (migration_body,),
    KIND_SLA: (sla_body,),
    KIND_ASSIGNMENT: (assignment_body,),
    KIND_DISPOSITION: (disposition_body,),
    KIND_DISPOSITION_ANSWER: (disposition_answer_body,),
    KIND_BUKAN_WEWENANG: (bukan_wewenang_body,),
    KIND_REVEAL: (reveal_body, subject_reveal_body),
    KIND_REVEAL_REFUSED: (reveal_refused_body, subject_reveal_refused_body),
    KIND_ERASURE: (erasure_body,),
    KIND_ERASURE_REFUSED: (erasure_refused_body,),
    KIND_LEGAL_HOLD: (legal_hold_body,),
    KIND_LEGAL_HOLD_REFUSED: (legal_hold_refused_body, legal_hold_release_refused_body),
    KIND_LEGAL_HOLD_RELEASED: (legal_hold_released_body,),
}


def test_every_kind_has_its_builders() -> None:
    """The registry, the kind constants and the builders name the same kinds."""
    assert set(BUILDERS) == set(KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name
        assert not set(kind.required) & set(kind.optional)
        assert not set(kind.fields) & (set(COMMON_FIELDS) | set(CHAIN_FIELDS))


def test_entry_fields_are_the_vocabulary() -> None:
    """The verifier's typed fields are the vocabulary's names."""
    described = {f for kind in KINDS.values() for f in kind.fields}
    assert set(entry_module.REQUIRED_FIELDS) == set(CHAIN_FIELDS) | set(COMMON_FIELDS)
    assert set(entry_module.FIELD_TYPES) <= described


_TEXT = st.text(max_size=12)
_NAMES = st.lists(st.text(min_size=1, max_size=8), max_size=3)
_INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    at=_INSTANTS,
    request=_TEXT,
    actor=_TEXT,
    state=st.none() | _TEXT,
    on_behalf_of=st.none() | _TEXT,
    rule=st.none() | _TEXT,
)
def test_refused_bodies_encode_and_match_their_description(
    at: dt.datetime,
    request: str,
    actor: str,
    state: str | None,
    on_behalf_of: str | None,
    rule: str | None,
) -> None:
    """Any refusal body is canonical-JSON ready, carries its fields and parses back."""
    error = PermissionDeniedError("no", rule=rule) if rule else UnknownRequestError(request)
    body = refused_body(
        at=at,
        request=request,
        sop=None,
        action="verify",
        actor=actor,
        state=state,
        reason=refusal_reason(error),
        on_behalf_of=on_behalf_of,
    )
    _described(body)
    assert json.loads(canonical_json(body)) == body
    assert ("on_behalf_of" in body) == bool(on_behalf_of)
    assert ("rule" in body["reason"]) == bool(rule)


@given(
    at=_INSTANTS,
    request=_TEXT,
    actor=_TEXT,
    reason=_TEXT,
    disposition=st.none() | _TEXT,
    joined=st.none() | _TEXT,
    moved=st.booleans(),
    role=st.none() | _TEXT,
    requests=_NAMES,
)
def test_routing_and_privacy_bodies_match_their_description(
    at: dt.datetime,
    request: str,
    actor: str,
    reason: str,
    disposition: str | None,
    joined: str | None,
    moved: bool,
    role: str | None,
    requests: list[str],
) -> None:
    """Optional fields appear exactly when given, and always inside the description."""
    returned = {"unit": "u", "assignee": None} if moved else None
    body = bukan_wewenang_body(
        at=at,
        request=request,
        sop=sop_ref("s", "1", "h"),
        actor=actor,
        state="x",
        reason=reason,
        role=role,
        disposition=disposition,
        joined=joined,
        returned_to=returned,
    )
    _described(body)
    assert ("role" in body) == bool(role)
    assert ("disposition" in body) == (disposition is not None)
    assert ("returned_to" in body) == moved
    erased = erasure_body(
        at=at, actor=actor, role="r", subject="s", kid="k", requests=requests, reason=reason
    )
    _described(erased)
    assert json.loads(canonical_json(erased)) == erased


# -- the documentation ---------------------------------------------------------------------

DOC = ROOT / "docs" / "audit-format.md"


def test_the_format_page_lists_every_kind_with_its_fields() -> None:
    """docs/audit-format.md carries exactly the table `render_kinds_table` renders."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- kinds:begin -->\n(.*?)<!-- kinds:end -->", text, re.S)
    assert found is not None, "docs/audit-format.md lacks the kinds:begin/end markers"
    assert found.group(1) == render_kinds_table(), (
        "the kinds table in docs/audit-format.md is stale: replace it with "
        "pelayanan.audit.kinds.render_kinds_table()"
    )
