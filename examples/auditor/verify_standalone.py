"""Verify a pelayanan audit export without pelayanan: the standard library and `cryptography`.

Written from docs/audit-format.md alone, so an inspectorate can read every rule it applies
in one file and need not trust the library that wrote the log.  It checks, per ledger: the
header line and its entry count (§5), that header and checkpoint lines are canonical JSON
and each checkpoint line sits right after the entry completing its size (§5.2), each
entry's canonical encoding (§1, the RFC 8785 subset) and fields (§1.1), sequence and
ledger (§4.1), the hash chain (§4.4), the RFC 9162 Merkle root at every checkpoint (§2,
§4.3), the Ed25519 signature of every checkpoint in C2SP signed-note form with its key
name and key id (§3), backdated checkpoints (§7), coverage of every entry by a
checkpoint, and time order (§4.6).  Rules the spec settles in its "Decisions" list are
marked D1, D2, ... where they are applied.

Trusted keys: a PEM public key is trusted at any time (§3, a key given alone); a key
folder's ``keyring.json`` gives each key the interval in which its signatures count
(``valid_from``, ``valid_until``, ``revoked_at``).  Not covered: witness cosignatures and
``--since`` checkpoints (use ``verify_export.py`` for those).

It reads the whole file into memory, then keeps only a Merkle frontier (a few hashes) per
ledger.  It names the entry where it stopped but does not attempt the spec's finer
localization of a chain break (§4.4); the accept/reject verdict is the same.

Exit status: 0 verified, 1 the log fails a check (or a keyring breaks a rule of §3),
2 the input cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

HEADER_FORMAT = "pelayanan-audit-export"
ZERO_PREV = "0" * 64
MAX_INT = 2**53 - 1
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
HEX64_RE = re.compile(r"[0-9a-f]{64}\Z")
# §3: plain ASCII decimal digits, no sign, no leading zero (Decisions, D12).
SIZE_RE = re.compile(r"(0|[1-9][0-9]*)\Z")
# §1.1: a ledger id (Decisions, D8).
LEDGER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class RejectedError(Exception):
    """The log fails a check: the message is ``ledger L: entry N: reason``."""


class KeyringError(ValueError):
    """A keyring breaks a rule of §3: bad input, the log cannot be checked with it (exit 2)."""


# --- §1 canonical JSON -------------------------------------------------------------------


def _encode_string(text: str) -> str:
    out = []
    for char in text:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def canonical(value: Any) -> str:
    """Encode *value* as the spec's canonical JSON; raise ValueError for other types."""
    if value is None or value is True or value is False:
        return json.dumps(value)
    if type(value) is int:
        if abs(value) > MAX_INT:
            raise ValueError("integer outside [-(2^53-1), 2^53-1]")
        return str(value)
    if type(value) is str:
        return _encode_string(value)
    if type(value) is list:
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if type(value) is dict:
        # Members sorted by the UTF-16 code units of their names (RFC 8785 §3.2.3).
        names = sorted(value, key=lambda name: name.encode("utf-16-be"))
        return "{" + ",".join(_encode_string(n) + ":" + canonical(value[n]) for n in names) + "}"
    raise ValueError(f"value of type {type(value).__name__} is not allowed (no floats)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _no_float(text: str) -> Any:
    raise ValueError(f"floating-point number {text} is not allowed")


def parse_canonical(line: bytes) -> Any:
    """Parse *line* and require it to be exactly the canonical encoding of its value."""
    try:
        value = json.loads(
            line.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
        encoded = canonical(value).encode("utf-8")
    except (UnicodeError, ValueError) as exc:
        raise ValueError(f"not canonical JSON: {exc}") from None
    if encoded != line:
        raise ValueError("bytes differ from the canonical encoding of their value")
    return value


# --- §1.1 fields ---------------------------------------------------------------------------

STR, NULLABLE_STR, OBJECT = "string", "string or null", "object"
KNOWN_FIELDS = {
    "request": NULLABLE_STR,
    "action": STR,
    "actor": STR,
    "role": NULLABLE_STR,
    "from": NULLABLE_STR,
    "to": NULLABLE_STR,
    "data": OBJECT,
    "justification": STR,
}


def _type_ok(value: Any, expected: str) -> bool:
    if expected == STR:
        return type(value) is str
    if expected == NULLABLE_STR:
        return value is None or type(value) is str
    return type(value) is dict


def field_problem(entry: Any) -> str | None:
    """Return what is wrong with the entry's fields, or None (§1.1)."""
    if type(entry) is not dict:
        return "entry is not a JSON object"
    return _required_problem(entry) or _optional_problem(entry)


def _required_problem(entry: dict[str, Any]) -> str | None:
    problems = {
        "field 'v' must be the integer 1": type(entry.get("v")) is not int or entry["v"] != 1,
        "fields 'ledger', 'kind', 'time' must be strings": not all(
            type(entry.get(name)) is str for name in ("ledger", "kind", "time")
        ),
        "field 'seq' must be an integer >= 0": type(entry.get("seq")) is not int
        or entry["seq"] < 0,
        "field 'prev' must be 64 lowercase hex digits": type(entry.get("prev")) is not str
        or not HEX64_RE.match(entry["prev"]),
    }
    problem = next((text for text, bad in problems.items() if bad), None)
    if problem is None and not valid_time(entry["time"]):
        problem = "field 'time' must be YYYY-MM-DDTHH:MM:SS.ffffffZ"
    return problem


def _optional_problem(entry: dict[str, Any]) -> str | None:
    for name, expected in KNOWN_FIELDS.items():
        if name in entry and not _type_ok(entry[name], expected):
            return f"field {name!r} must be {expected}"
    sop = entry.get("sop")
    # §1.1: exactly the three members (Decisions, D13).
    if sop is not None and (
        type(sop) is not dict
        or sorted(sop) != ["hash", "id", "version"]
        or not all(type(v) is str for v in sop.values())
    ):
        return "field 'sop' must be null or hold exactly the strings hash, id and version"
    return None


def valid_time(text: str) -> bool:
    """Return whether *text* is a real UTC instant in the spec's fixed format."""
    if not TIME_RE.match(text):
        return False
    try:
        dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


# --- §2 hashes and the Merkle tree ---------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data), the RFC 9162 leaf hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the RFC 9162 interior node hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleFrontier:
    """The perfect subtrees of the tree so far, largest first: enough for the root."""

    def __init__(self) -> None:
        self.size = 0
        self.subtrees: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash, merging equal-sized subtrees."""
        self.subtrees.append((1, leaf))
        self.size += 1
        while len(self.subtrees) > 1 and self.subtrees[-1][0] == self.subtrees[-2][0]:
            (width, right), (_, left) = self.subtrees.pop(), self.subtrees.pop()
            self.subtrees.append((2 * width, node_hash(left, right)))

    def root(self) -> bytes:
        """Return MTH of the leaves so far (RFC 9162 §2.1.1)."""
        if not self.subtrees:
            return hashlib.sha256(b"").digest()
        root = self.subtrees[-1][1]
        for _, left in reversed(self.subtrees[:-1]):
            root = node_hash(left, root)
        return root


# --- §3 checkpoints ------------------------------------------------------------------------


class TrustedKey:
    """A ledger public key with its signed-note name, key id and validity (§3).

    A key from a PEM file is valid at any time; one from a keyring carries the instants
    (``YYYY-MM-DDTHH:MM:SS.ffffffZ`` strings, which compare correctly as text) bounding it.
    """

    def __init__(
        self,
        key: Ed25519PublicKey,
        valid_from: str | None = None,
        valid_until: str | None = None,
        revoked_at: str | None = None,
    ) -> None:
        self.key = key
        self.raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.name = "pelayanan-" + hashlib.sha256(self.raw).hexdigest()[:16]
        self.key_id = hashlib.sha256(self.name.encode() + b"\n\x01" + self.raw).digest()[:4]
        self.valid_from, self.valid_until, self.revoked_at = valid_from, valid_until, revoked_at

    def valid_at(self, time: str) -> bool:
        """Return whether a checkpoint dated *time* may be signed by this key."""
        return (
            (self.valid_from is None or self.valid_from <= time)
            and (self.valid_until is None or time < self.valid_until)
            and (self.revoked_at is None or time < self.revoked_at)
        )


def keyring_keys(doc: Any) -> list[TrustedKey]:
    """Read the keys of a ``keyring.json`` document (§3); raise ValueError when malformed."""
    if type(doc) is not dict or doc.get("format") != "pelayanan-keyring" or doc.get("version") != 1:
        raise ValueError("not a pelayanan keyring of version 1")
    keys = []
    for item in doc.get("keys", []):
        raw = base64.b64decode(item["public_key"], validate=True)
        bounds = [item.get(k) for k in ("valid_from", "valid_until", "revoked_at")]
        # §3 (D5): bounds are instants in the entry time format, nothing else.
        if not all(b is None or (type(b) is str and valid_time(b)) for b in bounds):
            raise ValueError(f"key {item.get('name')!r}: a bound is not an instant or null")
        key = TrustedKey(Ed25519PublicKey.from_public_bytes(raw), *bounds)
        # §3 (Decisions, D14): name and key_id are derived from the key and checked.
        if item.get("name") != key.name or item.get("key_id") != key.key_id.hex():
            raise ValueError(f"key {item.get('name')!r}: name or key_id is not the key's")
        keys.append(key)
    return keys


def parse_note(note: str) -> tuple[bytes, str, int, bytes, str, list[tuple[str, bytes]]]:
    """Split a checkpoint note into body bytes, origin, size, root, time and signatures.

    The body is origin, size, root, the ``time`` line, then any extension lines (signed
    with the body, otherwise ignored; Decisions, D6).  The note must be exactly the
    text its parts give back (D12): canonical base64, ``\n`` after every line.
    """
    body, sep, signatures = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 4 or not signatures.endswith("\n"):
        raise ValueError("not a signed note of at least four body lines and a signature")
    if any(ord(c) < 0x20 for c in body.replace("\n", "")):
        raise ValueError("the body holds a control character")
    origin, size, root_b64, time_line = lines[:4]
    root = base64.b64decode(root_b64, validate=True)
    time = time_line.removeprefix("time ")
    if (
        not SIZE_RE.match(size)
        or len(root) != 32
        or base64.b64encode(root).decode() != root_b64
        or time == time_line
        or not valid_time(time)
        or any(line.startswith("time ") for line in lines[4:])
    ):
        raise ValueError("checkpoint body is not origin, size, root, time, extensions")
    ledger = origin.removeprefix("pelayanan/")
    if ledger == origin or not LEDGER_RE.match(ledger):
        raise ValueError(f"origin {origin!r} is not pelayanan/<ledger id>")
    parsed = []
    for line in signatures.removesuffix("\n").split("\n"):
        dash, name, blob = [*line.split(" "), "", ""][:3]
        if dash != "\u2014" or not name or line.count(" ") != 2:
            raise ValueError(f"bad signature line {line!r}")
        raw = base64.b64decode(blob, validate=True)
        if base64.b64encode(raw).decode() != blob:
            raise ValueError("a signature is not canonical base64")
        parsed.append((name, raw))
    return (body + "\n").encode("utf-8"), origin, int(size), root, time, parsed


def signed_by(
    body: bytes, time: str, signatures: list[tuple[str, bytes]], keys: list[TrustedKey]
) -> bool:
    """Return whether a signature line is by a key valid at *time* (name, key id, Ed25519)."""
    for name, blob in signatures:
        for key in keys:
            # 68 bytes: a ledger signature; 76 bytes would be a witness cosignature (§7).
            if name != key.name or len(blob) != 68 or blob[:4] != key.key_id:
                continue
            if not key.valid_at(time):
                continue
            try:
                key.key.verify(blob[4:], body)
            except InvalidSignature:
                continue
            return True
    return False


# --- §4 and §5: one ledger of an export ----------------------------------------------------


class Ledger:
    """The verification state of one ledger while its lines are read."""

    def __init__(self, ledger: str, size: int, keys: list[TrustedKey]) -> None:
        self.ledger, self.declared, self.keys = ledger, size, keys
        self.frontier = MerkleFrontier()
        self.prev, self.last_time = ZERO_PREV, ""
        self.time_fault: str | None = None
        self.pending: list[tuple[int, bytes, str, bool]] = []
        self.covered = 0
        self.checkpoints = 0

    def fail(self, position: int | None, reason: str) -> RejectedError:
        """Return the rejection naming this ledger and entry."""
        where = f"entry {position}: " if position is not None else ""
        return RejectedError(f"ledger {self.ledger}: {where}{reason}")

    def entry(self, line: bytes) -> None:
        """Check one entry line (§4 rules 1, 2, 4 and 6) and add it to the tree."""
        n = self.frontier.size
        try:
            entry = parse_canonical(line)
        except ValueError as exc:
            raise self.fail(n, str(exc)) from None
        problem = field_problem(entry)
        if problem:
            raise self.fail(n, problem)
        if entry["ledger"] != self.ledger or entry["seq"] != n:
            found = f"seq {entry['seq']} of {entry['ledger']!r}"
            raise self.fail(n, f"expected seq {n} of {self.ledger!r}, found {found}")
        if entry["prev"] != self.prev:
            raise self.fail(n, f"prev is not the hash of entry {n - 1} (one of the two altered)")
        if entry["time"] < self.last_time and self.time_fault is None:
            self.time_fault = f"entry {n}: time goes backwards"
        self.last_time = entry["time"]
        digest = leaf_hash(line)
        self.prev = digest.hex()
        self.frontier.append(digest)
        self._check_pending()

    def checkpoint(self, note: str, line: int) -> None:
        """Check one checkpoint line: origin, signature, then root when its size is read."""
        try:
            body, origin, size, root, time, signatures = parse_note(note)
        except ValueError as exc:
            raise RejectedError(f"line {line}: unreadable checkpoint: {exc}") from None
        where = f"checkpoint at size {size}"
        if origin != f"pelayanan/{self.ledger}":
            raise self.fail(None, f"{where}: it names {origin!r}, not ledger {self.ledger!r}")
        if not signed_by(body, time, signatures, self.keys):
            raise self.fail(None, f"{where}: no signature by a key trusted and valid then")
        if size < self.frontier.size:
            # §5 (D2): a checkpoint line follows the entry that completes its size.
            raise self.fail(None, f"{where}: placed after entry {self.frontier.size - 1}")
        self.checkpoints += 1
        self.pending.append((size, root, time, size > self.frontier.size))
        self._check_pending()

    def _check_pending(self) -> None:
        size_now = self.frontier.size
        while self.pending and self.pending[0][0] == size_now:
            size, root, time, early = self.pending.pop(0)
            if self.frontier.root() != root:
                # §4.3 (D3): the last entry the checkpoint covers is named.
                raise self.fail(size - 1 if size else None, f"root at size {size} differs")
            if size and time < self.last_time:
                raise self.fail(size - 1, f"checkpoint at size {size} is dated before it")
            if early:
                raise self.fail(None, f"checkpoint at size {size}: placed before entry {size - 1}")
            self.covered = max(self.covered, size)

    def finish(self) -> str:
        """Run the end-of-ledger checks (§4, §5) and return a one-line summary."""
        size = self.frontier.size
        if size != self.declared:
            raise self.fail(size, f"header announces {self.declared} entries, {size} follow")
        if self.pending:
            raise self.fail(size, f"checkpoint states size {self.pending[0][0]} > {size}")
        if self.covered != size:
            raise self.fail(self.covered, "entries not covered by any signed checkpoint")
        if self.time_fault:
            raise RejectedError(f"ledger {self.ledger}: {self.time_fault}")
        root = self.frontier.root().hex()
        return f"ledger {self.ledger}: {size} entries, {self.checkpoints} checkpoints, root {root}"


def classify(line: bytes, number: int) -> tuple[str, Any]:
    """Tell a header, a checkpoint and an entry line apart by their first bytes (§5.2).

    Header and checkpoint lines are canonical JSON like entries (Decisions, D1): a
    note's U+2014 is written as itself, never as ``\\u2014``.
    """
    if not line.startswith((b'{"format":', b'{"checkpoint":')):
        return "entry", line
    try:
        value = parse_canonical(line)
    except ValueError as exc:
        raise RejectedError(f"line {number}: {exc}") from None
    if line.startswith(b'{"checkpoint":'):
        if sorted(value) != ["checkpoint"] or type(value["checkpoint"]) is not str:
            raise RejectedError(f"line {number}: malformed checkpoint line")
        return "checkpoint", value["checkpoint"]
    if (
        sorted(value) != ["format", "ledger", "size", "version"]
        or value["format"] != HEADER_FORMAT
        or value["version"] != 1
        or type(value["ledger"]) is not str
        or not LEDGER_RE.match(value["ledger"])
        or type(value["size"]) is not int
        or value["size"] < 0
    ):
        raise RejectedError(f"line {number}: malformed export header")
    return "header", value


def verify(data: bytes, keys: list[TrustedKey]) -> list[str]:
    """Verify a whole export file; return one summary per ledger or raise RejectedError."""
    if not data.endswith(b"\n"):
        raise RejectedError("the export does not end with a newline (cut short?)")
    summaries: list[str] = []
    seen: set[str] = set()
    current: Ledger | None = None
    for number, line in enumerate(data[:-1].split(b"\n"), start=1):
        kind, value = classify(line, number)
        if kind == "header":
            if current is not None:
                summaries.append(current.finish())
            if value["ledger"] in seen:
                # §7 (D9): one ledger appears at most once in a file.
                raise RejectedError(f"ledger {value['ledger']} appears twice in the export")
            seen.add(value["ledger"])
            current = Ledger(value["ledger"], value["size"], keys)
        elif current is None:
            raise RejectedError(f"line {number}: a line comes before the first export header")
        elif kind == "checkpoint":
            current.checkpoint(value, number)
        else:
            current.entry(value)
    if current is None:
        raise RejectedError("the export holds no ledger")
    summaries.append(current.finish())
    return summaries


def load_keys(path: Path) -> list[TrustedKey]:
    """Read trusted keys: an Ed25519 public key PEM file, or a ``keyring.json``."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"{"):
        try:
            return keyring_keys(json.loads(data))
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyringError(f"{path}: malformed keyring ({exc})") from None
    key = load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return [TrustedKey(key)]


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, verify the export and print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the JSONL export file")
    parser.add_argument(
        "--trusted-key",
        type=Path,
        action="append",
        required=True,
        help="a ledger public key (PEM) or a keyring.json; repeatable",
    )
    args = parser.parse_args(argv)
    try:
        keys = [key for path in args.trusted_key for key in load_keys(path)]
        data = args.export.read_bytes()
    except KeyringError as exc:
        print(f"cannot use the keyring: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        summaries = verify(data, keys)
    except RejectedError as exc:
        print(f"REJECTED: {exc}")
        return 1
    for summary in summaries:
        print(summary)
    print(f"VERIFIED with {', '.join(k.name for k in keys)} (standalone verifier)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
