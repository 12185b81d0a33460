"""The negative test vectors of docs/audit-format.md, run against both verifiers.

Every case in ``docs/audit-vectors/manifest.json`` is an export file, the keys to trust
and the verdict: the exit status, and for a rejection the place the first fault line
names (``entry N``, ``checkpoint at size S``, ``line L`` or ``ledger``).  Each is run
through ``pelayanan audit verify`` and through ``examples/auditor/verify_standalone.py``
(which imports nothing from pelayanan); both must give the expected exit status, and
name the expected place.

The files are built here, deterministically (fixed keys, fixed times, Ed25519 signatures
are deterministic), and a test keeps them equal to what this module builds.  To rewrite
them after a change: ``python tests/audit/test_audit_negative_vectors.py``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_standalone_verifier import standalone  # the script, loaded once for both files

from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.merkle import leaf_hash, root_hash
from pelayanan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "docs" / "audit-vectors"
LEDGER = "contoh"
T0 = dt.datetime(2026, 7, 6, 1, 0, tzinfo=dt.UTC)
ZERO = "0" * 64


def _key(first: int) -> SigningKey:
    """A test-only key whose 32-byte seed is the bytes first, first+1, ... first+31."""
    return SigningKey(Ed25519PrivateKey.from_private_bytes(bytes(range(first, first + 32))))


KEY_A = _key(0x00)  # the spec's vector key
KEY_B = _key(0x40)  # the key rotated to
KEY_X = _key(0x60)  # a key nobody trusts


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _time(minutes: int) -> str:
    return _at(minutes).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _body(n: int, ledger: str = LEDGER) -> dict[str, Any]:
    """The fields of the n-th entry of a small valid log, besides ``prev``."""
    return {
        "action": "verify",
        "actor": f"warga-{1000 + n}",
        "data": {"n": n},
        "from": None,
        "kind": "action",
        "ledger": ledger,
        "request": "ADU-2026-00001",
        "role": "verifier",
        "seq": n,
        "sop": {"hash": "5d41402abc4b2a76", "id": "pengaduan-umum", "version": "1.0.0"},
        "time": _time(5 * n),
        "to": "verified",
        "v": 1,
    }


def chain(
    bodies: list[dict[str, Any]], encode: Callable[[bytes], bytes] | None = None
) -> list[bytes]:
    """Encode *bodies* as canonical entries chained by ``prev`` (``encode`` may alter each)."""
    lines: list[bytes] = []
    prev = ZERO
    for body in bodies:
        line = canonical_json({**body, "prev": prev})
        line = encode(line) if encode is not None else line
        lines.append(line)
        prev = leaf_hash(line).hex()
    return lines


def note(
    entries: list[bytes],
    size: int,
    key: SigningKey = KEY_A,
    *,
    minutes: int | None = None,
    ledger: str = LEDGER,
    root: bytes | None = None,
    extensions: tuple[str, ...] = (),
) -> str:
    """A checkpoint of the first *size* entries, signed by *key*, dated at *minutes*."""
    when = _at(5 * (size - 1) if minutes is None else minutes)
    tree = root_hash(entries[:size]) if root is None else root
    return Checkpoint(ledger, size, tree, when, extensions).sign(key).to_text()


def header(size: int, ledger: str = LEDGER) -> bytes:
    return canonical_json(
        {"format": "pelayanan-audit-export", "ledger": ledger, "size": size, "version": 1}
    )


def cp_line(text: str) -> bytes:
    return canonical_json({"checkpoint": text})


def export(
    entries: list[bytes], notes: dict[int, list[str]], *, size: int | None = None
) -> list[bytes]:
    """Header, entries, and each checkpoint in *notes* after the entry count it is keyed by."""
    lines = [header(len(entries) if size is None else size)]
    lines += [cp_line(n) for n in notes.get(0, [])]
    for count, entry in enumerate(entries, start=1):
        lines.append(entry)
        lines += [cp_line(n) for n in notes.get(count, [])]
    return lines


def good(n: int = 3, key: SigningKey = KEY_A) -> tuple[list[bytes], list[bytes]]:
    """A valid log of *n* entries with a checkpoint after each, and its export lines."""
    entries = chain([_body(i) for i in range(n)])
    return entries, export(entries, {s: [note(entries, s, key)] for s in range(1, n + 1)})


def keyring(*keys: tuple[SigningKey, dict[str, str | None]]) -> str:
    """A keyring.json text of *keys*, each with its validity bounds."""
    items = []
    for key, bounds in keys:
        item = TrustedKey(key.verifier).to_dict()
        item.update(bounds)
        items.append(item)
    return json.dumps({"format": "pelayanan-keyring", "version": 1, "keys": items}, indent=1)


# --- the cases ---------------------------------------------------------------------------

#: name | decision | exit | where the first fault line points (- for none) | what it holds
TABLE = """
ok-basic | §5 | 0 | - | a valid log of three entries, a checkpoint after each
header-spaces | D1 | 1 | line 1 | the header has spaces after its colons
header-member-order | D1 | 1 | line 1 | the header lists `version` before `ledger`
header-version-2 | §5 | 1 | line 1 | the header says version 2
header-ledger-id | D8 | 1 | line 1 | the header names ledger `con toh`
header-size | §5 | 1 | entry 3 | the header announces 4 entries, 3 follow
line-before-header | §5 | 1 | line 1 | an entry line comes before the header
ledger-twice | D9 | 1 | ledger | the same ledger exported twice in one file
ledger-twice-forked | D9 | 1 | ledger | two genuinely signed histories of one ledger
entry-space | §1 | 1 | entry 1 | entry 1 has a space after a colon, signed as it stands
entry-member-order | §1 | 1 | entry 1 | entry 1 lists `v` first
entry-escaped-char | §1 | 1 | entry 1 | entry 1 writes `-` as `\u002d`
entry-float | §1 | 1 | entry 1 | entry 1 holds the number 1.0
entry-uppercase-prev | D10 | 1 | entry 1 | entry 1 writes `prev` in uppercase hex
sop-extra-member | D13 | 1 | entry 1 | entry 1's `sop` has a fourth member
entry-seq-skipped | §4.1 | 1 | entry 2 | entry 2 says it is number 3
entry-other-ledger | §4.1 | 1 | entry 1 | entry 1 names ledger `lain`
entry-time-backwards | §4.6 | 1 | entry 2 | entry 2 is dated before entry 1
chain-broken | §4.4 | 1 | entry 1 | entry 1's `prev` is not entry 0's hash
cp-untrusted-key | §3 | 1 | checkpoint at size 2 | the checkpoint at size 2 is signed by another key
cp-root-changed | D3 | 1 | entry 1 | the checkpoint at size 2 states another root, genuinely signed
cp-other-ledger | §4.5 | 1 | checkpoint at size 2 | a genuine checkpoint of ledger `lain`
cp-size-leading-zero | D12 | 1 | line 5 | the size line reads `02`
cp-escaped-dash | D1 | 1 | line 5 | the checkpoint line writes U+2014 as `\u2014`
cp-line-spaces | D1 | 1 | line 5 | the checkpoint line has a space after the colon
cp-line-extra-member | D1 | 1 | line 5 | the checkpoint line has a second member
cp-two-time-lines | D6 | 1 | line 5 | a signed extension line starts with `time `
cp-control-char | D6 | 1 | line 5 | a signed extension line holds a tab
cp-root-base64-loose | D12 | 1 | line 5 | the root's base64 sets the unused low bits
cp-early | D2 | 1 | checkpoint at size 2 | the checkpoint at size 2 sits right after entry 0
cp-late | D2 | 1 | checkpoint at size 2 | the checkpoint at size 2 sits after entry 2
cp-backdated | §7 | 1 | entry 2 | the checkpoint at size 3 is dated before entry 2
cp-uncovered | §4 | 1 | entry 2 | entry 2 has no checkpoint
cp-beyond-end | §4 | 1 | entry 3 | a checkpoint at size 4 in a log of 3 entries (the last removed)
fork-two-roots-one-size | §7 | 1 | entry 2 | two genuine checkpoints at size 3 with different roots
ok-extension-line | D6 | 0 | - | the checkpoint at size 2 carries a signed extension line
rotation-ok | §3 | 0 | - | key A signs before the rotation instant, key B from it on
rotation-old-key-at-instant | §3 | 1 | checkpoint at size 3 | key A signs at the rotation instant
rotation-new-key-early | §3 | 1 | checkpoint at size 2 | key B signs before its valid_from
revoked-at-instant | §3 | 1 | checkpoint at size 3 | key A, revoked at entry 2's time, signs then
revoked-backdated | §7 | 1 | entry 3 | after revocation, one covering entry 3, dated before it
revoked-before-ok | §3 | 0 | - | checkpoints dated before the revocation verify
keyring-offset-instant | D5 | 2 | - | a keyring bound written with an offset
keyring-uppercase-key-id | D10 | 2 | - | a keyring key_id in uppercase hex
keyring-foreign-name | D14 | 2 | - | a keyring entry names another key
"""

Case = dict[str, Any]


def _replace(lines: list[bytes], index: int, line: bytes) -> list[bytes]:
    changed = list(lines)
    changed[index] = line
    return changed


def _moved(lines: list[bytes], source: int, target: int) -> list[bytes]:
    changed = list(lines)
    changed.insert(target, changed.pop(source))
    return changed


def _signed_each(entries: list[bytes]) -> list[bytes]:
    return export(entries, {s: [note(entries, s)] for s in range(1, len(entries) + 1)})


def _edited(index: int, **fields: Any) -> list[bytes]:
    """The three-entry log with *fields* of entry *index* changed, signed as it stands."""
    bodies = [_body(i) for i in range(3)]
    bodies[index] = {**bodies[index], **fields}
    return _signed_each(chain(bodies))


def _encoded(alter: Callable[[bytes], bytes]) -> list[bytes]:
    """The three-entry log with entry 1's bytes altered, signed as they stand."""
    bodies = [_body(i) for i in range(3)]
    return _signed_each(chain(bodies, lambda b: alter(b) if b'"seq":1,' in b else b))


