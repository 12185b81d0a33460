"""Witnesses: countersign a ledger's checkpoints, never the same size twice with two roots.

A witness keeps, per ledger, the ledger's trusted public key and the latest checkpoint it
accepted.  It accepts a new checkpoint only when the ledger key signed it, it is not
older (time) or smaller (size) than the remembered one, and a consistency proof
(RFC 9162 §2.1.4) shows that it extends the remembered one.  It then countersigns it in
the C2SP tlog-cosignature form (``cosignature/v1``)::

    signed message: "cosignature/v1\\ntime <unix seconds>\\n" || checkpoint body
    signature line: \\u2014 <witness name> <base64(key id || 8-byte BE time || signature)>
    key id:         SHA-256(<witness name> || 0x0A || 0x04 || 32-byte public key)[:4]

A ledger that shows one history to an auditor and another to the public must then get
both signed by the same witness, which it refuses: the two notes are evidence of a fork.
Formats and test vectors: docs/audit-format.md.  State lives in a folder (mode 0700)
holding ``witness-private.pem`` (0600), ``witness-public.pem`` and ``witness.json``,
replaced atomically on every accepted checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from pelayanan.audit.checkpoint import SignedCheckpoint, origin_for
from pelayanan.audit.keys import (
    SigningKey,
    VerifierKey,
    generate_key_pair,
    load_private_key,
    make_private_folder,
    write_private_file,
)
from pelayanan.audit.merkle import HASH_SIZE, verify_consistency
from pelayanan.audit.verify import accept_checkpoint
from pelayanan.exceptions import (
    BackdatedCheckpointError,
    ForkError,
    KeyMaterialError,
    ProofError,
    RollbackError,
    SignatureError,
    UnknownLedgerError,
    WitnessError,
    WitnessSignatureError,
)

__all__ = [
    "CONSISTENCY_HEADER",
    "STATE_FILE",
    "WITNESS_PRIVATE_KEY_FILE",
    "WITNESS_PUBLIC_KEY_FILE",
    "ConsistencyProof",
    "Cosignature",
    "Witness",
    "cosignature_key_id",
    "cosignature_message",
    "count_cosignatures",
    "split_cosigned",
    "witness_state_notes",
]

#: The first line of a consistency proof in its text form.
CONSISTENCY_HEADER = "pelayanan-consistency/v1"
#: File names inside a witness state folder.
STATE_FILE = "witness.json"
WITNESS_PRIVATE_KEY_FILE = "witness-private.pem"
WITNESS_PUBLIC_KEY_FILE = "witness-public.pem"

_DASH = "\u2014"
_COSIGNATURE_ALG = b"\x04"  # C2SP signed-note signature type for cosignature/v1
_COSIGNATURE_SIZE = 4 + 8 + 64
_STATE_FORMAT = "pelayanan-witness"
_STATE_VERSION = 1


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key id of a cosignature/v1 key: SHA-256(name || LF || 0x04 || key)."""
    return hashlib.sha256(name.encode() + b"\n" + _COSIGNATURE_ALG + public_key).digest()[:4]


