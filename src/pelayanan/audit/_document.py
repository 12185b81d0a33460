"""Reading the small JSON documents the audit package writes (keyrings, receipts)."""

from __future__ import annotations

import json
from typing import Any

from pelayanan.exceptions import PelayananError

__all__ = ["read_document"]


def read_document(
    text: str, *, fmt: str, what: str, wrong_format: str, error: type[PelayananError]
) -> dict[str, Any]:
    """Parse *text* as a JSON object whose ``format`` field is *fmt*.

    Args:
        text: the document text.
        fmt: the ``format`` value the document must carry.
        what: the document's name for the not-JSON message (``"keyring"``).
        wrong_format: the message when the text is JSON but not this kind of document.
        error: the error class to raise, the caller's own.

    Returns:
        The decoded object; its other fields are for the caller to check.

    Raises:
        PelayananError: of class *error*, when the text is not JSON or not this document.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{what} is not JSON: {exc}"
        raise error(msg) from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise error(wrong_format)
    return doc
