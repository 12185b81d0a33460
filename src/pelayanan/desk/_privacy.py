"""The desk's privacy collaborator: sealing, reveal, subject access, erasure, legal holds.

Each operation commits its audit entry together with its vault change in one store
transaction (through the shared `Recorder`), and records every refusal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from pelayanan.access import Actor
from pelayanan.audit import kinds
from pelayanan.audit.entry import format_time
from pelayanan.desk._bounds import Bounds
from pelayanan.desk._recorder import Recorder, RefusalBody, refusal
from pelayanan.desk._result import ActionResult
from pelayanan.exceptions import (
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
from pelayanan.privacy.settings import ErasureResult, PrivacySettings, Sealed
from pelayanan.privacy.vault import SubjectKey, is_sealed, new_subject_id
from pelayanan.sop.model import SOP
from pelayanan.sop.registry import SOPRegistry
from pelayanan.store.base import RequestRecord
from pelayanan.store.vault import (
    LegalHold,
    ScrubbableVault,
    SubjectRecord,
    VaultChange,
    VaultStore,
    WrappedKey,
)

__all__ = ["Privacy"]

#: The index-tag kind of call digests (idempotency), apart from every identifier kind.
_DIGEST = "call-digest"


def _role(actor: Actor, allowed: tuple[str, ...], what: str, *, rule: str) -> str:
    matching = sorted(set(allowed) & actor.roles)
    if not matching:
        needs = ", ".join(sorted(allowed)) or "none is declared"
        held = ", ".join(sorted(actor.roles)) or "none"
        msg = f"actor {actor.id!r} may not {what}: it needs one of the roles {needs}; holds {held}"
        raise PermissionDeniedError(msg, rule=rule)
    return matching[0]


def _require(text: str | None, operation: str, name: str) -> None:
    """Refuse an operation whose written *name* (purpose, reason) is blank."""
    if not (text and text.strip()):
        raise IncompleteRequestError(operation, arguments=[name])


@attrs.define(kw_only=True, eq=False, slots=False)
class Privacy:
    """Protect a desk's personal data, recording through its `Recorder`.

    Args:
        recorder: the desk's recorder.
        sops: the desk's SOPs (their privacy sections say which fields are personal).
        settings: the vault and retention classes; ``None``: the desk keeps no personal
            data, and every privacy operation is refused with a `PrivacyError`.
    """

    _recorder: Recorder
    _sops: SOPRegistry
    settings: PrivacySettings | None
    #: The vault is bound to the store (on first use).
    _bound: bool = attrs.field(default=False, init=False)

    # -- used by the request collaborator ------------------------------------------------

    def seal(
        self,
        sop: SOP,
        request_id: str,
        subject: str | None,
        fields: Mapping[str, Any],
        now: dt.datetime,
    ) -> Sealed:
        """Split *fields* into clear and sealed parts, finding or making the data subject.

        Raises:
            PrivacyError: a field is personal and the desk has no privacy settings.
        """
        policy = sop.privacy
        personal = {
            k: v
            for k, v in fields.items()
            if policy.is_personal(k) and v not in (None, "") and not is_sealed(v)
        }
        if not personal:
            return Sealed(fields, {}, subject, None)
        if self.settings is None:
            names = ", ".join(sorted(personal))
            msg = (
                f"SOP {sop.id!r} marks {names} personal: give the desk "
                "privacy=PrivacySettings(vault=...) so they are stored encrypted"
            )
            raise PrivacyError(msg)
        settings, store = self._parts()
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
        ledger = self._recorder.ledger
        sealed = {
            name: key.seal(value, ledger=ledger, request=request_id, field=name)
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

    def digest(self, data: Mapping[str, Any]) -> str:
        """Return a digest of *data* for comparing calls, keyed when the desk has a vault.

        With privacy settings it is the vault's keyed index tag, so no digest of a NIK
        can be recomputed without the master key.
        """
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=repr)
        if self.settings is None:
            return hashlib.sha256(text.encode()).hexdigest()
        settings, _ = self._parts()
        return settings.vault.index_tag(_DIGEST, text)

    def commitments(
        self, sop: SOP, record: RequestRecord, field: str, old: Any, new: Any
    ) -> dict[str, str]:
        """Return keyed commitments of a subject field's *old* and *new* values.

        A NIK is committed to by the vault's keyed index tag (its stored value is opened
        first); other values by the vault's keyed tag too, or, on a desk without a vault
        (where no value is personal), by a SHA-256 of the value the log already holds.

        Returns:
            ``{"old": commitment, "new": commitment}``; never a value.
        """
        kind = "nik" if field in sop.privacy.fields else _DIGEST
        old = self.plain(record, field, old)
        return {kinds.OLD: self._commit(kind, old), kinds.NEW: self._commit(kind, new)}

    def plain(self, record: RequestRecord, field: str, value: Any) -> Any:
        """Return a stored *value* of *record*'s *field*, opened when it is sealed.

        Raises:
            SubjectErasedError: the subject was erased.
            PrivacyError: the desk has no vault, or the value does not open.
        """
        if not is_sealed(value):
            return value
        key = self._subject_key(str(value["subject"]))
        return key.open(value, ledger=record.ledger, request=record.id, field=field)

    def _commit(self, kind: str, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if self.settings is None:
            return hashlib.sha256(text.encode()).hexdigest()
        settings, _ = self._parts()
        return settings.vault.index_tag(kind, text)

    # -- operations -----------------------------------------------------------------------

    def reveal(self, request_id: str, field: str, *, actor: Actor, purpose: str) -> ActionResult:
        """Decrypt one personal field, recording who saw it and why (`ServiceDesk.reveal`)."""
        now = self._recorder.now()
        bounds = Bounds()
        request_id = bounds.id(request_id, "request_id")
        field = bounds.id(field, "field")
        purpose = bounds.text(purpose, "purpose")
        too_long = bounds.error("reveal")
        record = None if too_long else self._recorder.store.get_request(request_id)
        subject: str | None = None
        with self._checks(
            now,
            too_long,
            lambda: refusal(
                kinds.reveal_refused_body,
                actor=actor.id,
                request=request_id,
                field=field,
                subject=subject,
                purpose=purpose,
            ),
        ):
            if record is None:
                raise UnknownRequestError(request_id)
            sop = self._sops.get(record.sop_id, record.sop_version)
            _require(purpose, "reveal", "purpose")
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
        entry = kinds.reveal_body(
            at=now,
            actor=actor.id,
            request=request_id,
            field=field,
            subject=subject,
            role=role,
            purpose=purpose,
        )
        result = self._recorder.commit(entry, time=now)
        return ActionResult(record, result.seq, result.entry_hash.hex(), value=value)

    def subject_access(self, subject: str, *, actor: Actor, purpose: str) -> ActionResult[None]:
        """Return all personal data of *subject*, recorded (`ServiceDesk.subject_access`)."""
        now = self._recorder.now()
        bounds = Bounds()
        subject = bounds.id(subject, "subject")
        purpose = bounds.text(purpose, "purpose")
        with self._checks(
            now,
            bounds.error("subject_access"),
            lambda: refusal(
                kinds.subject_reveal_refused_body, actor=actor.id, subject=subject, purpose=purpose
            ),
        ):
            settings, store = self._parts()
            _require(purpose, "subject_access", "purpose")
            role = _role(
                actor, settings.officer_roles, "answer a subject access request", rule="officer"
            )
            requests = self._open_subject(store, subject)
        entry = kinds.subject_reveal_body(
            at=now,
            actor=actor.id,
            subject=subject,
            requests=sorted(requests),
            fields=sorted({f for r in requests.values() for f in r["fields"]}),
            role=role,
            purpose=purpose,
        )
        result = self._recorder.commit(entry, time=now)
        data = {"subject": subject, "requests": requests}
        return ActionResult(None, result.seq, result.entry_hash.hex(), subject_data=data)

    def find_subject(self, nik: str) -> str | None:
        """Return the data subject whose requests carry NIK *nik* (`ServiceDesk.find_subject`)."""
        settings, store = self._parts()
        return store.vault_find(settings.vault.index_tag("nik", nik))

    def erase_subject(self, subject: str, *, actor: Actor, reason: str) -> ActionResult[None]:
        """Destroy *subject*'s key, recorded (`ServiceDesk.erase_subject`)."""
        now = self._recorder.now()
        requests: list[str] = []
        bounds = Bounds()
        subject = bounds.id(subject, "subject")
        reason = bounds.text(reason, "reason")
        with self._checks(
            now,
            bounds.error("erase"),
            lambda: refusal(
                kinds.erasure_refused_body,
                kinds.REFUSAL,
                actor=actor.id,
                subject=subject,
                requests=list(requests),
                reason=reason,
            ),
        ):
            settings, store = self._parts()
            role = _role(actor, settings.officer_roles, "erase a data subject", rule="officer")
            _require(reason, "erase", "reason")
            known = _erasable(store, subject)
            requests = store.vault_requests(subject)
            holds = store.vault_holds(subject=subject, requests=tuple(requests))
            if holds:
                names = ", ".join(f"{h.id} ({h.reason})" for h in holds)
                msg = f"data subject {subject!r} is under legal hold: {names}"
                raise ErasureRefusedError(msg, rule="legal_hold", holds=[h.id for h in holds])
            blocked = self._retention_block(settings, requests, now)
            if blocked is not None:
                raise blocked
        body = kinds.erasure_body(
            at=now,
            actor=actor.id,
            role=role,
            subject=subject,
            kid=known.kid,
            requests=requests,
            reason=reason,
        )
        result = self._recorder.commit(body, time=now, change=VaultChange(now, erase=(subject,)))
        overwritten, held_by = self._scrub(store, settings.erasure_wait)
        erasure = ErasureResult(
            subject, tuple(requests), result.seq, result.entry_hash.hex(), overwritten, held_by
        )
        return ActionResult(None, result.seq, result.entry_hash.hex(), erasure=erasure)

    def place_legal_hold(
        self, *, actor: Actor, reason: str, subject: str | None, request: str | None
    ) -> ActionResult[None]:
        """Place a legal hold on a subject or a request (`ServiceDesk.place_legal_hold`)."""
        now = self._recorder.now()
        bounds = Bounds()
        subject = bounds.optional_id(subject, "subject")
        request = bounds.optional_id(request, "request")
        reason = bounds.text(reason, "reason")
        with self._checks(
            now,
            bounds.error("legal_hold"),
            lambda: refusal(
                kinds.legal_hold_refused_body,
                kinds.REFUSAL,
                actor=actor.id,
                subject=subject,
                request=request,
                reason=reason,
            ),
        ):
            settings, store = self._parts()
            role = _role(actor, settings.hold_roles, "place a legal hold", rule="hold_role")
            if (subject is None) == (request is None):
                raise IncompleteRequestError(
                    "legal_hold", arguments=["exactly one of subject=, request="]
                )
            _require(reason, "legal_hold", "reason")
            if subject is not None and store.vault_subject(subject) is None:
                raise UnknownSubjectError(subject)
            if request is not None and self._recorder.store.get_request(request) is None:
                raise UnknownRequestError(request)
        hold = LegalHold("hold-" + secrets.token_hex(6), subject, request, reason, actor.id, now)
        body = kinds.legal_hold_body(
            at=now,
            actor=hold.placed_by,
            role=role,
            hold=hold.id,
            subject=hold.subject,
            request=hold.request,
            reason=hold.reason,
        )
        result = self._recorder.commit(body, time=now, change=VaultChange(now, holds=(hold,)))
        return ActionResult(None, result.seq, result.entry_hash.hex(), hold=hold)

    def release_legal_hold(self, hold_id: str, *, actor: Actor, reason: str) -> ActionResult[None]:
        """Release legal hold *hold_id* (`ServiceDesk.release_legal_hold`)."""
        now = self._recorder.now()
        bounds = Bounds()
        hold_id = bounds.id(hold_id, "hold")
        reason = bounds.text(reason, "reason")
        with self._checks(
            now,
            bounds.error("release_legal_hold"),
            lambda: refusal(
                kinds.legal_hold_release_refused_body,
                kinds.REFUSAL,
                actor=actor.id,
                hold=hold_id,
                reason=reason,
            ),
        ):
            settings, store = self._parts()
            role = _role(actor, settings.hold_roles, "release a legal hold", rule="hold_role")
            _require(reason, "release_legal_hold", "reason")
            hold = store.vault_hold(hold_id)
            if hold is None:
                msg = f"no legal hold {hold_id!r} is in force"
                raise PrivacyError(msg)
        body = kinds.legal_hold_released_body(
            at=now,
            actor=actor.id,
            role=role,
            hold=hold.id,
            subject=hold.subject,
            request=hold.request,
            reason=reason,
        )
        change = VaultChange(now, release=(hold_id,))
        result = self._recorder.commit(body, time=now, change=change)
        return ActionResult(None, result.seq, result.entry_hash.hex(), hold=hold)

    # -- internals ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _checks(
        self,
        now: dt.datetime,
        too_long: PelayananError | None,
        refused: Callable[[], RefusalBody],
    ) -> Iterator[None]:
        """Run an operation's checks in the block; record a refusal of them, then raise it.

        Args:
            now: the operation's time, also the refusal entry's.
            too_long: the error refusing the call's oversized values, raised first.
            refused: returns the refusal's body builder, called only on a refusal, so it
                sees what the checks found (a subject, its requests).

        Raises:
            RequestError: a check refused the operation (recorded first).
            PrivacyError: likewise.
        """
        try:
            if too_long is not None:
                raise too_long
            yield
        except (RequestError, PrivacyError) as exc:
            self._recorder.refuse(exc, refused(), at=now)
            raise

    @staticmethod
    def _scrub(store: VaultStore, wait: float) -> tuple[bool | None, str | None]:
        """Overwrite the erased key's old pages where the store keeps them; say if it did."""
        if not isinstance(store, ScrubbableVault):
            return None, None
        held_by = store.vault_scrub(wait=wait)
        return held_by is None, held_by

    def _parts(self) -> tuple[PrivacySettings, VaultStore]:
        """Return the settings and the vault, binding the vault to the store on first use.

        Raises:
            PrivacyError: the desk has no privacy settings, or the store no vault.
            VaultKeyMismatchError: the store is sealed under another master key.
        """
        if self.settings is None:
            msg = "this desk has no privacy settings: pass privacy=PrivacySettings(vault=...)"
            raise PrivacyError(msg)
        store = self._recorder.vault_store()
        if not self._bound:
            # Once per desk: a wrong master key is refused before anything is sealed,
            # revealed or erased under it.
            self.settings.vault.bind(store)
            self._bound = True
        return self.settings, store

    def _subject_key(self, subject: str) -> SubjectKey:
        settings, store = self._parts()
        wrapped = store.vault_key(subject)
        if wrapped is None:
            if store.vault_subject(subject) is None:
                raise UnknownSubjectError(subject)
            msg = f"data subject {subject!r} was erased: their personal data is unrecoverable"
            raise SubjectErasedError(msg)
        return settings.vault.unwrap(wrapped)

    def _open_subject(self, store: VaultStore, subject: str) -> dict[str, Any]:
        """Decrypt every personal field of *subject*, by request."""
        key = self._subject_key(subject)
        requests: dict[str, Any] = {}
        for request_id in store.vault_requests(subject):
            record = self._recorder.store.get_request(request_id)
            if record is None:
                continue
            requests[request_id] = {"sop": record.sop_id, "fields": _open(key, record, subject)}
        return requests

    def _retention_block(
        self, settings: PrivacySettings, requests: list[str], now: dt.datetime
    ) -> ErasureRefusedError | None:
        for request_id in requests:
            record = self._recorder.store.get_request(request_id)
            if record is None:
                continue
            try:
                sop = self._sops.get(record.sop_id, record.sop_version)
            except UnknownSOPError:
                msg = (
                    f"request {request_id} runs under SOP {record.sop_id} "
                    f"{record.sop_version}, which this desk does not know: its retention "
                    "cannot be checked"
                )
                return ErasureRefusedError(msg, rule="retention_unconfigured")
            blocked = _retention_of(settings, sop, record, now)
            if blocked is not None:
                return blocked
        return None


