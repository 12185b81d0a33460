"""`ServiceDesk`: the public face of the desk, delegating each operation to a collaborator.

The constructor builds one `Recorder` (clock, signing, commits, refusals, idempotent
replays) and the collaborators that share it: requests (submit, act, migrate, surveys),
clocks (SLA engines and ``tick``), routing (assignment, disposisi, bukan wewenang) and
privacy (sealing, reveal, subject access, erasure, legal holds).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pelayanan.access import AccessPolicy, Actor, DelegationRegistry
from pelayanan.audit.checkpoint import SignedCheckpoint
from pelayanan.audit.entry import ledger_id_problem
from pelayanan.audit.keyring import KeyringSigner, TrustedKey
from pelayanan.audit.keys import SigningKey, VerifierKey
from pelayanan.calendar import WorkCalendar, indonesian_government_calendar
from pelayanan.clock import Clock, SystemClock
from pelayanan.desk._clocks import Clocks
from pelayanan.desk._privacy import Privacy
from pelayanan.desk._recorder import ClockSkew, Recorder, within_calendar_years
from pelayanan.desk._requests import Requests
from pelayanan.desk._result import ActionResult
from pelayanan.desk._routing import Routing
from pelayanan.exceptions import InvalidArgumentError
from pelayanan.privacy.settings import PrivacySettings
from pelayanan.reports.ikm import RULES_2017, RuleSet
from pelayanan.routing import DispositionTarget, RoutingConfig, TrailStep
from pelayanan.sla import ClockDef, FiredEvent
from pelayanan.sop.model import SOP, Migration
from pelayanan.sop.registry import SOPRegistry
from pelayanan.store import StoreReport, verify_store
from pelayanan.store.base import RequestRecord, Store
from pelayanan.store.ledger_map import check_placement

__all__ = ["ServiceDesk"]


def _who(actor: Actor | None, by: Actor | None, operation: str) -> Actor:
    """Return who acts, accepting the deprecated ``by=`` spelling with a warning.

    Raises:
        TypeError: neither or both of *actor* and *by* were given.
    """
    if by is not None:
        if actor is not None:
            msg = f"{operation}() takes actor= or its deprecated spelling by=, not both"
            raise TypeError(msg)
        warnings.warn(
            f"{operation}(by=...) is deprecated; pass actor=... instead",
            DeprecationWarning,
            stacklevel=3,
        )
        return by
    if actor is None:
        msg = f"{operation}() needs actor=: who takes the action"
        raise TypeError(msg)
    return actor


class ServiceDesk:
    """Run service requests through their SOPs, recording everything in the audit log.

    Every operation that appends an audit entry returns an `ActionResult`; a refused
    attempt is recorded in the log before its typed error is raised.

    Args:
        store: where requests and the audit log live (a `MappedStore` of a ledger map
            spreads ledgers over several stores).
        sops: the SOPs this desk serves (a registry or an iterable of SOPs).
        signing_key: the ledger key that signs a checkpoint after every commit, or a
            `KeyringSigner` that picks the key valid at each checkpoint's time.
        ledger: the ledger id entries are appended to (one per agency or unit): 1 to 64
            ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit.
        clock: where "now" comes from.
        id_factory: makes new request ids (default: ``REQ-`` and a random UUID).
        calendars: working calendars by name for SLA clocks: a clock counts on the one
            it names, else the one named after its SOP's unit, else ``"default"``
            (default: ``{"default": indonesian_government_calendar()}``).
        clocks: SLA clocks by SOP id.
        routing: routing rules, assignment policies, disposition roles (and, unless given
            separately, the access policy and delegations); ``None``: requests stay with
            their SOP's unit.
        delegations: the acting officials (Plt/Plh) in force (default: the routing's).
        access_policy: separation-of-duties rules kept outside the SOP (default: the
            routing's).
        privacy: the vault and retention classes that protect personal fields (needed
            as soon as a request carries a field its SOP marks personal).
        clock_skew: an entry whose time is before the ledger's last entry (the host clock
            went backwards) is refused with `ClockWentBackwardsError` (``"refuse"``), or
            recorded at the last entry's time with the host time in ``host_time``
            (``"hold"``).

    Raises:
        InvalidArgumentError: *ledger* is not a valid ledger id.
        SOPDefinitionError: a clock names an unknown action or state.
        CalendarError: a clock names a calendar the desk does not have.
        ConfigurationError: *clock_skew* is neither ``"refuse"`` nor ``"hold"``.
        LedgerPlacementError: the ledger map places *ledger* nowhere, or *ledger* was
            moved from *store* to another store.
    """

    def __init__(
        self,
        store: Store,
        *,
        sops: SOPRegistry | Iterable[SOP],
        signing_key: SigningKey | KeyringSigner,
        ledger: str = "default",
        clock: Clock | None = None,
        id_factory: Callable[[], str] | None = None,
        calendars: Mapping[str, WorkCalendar] | None = None,
        clocks: Mapping[str, Sequence[ClockDef]] | None = None,
        routing: RoutingConfig | None = None,
        delegations: DelegationRegistry | None = None,
        access_policy: AccessPolicy | None = None,
        privacy: PrivacySettings | None = None,
        clock_skew: ClockSkew = "refuse",
    ) -> None:
        problem = ledger_id_problem(ledger)
        if problem is not None:
            raise InvalidArgumentError(problem)
        check_placement(store, ledger)
        self.store = store
        self._signing_key = signing_key
        self.sops = sops if isinstance(sops, SOPRegistry) else SOPRegistry(sops)
        self.ledger = ledger
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.privacy = privacy
        self.routing = routing
        self.delegations = delegations or (routing.delegations if routing else None)
        self.access_policy = access_policy or (routing.access if routing else AccessPolicy())
        self.calendars: dict[str, WorkCalendar] = (
            dict(calendars) if calendars else {"default": indonesian_government_calendar()}
        )
        recorder = Recorder(
            store,
            ledger=ledger,
            clock=self.clock,
            signing_key=signing_key,
            access_policy=self.access_policy,
            delegations=self.delegations,
            clock_skew=clock_skew,
        )
        self._clocks = Clocks(recorder, self.sops, calendars=self.calendars, specs=clocks or {})
        self._routing = Routing(recorder=recorder, sops=self.sops, config=routing)
        self._privacy = Privacy(recorder=recorder, sops=self.sops, settings=privacy)
        self._requests = Requests(
            recorder=recorder,
            sops=self.sops,
            clocks=self._clocks,
            routing=self._routing,
            privacy=self._privacy,
            id_factory=id_factory,
        )

    def __repr__(self) -> str:
        return f"ServiceDesk(store={self.store!r}, ledger={self.ledger!r})"

    # -- requests -------------------------------------------------------------------------

    def submit(
        self,
        sop_id: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        version: str | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Open a new request under SOP *sop_id* (its latest version unless *version*).

        Args:
            sop_id: the SOP to open the request under.
            actor: who submits.
            data: the request's fields; personal ones are sealed before they are stored.
            version: the SOP version (default: the latest registered).
            request_id: the new request's id (default: from the desk's id factory).
            idempotency_key: a retry with the same key applies nothing new and returns the
                result of the first call.

        Returns:
            The new request and its ``submit`` entry.

        Raises:
            UnknownSOPError: no such SOP is registered (recorded).
            DuplicateRequestError: a request with *request_id* exists already (recorded).
            IdempotencyKeyReuseError: the key was first used for another operation
                (another ledger's use does not count; recorded).
            PermissionDeniedError: the actor may not submit, or may no longer do what the
                key replays (recorded).
            InvalidFieldValueError: a field value breaks the SOP's rules, or an id or
                text is over its limit (``MAX_ID_LENGTH``, ``MAX_TEXT_LENGTH``; recorded,
                without the value).
            IncompleteRequestError: required fields are missing (recorded).
            InvalidInstantError: the desk clock is naive or outside 1946-2200 (a
                configuration error no actor caused: not recorded).
            ClockWentBackwardsError: the clock is before the ledger's last entry (not
                recorded, unless the desk holds skew).
            PrivacyError: a personal field and no privacy settings (a configuration
                error no actor caused: not recorded).
            VaultKeyMismatchError: the vault's master key is not the store's (not
                recorded).
            CanonicalEncodingError: a value cannot be encoded as canonical JSON (not
                recorded: the entry cannot be written).
        """
        return self._requests.submit(
            sop_id,
            actor=actor,
            data=data,
            version=version,
            request_id=request_id,
            idempotency_key=idempotency_key,
        )

    def act(
        self,
        request_id: str,
        action: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        justification: str | None = None,
        idempotency_key: str | None = None,
        on_behalf_of: str | None = None,
    ) -> ActionResult:
        """Take *action* on request *request_id* as *actor*.

        Args:
            request_id: the request to act on.
            action: the SOP action name.
            actor: who acts.
            data: fields the action adds or updates (e.g. a category, a document id).
            justification: the written reason, required by actions that ask for one.
            idempotency_key: a retry with the same key applies nothing new and returns the
                result of the first call.
            on_behalf_of: act with this official's authority, under a delegation (Plt/Plh)
                in force; the entry records both the actor and the authority used.

        Returns:
            The request after the action and its ``action`` entry.

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: not possible from the current state (recorded).
            PermissionDeniedError: role, unit, separation of duties (read from the stored
                subject fields), delegation, a subject field the action may not change
                (``immutable:<field>``), or a replay the actor may no longer do refuses it
                (recorded).
            IncompleteRequestError: required fields or justification missing (recorded).
            InvalidFieldValueError: a field value breaks the SOP's rules, or an id or
                the justification is over its limit (recorded, without the value).
            IdempotencyKeyReuseError: the key was first used for another operation
                (recorded).
            ConcurrentModificationError: another writer changed the request first; retry.
            ClockWentBackwardsError: the clock is before the ledger's last entry (not
                recorded, unless the desk holds skew).
        """
        return self._requests.act(
            request_id,
            action,
            actor=actor,
            data=data,
            justification=justification,
            idempotency_key=idempotency_key,
            on_behalf_of=on_behalf_of,
        )

    def migrate(
        self,
        request_id: str,
        migration: Migration,
        *,
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Move request *request_id* to the SOP version *migration* leads to (audited).

        The request keeps its data and history; its state is mapped by the migration and
        it is pinned to the new version.  The entry has ``kind: "migration"`` and names
        both SOP versions.

        Returns:
            The migrated request and its ``migration`` entry.

        Raises:
            UnknownRequestError: no such request.
            InvalidFieldValueError: the request id is over ``MAX_ID_LENGTH`` (recorded).
            IdempotencyKeyReuseError: the key was first used for another operation
                (recorded).
            MigrationError: the request is not on the migration's SOP version, or its
                state is not mapped (recorded).
            PermissionDeniedError: the actor holds none of the migration's roles (recorded).
            UnknownSOPError: the target version is not registered.
        """
        return self._requests.migrate(
            request_id, migration, actor=actor, idempotency_key=idempotency_key
        )

    def record_survey(
        self,
        request_id: str,
        answers: Mapping[str, int],
        *,
        actor: Actor,
        rules: RuleSet = RULES_2017,
    ) -> ActionResult:
        """Record one satisfaction-survey response (SKM) against a completed request.

        The entry (``kind: "survey"``) holds the answers per unsur key and the rule-set
        name, nothing about the respondent; the request itself does not change.

        Args:
            request_id: the completed request the response is about.
            answers: unsur key -> answer (integer 1-4), every unsur of *rules*.
            actor: who records it (a front-desk officer, or the citizen's account).
            rules: the IKM rule set the survey follows (PermenPANRB 14/2017 by default).

        Returns:
            The request (unchanged) and the ``survey`` entry.

        Raises:
            ReportError: an unsur is missing or unknown, or an answer is not 1-4.
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is not in a final state (recorded).

        .. versionchanged:: Unreleased
           Returns an `ActionResult` instead of the entry's sequence number.
        """
        return self._requests.record_survey(request_id, answers, actor=actor, rules=rules)

    def get(self, request_id: str) -> RequestRecord:
        """Return the request *request_id*.

        Raises:
            UnknownRequestError: no such request.
        """
        return self._requests.get(request_id)

    def allowed_actions(self, request_id: str, actor: Actor | None = None) -> list[str]:
        """Return the actions possible now on the request (for *actor*'s roles if given).

        Raises:
            UnknownRequestError: no such request.
        """
        return self._requests.allowed_actions(request_id, actor)

    # -- verification ---------------------------------------------------------------------

    def verify(
        self,
        trusted_keys: Sequence[VerifierKey | TrustedKey] | None = None,
        *,
        since: Sequence[SignedCheckpoint] = (),
        check_tables: bool = True,
    ) -> StoreReport:
        """Verify the desk's store: the log of every ledger, and the tables against it.

        The same check and report as ``pelayanan audit verify --db`` (which prints
        ``OK`` and `VerificationReport.summary` per ledger, or each problem's
        `StoreProblem.render` line): `pelayanan.verify_store` on the desk's store.

        Args:
            trusted_keys: the keys whose checkpoint signatures count; default the desk's
                own (its keyring's keys, or its signing key's public half).  An
                independent check passes the keys the unit published instead.
            since: signed checkpoints saved earlier that the log must still extend.
            check_tables: also compare the working tables with the log (default).

        Returns:
            The report; ``report.ok`` is true when the tables agree with the log.

        Raises:
            VerificationError: the log does not verify (the first fault, its ``seq``).
        """
        if trusted_keys is None:
            key = self._signing_key
            trusted_keys = key.keyring.keys if isinstance(key, KeyringSigner) else [key.verifier]
        return verify_store(self.store, trusted_keys, since=since, check_tables=check_tables)

    # -- SLA clocks -----------------------------------------------------------------------

    def tick(self, now: dt.datetime | None = None, *, limit: int | None = None) -> list[FiredEvent]:
        """Fire the SLA warnings, breaches and escalations due at *now*, each exactly once.

        Due requests come from the store's index on ``next_due``.  Each event is one
        audit entry (``kind: "sla"``, actor ``system``) appended together with the
        request's new clock state under the optimistic version check, so a repeated or
        concurrent tick fires nothing twice: the loser of a race skips the request.  An
        escalation's action is taken by the system through `act`, stamped with the tick
        instant that fired it (never the desk clock's, which may lag behind it).

        Args:
            now: the instant to tick at (default: the desk's clock).
            limit: at most this many due requests this call (the earliest due first).

        Returns:
            The events fired, in the order recorded.

        Raises:
            InvalidInstantError: *now* is naive or outside the years 1946-2200 the
                working calendars support.
            ClockWentBackwardsError: *now* is before the ledger's last entry (unless the
                desk holds skew).
        """
        at = within_calendar_years(now if now is not None else self.clock.now(), what="tick time")
        return self._clocks.tick(at, limit=limit, act=self._requests.act)

    # -- routing and disposisi ------------------------------------------------------------

    def assign(
        self,
        request_id: str,
        *,
        actor: Actor | None = None,
        officer: str | None = None,
        on_behalf_of: str | None = None,
        by: Actor | None = None,
    ) -> ActionResult:
        """Assign request *request_id* to *officer*, or by its unit's strategy when ``None``.

        Only a holder of a disposition role in the request's unit may assign.

        Args:
            request_id: the request.
            actor: who assigns.
            officer: the officer (default: the unit's assignment strategy picks one).
            on_behalf_of: act with this official's authority (Plt/Plh).
            by: deprecated spelling of *actor*.

        Returns:
            The assigned request and its ``assignment`` entry.

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is closed (recorded).
            PermissionDeniedError: role, delegation or unit refuses it (recorded).

        .. deprecated:: Unreleased
           ``by=``; pass ``actor=``.
        """
        return self._routing.assign(
            request_id,
            actor=_who(actor, by, "assign"),
            officer=officer,
            on_behalf_of=on_behalf_of,
        )

    def dispose(
        self,
        request_id: str,
        *,
        actor: Actor | None = None,
        to: str | DispositionTarget | Sequence[str | DispositionTarget],
        instruction: str,
        due: dt.datetime | None = None,
        on_behalf_of: str | None = None,
        by: Actor | None = None,
    ) -> ActionResult:
        """Issue a disposisi: send the request to units or officers with an instruction.

        Several targets make parallel dispositions that join when all have answered.  A
        holder of a disposition role may dispose a request its unit holds, or one it was
        itself sent by an open disposition (a chain).

        Args:
            request_id: the request.
            actor: the superior who disposes.
            to: a unit id, a `DispositionTarget`, or a list of them.
            instruction: what the targets are asked to do.
            due: the due date of targets that do not carry their own.
            on_behalf_of: act with this official's authority (Plt/Plh).
            by: deprecated spelling of *actor*.

        Returns:
            The request as disposed and its ``disposition`` entry.

        Raises:
            UnknownRequestError: no such request (recorded).
            TransitionNotAllowedError: the request is closed (recorded).
            PermissionDeniedError: role, delegation or holder check refuses it (recorded).
            IncompleteRequestError: no target, no instruction, or a bad due date (recorded).

        .. deprecated:: Unreleased
           ``by=``; pass ``actor=``.
        """
        return self._routing.dispose(
            request_id,
            actor=_who(actor, by, "dispose"),
            to=to,
            instruction=instruction,
            due=due,
            on_behalf_of=on_behalf_of,
        )

    def answer_disposition(
        self,
        request_id: str,
        *,
        actor: Actor | None = None,
        answer: str,
        disposition: str | None = None,
        on_behalf_of: str | None = None,
        by: Actor | None = None,
    ) -> ActionResult:
        """Answer a disposisi addressed to *actor* (its unit or itself).

        When it was the last open disposition of its group, the group joins and the
        request returns to whoever issued it.

        Args:
            request_id: the request.
            actor: who answers (a member of the target unit, or the target officer).
            answer: the answer (laporan tindak lanjut).
            disposition: which disposition (needed only when several are addressed to
                *actor*).
            on_behalf_of: answer with this official's authority (Plt/Plh).
            by: deprecated spelling of *actor*.

        Returns:
            The request after the answer and its ``disposition_answer`` entry.

        Raises:
            UnknownRequestError: no such request (recorded).
            PermissionDeniedError: no open disposition is addressed to *actor* (recorded).
            IncompleteRequestError: no answer, or which disposition is ambiguous (recorded).
            TransitionNotAllowedError: closed, or sub-dispositions still open (recorded).

        .. deprecated:: Unreleased
           ``by=``; pass ``actor=``.
        """
        return self._routing.close(
            request_id,
            "answer_disposition",
            actor=_who(actor, by, "answer_disposition"),
            text=answer,
            disposition=disposition,
            on_behalf_of=on_behalf_of,
        )

    def bukan_wewenang(
        self,
        request_id: str,
        *,
        actor: Actor | None = None,
        reason: str,
        disposition: str | None = None,
        on_behalf_of: str | None = None,
        by: Actor | None = None,
    ) -> ActionResult:
        """Return a request as "bukan wewenang" (not our authority) for re-routing.

        A disposition addressed to *actor* is marked returned and the request goes back to
        whoever issued it; a request routed to *actor*'s unit by a rule goes back to the
        triage unit (or the SOP's unit).  Never a dead end.

        Args:
            request_id: the request.
            actor: who returns it.
            reason: why it is not their authority (recorded).
            disposition: which disposition (needed only when several are addressed to
                *actor*).
            on_behalf_of: act with this official's authority (Plt/Plh).
            by: deprecated spelling of *actor*.

        Returns:
            The returned request and its ``bukan_wewenang`` entry.

        Raises:
            UnknownRequestError: no such request (recorded).
            PermissionDeniedError: *actor* neither holds it nor received a disposisi
                (recorded).
            IncompleteRequestError: no reason (recorded).
            TransitionNotAllowedError: closed, or sub-dispositions still open (recorded).

        .. deprecated:: Unreleased
           ``by=``; pass ``actor=``.
        """
        return self._routing.close(
            request_id,
            "bukan_wewenang",
            actor=_who(actor, by, "bukan_wewenang"),
            text=reason,
            disposition=disposition,
            on_behalf_of=on_behalf_of,
        )

    def why(self, request_id: str) -> list[TrailStep]:
        """Return the routing, assignment and disposisi decisions on *request_id*, from the log.

        Raises:
            UnknownRequestError: no such request.
        """
        return self._routing.why(request_id)

    # -- personal data --------------------------------------------------------------------

    def reveal(self, request_id: str, field: str, *, actor: Actor, purpose: str) -> ActionResult:
        """Decrypt personal *field* of *request_id* for *actor*, stating *purpose*.

        The reveal is recorded (``kind: "reveal"``: who saw whose data, which field, why);
        a refused reveal is recorded too (``kind: "reveal_refused"``).

        Args:
            request_id: the request.
            field: the personal field to reveal.
            actor: who looks; must hold a role the SOP allows to reveal the field.
            purpose: why, in words an auditor can check.

        Returns:
            The request, the ``reveal`` entry, and the field's value in ``.value``.

        Raises:
            UnknownRequestError: no such request.
            IncompleteRequestError: no purpose was given.
            PermissionDeniedError: the actor's roles may not reveal the field.
            PrivacyError: the field is not personal, or holds no value.
            SubjectErasedError: the data subject was erased.

        .. versionchanged:: Unreleased
           Returns an `ActionResult` carrying the value instead of the bare value.
        """
        return self._privacy.reveal(request_id, field, actor=actor, purpose=purpose)

    def subject_access(self, subject: str, *, actor: Actor, purpose: str) -> ActionResult[None]:
        """Return all personal data of *subject* (the right of access, UU 27/2022 Pasal 7).

        Recorded as a ``reveal`` of the whole subject (``scope: "subject"``); refusals as
        ``reveal_refused``.

        Returns:
            The ``reveal`` entry, with ``.subject_data``:
            ``{"subject": ID, "requests": {request id: {"sop": ..., "fields": {...}}}}``.

        Raises:
            IncompleteRequestError: no purpose was given.
            PermissionDeniedError: the actor is not a data protection officer.
            UnknownSubjectError: no such subject.
            SubjectErasedError: the subject was erased.

        .. versionchanged:: Unreleased
           Returns an `ActionResult` carrying the data instead of the bare data.
        """
        return self._privacy.subject_access(subject, actor=actor, purpose=purpose)

    def find_subject(self, nik: str) -> str | None:
        """Return the data subject whose requests carry NIK *nik* (keyed index), or ``None``.

        Raises:
            PrivacyError: the desk has no privacy settings.
        """
        return self._privacy.find_subject(nik)

    def erase_subject(self, subject: str, *, actor: Actor, reason: str) -> ActionResult[None]:
        """Erase *subject*: destroy their key, so their data is unrecoverable everywhere.

        The sealed values stay in the store, the log and every export, so every hash still
        verifies, but nothing can decrypt them any more.  Recorded as ``kind: "erasure"``;
        a refusal as ``kind: "erasure_refused"`` with the rule that refused it.

        Args:
            subject: the data-subject id.
            actor: a data protection officer.
            reason: why (e.g. the erasure request's reference); no personal data here.

        Returns:
            The ``erasure`` entry, with the `ErasureResult` in ``.erasure``.

        Raises:
            PermissionDeniedError: the actor is not a data protection officer.
            IncompleteRequestError: no reason was given.
            UnknownSubjectError: no such subject.
            SubjectErasedError: the subject was already erased.
            ErasureRefusedError: a legal hold or unexpired retention applies (``.rule``).

        .. versionchanged:: Unreleased
           Returns an `ActionResult` carrying the `ErasureResult`.
        """
        return self._privacy.erase_subject(subject, actor=actor, reason=reason)

    def place_legal_hold(
        self,
        *,
        actor: Actor,
        reason: str,
        subject: str | None = None,
        request: str | None = None,
    ) -> ActionResult[None]:
        """Place a legal hold on a data subject or on one request; recorded (``legal_hold``).

        While the hold is in force, erasing the subject (or the subject of the request) is
        refused.

        Returns:
            The ``legal_hold`` entry, with the `LegalHold` in ``.hold``.

        Raises:
            PermissionDeniedError: the actor may not place holds.
            IncompleteRequestError: no reason, or neither/both of subject and request.
            UnknownSubjectError: no such subject.
            UnknownRequestError: no such request.

        .. versionchanged:: Unreleased
           Returns an `ActionResult` carrying the `LegalHold`.
        """
        return self._privacy.place_legal_hold(
            actor=actor, reason=reason, subject=subject, request=request
        )

    def release_legal_hold(self, hold_id: str, *, actor: Actor, reason: str) -> ActionResult[None]:
        """Release legal hold *hold_id*; recorded (``legal_hold_released``).

        Returns:
            The ``legal_hold_released`` entry, with the released `LegalHold` in ``.hold``.

        Raises:
            PermissionDeniedError: the actor may not release holds.
            IncompleteRequestError: no reason was given.
            PrivacyError: no hold with that id is in force.

        .. versionchanged:: Unreleased
           Returns an `ActionResult` carrying the `LegalHold`.
        """
        return self._privacy.release_legal_hold(hold_id, actor=actor, reason=reason)