def _broken_chain() -> list[bytes]:
    entries = chain([_body(i) for i in range(3)])
    first = json.loads(entries[1])
    entries[1] = canonical_json({**first, "prev": "1" * 64})
    second = json.loads(entries[2])
    entries[2] = canonical_json({**second, "prev": leaf_hash(entries[1]).hex()})
    return _signed_each(entries)


def _log_cases() -> dict[str, list[bytes]]:
    """The export lines of every case trusting the plain key, by name."""
    entries, lines = good()
    cp2 = 4  # line index of the checkpoint at size 2 (header, e0, c1, e1, c2, ...)
    text = note(entries, 2)
    root_b64 = base64.b64encode(root_hash(entries[:2])).decode()
    loose = root_b64[:42] + chr(ord(root_b64[42]) ^ 1) + "="
    four = chain([_body(i) for i in range(4)])
    forked = chain([_body(0), _body(1), {**_body(2), "data": {"n": 99}}])
    other = chain([{**_body(i), "data": {"n": 10 + i}} for i in range(3)])
    hint = {2: ("witness saksi.contoh",)}
    reordered = b'{"format":"pelayanan-audit-export","version":1,"ledger":"contoh","size":3}'
    sop = {**_body(1)["sop"], "url": "https://example.invalid"}
    sep = (",", ":")

    def swap(new_text: str) -> list[bytes]:
        return _replace(lines, cp2, cp_line(new_text))

    return {
        "ok-basic": lines,
        "header-spaces": _replace(lines, 0, lines[0].replace(b'":', b'": ')),
        "header-member-order": _replace(lines, 0, reordered),
        "header-version-2": _replace(lines, 0, lines[0].replace(b'"version":1', b'"version":2')),
        "header-ledger-id": _replace(lines, 0, header(3, "con toh")),
        "header-size": _replace(lines, 0, header(4)),
        "line-before-header": [lines[1], *lines],
        "ledger-twice": lines + lines,
        "ledger-twice-forked": lines + _signed_each(other),
        "entry-space": _encoded(lambda b: b.replace(b'"n":1', b'"n": 1')),
        "entry-member-order": _encoded(lambda b: b'{"v":1,' + b[1:-7] + b"}"),
        "entry-escaped-char": _encoded(lambda b: b.replace(b"warga-1001", b"warga\\u002d1001")),
        "entry-float": _encoded(lambda b: b.replace(b'"n":1', b'"n":1.0')),
        "entry-uppercase-prev": _encoded(
            lambda b: re.sub(rb'"prev":"[0-9a-f]{64}"', lambda m: m[0][:8] + m[0][8:].upper(), b)
        ),
        "sop-extra-member": _edited(1, sop=sop),
        "entry-seq-skipped": _edited(2, seq=3),
        "entry-other-ledger": _edited(1, ledger="lain"),
        "entry-time-backwards": _edited(2, time=_time(1)),
        "chain-broken": _broken_chain(),
        "cp-untrusted-key": swap(note(entries, 2, KEY_X)),
        "cp-root-changed": swap(note(entries, 2, root=bytes(32))),
        "cp-other-ledger": swap(note(entries, 2, ledger="lain")),
        "cp-size-leading-zero": swap(text.replace("\n2\n", "\n02\n", 1)),
        "cp-escaped-dash": _replace(
            lines, cp2, json.dumps({"checkpoint": text}, separators=sep).encode()
        ),
        "cp-line-spaces": _replace(lines, cp2, cp_line(text).replace(b'":"', b'": "', 1)),
        "cp-line-extra-member": _replace(lines, cp2, canonical_json({"checkpoint": text, "x": 1})),
        "cp-two-time-lines": swap(note(entries, 2, extensions=(f"time {_time(5)}",))),
        "cp-control-char": swap(note(entries, 2, extensions=("hint\tx",))),
        "cp-root-base64-loose": swap(text.replace(root_b64, loose)),
        "cp-early": _moved(lines, cp2, 2),
        "cp-late": _moved(lines, cp2, cp2 + 2),
        "cp-backdated": _replace(lines, len(lines) - 1, cp_line(note(entries, 3, minutes=6))),
        "cp-uncovered": lines[:-1],
        "cp-beyond-end": export(
            four[:3], {s: [note(four, s)] for s in (1, 2)} | {3: [note(four, 3), note(four, 4)]}
        ),
        "fork-two-roots-one-size": [*lines, cp_line(note(forked, 3))],
        "ok-extension-line": export(
            entries, {s: [note(entries, s, extensions=hint.get(s, ()))] for s in (1, 2, 3)}
        ),
    }


