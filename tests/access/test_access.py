"""Access: roles, separation of duties (not_by, subject), delegation (Plt/Plh) at the desk."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pelayanan.access import (
    AccessPolicy,
    Actor,
    Delegation,
    DelegationRegistry,
    SubjectRule,
    access_config_from_dict,
    authorize,
    check_access,
)
from pelayanan.audit.keys import SigningKey
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import ConfigurationError, PelayananError, PermissionDeniedError
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.store import Store
from pelayanan.testing import FakeClock

WIB = ZoneInfo("Asia/Jakarta")

T0 = dt.datetime(2026, 7, 6, 8, 0, tzinfo=WIB)


def _delegation(**overrides: Any) -> Delegation:
    fields: dict[str, Any] = {
        "id": "SPRIN-1",
        "principal": "kepala",
        "delegate": "wakil",
        "kind": "plt",
        "roles": {"supervisor"},
        "valid_from": T0,
        "valid_until": T0 + dt.timedelta(days=10),
    }
    fields.update(overrides)
    return Delegation(**fields)


LEAVE_SOP: dict[str, Any] = {
    "id": "cuti-pegawai",
    "version": "1.0.0",
    "title": "Permohonan cuti pegawai",
    "unit": "bagian-kepegawaian",
    "roles": {"pegawai": "Staff", "verifier": "Kepegawaian", "atasan": "Head of unit"},
    "submit": {"roles": ["pegawai", "verifier"], "requires": ["employee_id"]},
    "initial": "diajukan",
    "states": {
        "diajukan": {"label": {"id": "Diajukan", "en": "Submitted"}},
        "diverifikasi": {"label": {"id": "Diverifikasi", "en": "Verified"}},
        "disetujui": {"label": {"id": "Disetujui", "en": "Approved"}, "final": True},
    },
    "actions": [
        {"name": "verify", "from": "diajukan", "to": "diverifikasi", "roles": ["verifier"]},
        {
            "name": "approve",
            "from": "diverifikasi",
            "to": "disetujui",
            "roles": ["atasan"],
            "not_by": ["verify"],
        },
    ],
}


@pytest.fixture
def leave_sop() -> SOP:
    """The inline staff-leave SOP."""
    return sop_from_dict(LEAVE_SOP)


@pytest.fixture
def leave_desk(
    store: Store, leave_sop: SOP, ledger_key: SigningKey, clock: FakeClock
) -> ServiceDesk:
    """A leave desk with a subject rule and one Plt delegation (kepala -> wakil, 10 days)."""
    policy = AccessPolicy((SubjectRule(action="approve", field="employee_id"),))
    registry = DelegationRegistry([_delegation(roles={"atasan"}, actions={"approve"})])
    return ServiceDesk(
        store,
        sops=[leave_sop],
        signing_key=ledger_key,
        clock=clock,
        access_policy=policy,
        delegations=registry,
    )


def _entries(store: Store) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in store.entries("default")]


class TestAuthorize:
    def test_role_refusal_names_rule(self) -> None:
        """An actor without the role is refused with rule 'role'."""
        with pytest.raises(PermissionDeniedError) as info:
            authorize(Actor("a", {"x"}), "approve", allowed_roles=["atasan"])
        assert info.value.rule == "role"
        assert isinstance(info.value, PelayananError)

    def test_not_by_refuses_earlier_actor(self) -> None:
        """The actor who verified may not approve when the SOP says not_by: [verify]."""
        with pytest.raises(PermissionDeniedError) as info:
            authorize(
                Actor("a", {"atasan"}),
                "approve",
                allowed_roles=["atasan"],
                not_by=["verify"],
                history={"verify": ["a"]},
            )
        assert info.value.rule == "separation_of_duties:verify"


class TestCheckAccess:
    def test_subject_rule_refuses_the_subject(self) -> None:
        """A staff member may not approve a request about themself."""
        with pytest.raises(PermissionDeniedError) as info:
            check_access(
                Actor("kepala", {"atasan"}),
                "approve",
                allowed_roles=["atasan"],
                subject_fields=["employee_id"],
                data={"employee_id": "kepala"},
            )
        assert info.value.rule == "separation_of_duties:subject:employee_id"

    def test_delegate_uses_principal_roles(self) -> None:
        """A Plt without the role of their own acts with the principal's roles."""
        registry = DelegationRegistry([_delegation()])
        grant = check_access(
            Actor("wakil", {"staff"}),
            "dispatch",
            allowed_roles=["supervisor"],
            on_behalf_of="kepala",
            delegations=registry,
            at=T0 + dt.timedelta(days=1),
        )
        assert grant.role == "supervisor"
        assert grant.ids == ("wakil", "kepala")
        assert grant.authority() == {
            "principal": "kepala",
            "delegation": "SPRIN-1",
            "kind": "plt",
            "valid_from": "2026-07-06T01:00:00.000000Z",
        }

    def test_separation_applies_to_principal(self) -> None:
        """A Plt may not do what separation of duties forbids their principal to do."""
        registry = DelegationRegistry([_delegation()])
        with pytest.raises(PermissionDeniedError) as info:
            check_access(
                Actor("wakil"),
                "close",
                allowed_roles=["supervisor"],
                not_by=["follow_up"],
                history={"follow_up": ["kepala"]},
                on_behalf_of="kepala",
                delegations=registry,
                at=T0,
            )
        assert info.value.rule == "separation_of_duties:follow_up"

    @pytest.mark.parametrize(
        ("at", "rule"),
        [
            (T0 - dt.timedelta(seconds=1), "delegation:not_yet_valid"),
            (T0 + dt.timedelta(days=10), "delegation:expired"),
        ],
    )
    def test_outside_period_refused(self, at: dt.datetime, rule: str) -> None:
        """A delegation is in force from valid_from (inclusive) to valid_until (exclusive)."""
        registry = DelegationRegistry([_delegation()])
        with pytest.raises(PermissionDeniedError) as info:
            check_access(
                Actor("wakil"),
                "dispatch",
                allowed_roles=["supervisor"],
                on_behalf_of="kepala",
                delegations=registry,
                at=at,
            )
        assert info.value.rule == rule

    def test_out_of_scope_action_and_unit(self) -> None:
        """Actions and units outside the delegation's scope are refused."""
        registry = DelegationRegistry([_delegation(actions={"dispatch"}, unit="unit-a")])
        for action, unit in (("close", "unit-a"), ("dispatch", "unit-b")):
            with pytest.raises(PermissionDeniedError) as info:
                check_access(
                    Actor("wakil"),
                    action,
                    allowed_roles=["supervisor"],
                    on_behalf_of="kepala",
                    delegations=registry,
                    at=T0,
                    unit=unit,
                )
            assert info.value.rule == "delegation:out_of_scope"

    def test_no_delegation(self) -> None:
        """Claiming an authority nobody delegated is refused with 'delegation:none'."""
        registry = DelegationRegistry([_delegation()])
        with pytest.raises(PermissionDeniedError) as info:
            check_access(
                Actor("other"),
                "dispatch",
                allowed_roles=["supervisor"],
                on_behalf_of="kepala",
                delegations=registry,
                at=T0,
            )
        assert info.value.rule == "delegation:none"

    def test_delegated_roles_do_not_exceed_scope(self) -> None:
        """A delegation lends only its roles: a role the principal does not lend is refused."""
        registry = DelegationRegistry([_delegation()])
        with pytest.raises(PermissionDeniedError, match="acting for 'kepala'") as info:
            check_access(
                Actor("wakil", {"officer"}),
                "follow_up",
                allowed_roles=["officer"],
                on_behalf_of="kepala",
                delegations=registry,
                at=T0,
            )
        assert info.value.rule == "role"

    @settings(max_examples=50)
    @given(offset=st.integers(min_value=-20 * 86_400, max_value=20 * 86_400))
    def test_validity_is_half_open_interval(self, offset: int) -> None:
        """Resolution succeeds exactly when valid_from <= at < valid_until."""
        delegation = _delegation()
        at = T0 + dt.timedelta(seconds=offset)
        registry = DelegationRegistry([delegation])
        inside = delegation.valid_from <= at < delegation.valid_until
        try:
            registry.resolve("wakil", "kepala", action="x", at=at)
            resolved = True
        except PermissionDeniedError:
            resolved = False
        assert resolved == inside


