"""Properties of the desk's boundaries: caller values bounded, entry times non-decreasing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pelayanan.access import MAX_ID_LENGTH, Actor
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.desk import ServiceDesk
from pelayanan.desk._bounds import Bounds
from pelayanan.sop import SOP, load_sop
from pelayanan.store import MemoryStore
from pelayanan.testing import FakeClock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY: SigningKey = generate_key_pair()
SOP_: SOP = load_sop(EXAMPLES / "sop" / "pengaduan.yaml")
START = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)


class TestBounds:
    @given(st.text(max_size=2 * MAX_ID_LENGTH))
    def test_an_id_is_kept_exactly_when_within_the_limit(self, value: str) -> None:
        """Within MAX_ID_LENGTH the id is kept; beyond it a marker replaces it, named."""
        bounds = Bounds()
        kept = bounds.id(value, "request_id")
        if len(value) <= MAX_ID_LENGTH:
            assert kept == value
            assert bounds.error("act") is None
        else:
            assert kept == "(request_id longer than MAX_ID_LENGTH)"
            error = bounds.error("act")
            assert error is not None
            assert "request_id" in str(error)
            assert value not in str(error)


class TestHeldTimes:
    @given(st.lists(st.integers(min_value=-600, max_value=600), min_size=1, max_size=6))
    def test_held_entries_never_go_back_in_time(self, offsets: list[int]) -> None:
        """With clock_skew="hold", whatever the desks' clocks say, times never decrease."""
        store = MemoryStore()
        for offset in offsets:
            clock = FakeClock(START + dt.timedelta(seconds=offset))
            desk = ServiceDesk(store, sops=[SOP_], signing_key=KEY, clock=clock, clock_skew="hold")
            data = {"subject": "s", "category": "sosial"}
            desk.submit("pengaduan-umum", actor=Actor("w", {"citizen"}), data=data)
        entries = [json.loads(e.data) for e in store.entries("default")]
        times = [e["time"] for e in entries]
        assert times == sorted(times)
        # An entry is held exactly when its desk's clock was behind the ledger's last entry.
        for index, entry in enumerate(entries):
            behind = index > 0 and offsets[index] < max(offsets[:index])
            assert ("host_time" in entry) == behind
            if behind:
                assert entry["host_time"] < entry["time"]