def _key_cases() -> dict[str, tuple[list[bytes], str]]:
    """Rotation, revocation and keyring cases by name: (export lines, keyring text)."""
    entries = chain([_body(i) for i in range(4)])
    rotation = _time(10)  # entry 2's time: the checkpoint at size 3 is dated then
    ring = keyring((KEY_A, {"valid_until": rotation}), (KEY_B, {"valid_from": rotation}))
    revoked = keyring((KEY_A, {"revoked_at": rotation, "revocation_reason": "leaked"}))
    plain = keyring((KEY_A, {}))
    head = export(entries[:2], {1: [note(entries, 1)], 2: [note(entries, 2)]})

    def signed(
        keys: dict[int, SigningKey | None], minutes: dict[int, int] | None = None
    ) -> list[bytes]:
        chosen = {s: keys.get(s, KEY_A if s < 3 else KEY_B) for s in (1, 2, 3, 4)}
        return export(
            entries,
            {
                s: [note(entries, s, k, minutes=(minutes or {}).get(s))]
                for s, k in chosen.items()
                if k is not None
            },
        )

    return {
        "rotation-ok": (signed({}), ring),
        "rotation-old-key-at-instant": (signed({3: KEY_A}), ring),
        "rotation-new-key-early": (signed({2: KEY_B}), ring),
        "revoked-at-instant": (signed({3: KEY_A, 4: KEY_A}), revoked),
        "revoked-backdated": (signed({3: None, 4: KEY_A}, {4: 9}), revoked),
        "revoked-before-ok": (head, revoked),
        "keyring-offset-instant": (
            head,
            keyring((KEY_A, {"valid_until": "2026-07-06T08:10:00+07:00"})),
        ),
        "keyring-uppercase-key-id": (
            head,
            plain.replace(KEY_A.verifier.key_id, KEY_A.verifier.key_id.upper()),
        ),
        "keyring-foreign-name": (head, plain.replace(KEY_A.verifier.name, KEY_B.verifier.name)),
    }