class TestDelegationValues:
    def test_invalid_delegations_refused(self) -> None:
        """Self-delegation, an empty period, no roles or a naive instant are refused."""
        with pytest.raises(ConfigurationError):
            _delegation(delegate="kepala")
        with pytest.raises(ConfigurationError):
            _delegation(valid_until=T0)
        with pytest.raises(ConfigurationError):
            _delegation(roles=set())
        with pytest.raises(ValueError, match="timezone-aware"):
            _delegation(valid_from=dt.datetime(2026, 7, 6))

    def test_duplicate_ids_refused(self) -> None:
        """Two delegations cannot share an id."""
        with pytest.raises(ConfigurationError, match="twice"):
            DelegationRegistry([_delegation(), _delegation(delegate="lain")])


class TestAccessConfig:
    def test_loads_delegations_and_separation(self) -> None:
        """The access configuration builds the policy and the registry."""
        policy, registry = access_config_from_dict(
            {
                "delegations": [
                    {
                        "id": "PLH-7",
                        "kind": "plh",
                        "principal": "kepala",
                        "delegate": "wakil",
                        "roles": ["atasan"],
                        "valid_from": "2026-07-06T00:00:00+07:00",
                        "valid_until": "2026-07-08T00:00:00+07:00",
                    }
                ],
                "separation": [{"sop": "cuti-pegawai", "action": "approve", "not_subject": "nip"}],
            }
        )
        assert policy.subject_fields("cuti-pegawai", "approve") == ("nip",)
        assert policy.subject_fields("other", "approve") == ()
        (delegation,) = registry
        assert delegation.kind == "plh"

    def test_every_problem_reported(self) -> None:
        """Bad kinds, naive instants and unknown keys are all reported at once."""
        with pytest.raises(ConfigurationError) as info:
            access_config_from_dict(
                {
                    "delegations": [
                        {
                            "id": "X",
                            "kind": "acting",
                            "principal": "a",
                            "delegate": "b",
                            "roles": ["r"],
                            "valid_from": "2026-07-06T00:00:00",
                            "valid_until": "2026-07-08T00:00:00+07:00",
                            "scope": "all",
                        }
                    ],
                    "extra": 1,
                },
                source="access.yaml",
            )
        text = str(info.value)
        assert "delegations[0].kind" in text
        assert "delegations[0].valid_from" in text
        assert "delegations[0].scope" in text
        assert "extra" in text
        assert text.startswith("access.yaml:")


