"""The working-table replay: for any desk history, the rows equal what the log produces."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import Actor
from pelayanan.audit.keys import generate_key_pair
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import RequestError
from pelayanan.sop import load_sop
from pelayanan.store import MemoryStore, verify_store
from pelayanan.testing import FakeClock

SOP = load_sop(Path(__file__).resolve().parents[2] / "examples" / "sop" / "pengaduan.yaml")
KEY = generate_key_pair()
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)

ACTORS = {
    "citizen": Actor("warga-1", {"citizen"}),
    "verifier": Actor("ver-1", {"verifier"}, "unit-pengaduan"),
    "verifier2": Actor("ver-2", {"verifier"}, "unit-pengaduan"),
    "supervisor": Actor("kabid-1", {"supervisor"}, "unit-pengaduan"),
    "officer": Actor("petugas-1", {"officer"}, "dinas-pu"),
}
ACTION_DATA = {
    "dispatch": {"assigned_unit": "dinas-pu"},
    "follow_up": {"follow_up_note": "jalan sudah diperbaiki"},
    "reply": {"reply_note": "belum selesai"},
}
JUSTIFIED = {"reject", "bukan_wewenang"}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit")),
        st.tuples(
            st.just("act"),
            st.integers(0, 3),
            st.sampled_from(sorted({a.name for a in SOP.actions})),
            st.sampled_from(sorted(ACTORS)),
        ),
        st.tuples(st.just("wait"), st.integers(1, 96)),
        st.tuples(st.just("tick")),
    ),
    max_size=30,
)


class TestReplay:
    @given(steps)
    def test_any_desk_history_replays_to_the_stored_rows(
        self, history: list[tuple[object, ...]]
    ) -> None:
        """Whatever the desk did (refusals, SLA events, escalations), verify finds no problem."""
        store = MemoryStore()
        clock = FakeClock(T0)
        desk = ServiceDesk(store, sops=[SOP], signing_key=KEY, clock=clock)
        submitted: list[str] = []
        for step in history:
            if step[0] == "submit":
                data = {"subject": "jalan rusak", "category": "infrastruktur"}
                result = desk.submit("pengaduan-umum", actor=ACTORS["citizen"], data=data)
                submitted.append(result.request.id)
            elif step[0] == "act" and submitted:
                _, index, action, who = step
                request_id = submitted[int(str(index)) % len(submitted)]
                reason = "alasan tertulis" if action in JUSTIFIED else None
                # A refusal is recorded and must leave the row as it was.
                with contextlib.suppress(RequestError):
                    desk.act(
                        request_id,
                        str(action),
                        actor=ACTORS[str(who)],
                        data=ACTION_DATA.get(str(action)),
                        justification=reason,
                    )
            elif step[0] == "wait":
                clock.advance(hours=float(str(step[1])))
            elif step[0] == "tick":
                desk.tick()
        if not store.ledgers():
            return
        report = verify_store(store, [KEY.verifier])
        assert report.ok, [p.render() for p in report.problems]
