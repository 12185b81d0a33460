"""Parallel branches at the desk: each branch's unit and roles, all done before moving on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.calendar import indonesian_government_calendar
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    PermissionDeniedError,
    SOPDefinitionError,
    TransitionNotAllowedError,
)
from pelayanan.reports.flow import RequestFlow
from pelayanan.reports.wording import Wording, workflow_order
from pelayanan.sop import SOP, sop_from_dict
from pelayanan.sop.compile import compile_sop
from pelayanan.sop.diagram import to_dot, to_mermaid
from pelayanan.store import Store, verify_store
from pelayanan.testing import FakeClock

PARALLEL: dict[str, Any] = {
    "id": "kajian",
    "version": "1.0.0",
    "title": "Kajian paralel",
    "unit": "dpmptsp",
    "roles": {"pemohon": None, "petugas": None, "ahli_struktur": None, "ahli_kebakaran": None},
    "fields": {"ba_struktur": {"type": "document"}, "ba_kebakaran": {"type": "document"}},
    "submit": {"roles": ["pemohon"]},
    "initial": "masuk",
    "states": {
        "masuk": None,
        "kajian_teknis": {
            "parallel": {
                "struktur": {
                    "unit": "bidang-struktur",
                    "roles": ["ahli_struktur"],
                    "initial": "telaah_struktur",
                    "states": {"telaah_struktur": None, "struktur_selesai": {"final": True}},
                },
                "kebakaran": {
                    "unit": "damkar",
                    "roles": ["ahli_kebakaran"],
                    "initial": "telaah_kebakaran",
                    "states": {"telaah_kebakaran": None, "kebakaran_selesai": {"final": True}},
                },
            },
            "then": "keputusan",
        },
        "keputusan": None,
        "selesai": {"final": True},
    },
    "actions": [
        {"name": "mulai", "from": "masuk", "to": "kajian_teknis", "roles": ["petugas"]},
        {
            "name": "setuju_struktur",
            "from": "telaah_struktur",
            "to": "struktur_selesai",
            "roles": ["ahli_struktur"],
            "writes": ["ba_struktur"],
            "requires": ["ba_struktur"],
        },
        {
            "name": "setuju_kebakaran",
            "from": "telaah_kebakaran",
            "to": "kebakaran_selesai",
            "roles": ["ahli_kebakaran"],
            "writes": ["ba_kebakaran"],
            "requires": ["ba_kebakaran"],
        },
        {"name": "tutup", "from": "keputusan", "to": "selesai", "roles": ["petugas"]},
        {"name": "batal", "from": "*", "to": "selesai", "roles": ["petugas"]},
    ],
}
PEMOHON = Actor("warga-1", {"pemohon"})
PETUGAS = Actor("fo-1", {"petugas"}, "dpmptsp")
STRUKTUR = Actor("ahli-1", {"ahli_struktur"}, "bidang-struktur", units={"bidang-struktur"})
KEBAKARAN = Actor("ahli-2", {"ahli_kebakaran"}, "damkar", units={"damkar"})


@pytest.fixture
def pdesk(store: Store, ledger_key: SigningKey, clock: FakeClock) -> ServiceDesk:
    """A desk over the parallel SOP."""
    return ServiceDesk(store, sops=[sop_from_dict(PARALLEL)], signing_key=ledger_key, clock=clock)


def _entries(desk: ServiceDesk) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in desk.store.entries("default")]


def _started(desk: ServiceDesk) -> str:
    request_id = desk.submit("kajian", actor=PEMOHON, data={}).request.id
    desk.act(request_id, "mulai", actor=PETUGAS)
    return request_id


class TestParallelDesk:
    def test_every_branch_must_finish_before_the_request_moves_on(self, pdesk: ServiceDesk) -> None:
        """One branch done keeps the request in the parallel state; the last moves it."""
        request_id = _started(pdesk)
        record = pdesk.get(request_id)
        assert record.state == "kajian_teknis"
        assert record.meta["branches"] == {
            "struktur": "telaah_struktur",
            "kebakaran": "telaah_kebakaran",
        }
        assert pdesk.allowed_actions(request_id) == [
            "batal",
            "setuju_kebakaran",
            "setuju_struktur",
        ]
        pdesk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-1"})
        assert pdesk.get(request_id).state == "kajian_teknis"
        with pytest.raises(TransitionNotAllowedError):
            pdesk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-2"})
        pdesk.act(request_id, "setuju_kebakaran", actor=KEBAKARAN, data={"ba_kebakaran": "D-3"})
        record = pdesk.get(request_id)
        assert record.state == "keputusan"
        assert "branches" not in record.meta
        last = _entries(pdesk)[-1]
        assert (last["from"], last["to"]) == ("kajian_teknis", "keputusan")
        assert last["branch"] == {
            "name": "kebakaran",
            "from": "telaah_kebakaran",
            "to": "kebakaran_selesai",
        }

    def test_a_branch_acts_only_through_its_unit(self, pdesk: ServiceDesk) -> None:
        """An officer of another unit cannot act in the branch, and a reviewer cannot
        write another branch's report."""
        request_id = _started(pdesk)
        outsider = Actor("ahli-3", {"ahli_struktur"}, "damkar", units={"damkar"})
        with pytest.raises(PermissionDeniedError):
            pdesk.act(request_id, "setuju_struktur", actor=outsider, data={"ba_struktur": "D"})
        with pytest.raises(PermissionDeniedError):
            pdesk.act(request_id, "setuju_kebakaran", actor=STRUKTUR, data={"ba_kebakaran": "D"})

    def test_cancel_leaves_every_branch(self, pdesk: ServiceDesk) -> None:
        """An action from the parallel state itself ends all branches."""
        request_id = _started(pdesk)
        pdesk.act(request_id, "batal", actor=PETUGAS)
        record = pdesk.get(request_id)
        assert (record.state, record.closed) == ("selesai", True)
        assert "branches" not in record.meta


