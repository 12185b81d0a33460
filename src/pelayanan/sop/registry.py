"""A registry of SOP versions held side by side."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pelayanan.exceptions import (
    Problem,
    SOPDefinitionError,
    SOPVersionConflictError,
    UnknownSOPError,
)
from pelayanan.sop.model import SOP, Migration

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
            SOPDefinitionError: a migration between this version and a registered one
                maps a state the earlier version does not have (nothing is registered).
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
        # Check the migrations that connect this version to versions already here.
        problems: list[Problem] = []
        for other in self._by_key.values():
            if other.id != sop.id:
                continue
            for index, declared in enumerate(other.migrations):
                earlier = (sop.id, declared.from_version)
                if earlier in self._by_key and sop.key in (other.key, earlier):
                    problems += self._migration_problems(other, index)
        if problems:
            del self._by_key[sop.key]
            self._latest = {s.id: s for s in self._by_key.values()}
            raise SOPDefinitionError(problems)
        return sop

    def _migration_problems(self, sop: SOP, index: int) -> list[Problem]:
        declared = sop.migrations[index]
        earlier = self._by_key[(sop.id, declared.from_version)]
        known = {s.id for s in earlier.states}
        return [
            Problem(
                f"migrations[{index}].states.{old}",
                f"state {old!r} is not a state of version {declared.from_version!r}",
                sop.source,
                None,
            )
            for old in declared.states
            if old not in known
        ]

    def migration(self, sop_id: str, from_version: str, to_version: str) -> Migration:
        """Return the migration of *sop_id* from *from_version* to *to_version*.

        The migration is declared in the newer version's ``migrations`` section.

        Raises:
            UnknownSOPError: either version is not registered, or the newer one declares
                no migration from the earlier one.
            SOPDefinitionError: the mapping names a state the earlier version lacks.
        """
        self.get(sop_id, from_version)
        target = self.get(sop_id, to_version)
        for index, declared in enumerate(target.migrations):
            if declared.from_version == from_version:
                problems = self._migration_problems(target, index)
                if problems:
                    raise SOPDefinitionError(problems)
                return Migration(
                    sop_id=sop_id,
                    from_version=from_version,
                    to_version=to_version,
                    states=dict(declared.states),
                    roles=declared.roles,
                    note=declared.note,
                )
        msg = (
            f"SOP {sop_id} version {to_version} declares no migration from version "
            f"{from_version}; add one under migrations"
        )
        raise UnknownSOPError(msg)

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
