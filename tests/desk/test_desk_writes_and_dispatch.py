"""What an action may write, dispatch at any action, the disposisi guard, ``from: "*"``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    FieldNotAllowedError,
    GuardNotMetError,
    IncompleteRequestError,
    RoutingError,
    SOPDefinitionError,
)
from pelayanan.routing import routing_config_from_dict
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.store import Store, verify_store
from pelayanan.testing import FakeClock

DOC: dict[str, Any] = {
    "id": "dispatch",
    "version": "1.0.0",
    "title": "Dispatch",
    "unit": "pusat",
    "roles": {"warga": None, "operator": None, "kepala": None},
    "fields": {
        "laporan": {"type": "text"},
        "kategori": {"type": "choice", "choices": ["kebakaran", "kriminal"]},
        "polsek": {"type": "text"},
        "ba_struktur": {"type": "text"},
        "keputusan": {"type": "text"},
    },
    "submit": {"roles": ["warga"], "requires": ["laporan"]},
    "initial": "masuk",
    "states": {
        "masuk": None,
        "dikirim": None,
        "dinilai": None,
        "selesai": {"final": True},
        "batal": {"final": True},
    },
    "actions": [
        {
            "name": "kirim",
            "from": "masuk",
            "to": "dikirim",
            "roles": ["operator"],
            "writes": ["polsek"],
            "requires": ["polsek"],
            "route": {"field": "polsek"},
        },
        {
            "name": "kirim_aturan",
            "from": "masuk",
            "to": "dikirim",
            "roles": ["operator"],
            "writes": ["kategori"],
            "route": "rules",
        },
        {
            "name": "nilai",
            "from": "dikirim",
            "to": "dinilai",
            "roles": ["operator"],
            "writes": ["ba_struktur"],
        },
        {
            "name": "putus",
            "from": "dinilai",
            "to": "selesai",
            "roles": ["kepala"],
            "writes": [],
            "requires": ["disposisi_answered"],
        },
        {
            "name": "batalkan",
            "from": "*",
            "except": ["dinilai"],
            "to": "batal",
            "roles": ["kepala"],
        },
    ],
}
ROUTING: dict[str, Any] = {
    "triage": "pusat",
    "fields": {"category": "kategori"},
    "rules": [{"name": "damkar", "when": {"category": "kebakaran"}, "unit": "damkar"}],
    "units": {"polsek-a": {"strategy": "round_robin", "officers": ["bripka-1"]}},
    "disposition": {"roles": ["kepala"]},
}
WARGA = Actor("warga-1", {"warga"})
OPERATOR = Actor("op-1", {"operator"}, "pusat")
KEPALA = Actor("kepala-1", {"kepala"}, "pusat")


@pytest.fixture
def sop() -> SOP:
    """The dispatch SOP."""
    return sop_from_dict(DOC)


@pytest.fixture
def ddesk(store: Store, sop: SOP, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    """A desk over the dispatch SOP, with routing."""
    return ServiceDesk(
        store,
        sops=[sop],
        signing_key=ledger_key,
        clock=clock,
        routing=routing_config_from_dict(ROUTING),
    )


def _last(desk: ServiceDesk) -> dict[str, Any]:
    return dict(json.loads(list(desk.store.entries("default"))[-1].data))


def _open(desk: ServiceDesk) -> str:
    return desk.submit("dispatch", actor=WARGA, data={"laporan": "asap"}).request.id


class TestWrites:
    def test_misspelt_field_is_refused_and_recorded_by_name(self, ddesk: ServiceDesk) -> None:
        """An undeclared field is refused; the refusal names it, never its value."""
        request_id = _open(ddesk)
        with pytest.raises(FieldNotAllowedError) as info:
            ddesk.act(request_id, "kirim", actor=OPERATOR, data={"polsk": "rahasia-xyz"})
        assert info.value.fields == ("polsk",)
        entry = _last(ddesk)
        assert entry["kind"] == "refused"
        assert entry["reason"]["rule"] == "fields:undeclared"
        assert entry["reason"]["fields"] == ["polsk"]
        assert "rahasia-xyz" not in json.dumps(entry)
        assert ddesk.get(request_id).state == "masuk"

    def test_declared_field_outside_writes_is_refused(self, ddesk: ServiceDesk) -> None:
        """A declared field the action does not list under writes is refused."""
        request_id = _open(ddesk)
        with pytest.raises(FieldNotAllowedError) as info:
            ddesk.act(
                request_id, "kirim", actor=OPERATOR, data={"polsek": "polsek-a", "keputusan": "x"}
            )
        assert info.value.rule == "fields:writes"
        assert _last(ddesk)["reason"]["fields"] == ["keputusan"]

    def test_undeclared_field_at_submission_is_refused(self, ddesk: ServiceDesk) -> None:
        """Strict mode holds for the submission too."""
        with pytest.raises(FieldNotAllowedError):
            ddesk.submit("dispatch", actor=WARGA, data={"laporan": "asap", "lapran": "x"})

    def test_strict_fields_false_stores_undeclared(
        self, store: Store, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """``strict_fields: false`` keeps the older, permissive behaviour."""
        sop = sop_from_dict({**DOC, "strict_fields": False})
        desk = ServiceDesk(store, sops=[sop], signing_key=ledger_key, clock=clock)
        result = desk.submit("dispatch", actor=WARGA, data={"laporan": "a", "extra": "b"})
        assert result.request.data["extra"] == "b"

    @given(name=st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z"))
    def test_only_declared_names_pass(self, name: str) -> None:
        """`SOP.undeclared` refuses exactly the names the SOP does not declare."""
        sop = sop_from_dict(DOC)
        declared = name in DOC["fields"] or name == "pause_reason"
        assert sop.undeclared([name]) == ([] if declared else [name])


class TestDispatch:
    def test_route_from_field_moves_holder_in_the_action_entry(self, ddesk: ServiceDesk) -> None:
        """One call dispatches: the action entry carries routing and assignment."""
        request_id = _open(ddesk)
        assert ddesk.get(request_id).unit == "pusat"
        ddesk.act(request_id, "kirim", actor=OPERATOR, data={"polsek": "polsek-a"})
        record = ddesk.get(request_id)
        assert (record.state, record.unit, record.assignee) == ("dikirim", "polsek-a", "bripka-1")
        entry = _last(ddesk)
        assert entry["kind"] == "action"
        assert entry["routing"]["rule"] == "field:polsek"
        assert entry["assignment"]["assignee"] == "bripka-1"
        texts = [step.text for step in ddesk.why(request_id)]
        assert "routed to polsek-a by rule 'field:polsek' on polsek=polsek-a" in texts

    def test_route_by_rules(self, ddesk: ServiceDesk) -> None:
        """``route: rules`` evaluates the routing table on the request's data."""
        request_id = _open(ddesk)
        ddesk.act(request_id, "kirim_aturan", actor=OPERATOR, data={"kategori": "kebakaran"})
        assert ddesk.get(request_id).unit == "damkar"
        assert _last(ddesk)["routing"]["rule"] == "damkar"

    def test_route_by_rules_without_configuration_is_refused(
        self, store: Store, sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """Routing by rules needs a routing configuration: refused and recorded."""
        desk = ServiceDesk(store, sops=[sop], signing_key=ledger_key, clock=clock)
        request_id = _open(desk)
        with pytest.raises(RoutingError):
            desk.act(request_id, "kirim_aturan", actor=OPERATOR, data={"kategori": "kriminal"})
        assert _last(desk)["kind"] == "refused"

    def test_route_from_empty_field_is_incomplete(self, ddesk: ServiceDesk) -> None:
        """The field naming the unit must be given."""
        request_id = _open(ddesk)
        with pytest.raises(IncompleteRequestError):
            ddesk.act(request_id, "kirim", actor=OPERATOR)


class TestSubmissionRouting:
    @pytest.mark.parametrize(("route", "unit"), [(True, "damkar"), (False, "pusat")])
    def test_submit_route_false_waits_for_the_dispatch(
        self,
        store: Store,
        ledger_key: SigningKey,
        clock: FakeClock,
        route: bool,
        unit: str,
    ) -> None:
        """``submit: {route: false}`` keeps a new request with the SOP's unit."""
        doc = {**DOC, "submit": {**DOC["submit"], "route": route}}
        desk = ServiceDesk(
            store,
            sops=[sop_from_dict(doc)],
            signing_key=ledger_key,
            clock=clock,
            routing=routing_config_from_dict(ROUTING),
        )
        data = {"laporan": "asap", "kategori": "kebakaran"}
        request_id = desk.submit("dispatch", actor=WARGA, data=data).request.id
        assert desk.get(request_id).unit == unit
        assert ("routing" in _last(desk)) is route


class TestGuard:
    def test_open_disposisi_blocks_until_answered(self, ddesk: ServiceDesk) -> None:
        """``requires: disposisi_answered`` refuses while a disposisi is open."""
        request_id = _open(ddesk)
        ddesk.act(request_id, "kirim", actor=OPERATOR, data={"polsek": "pusat"})
        ddesk.act(request_id, "nilai", actor=OPERATOR, data={"ba_struktur": "baik"})
        due = dt.datetime(2026, 7, 10, 16, 0, tzinfo=dt.UTC)
        ddesk.dispose(
            request_id, actor=KEPALA, to="bidang-teknis", instruction="kaji ulang", due=due
        )
        with pytest.raises(GuardNotMetError) as info:
            ddesk.act(request_id, "putus", actor=KEPALA)
        assert info.value.rule == "guard:disposisi_answered"
        assert _last(ddesk)["reason"]["rule"] == "guard:disposisi_answered"
        teknis = Actor("kabid-1", {"kepala"}, "bidang-teknis")
        ddesk.answer_disposition(request_id, actor=teknis, answer="sudah dikaji")
        assert ddesk.act(request_id, "putus", actor=KEPALA).request.state == "selesai"


class TestFromAnyState:
    def test_star_expands_to_non_final_states_less_except(self, sop: SOP) -> None:
        """``from: "*"`` is every non-final state, less ``except``."""
        cancel = next(a for a in sop.actions if a.name == "batalkan")
        assert cancel.sources == ("masuk", "dikirim")

    def test_except_without_star_is_a_problem(self) -> None:
        """``except`` only goes with ``from: "*"``, and names real states."""
        actions = [dict(a) for a in DOC["actions"]]
        actions[-1] = {**actions[-1], "from": "masuk", "except": ["dikirim"]}
        with pytest.raises(SOPDefinitionError) as info:
            sop_from_dict({**DOC, "actions": actions})
        assert "actions[4].except" in str(info.value)
        actions[-1] = {**actions[-1], "from": "*", "except": ["dinilaii"]}
        with pytest.raises(SOPDefinitionError) as info:
            sop_from_dict({**DOC, "actions": actions})
        assert "'dinilaii'" in str(info.value)

    def test_writes_must_name_declared_fields(self) -> None:
        """A field under writes must be declared when the SOP declares fields."""
        actions = [dict(a) for a in DOC["actions"]]
        actions[2] = {**actions[2], "writes": ["ba_strukur"]}
        with pytest.raises(SOPDefinitionError) as info:
            sop_from_dict({**DOC, "actions": actions})
        assert "actions[2].writes" in str(info.value)
        assert "ba_struktur" in str(info.value)


class TestStoreAgrees:
    def test_dispatch_and_branches_verify_against_the_log(
        self, ddesk: ServiceDesk, ledger_key: SigningKey
    ) -> None:
        """The store's check replays a dispatching action: the tables agree with the log."""
        request_id = _open(ddesk)
        ddesk.act(request_id, "kirim", actor=OPERATOR, data={"polsek": "polsek-a"})
        report = verify_store(ddesk.store, [ledger_key.verifier])
        assert report.ok, [p.render() for p in report.problems]
