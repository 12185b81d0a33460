"""Personal data: sealing, reveal, erasure, legal holds, retention, publication."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk_support import CITIZEN_DATA, PLAINTEXTS
from pelayanan.access import Actor
from pelayanan.desk import ServiceDesk
from pelayanan.exceptions import (
    ConfigurationError,
    PrivacyError,
    SOPDefinitionError,
)
from pelayanan.privacy import (
    RetentionPeriod,
    RetentionSchedule,
    Vault,
    generate_master_key,
    is_sealed,
    load_master_key,
    publish_statistics,
    write_master_key,
)
from pelayanan.sop import SOP, load_sop, sop_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class TestSOPPrivacySection:
    """The SOP ``privacy`` section marks personal fields."""

    def _doc(self, privacy: Any) -> dict[str, Any]:
        return {
            "id": "x",
            "version": "1",
            "title": "t",
            "unit": "u",
            "roles": {"citizen": "", "verifier": ""},
            "initial": "a",
            "states": {"a": {}, "b": {"final": True}},
            "actions": [{"name": "go", "from": "a", "to": "b", "roles": ["verifier"]}],
            "privacy": privacy,
        }

    def test_example_sop_marks_citizen_fields(self, complaint_sop: SOP) -> None:
        """The example complaint SOP marks nama, nik, telepon and alamat personal."""
        policy = complaint_sop.privacy
        assert {"nama", "nik", "telepon", "alamat"} <= set(policy.fields)
        assert policy.fields["nik"].kind == "nik"
        assert policy.roles_for("nama") == ("verifier", "supervisor")
        assert not policy.is_personal("category")

    def test_shorthand_and_override(self) -> None:
        """A bare kind is shorthand; a field may override the reveal roles."""
        sop = sop_from_dict(
            self._doc(
                {
                    "reveal_roles": ["verifier"],
                    "retention": "arsip",
                    "fields": {"nama": "name", "nik": {"kind": "nik", "reveal_roles": []}},
                }
            )
        )
        assert sop.privacy.fields["nama"].kind == "name"
        assert sop.privacy.roles_for("nama") == ("verifier",)
        assert sop.privacy.roles_for("nik") == ()
        assert sop.privacy.retention == "arsip"

    def test_public_drops_personal_fields(self, complaint_sop: SOP) -> None:
        """The routing view of a request's data holds no personal field."""
        assert complaint_sop.privacy.public(CITIZEN_DATA) == {
            "subject": "Jalan berlubang",
            "category": "infrastruktur",
        }

    def test_no_section_means_no_personal_fields(self) -> None:
        """An SOP without the section has no personal fields."""
        doc = self._doc(None)
        del doc["privacy"]
        assert sop_from_dict(doc).privacy.fields == {}

    @pytest.mark.parametrize(
        ("privacy", "path"),
        [
            ({"fields": {"nama": {"kind": "face"}}}, "privacy.fields.nama.kind"),
            ({"reveal_roles": ["ghost"]}, "privacy.reveal_roles"),
            ({"fields": {"Nama": "name"}}, "privacy.fields.Nama"),
            ({"fieldz": {}}, "privacy.fieldz"),
            ({"retention": 5}, "privacy.retention"),
            ("yes", "privacy"),
        ],
    )
    def test_invalid_sections_are_refused_with_their_path(
        self, privacy: Any, path: str, tmp_path: Path
    ) -> None:
        """Bad kinds, undeclared roles, bad names and unknown keys name their key path."""
        import yaml

        file = tmp_path / "bad.yaml"
        file.write_text(yaml.safe_dump(self._doc(privacy)), encoding="utf-8")
        with pytest.raises(SOPDefinitionError) as info:
            load_sop(file)
        problem = next(p for p in info.value.problems if p.path == path)
        assert problem.line is not None