class TestParallelSOP:
    def test_branch_states_are_not_top_states(self) -> None:
        """``from: "*"`` expands to top-level non-final states only."""
        sop = sop_from_dict(PARALLEL)
        cancel = next(a for a in sop.actions if a.name == "batal")
        assert cancel.sources == ("masuk", "kajian_teknis", "keputusan")

    @given(order=st.permutations(["setuju_struktur", "setuju_kebakaran"]))
    def test_any_order_ends_in_then(self, order: list[str]) -> None:
        """Whatever the order the branches finish in, the machine ends in ``then``."""
        sop: SOP = sop_from_dict(PARALLEL)
        compiled = compile_sop(sop)
        active = compiled.fire_active(["masuk"], "mulai")
        for action in order:
            assert active[0] == "kajian_teknis"
            active = compiled.fire_active(active, action)
        assert active == ["keputusan"]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda d: d["states"]["kajian_teknis"].pop("then"), "kajian_teknis.then"),
            (
                lambda d: d["actions"].append(
                    {"name": "x", "from": "masuk", "to": "telaah_struktur", "roles": ["petugas"]}
                ),
                "actions[5].to",
            ),
            (
                lambda d: d["actions"].append(
                    {
                        "name": "x",
                        "from": "telaah_struktur",
                        "to": "kebakaran_selesai",
                        "roles": ["ahli_struktur"],
                    }
                ),
                "actions[5].to",
            ),
            (
                lambda d: d["actions"][1].update(roles=["ahli_struktur", "petugas"]),
                "actions[1].roles",
            ),
            (
                lambda d: d["states"]["kajian_teknis"]["parallel"]["struktur"]["states"].update(
                    masuk=None
                ),
                "states.kajian_teknis.parallel.struktur.states.masuk",
            ),
            (
                lambda d: d.update(
                    clocks=[
                        {
                            "name": "c",
                            "start": {"on_enter": ["telaah_struktur"]},
                            "stop": {"on_enter": ["selesai"]},
                            "target": "PT10M",
                        }
                    ]
                ),
                "clocks[0].start.on_enter",
            ),
        ],
    )
    def test_problems_are_named(self, change: Any, expected: str) -> None:
        """Each misuse of a parallel state is reported at its key path."""
        data = json.loads(json.dumps(PARALLEL))
        change(data)
        with pytest.raises(SOPDefinitionError) as info:
            sop_from_dict(data)
        assert expected in str(info.value)


class TestParallelDiagram:
    def test_mermaid_draws_branches_with_unit_and_roles(self) -> None:
        """Each branch is a composite state captioned with its unit and roles."""
        text = to_mermaid(sop_from_dict(PARALLEL))
        assert "state kajian_teknis {" in text
        assert "struktur - unit bidang-struktur - roles ahli_struktur" in text
        assert "        --\n" in text
        assert "kajian_teknis --> keputusan : every branch done" in text

    def test_dot_draws_a_cluster_per_branch(self) -> None:
        """Each branch is a dashed cluster; its final state leads to ``then``."""
        text = to_dot(sop_from_dict(PARALLEL))
        assert 'subgraph "cluster_kebakaran"' in text
        assert '"kebakaran_selesai" -> "keputusan"' in text


