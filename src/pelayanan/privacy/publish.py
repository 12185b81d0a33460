"""Publication mode: aggregated, non-personal figures for open data.

Perpres 76/2013 asks that complaint handling results be published, and Satu Data
Indonesia (Perpres 39/2019) asks for machine-readable open formats (docs/sources.md).
Publication counts requests per SOP, state and month and nothing else: no request id,
no actor, no field value, so no personal data can leave through it.  Small counts can
still single a person out; ``min_count`` suppresses cells below a threshold the
publisher chooses (no threshold is shipped).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["PUBLICATION_FORMAT", "publish_statistics"]

#: The ``format`` member of a publication.
PUBLICATION_FORMAT = "pelayanan-open-data-v1"


class _Record(Protocol):
    @property
    def sop_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def created_at(self) -> dt.datetime: ...


def publish_statistics(
    requests: Iterable[_Record],
    *,
    tz: dt.tzinfo = dt.UTC,
    min_count: int | None = None,
) -> dict[str, Any]:
    """Count requests per SOP, current state and month of submission.

    Args:
        requests: the requests (e.g. ``store.requests()``).
        tz: the zone that decides which month a submission falls in.
        min_count: cells with fewer requests are published as ``"suppressed": true``
            without their count.

    Returns:
        ``{"format": ..., "cells": [{"sop", "state", "month", "count"}...], ...}``, cells
        sorted by SOP, month and state.
    """
    counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for record in requests:
        month = record.created_at.astimezone(tz).strftime("%Y-%m")
        counts[(record.sop_id, month, record.state)] += 1
    cells: list[dict[str, Any]] = []
    suppressed = 0
    for (sop_id, month, state), count in sorted(counts.items()):
        cell: dict[str, Any] = {"sop": sop_id, "month": month, "state": state}
        if min_count is not None and count < min_count:
            cell["suppressed"] = True
            suppressed += 1
        else:
            cell["count"] = count
        cells.append(cell)
    return {
        "format": PUBLICATION_FORMAT,
        "time_zone": str(tz),
        "min_count": min_count,
        "cells": cells,
        "suppressed_cells": suppressed,
    }
