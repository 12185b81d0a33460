"""The service desk: the one place that wires SOPs, access, routing, SLA, privacy and the log.

``desk.submit(...)`` opens a request under an SOP; ``desk.act(request_id, action, ...)``
takes an action.  Each call either commits the request's new state together with its
audit entry, or records the refused attempt in the log and raises a typed error; every
operation that appends an entry returns an `ActionResult`.  ``desk.tick(now)`` fires the
SLA warnings, breaches and escalations that are due.
"""

from pelayanan.desk._desk import ServiceDesk
from pelayanan.desk._result import ActionResult

__all__ = ["ActionResult", "ServiceDesk"]