class TestParallelFlowReport:
    def test_time_in_each_branch(self, pdesk: ServiceDesk, clock: FakeClock) -> None:
        """The flow report has one stage per branch, from the parallel state's entry to the
        branch's end, and the parallel state's own stay is not split by branch moves."""
        request_id = _started(pdesk)  # Monday 6 July 2026, 08:00 WIB
        clock.advance(dt.timedelta(hours=2))
        pdesk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-1"})
        clock.advance(dt.timedelta(hours=3))
        pdesk.act(request_id, "setuju_kebakaran", actor=KEBAKARAN, data={"ba_kebakaran": "D-2"})
        flow = RequestFlow([sop_from_dict(PARALLEL)], indonesian_government_calendar())
        for entry in _entries(pdesk):
            flow.feed(entry)
        durations = flow.total.durations
        assert durations["kajian_teknis.struktur"] == [2 * 3600]
        # 08:00 to 13:00 on the working calendar (its midday break does not count).
        assert durations["kajian_teknis.kebakaran"] == durations["kajian_teknis"]
        assert durations["kajian_teknis.kebakaran"][0] > 2 * 3600


class TestParallelStoreCheck:
    def test_tables_agree_with_the_log(self, pdesk: ServiceDesk, ledger_key: SigningKey) -> None:
        """A request moved through its branches passes the store's check."""
        request_id = _started(pdesk)
        pdesk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-1"})
        report = verify_store(pdesk.store, [ledger_key.verifier])
        assert report.ok, [p.render() for p in report.problems]


class TestParallelClocks:
    def test_a_branch_move_does_not_reenter_the_parallel_state(
        self, store: Store, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A clock reset on entering the parallel state is not reset by branch moves; the
        last branch's action enters ``then`` and stops it."""
        data = json.loads(json.dumps(PARALLEL))
        data["clocks"] = [
            {
                "name": "kajian",
                "start": {"on_enter": ["kajian_teknis"]},
                "reset": {"on_enter": ["kajian_teknis"]},
                "stop": {"on_enter": ["keputusan", "selesai"]},
                "target": {"working_days": 5},
            }
        ]
        desk = ServiceDesk(store, sops=[sop_from_dict(data)], signing_key=ledger_key, clock=clock)
        request_id = _started(desk)
        assert [c["change"] for c in _entries(desk)[-1]["clocks"]] == ["start"]
        desk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-1"})
        assert "clocks" not in _entries(desk)[-1]
        desk.act(request_id, "setuju_kebakaran", actor=KEBAKARAN, data={"ba_kebakaran": "D-2"})
        assert [c["change"] for c in _entries(desk)[-1]["clocks"]] == ["stop"]


class TestParallelMigration:
    def test_branch_progress_survives_a_migration(
        self, store: Store, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A request migrated into the same parallel state keeps each branch's state."""
        newer = json.loads(json.dumps(PARALLEL))
        newer["version"] = "2.0.0"
        newer["title"] = "Kajian paralel (revisi)"
        newer["migrations"] = [
            {"from_version": "1.0.0", "states": {"kajian_teknis": "kajian_teknis"}}
        ]
        desk = ServiceDesk(
            store,
            sops=[sop_from_dict(PARALLEL), sop_from_dict(newer)],
            signing_key=ledger_key,
            clock=clock,
        )
        request_id = desk.submit("kajian", actor=PEMOHON, data={}, version="1.0.0").request.id
        desk.act(request_id, "mulai", actor=PETUGAS)
        desk.act(request_id, "setuju_struktur", actor=STRUKTUR, data={"ba_struktur": "D-1"})
        migration = desk.sops.migration("kajian", "1.0.0", "2.0.0")
        moved = desk.migrate(request_id, migration, actor=PETUGAS).request
        assert moved.meta["branches"] == {
            "struktur": "struktur_selesai",
            "kebakaran": "telaah_kebakaran",
        }
        desk.act(request_id, "setuju_kebakaran", actor=KEBAKARAN, data={"ba_kebakaran": "D-2"})
        assert desk.get(request_id).state == "keputusan"


class TestParallelWording:
    def test_branch_stages_follow_their_state_with_both_labels(self) -> None:
        """A branch stage is named after its state and branch, and ordered after the state."""
        sop = sop_from_dict(PARALLEL)
        order = workflow_order([sop])
        assert order["kajian_teknis"] < order["kajian_teknis.struktur"] < order["keputusan"]
        words = Wording(lang="en", sops=(sop,))
        assert words.state("kajian_teknis.struktur") == "kajian_teknis: struktur"
        assert words.state("kajian_teknis.nothing") == "kajian_teknis.nothing"