def cosignature_message(body: bytes, timestamp: int) -> bytes:
    """Return the message a cosignature/v1 signs: the header lines, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body


@attrs.frozen
class Cosignature:
    """One cosignature/v1 signature line.

    Attributes:
        name: the witness name.
        key_id: the 4-byte key id (`cosignature_key_id`).
        timestamp: when the witness signed, in seconds since the Unix epoch.
        signature: the 64-byte Ed25519 signature of `cosignature_message`.
    """

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """Return the signature line, with its newline."""
        blob = self.key_id + struct.pack(">Q", self.timestamp) + self.signature
        return f"{_DASH} {self.name} {base64.b64encode(blob).decode()}\n"

    def verify(self, body: bytes, public_key: bytes) -> bool:
        """Return whether this is a valid cosignature of *body* by *public_key*."""
        if cosignature_key_id(self.name, public_key) != self.key_id:
            return False
        key = VerifierKey(public_key, self.name)
        return key.verify(cosignature_message(body, self.timestamp), self.signature)


def split_cosigned(text: str) -> tuple[SignedCheckpoint, tuple[Cosignature, ...]]:
    """Split a (possibly cosigned) checkpoint note into the ledger-signed note and cosignatures.

    Signature lines of 4 + 8 + 64 bytes are cosignatures; the others stay with the note.

    Raises:
        SignatureError: the text is not a well-formed signed checkpoint.
    """
    body, sep, sigs = text.partition("\n\n")
    kept: list[str] = []
    found: list[Cosignature] = []
    for line in sigs.split("\n"):
        cosig = _parse_cosignature(line) if sep else None
        if cosig is None:
            kept.append(line)
        else:
            found.append(cosig)
    signed = SignedCheckpoint.parse(body + sep + "\n".join(kept))
    return signed, tuple(found)


def _parse_cosignature(line: str) -> Cosignature | None:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != _DASH:
        return None
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (ValueError, binascii.Error):
        return None
    if len(raw) != _COSIGNATURE_SIZE:
        return None
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    return Cosignature(parts[1], raw[:4], timestamp, raw[12:])


@attrs.frozen
class ConsistencyProof:
    """An RFC 9162 consistency proof between two sizes of one ledger, with its text form.

    The text is: the line ``pelayanan-consistency/v1``, the origin line
    (``pelayanan/<ledger>``), the old size, the new size, then one base64 hash per line.

    Attributes:
        ledger: the ledger id.
        old_size: the size of the earlier tree.
        new_size: the size of the later tree.
        hashes: the proof hashes (RFC 9162 §2.1.4.1 order).
    """

    ledger: str
    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def to_text(self) -> str:
        """Return the proof in its text form."""
        lines = [CONSISTENCY_HEADER, origin_for(self.ledger), str(self.old_size)]
        lines.append(str(self.new_size))
        lines.extend(base64.b64encode(h).decode() for h in self.hashes)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> ConsistencyProof:
        """Parse the text form.

        Raises:
            ProofError: the text is not a consistency proof (the message says what).
        """
        lines = text.split("\n")
        if lines and not lines[-1]:
            lines.pop()
        prefix = origin_for("")
        if len(lines) < 4 or lines[0] != CONSISTENCY_HEADER or not lines[1].startswith(prefix):
            msg = (
                f"not a consistency proof (it must start with {CONSISTENCY_HEADER!r} and an origin)"
            )
            raise ProofError(msg)
        try:
            old_size, new_size = int(lines[2]), int(lines[3])
            hashes = tuple(base64.b64decode(line, validate=True) for line in lines[4:])
        except (ValueError, binascii.Error) as exc:
            msg = f"malformed consistency proof: {exc}"
            raise ProofError(msg) from None
        if not 0 <= old_size <= new_size or any(len(h) != HASH_SIZE for h in hashes):
            msg = "malformed consistency proof: bad sizes or a hash that is not 32 bytes"
            raise ProofError(msg)
        return cls(lines[1][len(prefix) :], old_size, new_size, hashes)


@attrs.frozen
class _LedgerState:
    key: VerifierKey
    note: str | None = None  # the latest ledger-signed checkpoint accepted
    cosigned: str | None = None  # that checkpoint with this witness's cosignature


class Witness:
    """A witness whose state lives in a folder; see the module docstring.

    Open one with `Witness.create` (new folder and key) or `Witness.open`.
    """

    def __init__(
        self, folder: Path, name: str, key: SigningKey, ledgers: Mapping[str, _LedgerState]
    ) -> None:
        self.folder = folder
        self.name = name
        self._key = key
        self._ledgers = dict(ledgers)

    def __repr__(self) -> str:
        return f"Witness(name={self.name!r}, folder={str(self.folder)!r})"

    @classmethod
    def create(cls, folder: str | os.PathLike[str], name: str) -> Witness:
        """Create a witness in an empty or new *folder* with a fresh Ed25519 key pair.

        Args:
            folder: the state folder (created with mode 0700).
            name: the witness name used in cosignature lines (no spaces).

        Returns:
            The witness, trusting no ledger yet (see `trust_ledger`).

        Raises:
            WitnessError: the name is unusable or the folder already holds a witness.
            KeyMaterialError: the key files cannot be written.
        """
        if not name or any(ch.isspace() for ch in name) or "+" in name:
            msg = f"witness name {name!r} must be non-empty, without spaces or '+'"
            raise WitnessError(msg)
        path = Path(folder)
        if (path / STATE_FILE).exists() or (path / WITNESS_PRIVATE_KEY_FILE).exists():
            msg = f"{path} already holds a witness; choose another --state folder"
            raise WitnessError(msg)
        key = generate_key_pair()
        try:
            make_private_folder(path)
            write_private_file(path / WITNESS_PRIVATE_KEY_FILE, key.private_pem())
            (path / WITNESS_PUBLIC_KEY_FILE).write_bytes(key.verifier.public_pem())
        except OSError as exc:
            msg = f"{path}: cannot write the witness key ({exc.strerror})"
            raise KeyMaterialError(msg) from None
        witness = cls(path, name, key, {})
        witness.save()
        return witness

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Witness:
        """Open the witness kept in *folder*.

        Raises:
            WitnessError: the folder holds no witness state, or it is malformed.
            KeyMaterialError: the private key cannot be loaded.
        """
        path = Path(folder)
        try:
            doc = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"{path}: no readable witness state ({exc}); create one with `witness init`"
            raise WitnessError(msg) from None
        name, ledgers = _state_from_dict(doc, path)
        return cls(path, name, load_private_key(path / WITNESS_PRIVATE_KEY_FILE), ledgers)

    @property
    def verifier(self) -> VerifierKey:
        """Return the witness's public key, named with the witness name."""
        return VerifierKey(self._key.verifier.public_key, self.name)

    @property
    def key_id(self) -> bytes:
        """Return the witness's 4-byte cosignature/v1 key id."""
        return cosignature_key_id(self.name, self._key.verifier.public_key)

    @property
    def ledgers(self) -> tuple[str, ...]:
        """Return the ledgers this witness trusts, sorted."""
        return tuple(sorted(self._ledgers))

    def trusted_key(self, ledger: str) -> VerifierKey:
        """Return the ledger key trusted for *ledger*.

        Raises:
            UnknownLedgerError: the witness does not know *ledger*.
        """
        return self._state(ledger).key

    def latest(self, ledger: str) -> SignedCheckpoint | None:
        """Return the latest checkpoint of *ledger* accepted, or ``None``.

        Raises:
            UnknownLedgerError: the witness does not know *ledger*.
        """
        note = self._state(ledger).note
        return None if note is None else SignedCheckpoint.parse(note)

    def latest_cosigned(self, ledger: str) -> str | None:
        """Return the latest cosigned note of *ledger*, or ``None``.

        Raises:
            UnknownLedgerError: the witness does not know *ledger*.
        """
        return self._state(ledger).cosigned

    def trust_ledger(self, ledger: str, key: VerifierKey, *, replace: bool = False) -> None:
        """Trust *key* as the signer of *ledger*'s checkpoints and save the state.

        Args:
            ledger: the ledger id.
            key: the ledger's public key.
            replace: after a key rotation, trust *key* instead of the current key while
                keeping the remembered checkpoint (newer ones must still extend it).

        Raises:
            WitnessError: the witness trusts another key for *ledger* already and
                *replace* is false.
        """
        current = self._ledgers.get(ledger)
        if current is not None and current.key.public_key == key.public_key:
            return
        if current is not None and not replace:
            msg = (
                f"the witness trusts another key for ledger {ledger!r} already "
                "(after a rotation, replace it explicitly)"
            )
            raise WitnessError(msg)
        kept = _LedgerState(key) if current is None else attrs.evolve(current, key=key)
        self._ledgers[ledger] = kept
        self.save()

    def cosign(self, note: str, proof: Sequence[bytes], *, now: dt.datetime) -> str:
        """Accept the signed checkpoint *note* if it extends the remembered one; countersign it.

        Args:
            note: the ledger-signed checkpoint note (cosignatures already on it are kept).
            proof: the consistency proof from the remembered checkpoint's size to this
                one's (ignored for the first checkpoint of a ledger, which is trusted on
                first use).
            now: the witness's clock, the time written in the cosignature.

        Returns:
            The note with this witness's cosignature line appended.

        Raises:
            UnknownLedgerError: the witness was not given a key for the note's ledger.
            WitnessSignatureError: the ledger key did not sign the note (or is malformed).
            RollbackError: the note is smaller than the remembered checkpoint.
            BackdatedCheckpointError: the note is dated before the remembered checkpoint.
            ForkError: same size and another root, or the proof does not check.
        """
        try:
            signed, _ = split_cosigned(note)
        except SignatureError as exc:
            raise WitnessSignatureError(exc.reason) from None
        ledger = signed.checkpoint.ledger
        state = self._state(ledger)
        try:
            accept_checkpoint(signed, [state.key], ledger=ledger)
        except SignatureError as exc:
            msg = f"ledger {ledger!r}: {exc.reason}"
            raise WitnessSignatureError(msg) from None
        if state.note is not None:
            _check_extends(SignedCheckpoint.parse(state.note), signed, proof)
        cosigned = _with_line(note, self._cosignature(signed, now).line())
        self._ledgers[ledger] = _LedgerState(state.key, signed.to_text(), cosigned)
        self.save()
        return cosigned

    def save(self) -> Path:
        """Write the state file atomically (temporary file, fsync, rename); return its path.

        Raises:
            WitnessError: the state cannot be written.
        """
        target = self.folder / STATE_FILE
        temp = self.folder / f".{STATE_FILE}.{os.getpid()}.tmp"
        data = json.dumps(self.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
        try:
            write_private_file(temp, data, exclusive=False)
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, target)
        except OSError as exc:
            msg = f"{target}: cannot save the witness state ({exc.strerror})"
            raise WitnessError(msg) from None
        return target

    def to_dict(self) -> dict[str, object]:
        """Return the state document (see docs/audit-format.md, "Witness state")."""
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "name": self.name,
            "public_key": base64.b64encode(self._key.verifier.public_key).decode(),
            "ledgers": {
                ledger: {
                    "key": base64.b64encode(state.key.public_key).decode(),
                    "key_name": state.key.name,
                    "checkpoint": state.note,
                    "cosigned": state.cosigned,
                }
                for ledger, state in sorted(self._ledgers.items())
            },
        }

    def _state(self, ledger: str) -> _LedgerState:
        state = self._ledgers.get(ledger)
        if state is None:
            msg = (
                f"the witness has no trusted key for ledger {ledger!r}; "
                "add it with `witness init --ledger L --ledger-key PEM`"
            )
            raise UnknownLedgerError(msg)
        return state

    def _cosignature(self, signed: SignedCheckpoint, now: dt.datetime) -> Cosignature:
        if now.tzinfo is None:
            msg = "the witness clock must give a timezone-aware time"
            raise WitnessError(msg)
        timestamp = int(now.timestamp())
        body = signed.checkpoint.body()
        signature = self._key.sign(cosignature_message(body, timestamp))
        key_id = cosignature_key_id(self.name, self._key.verifier.public_key)
        return Cosignature(self.name, key_id, timestamp, signature)