class TestDeskAccess:
    def _to_verified(self, desk: ServiceDesk, employee: str) -> str:
        record = desk.submit(
            "cuti-pegawai", actor=Actor(employee, {"pegawai"}), data={"employee_id": employee}
        ).request
        desk.act(record.id, "verify", actor=Actor("kpg-1", {"verifier"}))
        return record.id

    def test_own_request_refused_and_recorded(self, leave_desk: ServiceDesk) -> None:
        """The head of unit cannot approve their own leave; the refusal is in the log."""
        request_id = self._to_verified(leave_desk, "kepala")
        with pytest.raises(PermissionDeniedError) as info:
            leave_desk.act(request_id, "approve", actor=Actor("kepala", {"atasan"}))
        assert info.value.rule == "separation_of_duties:subject:employee_id"
        last = _entries(leave_desk.store)[-1]
        assert last["kind"] == "refused"
        assert last["reason"]["rule"] == "separation_of_duties:subject:employee_id"

    def test_verifier_cannot_approve(self, leave_desk: ServiceDesk) -> None:
        """The SOP's not_by keeps the verifier from approving, even holding both roles."""
        request_id = self._to_verified(leave_desk, "staf-1")
        with pytest.raises(PermissionDeniedError) as info:
            leave_desk.act(request_id, "approve", actor=Actor("kpg-1", {"verifier", "atasan"}))
        assert info.value.rule == "separation_of_duties:verify"

    def test_plt_acts_and_entry_records_authority(self, leave_desk: ServiceDesk) -> None:
        """A Plt approves with the principal's authority; the entry names both."""
        request_id = self._to_verified(leave_desk, "staf-1")
        result = leave_desk.act(
            request_id, "approve", actor=Actor("wakil", {"pegawai"}), on_behalf_of="kepala"
        )
        assert result.request.state == "disetujui"
        last = _entries(leave_desk.store)[-1]
        assert last["actor"] == "wakil"
        assert last["role"] == "atasan"
        assert last["authority"] == {
            "principal": "kepala",
            "delegation": "SPRIN-1",
            "kind": "plt",
            "valid_from": "2026-07-06T01:00:00.000000Z",
        }
        assert result.request.meta["actors"]["approve"] == ["wakil", "kepala"]

    def test_expired_delegation_refused_and_recorded(
        self, leave_desk: ServiceDesk, clock: FakeClock
    ) -> None:
        """After valid_until the Plt is refused; the log records the claim and the rule."""
        request_id = self._to_verified(leave_desk, "staf-1")
        clock.advance(days=11)
        with pytest.raises(PermissionDeniedError) as info:
            leave_desk.act(request_id, "approve", actor=Actor("wakil"), on_behalf_of="kepala")
        assert info.value.rule == "delegation:expired"
        last = _entries(leave_desk.store)[-1]
        assert last["kind"] == "refused"
        assert last["on_behalf_of"] == "kepala"
        assert last["reason"]["rule"] == "delegation:expired"

    def test_out_of_scope_action_refused(self, leave_desk: ServiceDesk) -> None:
        """A delegation limited to 'approve' does not lend 'verify' (nor its roles)."""
        record = leave_desk.submit(
            "cuti-pegawai", actor=Actor("staf-1", {"pegawai"}), data={"employee_id": "staf-1"}
        ).request
        with pytest.raises(PermissionDeniedError) as info:
            leave_desk.act(record.id, "verify", actor=Actor("wakil"), on_behalf_of="kepala")
        assert info.value.rule == "delegation:out_of_scope"

    def test_plt_cannot_approve_principals_own_leave(self, leave_desk: ServiceDesk) -> None:
        """Acting for the head does not let anyone approve the head's own leave."""
        request_id = self._to_verified(leave_desk, "kepala")
        with pytest.raises(PermissionDeniedError) as info:
            leave_desk.act(request_id, "approve", actor=Actor("wakil"), on_behalf_of="kepala")
        assert info.value.rule == "separation_of_duties:subject:employee_id"
