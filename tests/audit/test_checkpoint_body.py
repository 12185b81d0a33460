"""`unsigned_body`: the three values a root check needs, read from a checkpoint note."""

from __future__ import annotations

import datetime as dt

import pytest

from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint, unsigned_body
from pelayanan.audit.keys import SigningKey
from pelayanan.exceptions import SignatureError

WHEN = dt.datetime(2026, 7, 6, 1, 2, 3, 456789, tzinfo=dt.UTC)
ROOT = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
TIME = "time 2026-07-06T01:02:03.456789Z"


class TestUnsignedBody:
    def test_reads_what_the_full_parser_reads(self, ledger_key: SigningKey) -> None:
        """Ledger, size, root and time equal the full parse; no signature is kept."""
        note = Checkpoint("kota", 42, b"\x01" * 32, WHEN).sign(ledger_key).to_text()
        body = unsigned_body(note)
        assert body.checkpoint == SignedCheckpoint.parse(note).checkpoint
        assert body.signatures == ()

    @pytest.mark.parametrize(
        "note",
        [
            "",
            f"other/kota\n42\n{ROOT}\n{TIME}\n",
            f"pelayanan/kota\nx\n{ROOT}\n{TIME}\n",
            f"pelayanan/kota\n42\nAQE=\n{TIME}\n",
            f"pelayanan/kota\n42\n{ROOT}\ntime yesterday\n",
            f"pelayanan/kota\n-1\n{ROOT}\n{TIME}\n",
            f"pelayanan/kota\n42\n{ROOT}\n",
        ],
    )
    def test_an_unreadable_body_is_a_signature_error(self, note: str) -> None:
        """A body whose origin, size, root or time cannot be read is refused, typed."""
        with pytest.raises(SignatureError, match="malformed checkpoint"):
            unsigned_body(note)