def _with_line(note: str, line: str) -> str:
    return (note if note.endswith("\n") else note + "\n") + line


def _check_extends(old: SignedCheckpoint, new: SignedCheckpoint, proof: Sequence[bytes]) -> None:
    """Raise the typed refusal when *new* does not extend *old*."""
    a, b = old.checkpoint, new.checkpoint
    notes = (old.to_text(), new.to_text())
    if b.size < a.size:
        msg = (
            f"ledger {b.ledger!r}: rollback: the checkpoint has size {b.size}, smaller than "
            f"the size {a.size} the witness saw already"
        )
        raise RollbackError(msg)
    if b.time < a.time:
        msg = (
            f"ledger {b.ledger!r}: the checkpoint at size {b.size} is dated {b.time.isoformat()}, "
            f"before the checkpoint the witness saw at size {a.size} ({a.time.isoformat()})"
        )
        raise BackdatedCheckpointError(msg)
    try:
        verify_consistency(a.size, b.size, a.root, b.root, proof)
    except ProofError as exc:
        what = "another root at the same size" if a.size == b.size else str(exc)
        msg = (
            f"ledger {b.ledger!r}: fork: the checkpoint at size {b.size} does not extend the "
            f"one the witness saw at size {a.size} ({what})\n{notes[0]}\n{notes[1]}"
        )
        raise ForkError(msg, notes) from None


