"""Signed checkpoints in the C2SP tlog-checkpoint / signed-note text form.

A checkpoint body is::

    <origin>\\n<tree size>\\n<base64 root hash>\\ntime <RFC 3339 UTC instant>\\n

and the signed note appends a blank line and one signature line per signer::

    \\u2014 <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>\\n

The origin is ``pelayanan/<ledger id>``.  The ``time`` line is the first tlog-checkpoint
extension line; tools that do not know it ignore it.  Further extension lines may follow
it: they are signed with the body and kept verbatim.  See docs/audit-format.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable

import attrs

from pelayanan.audit.entry import ledger_id_problem
from pelayanan.audit.keys import SigningKey, VerifierKey
from pelayanan.exceptions import SignatureError

__all__ = ["Checkpoint", "SignedCheckpoint", "origin_for", "unsigned_body"]

_DASH = "\u2014"
_ORIGIN_PREFIX = "pelayanan/"


def origin_for(ledger: str) -> str:
    """Return the checkpoint origin line for *ledger*."""
    return _ORIGIN_PREFIX + ledger


def _format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.frozen
class Checkpoint:
    """A statement of a ledger's size and Merkle root at a time."""

    ledger: str
    size: int
    root: bytes
    time: dt.datetime
    #: Extension lines after the ``time`` line, signed with the body (without ``\n``).
    extensions: tuple[str, ...] = ()

    def body(self) -> bytes:
        """Return the checkpoint text that is signed."""
        root = base64.b64encode(self.root).decode()
        text = f"{origin_for(self.ledger)}\n{self.size}\n{root}\ntime {_format_time(self.time)}\n"
        return (text + "".join(line + "\n" for line in self.extensions)).encode()

    def sign(self, key: SigningKey) -> SignedCheckpoint:
        """Return this checkpoint signed by *key*."""
        body = self.body()
        return SignedCheckpoint(self, ((key.verifier.name, key.verifier.key_hash, key.sign(body)),))


@attrs.frozen
class SignedCheckpoint:
    """A checkpoint with its signatures as ``(key name, key hash, signature)``."""

    checkpoint: Checkpoint
    signatures: tuple[tuple[str, bytes, bytes], ...]

    def to_text(self) -> str:
        """Return the signed note text."""
        lines = [
            f"{_DASH} {name} {base64.b64encode(key_hash + sig).decode()}\n"
            for name, key_hash, sig in self.signatures
        ]
        return self.checkpoint.body().decode() + "\n" + "".join(lines)

    @classmethod
    def parse(cls, text: str) -> SignedCheckpoint:
        """Parse a signed checkpoint note.

        Raises:
            SignatureError: the text is not a well-formed signed checkpoint.
        """
        try:
            body, sep, sigs = text.partition("\n\n")
            if not sep:
                raise ValueError("no blank line between body and signatures")
            checkpoint = _parse_body(body)
            signatures = _parse_signatures(sigs)
        except (ValueError, binascii.Error) as exc:
            msg = f"malformed checkpoint: {exc}"
            raise SignatureError(None, msg) from None
        if not signatures:
            raise SignatureError(None, "checkpoint carries no signature")
        signed = cls(checkpoint, tuple(signatures))
        if signed.to_text() != text:
            raise SignatureError(None, "malformed checkpoint: not in canonical signed-note form")
        return signed

    def signed_by(self, keys: Iterable[VerifierKey]) -> list[VerifierKey]:
        """Return those of *keys* whose valid signature this checkpoint carries."""
        body = self.checkpoint.body()
        found = []
        for key in keys:
            for name, key_hash, sig in self.signatures:
                if name == key.name and key_hash == key.key_hash and key.verify(body, sig):
                    found.append(key)
                    break
        return found

    def verified_by(self, keys: Iterable[VerifierKey]) -> VerifierKey | None:
        """Return the first of *keys* whose valid signature this checkpoint carries."""
        body = self.checkpoint.body()
        for key in keys:
            for name, key_hash, sig in self.signatures:
                if name == key.name and key_hash == key.key_hash and key.verify(body, sig):
                    return key
        return None


def _parse_body(body: str) -> Checkpoint:
    """Parse the lines of a checkpoint body (without its last ``\n``)."""
    if any(ord(char) < 0x20 and char != "\n" for char in body):
        raise _malformed("the body holds a control character")
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0].startswith(_ORIGIN_PREFIX):
        raise _malformed("body must have origin, size, root and time lines")
    ledger = lines[0][len(_ORIGIN_PREFIX) :]
    problem = ledger_id_problem(ledger)
    if problem is not None:
        raise _malformed(problem)
    size_line = lines[1]
    if not size_line.isascii() or not size_line.isdigit() or str(int(size_line)) != size_line:
        raise _malformed(f"bad tree size {size_line!r} (decimal digits, no leading zero)")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32 or base64.b64encode(root).decode() != lines[2]:
        raise _malformed("root hash is not the standard base64 of 32 bytes")
    if not lines[3].startswith("time "):
        raise _malformed("the fourth line must be the time line")
    when = dt.datetime.strptime(lines[3][5:], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    extensions = tuple(lines[4:])
    if any(line.startswith("time ") for line in extensions):
        raise _malformed("more than one time line")
    checkpoint = Checkpoint(ledger, int(size_line), root, when, extensions)
    if checkpoint.body().decode() != body + "\n":
        raise _malformed("body is not in canonical form")
    return checkpoint


def _parse_signatures(sigs: str) -> list[tuple[str, bytes, bytes]]:
    """Parse the signature lines of a note (each ``\u2014 name base64``, ``\n``-ended)."""
    if not sigs:
        return []
    if not sigs.endswith("\n"):
        raise _malformed("the last signature line does not end with a newline")
    signatures = []
    for line in sigs[:-1].split("\n"):
        dash, name, blob = line.split(" ")
        if dash != _DASH or not name:
            raise _malformed("signature line must be an em dash, a key name and a signature")
        raw = base64.b64decode(blob, validate=True)
        if len(raw) != 4 + 64:
            raise _malformed("signature is not 4 + 64 bytes")
        signatures.append((name, raw[:4], raw[4:]))
    return signatures


def _malformed(what: str) -> SignatureError:
    return SignatureError(None, f"malformed checkpoint: {what}")


def unsigned_body(text: str) -> SignedCheckpoint:
    """Read only the body of a checkpoint note (ledger, size, root, time); no signature.

    For a checkpoint whose signature is not checked, only whose root is (a later
    checkpoint with a checked signature covers the same entries): this reads the three
    values the root check needs, with none of `SignedCheckpoint.parse`'s canonical-form
    and signature-line checks.

    Returns:
        The checkpoint, with no signature.

    Raises:
        SignatureError: the body's origin, size, root or time cannot be read.
    """
    try:
        lines = text.split("\n", 4)
        if not lines[0].startswith(_ORIGIN_PREFIX) or not lines[3].startswith("time "):
            raise ValueError("body must have origin, size, root and time lines")
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
        if size < 0 or len(root) != 32 or not lines[3].endswith("Z"):
            raise ValueError("bad size, root or time")
        when = dt.datetime.fromisoformat(lines[3][5:])
    except (ValueError, IndexError, binascii.Error) as exc:
        raise SignatureError(None, f"malformed checkpoint: {exc}") from None
    return SignedCheckpoint(Checkpoint(lines[0][len(_ORIGIN_PREFIX) :], size, root, when), ())