def _table() -> list[Case]:
    cases = []
    for row in TABLE.strip().splitlines():
        name, decision, code, where, what = (cell.strip() for cell in row.split("|", 4))
        place = None if where == "-" else where
        cases.append(
            {"name": name, "what": what, "decision": decision, "exit": int(code), "where": place}
        )
    return cases


def build() -> dict[str, bytes]:
    """Return every vector file by name, the manifest included."""
    logs, keyed = _log_cases(), _key_cases()
    files: dict[str, bytes] = {"contoh.pem": KEY_A.verifier.public_pem()}
    cases: list[Case] = []
    for case in _table():
        name = case["name"]
        lines, ring = (logs[name], None) if name in logs else keyed[name]
        files[f"{name}.jsonl"] = b"".join(line + b"\n" for line in lines)
        keys = "contoh.pem"
        if ring is not None:
            keys = f"{name}.keyring.json"
            files[keys] = ring.encode() + b"\n"
        cases.append({**case, "export": f"{name}.jsonl", "keys": keys})
    assert len(cases) == len(logs) + len(keyed)
    manifest = {"format": "pelayanan-audit-vectors", "version": 1, "cases": cases}
    files["manifest.json"] = json.dumps(manifest, indent=1, ensure_ascii=False).encode() + b"\n"
    return files


