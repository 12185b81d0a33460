"""`ActionResult`: what every desk operation that appends an entry returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic

import attrs
from typing_extensions import TypeVar

from pelayanan.privacy.settings import ErasureResult
from pelayanan.store.base import RequestRecord
from pelayanan.store.vault import LegalHold

__all__ = ["ActionResult"]

#: What an operation's result holds as its request: a `RequestRecord`, or ``None`` for
#: operations that change no request.  Defaults to `RequestRecord`, so a bare
#: ``ActionResult`` annotation means the common case.
R_co = TypeVar("R_co", bound=RequestRecord | None, default=RequestRecord, covariant=True)


@attrs.frozen
class ActionResult(Generic[R_co]):
    """What a committed desk operation produced: the request, the entry, and its outcome.

    Operations that produce more than a changed request carry it in one optional
    attribute; the others leave those attributes ``None``.

    Attributes:
        request: the request as stored after the operation (as it is now for a reveal or
            a replay); ``None`` for operations on a data subject or a legal hold, which
            change no request (their results are ``ActionResult[None]``).
        seq: the sequence number of the audit entry that records it.
        entry_hash: hex leaf hash of that entry.
        replayed: ``True`` when an idempotency key matched an earlier call, so nothing new
            was applied and *request* is the request as it is now.
        value: the revealed value of a personal field (`ServiceDesk.reveal`).
        subject_data: a data subject's personal data (`ServiceDesk.subject_access`):
            ``{"subject": ID, "requests": {request id: {"sop": ..., "fields": {...}}}}``.
        erasure: the committed erasure (`ServiceDesk.erase_subject`).
        hold: the legal hold placed or released (`ServiceDesk.place_legal_hold`,
            `ServiceDesk.release_legal_hold`).

    .. versionchanged:: Unreleased
       Generic in its request (``ActionResult[None]`` for operations that change no
       request); *value*, *subject_data*, *erasure* and *hold* added.
    """

    request: R_co
    seq: int
    entry_hash: str
    replayed: bool = False
    # A personal field holds whatever JSON value the host submitted.
    value: Any = None
    subject_data: Mapping[str, Any] | None = None
    erasure: ErasureResult | None = None
    hold: LegalHold | None = None
