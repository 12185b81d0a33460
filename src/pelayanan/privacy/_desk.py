"""The privacy half of the service desk: sealing, reveal, subject access, erasure, holds.

`ServiceDesk` mixes `PrivacyDesk` in; each operation here commits its audit entry
together with its vault change in one store transaction, and records every refusal.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from pelayanan.access import Actor
from pelayanan.audit.entry import format_time
from pelayanan.clock import Clock, ensure_aware
from pelayanan.exceptions import (
    ConfigurationError,
    ErasureRefusedError,
    IncompleteRequestError,
    PelayananError,
    PermissionDeniedError,
    PrivacyError,
    RequestError,
    SubjectErasedError,
    UnknownRequestError,
    UnknownSOPError,
    UnknownSubjectError,
)
from pelayanan.privacy.retention import RetentionSchedule
from pelayanan.privacy.vault import SubjectKey, Vault, is_sealed, new_subject_id
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry
from pelayanan.store.base import AppendResult, RequestRecord, Store
from pelayanan.store.vault import LegalHold, VaultChange, VaultStore, WrappedKey

if TYPE_CHECKING:
    from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint

__all__ = [
    "DATA_PROTECTION_OFFICER",
    "LEGAL_OFFICER",
    "ErasureResult",
    "PrivacyDesk",
    "PrivacySettings",
    "Sealed",
]

#: The role that answers data-subject requests (access, erasure) and places legal holds.
DATA_PROTECTION_OFFICER = "data_protection_officer"
#: The role of legal staff, who may place and release legal holds.
LEGAL_OFFICER = "legal_officer"


@attrs.frozen
class PrivacySettings:
    """How a desk protects personal data.

    Attributes:
        vault: the vault holding the host's master key.
        retention: the retention classes (none by default: see `RetentionSchedule`).
        officer_roles: roles that may answer data-subject requests (access, erasure).
        hold_roles: roles that may place and release legal holds.
    """

    vault: Vault
    retention: RetentionSchedule = attrs.field(factory=RetentionSchedule)
    officer_roles: tuple[str, ...] = (DATA_PROTECTION_OFFICER,)
    hold_roles: tuple[str, ...] = (DATA_PROTECTION_OFFICER, LEGAL_OFFICER)


@attrs.frozen
class Sealed:
    """Request fields split into clear and sealed parts, and the vault change to commit.

    Attributes:
        clear: the non-personal fields.
        sealed: personal field name -> sealed reference.
        subject: the data subject the sealed fields belong to, if any.
        change: the vault rows to write with the entry, if any.
    """

    clear: Mapping[str, Any]
    sealed: Mapping[str, Any]
    subject: str | None
    change: VaultChange | None


@attrs.frozen
class ErasureResult:
    """A committed erasure: whose key was destroyed, which requests it touched, the entry."""

    subject: str
    requests: tuple[str, ...]
    seq: int
    entry_hash: str


def _role(actor: Actor, allowed: tuple[str, ...], what: str, *, rule: str) -> str:
    matching = sorted(set(allowed) & actor.roles)
    if not matching:
        needs = ", ".join(sorted(allowed)) or "none is declared"
        held = ", ".join(sorted(actor.roles)) or "none"
        msg = f"actor {actor.id!r} may not {what}: it needs one of the roles {needs}; holds {held}"
        raise PermissionDeniedError(msg, rule=rule)
    return matching[0]


def _reason(error: PelayananError) -> dict[str, Any]:
    reason: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
    rule = getattr(error, "rule", None)
    if rule is not None:
        reason["rule"] = rule
    return reason


class PrivacyDesk:
    """Privacy operations of `ServiceDesk` (mixed in)."""

    store: Store
    sops: SOPRegistry
    ledger: str
    clock: Clock
    privacy: PrivacySettings | None

    if TYPE_CHECKING:

        def _sign(self, checkpoint: Checkpoint) -> SignedCheckpoint: ...

    # -- wiring -------------------------------------------------------------------------

    _vault_store_checked: object = None

    def _vault_parts(self) -> tuple[PrivacySettings, VaultStore]:
        if self.privacy is None:
            msg = "this desk has no privacy settings: pass privacy=PrivacySettings(vault=...)"
            raise PrivacyError(msg)
        store = self.store
        # isinstance() against a runtime protocol inspects every method: do it once.
        if self._vault_store_checked is not store:
            if not isinstance(store, VaultStore):
                msg = f"{store!r} has no key vault; use a store that implements VaultStore"
                raise ConfigurationError(msg)
            self._vault_store_checked = store
        return self.privacy, cast("VaultStore", store)

    def _subject_key(self, subject: str) -> SubjectKey:
        settings, store = self._vault_parts()
        wrapped = store.vault_key(subject)
        if wrapped is None:
            if store.vault_subject(subject) is None:
                raise UnknownSubjectError(subject)
            msg = f"data subject {subject!r} was erased: their personal data is unrecoverable"
            raise SubjectErasedError(msg)
        return settings.vault.unwrap(wrapped)

    def _seal(
        self,
        sop: SOP,
        request_id: str,
        subject: str | None,
        fields: Mapping[str, Any],
        now: dt.datetime,
    ) -> Sealed:
        """Split *fields* into clear and sealed parts, finding or making the data subject."""
        policy = sop.privacy
        personal = {
            k: v
            for k, v in fields.items()
            if policy.is_personal(k) and v not in (None, "") and not is_sealed(v)
        }
        if not personal:
            return Sealed(fields, {}, subject, None)
        if self.privacy is None:
            names = ", ".join(sorted(personal))
            msg = (
                f"SOP {sop.id!r} marks {names} personal: give the desk "
                "privacy=PrivacySettings(vault=...) so they are stored encrypted"
            )
            raise PrivacyError(msg)
        settings, store = self._vault_parts()
        vault = settings.vault
        tags = [
            vault.index_tag("nik", str(value))
            for name, value in personal.items()
            if policy.fields[name].kind == "nik"
        ]
        # A request that already names its subject is already linked to it.
        linked = subject is not None
        if subject is None:
            subject = next((s for s in map(store.vault_find, tags) if s is not None), None)
        new_keys: tuple[WrappedKey, ...] = ()
        if subject is None:
            wrapped, key = vault.new_key(new_subject_id(), at=now)
            subject = key.subject
            new_keys = (wrapped,)
        else:
            key = self._subject_key(subject)
        sealed = {
            name: key.seal(value, ledger=self.ledger, request=request_id, field=name)
            for name, value in personal.items()
        }
        clear = {k: v for k, v in fields.items() if k not in sealed}
        change = VaultChange(
            now,
            keys=new_keys,
            index=tuple((tag, subject) for tag in tags),
            links=() if linked else ((subject, request_id),),
        )
        if not (change.keys or change.index or change.links):
            return Sealed(clear, sealed, subject, None)
        return Sealed(clear, sealed, subject, change)

    def _commit_sealed(
        self,
        body: Mapping[str, Any],
        *,
        time: dt.datetime,
        change: VaultChange | None,
        request: RequestRecord | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendResult:
        if change is None:
            return self.store.append(
                self.ledger,
                body,
                time=time,
                request=request,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
                sign=self._sign,
            )
        _, store = self._vault_parts()
        return store.append_with_vault(
            self.ledger,
            body,
            time=time,
            change=change,
            request=request,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
            sign=self._sign,
        )

    def _record(self, kind: str, actor: Actor, now: dt.datetime, **fields: Any) -> AppendResult:
        body = {"time": format_time(now), "kind": kind, "actor": actor.id, **fields}
        return self.store.append(self.ledger, body, time=now, sign=self._sign)

    def _now(self) -> dt.datetime:
        return ensure_aware(self.clock.now(), what="clock time")

    # -- reveal -------------------------------------------------------------------------

    def reveal(self, request_id: str, field: str, *, actor: Actor, purpose: str) -> Any:
        """Decrypt personal *field* of *request_id* for *actor*, stating *purpose*.

        The reveal is recorded (``kind: "reveal"``: who saw whose data, which field, why);
        a refused reveal is recorded too (``kind: "reveal_refused"``).

        Args:
            request_id: the request.
            field: the personal field to reveal.
            actor: who looks; must hold a role the SOP allows to reveal the field.
            purpose: why, in words an auditor can check.

        Returns:
            The field's value.

        Raises:
            UnknownRequestError: no such request.
            IncompleteRequestError: no purpose was given.
            PermissionDeniedError: the actor's roles may not reveal the field.
            PrivacyError: the field is not personal, or holds no value.
            SubjectErasedError: the data subject was erased.
        """
        now = self._now()
        record = self.store.get_request(request_id)
        subject: str | None = None
        try:
            if record is None:
                raise UnknownRequestError(request_id)
            sop = self.sops.get(record.sop_id, record.sop_version)
            if not (purpose and purpose.strip()):
                raise IncompleteRequestError("reveal", ["purpose"])
            if not sop.privacy.is_personal(field):
                msg = f"field {field!r} is not personal in SOP {sop.id!r}: read it from the data"
                raise PrivacyError(msg)
            role = _role(
                actor, sop.privacy.roles_for(field), f"reveal {field!r}", rule="reveal_role"
            )
            sealed: Any = record.data.get(field)
            if not is_sealed(sealed):
                msg = f"request {request_id!r} holds no value for personal field {field!r}"
                raise PrivacyError(msg)
            subject = str(sealed["subject"])
            key = self._subject_key(subject)
            value = key.open(sealed, ledger=record.ledger, request=request_id, field=field)
        except (RequestError, PrivacyError) as exc:
            self._record(
                "reveal_refused",
                actor,
                now,
                request=request_id,
                field=field,
                subject=subject,
                purpose=purpose,
                reason=_reason(exc),
            )
            raise
        self._record(
            "reveal",
            actor,
            now,
            request=request_id,
            field=field,
            subject=subject,
            role=role,
            purpose=purpose,
        )
        return value

    def subject_access(self, subject: str, *, actor: Actor, purpose: str) -> dict[str, Any]:
        """Return all personal data of *subject* (the right of access, UU 27/2022 Pasal 7).

        Recorded as a ``reveal`` of the whole subject (``scope: "subject"``); refusals as
        ``reveal_refused``.

        Returns:
            ``{"subject": ID, "requests": {request id: {"sop": ..., "fields": {...}}}}``.

        Raises:
            IncompleteRequestError: no purpose was given.
            PermissionDeniedError: the actor is not a data protection officer.
            UnknownSubjectError: no such subject.
            SubjectErasedError: the subject was erased.
        """
        now = self._now()
        requests: dict[str, Any] = {}
        try:
            settings, store = self._vault_parts()
            if not (purpose and purpose.strip()):
                raise IncompleteRequestError("subject_access", ["purpose"])
            role = _role(
                actor, settings.officer_roles, "answer a subject access request", rule="officer"
            )
            key = self._subject_key(subject)
            for request_id in store.vault_requests(subject):
                record = self.store.get_request(request_id)
                if record is None:
                    continue
                fields = {
                    name: key.open(value, ledger=record.ledger, request=request_id, field=name)
                    for name, value in sorted(record.data.items())
                    if is_sealed(value) and value["subject"] == subject
                }
                requests[request_id] = {"sop": record.sop_id, "fields": fields}
        except (RequestError, PrivacyError) as exc:
            self._record(
                "reveal_refused",
                actor,
                now,
                scope="subject",
                subject=subject,
                purpose=purpose,
                reason=_reason(exc),
            )
            raise
        self._record(
            "reveal",
            actor,
            now,
            scope="subject",
            subject=subject,
            requests=sorted(requests),
            fields=sorted({f for r in requests.values() for f in r["fields"]}),
            role=role,
            purpose=purpose,
        )
        return {"subject": subject, "requests": requests}

    def find_subject(self, nik: str) -> str | None:
        """Return the data subject whose requests carry NIK *nik* (keyed index), or ``None``."""
        settings, store = self._vault_parts()
        return store.vault_find(settings.vault.index_tag("nik", nik))

    # -- erasure and legal holds ----------------------------------------------------------

    def _retention_block(
        self, settings: PrivacySettings, requests: list[str], now: dt.datetime
    ) -> ErasureRefusedError | None:
        for request_id in requests:
            record = self.store.get_request(request_id)
            if record is None:
                continue
            try:
                sop = self.sops.get(record.sop_id, record.sop_version)
            except UnknownSOPError:
                msg = (
                    f"request {request_id} runs under SOP {record.sop_id} "
                    f"{record.sop_version}, which this desk does not know: its retention "
                    "cannot be checked"
                )
                return ErasureRefusedError(msg, rule="retention_unconfigured")
            name = sop.privacy.retention
            if name is None:
                continue
            period = settings.retention.period(name)
            if period is None:
                msg = (
                    f"request {request_id} falls under retention class {name!r}, which has no "
                    "configured period: configure it before erasing"
                )
                return ErasureRefusedError(msg, rule="retention_unconfigured")
            if not record.closed:
                msg = (
                    f"request {request_id} is still open; retention class {name!r} "
                    f"({period}) runs from its closing"
                )
                return ErasureRefusedError(msg, rule="retention")
            until = period.after(record.updated_at)
            if now < until:
                msg = (
                    f"request {request_id} is under retention class {name!r} ({period}) "
                    f"until {format_time(until)}"
                )
                return ErasureRefusedError(msg, rule="retention", until=until)
        return None

    def erase_subject(self, subject: str, *, actor: Actor, reason: str) -> ErasureResult:
        """Erase *subject*: destroy their key, so their data is unrecoverable everywhere.

        The sealed values stay in the store, the log and every export, so every hash still
        verifies, but nothing can decrypt them any more.  Recorded as ``kind: "erasure"``;
        a refusal as ``kind: "erasure_refused"`` with the rule that refused it.

        Args:
            subject: the data-subject id.
            actor: a data protection officer.
            reason: why (e.g. the erasure request's reference); no personal data here.

        Raises:
            PermissionDeniedError: the actor is not a data protection officer.
            IncompleteRequestError: no reason was given.
            UnknownSubjectError: no such subject.
            SubjectErasedError: the subject was already erased.
            ErasureRefusedError: a legal hold or unexpired retention applies (``.rule``).
        """
        now = self._now()
        requests: list[str] = []
        try:
            settings, store = self._vault_parts()
            role = _role(actor, settings.officer_roles, "erase a data subject", rule="officer")
            if not (reason and reason.strip()):
                raise IncompleteRequestError("erase", ["reason"])
            known = store.vault_subject(subject)
            if known is None:
                raise UnknownSubjectError(subject)
            if known.erased:
                msg = f"data subject {subject!r} was already erased"
                raise SubjectErasedError(msg)
            requests = store.vault_requests(subject)
            holds = store.vault_holds(subject=subject, requests=tuple(requests))
            if holds:
                names = ", ".join(f"{h.id} ({h.reason})" for h in holds)
                msg = f"data subject {subject!r} is under legal hold: {names}"
                raise ErasureRefusedError(msg, rule="legal_hold", holds=[h.id for h in holds])
            blocked = self._retention_block(settings, requests, now)
            if blocked is not None:
                raise blocked
        except (RequestError, PrivacyError) as exc:
            self._record(
                "erasure_refused",
                actor,
                now,
                subject=subject,
                requests=requests,
                reason=reason,
                refusal=_reason(exc),
            )
            raise
        body = {
            "time": format_time(now),
            "kind": "erasure",
            "actor": actor.id,
            "role": role,
            "subject": subject,
            "kid": known.kid,
            "requests": requests,
            "reason": reason,
        }
        result = self._commit_sealed(body, time=now, change=VaultChange(now, erase=(subject,)))
        return ErasureResult(subject, tuple(requests), result.seq, result.entry_hash.hex())

    def place_legal_hold(
        self,
        *,
        actor: Actor,
        reason: str,
        subject: str | None = None,
        request: str | None = None,
    ) -> LegalHold:
        """Place a legal hold on a data subject or on one request; recorded (``legal_hold``).

        While the hold is in force, erasing the subject (or the subject of the request) is
        refused.

        Raises:
            PermissionDeniedError: the actor may not place holds.
            IncompleteRequestError: no reason, or neither/both of subject and request.
            UnknownSubjectError: no such subject.
            UnknownRequestError: no such request.
        """
        now = self._now()
        try:
            settings, store = self._vault_parts()
            role = _role(actor, settings.hold_roles, "place a legal hold", rule="hold_role")
            if (subject is None) == (request is None):
                raise IncompleteRequestError("legal_hold", ["exactly one of subject, request"])
            if not (reason and reason.strip()):
                raise IncompleteRequestError("legal_hold", ["reason"])
            if subject is not None and store.vault_subject(subject) is None:
                raise UnknownSubjectError(subject)
            if request is not None and self.store.get_request(request) is None:
                raise UnknownRequestError(request)
        except (RequestError, PrivacyError) as exc:
            self._record(
                "legal_hold_refused",
                actor,
                now,
                subject=subject,
                request=request,
                reason=reason,
                refusal=_reason(exc),
            )
            raise
        hold = LegalHold("hold-" + secrets.token_hex(6), subject, request, reason, actor.id, now)
        body = {
            "time": format_time(now),
            "kind": "legal_hold",
            "actor": actor.id,
            "role": role,
            "hold": hold.id,
            "subject": subject,
            "request": request,
            "reason": reason,
        }
        self._commit_sealed(body, time=now, change=VaultChange(now, holds=(hold,)))
        return hold

    def release_legal_hold(self, hold_id: str, *, actor: Actor, reason: str) -> LegalHold:
        """Release legal hold *hold_id*; recorded (``legal_hold_released``).

        Raises:
            PermissionDeniedError: the actor may not release holds.
            IncompleteRequestError: no reason was given.
            PrivacyError: no hold with that id is in force.
        """
        now = self._now()
        try:
            settings, store = self._vault_parts()
            role = _role(actor, settings.hold_roles, "release a legal hold", rule="hold_role")
            if not (reason and reason.strip()):
                raise IncompleteRequestError("release_legal_hold", ["reason"])
            hold = store.vault_hold(hold_id)
            if hold is None:
                msg = f"no legal hold {hold_id!r} is in force"
                raise PrivacyError(msg)
        except (RequestError, PrivacyError) as exc:
            self._record(
                "legal_hold_refused",
                actor,
                now,
                hold=hold_id,
                reason=reason,
                refusal=_reason(exc),
            )
            raise
        body = {
            "time": format_time(now),
            "kind": "legal_hold_released",
            "actor": actor.id,
            "role": role,
            "hold": hold_id,
            "subject": hold.subject,
            "request": hold.request,
            "reason": reason,
        }
        self._commit_sealed(body, time=now, change=VaultChange(now, release=(hold_id,)))
        return hold
