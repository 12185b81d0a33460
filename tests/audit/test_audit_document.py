"""The JSON document reader shared by keyrings and receipts."""

import pytest

from pelayanan.audit._document import read_document
from pelayanan.exceptions import KeyMaterialError, ProofError


def _read(text: str) -> dict[str, object]:
    return read_document(
        text, fmt="f/1", what="thing", wrong_format="not a thing", error=ProofError
    )


class TestReadDocument:
    def test_reads_object(self) -> None:
        """A JSON object with the right format field is returned whole."""
        assert _read('{"format": "f/1", "x": 2}') == {"format": "f/1", "x": 2}

    def test_not_json(self) -> None:
        """Text that is not JSON raises the caller's error, naming the document."""
        with pytest.raises(ProofError, match=r"^thing is not JSON: "):
            _read("{nope")

    @pytest.mark.parametrize("text", ['{"format": "f/2"}', "[1]", '"f/1"', "{}"])
    def test_wrong_format(self, text: str) -> None:
        """JSON that is not an object with this format raises the caller's message."""
        with pytest.raises(ProofError, match=r"^not a thing$"):
            _read(text)

    def test_error_class_is_the_callers(self) -> None:
        """The error raised is of the class the caller passes."""
        with pytest.raises(KeyMaterialError):
            read_document("1", fmt="k", what="keyring", wrong_format="no", error=KeyMaterialError)
