"""The limits on what a caller hands the desk besides request data.

Request data is bounded by `pelayanan.sop.values`; the other values the desk records
from the caller are bounded here, before anything is looked up: ids (a request id, an
action name, ``on_behalf_of``, a subject, a hold) by `MAX_ID_LENGTH`, and written text (a
justification, a purpose, a reason, an answer, an instruction) by `MAX_TEXT_LENGTH`.
An oversized value is refused with an `InvalidFieldValueError` whose problems name the
field and the limit; the refusal entry records a marker in its place, never the value.
"""

from __future__ import annotations

from pelayanan.access import MAX_ID_LENGTH
from pelayanan.exceptions import InvalidFieldValueError
from pelayanan.sop.values import MAX_TEXT_LENGTH

__all__ = ["Bounds"]


class Bounds:
    """Collect the oversized values of one call, replacing each by a marker.

    Use `id` and `text` on every caller value the call records, then `error`.  A value
    within its limit comes back as it is; an oversized one as the marker
    ``"(<field> longer than MAX_ID_LENGTH)"`` (or ``MAX_TEXT_LENGTH``).
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def _clip(self, value: object, field: str, name: str, limit: int) -> str:
        if not isinstance(value, str):
            self.problems.append(f"{field}: must be text, got a {type(value).__name__}")
            return f"({field}: not text)"
        if len(value) <= limit:
            return value
        self.problems.append(
            f"{field}: text of {len(value)} characters is longer than the limit {name} ({limit})"
        )
        return f"({field} longer than {name})"

    def id(self, value: str, field: str) -> str:
        """Return the id *value* named *field*, or the marker when over `MAX_ID_LENGTH`."""
        return self._clip(value, field, "MAX_ID_LENGTH", MAX_ID_LENGTH)

    def optional_id(self, value: str | None, field: str) -> str | None:
        """Return *value* (``None`` stays ``None``) checked as by `id`."""
        return None if value is None else self.id(value, field)

    def text(self, value: str, field: str) -> str:
        """Return the text *value* named *field*, or the marker when over `MAX_TEXT_LENGTH`."""
        return self._clip(value, field, "MAX_TEXT_LENGTH", MAX_TEXT_LENGTH)

    def optional_text(self, value: str | None, field: str) -> str | None:
        """Return *value* (``None`` stays ``None``) checked as by `text`."""
        return None if value is None else self.text(value, field)

    def error(self, action: str) -> InvalidFieldValueError | None:
        """Return the error refusing the call's oversized values, or ``None`` if none was.

        Args:
            action: the operation, as the error names it (already checked by `id`).

        Returns:
            An `InvalidFieldValueError` listing each oversized field and its limit.
        """
        if not self.problems:
            return None
        return InvalidFieldValueError(action, self.problems)