def _open(key: SubjectKey, record: RequestRecord, subject: str) -> dict[str, Any]:
    """Decrypt the fields of *record* sealed for *subject*."""
    return {
        name: key.open(value, ledger=record.ledger, request=record.id, field=name)
        for name, value in sorted(record.data.items())
        if is_sealed(value) and value["subject"] == subject
    }


def _erasable(store: VaultStore, subject: str) -> SubjectRecord:
    """Return the vault's record of *subject*, refusing an unknown or erased one."""
    known = store.vault_subject(subject)
    if known is None:
        raise UnknownSubjectError(subject)
    if known.erased:
        msg = f"data subject {subject!r} was already erased"
        raise SubjectErasedError(msg)
    return known


def _retention_of(
    settings: PrivacySettings, sop: SOP, record: RequestRecord, now: dt.datetime
) -> ErasureRefusedError | None:
    """Return why *record*'s retention class forbids erasing now, or ``None``."""
    name = sop.privacy.retention
    if name is None:
        return None
    period = settings.retention.period(name)
    if period is None:
        msg = (
            f"request {record.id} falls under retention class {name!r}, which has no "
            "configured period: configure it before erasing"
        )
        return ErasureRefusedError(msg, rule="retention_unconfigured")
    if not record.closed:
        msg = (
            f"request {record.id} is still open; retention class {name!r} "
            f"({period}) runs from its closing"
        )
        return ErasureRefusedError(msg, rule="retention")
    until = period.after(record.updated_at)
    if now < until:
        msg = (
            f"request {record.id} is under retention class {name!r} ({period}) "
            f"until {format_time(until)}"
        )
        return ErasureRefusedError(msg, rule="retention", until=until)
    return None