# --- the tests ---------------------------------------------------------------------------


MANIFEST: dict[str, Any] = json.loads((FOLDER / "manifest.json").read_text(encoding="utf-8"))
PLACE = re.compile(r"(entry \d+|checkpoint at size \d+|line \d+|ledger |unverifiable: )")


def test_files_are_what_this_module_builds() -> None:
    built = build()
    on_disk = {path.name: path.read_bytes() for path in FOLDER.iterdir()}
    assert on_disk.keys() == built.keys()
    for name, data in built.items():
        assert on_disk[name] == data, f"{name} differs: run python {Path(__file__).name}"


def test_every_decision_has_a_vector() -> None:
    decisions = {case["decision"] for case in MANIFEST["cases"]}
    assert {"D1", "D2", "D3", "D5", "D6", "D8", "D9", "D10", "D12", "D13", "D14"} <= decisions


def _pelayanan(case: Case, tmp_path: Path) -> tuple[int, str]:
    keys = FOLDER / case["keys"]
    if keys.suffix == ".pem":
        args = ["--trusted-key", str(keys)]
    else:
        folder = tmp_path / "keys"
        folder.mkdir()
        (folder / "keyring.json").write_bytes(keys.read_bytes())
        args = ["--keys", str(folder)]
    result = CliRunner().invoke(cli, ["audit", "verify", str(FOLDER / case["export"]), *args])
    return result.exit_code, result.stderr


def _standalone(case: Case) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = standalone.main(
            [str(FOLDER / case["export"]), "--trusted-key", str(FOLDER / case["keys"])]
        )
    return code, out.getvalue()


@pytest.mark.parametrize("case", MANIFEST["cases"], ids=lambda case: case["name"])
def test_both_verifiers_give_the_verdict(case: Case, tmp_path: Path) -> None:
    code, err = _pelayanan(case, tmp_path)
    alone, said = _standalone(case)
    assert (code, alone) == (case["exit"], case["exit"]), (err, said)
    if case["exit"] == 1:
        first = err.splitlines()[0].removeprefix("error: ")
        assert PLACE.match(first), first
        if case["where"] is not None:
            assert first.startswith(case["where"]), first
            assert case["where"] in said, said


if __name__ == "__main__":
    for old in FOLDER.glob("*"):
        old.unlink()
    FOLDER.mkdir(exist_ok=True)
    for file_name, content in build().items():
        (FOLDER / file_name).write_bytes(content)
    print(f"wrote {len(build())} files to {FOLDER}")