class TestVault:
    """The vault seals values under per-subject keys wrapped by the master key."""

    def test_seal_open_round_trip(self, master_key: bytes) -> None:
        """A sealed value opens in the same context and names its subject, never the value."""
        vault = Vault(master_key)
        wrapped, key = vault.new_key("subj-a", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal("3273015708910004", ledger="l", request="r", field="nik")
        assert is_sealed(sealed)
        assert "3273015708910004" not in json.dumps(sealed)
        again = vault.unwrap(wrapped)
        assert again.open(sealed, ledger="l", request="r", field="nik") == "3273015708910004"
        assert again.matches(sealed, field="nik", value="3273015708910004")
        assert not again.matches(sealed, field="nik", value="3273015708910005")

    @pytest.mark.parametrize(
        "context",
        [
            {"ledger": "other", "request": "r", "field": "nik"},
            {"ledger": "l", "request": "r2", "field": "nik"},
            {"ledger": "l", "request": "r", "field": "telepon"},
        ],
    )
    def test_sealed_value_is_bound_to_its_place(
        self, master_key: bytes, context: dict[str, str]
    ) -> None:
        """A sealed value moved to another ledger, request or field does not decrypt."""
        _, key = Vault(master_key).new_key("subj-a", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal("x", ledger="l", request="r", field="nik")
        with pytest.raises(PrivacyError, match="does not decrypt"):
            key.open(sealed, **context)

    def test_wrong_master_key_does_not_unwrap(self, master_key: bytes) -> None:
        """A key wrapped under one master key does not unwrap under another."""
        wrapped, _ = Vault(master_key).new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        with pytest.raises(PrivacyError, match="wrong vault master key"):
            Vault(generate_master_key()).unwrap(wrapped)

    def test_wrapped_key_is_bound_to_its_subject(self, master_key: bytes) -> None:
        """A wrapped key copied to another subject id does not unwrap."""
        vault = Vault(master_key)
        wrapped, _ = vault.new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        with pytest.raises(PrivacyError):
            vault.unwrap(attrs.evolve(wrapped, subject="other"))

    def test_index_tag_is_keyed_not_a_bare_hash(self, master_key: bytes) -> None:
        """NIK index tags depend on the master key and ignore separators."""
        import hashlib

        nik = "3273015708910004"
        tag = Vault(master_key).index_tag("nik", nik)
        assert tag == Vault(master_key).index_tag("nik", "3273 0157.0891-0004")
        assert tag != Vault(generate_master_key()).index_tag("nik", nik)
        assert tag != hashlib.sha256(nik.encode()).hexdigest()

    def test_master_key_must_be_32_bytes(self) -> None:
        """A short master key is refused with a typed error."""
        with pytest.raises(PrivacyError, match="32 bytes"):
            Vault(b"short")

    def test_master_key_file_is_private(self, tmp_path: Path, master_key: bytes) -> None:
        """The master key file is written mode 0600 and reads back."""
        path = write_master_key(master_key, tmp_path / "k" / "vault-master.key")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_master_key(path) == master_key
        path.write_bytes(b"x")
        with pytest.raises(PrivacyError, match="not a vault master key"):
            load_master_key(path)

    @settings(max_examples=30)
    @given(value=st.text() | st.integers(-(2**53) + 1, 2**53 - 1), field=st.text(min_size=1))
    def test_any_text_value_round_trips(self, master_key: bytes, value: Any, field: str) -> None:
        """Every canonical-JSON text or integer value seals and opens unchanged."""
        _, key = Vault(master_key).new_key("s", at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        sealed = key.seal(value, ledger="l", request="r", field=field)
        assert key.open(sealed, ledger="l", request="r", field=field) == value


class TestRetentionPeriod:
    """Retention periods parse from ISO 8601 and add calendar time."""

    @pytest.mark.parametrize(
        ("text", "period"),
        [
            ("P5Y", RetentionPeriod(years=5)),
            ("p1y6m", RetentionPeriod(years=1, months=6)),
            ("P90D", RetentionPeriod(days=90)),
        ],
    )
    def test_parse(self, text: str, period: RetentionPeriod) -> None:
        """Years, months and days parse, case-insensitively."""
        assert RetentionPeriod.parse(text) == period

    @pytest.mark.parametrize("text", ["", "P", "5Y", "P1W", "PT5H", "P-1Y"])
    def test_invalid(self, text: str) -> None:
        """Anything else is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            RetentionPeriod.parse(text)

    def test_month_end_is_clamped(self) -> None:
        """One month after 31 January is the end of February."""
        start = dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)
        assert RetentionPeriod(months=1).after(start) == dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC)

    @settings(max_examples=50)
    @given(
        years=st.integers(0, 50),
        months=st.integers(0, 30),
        days=st.integers(0, 4000),
    )
    def test_str_round_trips(self, years: int, months: int, days: int) -> None:
        """The printed form parses back to the same period."""
        period = RetentionPeriod(years, months, days)
        assert RetentionPeriod.parse(str(period)) == period

    def test_no_default_classes(self) -> None:
        """No retention class ships with the library."""
        assert RetentionSchedule().classes == {}


class TestPublication:
    """Publication exports only aggregated, non-personal counts."""

    def test_counts_without_personal_data(
        self, pdesk: ServiceDesk, staff: dict[str, Actor]
    ) -> None:
        """Cells count requests per SOP, month and state; no id, actor or value leaks."""
        for _ in range(3):
            pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        published = publish_statistics(pdesk.store.requests())
        assert published["cells"] == [
            {"sop": "pengaduan-umum", "month": "2026-07", "state": "received", "count": 3}
        ]
        text = json.dumps(published)
        for value in [*PLAINTEXTS, "subj-", "REQ-", staff["citizen"].id]:
            assert value not in text

    def test_small_cells_are_suppressed(self, pdesk: ServiceDesk, staff: dict[str, Actor]) -> None:
        """Cells below min_count carry no count."""
        pdesk.submit("pengaduan-umum", actor=staff["citizen"], data=CITIZEN_DATA)
        published = publish_statistics(pdesk.store.requests(), min_count=5)
        assert published["cells"][0] == {
            "sop": "pengaduan-umum",
            "month": "2026-07",
            "state": "received",
            "suppressed": True,
        }
        assert published["suppressed_cells"] == 1


def test_load_sop_keeps_privacy_section() -> None:
    """Loading the example file (YAML) carries the privacy section into the SOP."""
    sop = load_sop(EXAMPLES / "sop" / "pengaduan.yaml")
    assert sop.privacy.reveal_roles == ("verifier", "supervisor")
