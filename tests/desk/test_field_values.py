"""Values given to the desk must fit the field types the SOP declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pelayanan.access import Actor
from pelayanan.audit.keys import SigningKey
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import InvalidFieldValueError
from pelayanan.sop import SOP, load_sop
from pelayanan.sop.values import value_problems
from pelayanan.store import MemoryStore
from pelayanan.testing import FakeClock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def permit_sop() -> SOP:
    """The advertising-sign permit: typed fields and a document checklist."""
    return load_sop(EXAMPLES / "sop" / "izin-reklame.yaml")


class TestValueProblems:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ({"sign_size_m2": 12}, []),
            ({"sign_size_m2": "12.5"}, []),
            ({"sign_size_m2": "dua belas"}, ["sign_size_m2"]),
            ({"sign_size_m2": True}, ["sign_size_m2"]),
            ({"fee_amount": 1_500_000}, []),
            ({"fee_amount": "1.5 juta"}, ["fee_amount"]),
            ({"ktp": "DOK-2026-0001"}, []),
            ({"ktp": {"id": "DOK-2026-0001", "pages": 1}}, []),
            ({"ktp": {"pages": 1}}, ["ktp"]),
            ({"ktp": 42}, ["ktp"]),
            ({"applicant_name": 42}, ["applicant_name"]),
            ({"undeclared": object()}, []),
            ({"ktp": ""}, []),
        ],
    )
    def test_types(self, permit_sop: SOP, data: dict[str, object], expected: list[str]) -> None:
        """Each declared type accepts its values and names the field that does not fit."""
        problems = value_problems(permit_sop, data)
        assert [p.split(":")[0] for p in problems] == expected

    def test_message_says_what_is_expected(self, permit_sop: SOP) -> None:
        """The message names the field, the expected type and the kind of value given."""
        (problem,) = value_problems(permit_sop, {"fee_amount": "1.5 juta"})
        assert problem == (
            "fee_amount: expected an amount (integer rupiah or a decimal string), "
            "got text of 8 characters"
        )


class TestDeskRefusesBadValues:
    def test_submit_with_bad_value_is_refused_and_recorded(
        self, permit_sop: SOP, ledger_key: SigningKey, clock: FakeClock
    ) -> None:
        """A submission whose value does not fit its type is refused, recorded, not stored."""
        store = MemoryStore()
        desk = ServiceDesk(store, sops=[permit_sop], signing_key=ledger_key, clock=clock)
        applicant = Actor("pemohon-1", {"applicant"})
        data = {"applicant_name": "CV Maju", "location": "Jl. Asia Afrika", "sign_size_m2": "besar"}
        with pytest.raises(InvalidFieldValueError) as info:
            desk.submit(permit_sop.id, actor=applicant, data=data)
        assert info.value.problems[0].startswith("sign_size_m2: expected a number")
        (entry,) = [json.loads(e.data) for e in store.entries("default")]
        assert entry["kind"] == "refused"
        assert entry["reason"]["error"] == "InvalidFieldValueError"
        assert list(store.requests()) == []
        desk.submit(permit_sop.id, actor=applicant, data={**data, "sign_size_m2": 12})
        assert len(list(store.requests())) == 1
