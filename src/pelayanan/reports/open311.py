"""Open311 GeoReport v2: the public feed of service requests, with no personal data.

The projection is whitelist-based: each request becomes exactly the GeoReport v2 fields
below, built from the SOP definition and the replayed state, never from the request's
own data fields (which may hold personal data).

``service_request_id``
    the request id.
``status``
    ``open`` or ``closed``: the ``public_status`` the SOP declares for its current state.
``status_notes``
    the ``public_note`` of that state.
``service_code`` / ``service_name``
    the SOP id and title.
``agency_responsible``
    the unit holding the request.
``requested_datetime`` / ``updated_datetime``
    submission and last change, ISO 8601 with the calendar zone's offset.
``expected_datetime``
    the deadline of its running SLA clocks as the SLA module recomputes them from the
    log: the earliest running deadline, or with ``clock`` that clock's deadline while it
    runs; ``null`` for a closed request or when no (such) clock runs.  A paused clock
    has no deadline that will hold (it moves on resume), so it is left out.

Requests whose data holds a value the SOP's ``privacy.exclude_from_public`` marks
sensitive (e.g. domestic violence reports) are left out of the feed altogether.

See https://wiki.open311.org/GeoReport_v2/ (GET Service Requests).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from pelayanan.reports.flow import RequestFlow
from pelayanan.sla import ClockVerdict

__all__ = ["OPEN311_FIELDS", "open311_requests", "render_open311"]

#: The fields of one request in the feed, in GeoReport v2 order.
OPEN311_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_code",
    "service_name",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
)


def _local(instant: dt.datetime, zone: dt.tzinfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="seconds")


def open311_requests(
    flow: RequestFlow, *, verdicts: Iterable[ClockVerdict] = (), clock: str | None = None
) -> list[dict[str, str | None]]:
    """Project the replayed requests onto GeoReport v2 service requests.

    Args:
        flow: the replay of the verified log.
        verdicts: the clock verdicts; running ones give ``expected_datetime``.
        clock: take ``expected_datetime`` from this clock only (default: the earliest
            deadline of any running clock).

    Returns:
        One dict per request, in submission order, with exactly `OPEN311_FIELDS`; requests
        the SOP marks sensitive are left out.
    """
    zone = flow.calendar.zone
    expected: dict[str, dt.datetime] = {}
    for verdict in verdicts:
        if verdict.status == "running" and (clock is None or verdict.clock == clock):
            known = expected.get(verdict.request)
            if known is None or verdict.deadline < known:
                expected[verdict.request] = verdict.deadline
    feed: list[dict[str, str | None]] = []
    for track in sorted(flow.tracks.values(), key=lambda t: t.received_seq):
        if track.hidden:
            continue
        state = track.sop.state(track.state)
        deadline = None if track.closed else expected.get(track.id)
        feed.append(
            {
                "service_request_id": track.id,
                "status": "closed" if state.public_status == "closed" else "open",
                "status_notes": state.public_note,
                "service_code": track.sop.id,
                "service_name": track.sop.title,
                "agency_responsible": track.unit or track.sop.unit,
                "requested_datetime": _local(track.received, zone),
                "updated_datetime": _local(track.updated, zone),
                "expected_datetime": None if deadline is None else _local(deadline, zone),
            }
        )
    return feed


def render_open311(feed: list[dict[str, str | None]]) -> str:
    """Render the feed as a JSON array (the GeoReport v2 ``requests.json`` body)."""
    return json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
