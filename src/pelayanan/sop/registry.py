"""A registry of SOP versions held side by side."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pelayanan.exceptions import Problem, SOPVersionConflictError, UnknownSOPError
from pelayanan.sop.model import SOP

__all__ = ["SOPRegistry"]


class SOPRegistry:
    """Holds several SOPs and several versions of each; requests pin exact versions."""

    def __init__(self, sops: Iterable[SOP] = ()) -> None:
        self._by_key: dict[tuple[str, str], SOP] = {}
        self._latest: dict[str, SOP] = {}
        for sop in sops:
            self.register(sop)

    def register(self, sop: SOP) -> SOP:
        """Add *sop*; the newest registered version of an id becomes its default.

        Raises:
            SOPVersionConflictError: another definition is registered under the same id
                and version (a changed SOP needs a new version number).
        """
        existing = self._by_key.get(sop.key)
        if existing is not None:
            if existing.content_hash != sop.content_hash:
                message = (
                    f"SOP {sop.id!r} version {sop.version!r} is already registered with "
                    "different content; give the changed SOP a new version"
                )
                raise SOPVersionConflictError([Problem("version", message, sop.source, None)])
            return existing
        self._by_key[sop.key] = sop
        self._latest[sop.id] = sop
        return sop

    def get(self, sop_id: str, version: str | None = None) -> SOP:
        """Return SOP *sop_id* at *version* (the latest registered when ``None``).

        Raises:
            UnknownSOPError: no such SOP or version.
        """
        sop = self._latest.get(sop_id) if version is None else self._by_key.get((sop_id, version))
        if sop is None:
            what = sop_id if version is None else f"{sop_id} version {version}"
            msg = f"no SOP {what} is registered"
            raise UnknownSOPError(msg)
        return sop

    def __iter__(self) -> Iterator[SOP]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)