def _state_from_dict(doc: object, path: Path) -> tuple[str, dict[str, _LedgerState]]:
    bad = WitnessError(f"{path / STATE_FILE}: not a witness state of version {_STATE_VERSION}")
    if not isinstance(doc, dict) or doc.get("format") != _STATE_FORMAT:
        raise bad
    if doc.get("version") != _STATE_VERSION or not isinstance(doc.get("name"), str):
        raise bad
    ledgers = doc.get("ledgers")
    if not isinstance(ledgers, dict):
        raise bad
    try:
        states = {
            ledger: _LedgerState(
                VerifierKey(base64.b64decode(item["key"], validate=True), item["key_name"]),
                item.get("checkpoint"),
                item.get("cosigned"),
            )
            for ledger, item in ledgers.items()
        }
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise bad from None
    return doc["name"], states


def witness_state_notes(doc: Mapping[str, object]) -> list[str]:
    """Return the cosigned notes a witness state document holds (one per ledger seen).

    A document whose ``format`` is not ``pelayanan-witness`` holds none.
    """
    ledgers = doc.get("ledgers")
    if doc.get("format") != _STATE_FORMAT or not isinstance(ledgers, dict):
        return []
    return [
        item["cosigned"]
        for item in ledgers.values()
        if isinstance(item, dict) and isinstance(item.get("cosigned"), str)
    ]


def count_cosignatures(
    note: str, witness_keys: Iterable[VerifierKey]
) -> tuple[SignedCheckpoint, list[str]]:
    """Return the ledger-signed note in *note* and the names of the witnesses that cosigned it.

    A cosignature counts when its key id and signature check against one of
    *witness_keys* (the name is taken from the signature line, which the key id binds).

    Raises:
        SignatureError: *note* is not a well-formed signed checkpoint.
    """
    signed, cosigs = split_cosigned(note)
    body = signed.checkpoint.body()
    names: list[str] = []
    for key in witness_keys:
        for cosig in cosigs:
            if cosig.verify(body, key.public_key):
                names.append(cosig.name)
                break
    return signed, names
