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
import importlib.util
import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.keyring import TrustedKey
from pelayanan.audit.keys import SigningKey
from pelayanan.audit.merkle import leaf_hash, root_hash
from pelayanan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "docs" / "audit-vectors"
SCRIPT = ROOT / "examples" / "auditor" / "verify_standalone.py"
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

Case = dict[str, Any]


def _replace(lines: list[bytes], index: int, line: bytes) -> list[bytes]:
    changed = list(lines)
    changed[index] = line
    return changed


def _entry_cases() -> Iterator[tuple[Case, list[bytes]]]:
    def one(name: str, what: str, decision: str, where: str | None, entries: list[bytes]) -> Any:
        lines = export(entries, {s: [note(entries, s)] for s in range(1, len(entries) + 1)})
        return {"name": name, "what": what, "decision": decision, "exit": 1, "where": where}, lines

    bodies = [_body(i) for i in range(3)]
    yield one(
        "entry-space",
        "entry 1 has a space after a colon, signed as it stands",
        "§1",
        "entry 1",
        chain(bodies, lambda b: b.replace(b'"n":1', b'"n": 1')),
    )
    yield one(
        "entry-member-order",
        "entry 1 lists `v` first",
        "§1",
        "entry 1",
        chain(bodies, lambda b: b'{"v":1,' + b[1:-7] + b"}" if b'"seq":1,' in b else b),
    )
    yield one(
        "entry-escaped-char",
        "entry 1 writes `-` as `\\u002d`",
        "§1",
        "entry 1",
        chain(bodies, lambda b: b.replace(b"warga-1001", b"warga\\u002d1001")),
    )
    yield one(
        "entry-float",
        "entry 1 holds the number 1.0",
        "§1",
        "entry 1",
        chain(bodies, lambda b: b.replace(b'"n":1', b'"n":1.0')),
    )
    yield one(
        "entry-uppercase-prev",
        "entry 1 writes `prev` in uppercase hex",
        "D10",
        "entry 1",
        chain(
            bodies,
            lambda b: re.sub(
                rb'"prev":"([0-9a-f]{64})"',
                lambda m: m[0].upper().replace(b'"PREV":', b'"prev":'),
                b,
            ),
        ),
    )
    extra = [dict(b) for b in bodies]
    extra[1]["sop"] = {**extra[1]["sop"], "url": "https://example.invalid"}
    yield one(
        "sop-extra-member", "entry 1's `sop` has a fourth member", "D13", "entry 1", chain(extra)
    )
    skipped = [dict(b) for b in bodies]
    skipped[2]["seq"] = 3
    yield one("entry-seq-skipped", "entry 2 says it is number 3", "§4.1", "entry 2", chain(skipped))
    foreign = [dict(b) for b in bodies]
    foreign[1]["ledger"] = "lain"
    yield one(
        "entry-other-ledger", "entry 1 names ledger `lain`", "§4.1", "entry 1", chain(foreign)
    )
    backwards = [dict(b) for b in bodies]
    backwards[2]["time"] = _time(1)
    yield one(
        "entry-time-backwards",
        "entry 2 is dated before entry 1",
        "§4.6",
        "entry 2",
        chain(backwards),
    )
    broken = chain(bodies)
    entry1 = json.loads(broken[1])
    entry1["prev"] = "1" * 64
    broken[1] = canonical_json(entry1)
    fixed = json.loads(broken[2])
    fixed["prev"] = leaf_hash(broken[1]).hex()
    broken[2] = canonical_json(fixed)
    yield one(
        "chain-broken",
        "entry 1's `prev` is not entry 0's hash (all signed as they stand)",
        "§4.4",
        "entry 1",
        broken,
    )


def _checkpoint_cases() -> Iterator[tuple[Case, list[bytes]]]:
    entries, lines = good()
    cp2 = 3  # line index of the checkpoint at size 2 (header, e0, c1, e1, c2, ...)

    def case(name: str, what: str, decision: str, where: str | None, changed: list[bytes]) -> Any:
        return {
            "name": name,
            "what": what,
            "decision": decision,
            "exit": 1,
            "where": where,
        }, changed

    def swap(text: str) -> list[bytes]:
        return _replace(lines, cp2 + 1, cp_line(text))

    yield case(
        "cp-untrusted-key",
        "the checkpoint at size 2 is signed by another key",
        "§3",
        "checkpoint at size 2",
        swap(note(entries, 2, KEY_X)),
    )
    yield case(
        "cp-root-changed",
        "the checkpoint at size 2 states another root, genuinely signed",
        "D3",
        "entry 1",
        swap(note(entries, 2, root=bytes(32))),
    )
    yield case(
        "cp-other-ledger",
        "a genuine checkpoint of ledger `lain` in ledger `contoh`",
        "§4.5",
        "checkpoint at size 2",
        swap(note(entries, 2, ledger="lain")),
    )
    text = note(entries, 2)
    yield case(
        "cp-size-leading-zero",
        "the size line reads `02`",
        "D12",
        "line 5",
        swap(text.replace("\n2\n", "\n02\n", 1)),
    )
    yield case(
        "cp-escaped-dash",
        "the checkpoint line writes U+2014 as `\\u2014`",
        "D1",
        "line 5",
        _replace(lines, cp2 + 1, json.dumps({"checkpoint": text}, separators=(",", ":")).encode()),
    )
    yield case(
        "cp-line-spaces",
        "the checkpoint line has a space after the colon",
        "D1",
        "line 5",
        _replace(lines, cp2 + 1, cp_line(text).replace(b'":"', b'": "', 1)),
    )
    yield case(
        "cp-line-extra-member",
        "the checkpoint line has a second member",
        "D1",
        "line 5",
        _replace(lines, cp2 + 1, canonical_json({"checkpoint": text, "x": 1})),
    )
    yield case(
        "cp-two-time-lines",
        "a signed extension line starts with `time `",
        "D6",
        "line 5",
        swap(note(entries, 2, extensions=("time 2026-07-06T01:05:00.000000Z",))),
    )
    yield case(
        "cp-control-char",
        "a signed extension line holds a tab",
        "D6",
        "line 5",
        swap(note(entries, 2, extensions=("hint\tx",))),
    )
    root_b64 = base64.b64encode(root_hash(entries[:2])).decode()
    loose = root_b64[:42] + chr(ord(root_b64[42]) ^ 1) + "="
    yield case(
        "cp-root-base64-loose",
        "the root's base64 sets the unused low bits",
        "D12",
        "line 5",
        swap(text.replace(root_b64, loose)),
    )
    early = list(lines)
    moved = early.pop(cp2 + 1)
    early.insert(2, moved)
    yield case(
        "cp-early",
        "the checkpoint at size 2 sits right after entry 0",
        "D2",
        "checkpoint at size 2",
        early,
    )
    late = list(lines)
    moved = late.pop(cp2 + 1)
    late.insert(cp2 + 3, moved)
    yield case(
        "cp-late", "the checkpoint at size 2 sits after entry 2", "D2", "checkpoint at size 2", late
    )
    yield case(
        "cp-backdated",
        "the checkpoint at size 3 is dated before entry 2",
        "§7",
        "entry 2",
        _replace(lines, len(lines) - 1, cp_line(note(entries, 3, minutes=6))),
    )
    yield case("cp-uncovered", "entry 2 has no checkpoint", "§4", "entry 2", lines[:-1])
    four = chain([_body(i) for i in range(4)])
    cut = export(
        four[:3], {1: [note(four, 1)], 2: [note(four, 2)], 3: [note(four, 3), note(four, 4)]}
    )
    yield case(
        "cp-beyond-end",
        "a checkpoint at size 4 in a log of 3 entries (the last removed)",
        "§4",
        "entry 3",
        cut,
    )
    forked = chain([_body(0), _body(1), {**_body(2), "data": {"n": 99}}])
    yield case(
        "fork-two-roots-one-size",
        "two genuine checkpoints at size 3 with different roots",
        "§7",
        "entry 2",
        [*lines, cp_line(note(forked, 3))],
    )
    ok_ext = export(
        entries,
        {
            s: [note(entries, s, extensions=("witness saksi.contoh",) if s == 2 else ())]
            for s in (1, 2, 3)
        },
    )
    yield (
        {
            "name": "ok-extension-line",
            "what": "the checkpoint at size 2 carries a signed extension line",
            "decision": "D6",
            "exit": 0,
            "where": None,
        },
        ok_ext,
    )


def _export_cases() -> Iterator[tuple[Case, list[bytes]]]:
    _, lines = good()

    def case(name: str, what: str, decision: str, where: str | None, changed: list[bytes]) -> Any:
        return {
            "name": name,
            "what": what,
            "decision": decision,
            "exit": 1,
            "where": where,
        }, changed

    yield (
        {
            "name": "ok-basic",
            "what": "a valid log of three entries, a checkpoint after each",
            "decision": "§5",
            "exit": 0,
            "where": None,
        },
        lines,
    )
    yield case(
        "header-spaces",
        "the header has spaces after its colons",
        "D1",
        "line 1",
        _replace(lines, 0, lines[0].replace(b'":', b'": ')),
    )
    yield case(
        "header-member-order",
        "the header lists `version` first",
        "D1",
        "line 1",
        _replace(
            lines, 0, b'{"format":"pelayanan-audit-export","version":1,"ledger":"contoh","size":3}'
        ),
    )
    yield case(
        "header-version-2",
        "the header says version 2",
        "§5",
        "line 1",
        _replace(lines, 0, lines[0].replace(b'"version":1', b'"version":2')),
    )
    yield case(
        "header-ledger-id",
        "the header names ledger `con toh`",
        "D8",
        "line 1",
        _replace(lines, 0, header(3, "con toh")),
    )
    yield case(
        "header-size",
        "the header announces 4 entries, 3 follow",
        "§5",
        "entry 3",
        _replace(lines, 0, header(4)),
    )
    yield case(
        "line-before-header",
        "an entry line comes before the header",
        "§5",
        "line 1",
        [lines[1], *lines],
    )
    yield case(
        "ledger-twice", "the same ledger exported twice in one file", "D9", "ledger", lines + lines
    )
    other = chain([{**_body(i), "data": {"n": 10 + i}} for i in range(3)])
    rewritten = export(other, {s: [note(other, s)] for s in (1, 2, 3)})
    yield case(
        "ledger-twice-forked",
        "two genuinely signed histories of one ledger",
        "D9",
        "ledger",
        lines + rewritten,
    )


def _key_cases() -> Iterator[tuple[Case, list[bytes], str]]:
    """Rotation and revocation edges: (case, export lines, keyring text)."""
    entries = chain([_body(i) for i in range(4)])
    rotation = _time(10)  # entry 2's time: the checkpoint at size 3 is dated then
    ring = keyring((KEY_A, {"valid_until": rotation}), (KEY_B, {"valid_from": rotation}))

    def signed(keys: dict[int, SigningKey]) -> list[bytes]:
        return export(
            entries,
            {s: [note(entries, s, keys.get(s, KEY_A if s < 3 else KEY_B))] for s in (1, 2, 3, 4)},
        )

    def case(name: str, what: str, exit_code: int, where: str | None) -> Case:
        return {"name": name, "what": what, "decision": "§3", "exit": exit_code, "where": where}

    yield (
        case("rotation-ok", "key A signs before the rotation instant, key B from it on", 0, None),
        signed({}),
        ring,
    )
    yield (
        case(
            "rotation-old-key-at-instant",
            "key A signs a checkpoint dated exactly at the rotation (valid_until is exclusive)",
            1,
            "checkpoint at size 3",
        ),
        signed({3: KEY_A}),
        ring,
    )
    yield (
        case(
            "rotation-new-key-early",
            "key B signs a checkpoint dated before its valid_from",
            1,
            "checkpoint at size 2",
        ),
        signed({2: KEY_B}),
        ring,
    )
    revoked = keyring((KEY_A, {"revoked_at": _time(10), "revocation_reason": "leaked"}))
    only_a = export(entries, {s: [note(entries, s)] for s in (1, 2, 3, 4)})
    yield (
        case(
            "revoked-at-instant",
            "key A, revoked at entry 2's time, signs the checkpoint dated then",
            1,
            "checkpoint at size 3",
        ),
        only_a,
        revoked,
    )
    backdated = export(
        entries, {1: [note(entries, 1)], 2: [note(entries, 2)], 4: [note(entries, 4, minutes=9)]}
    )
    yield (
        case(
            "revoked-backdated",
            "after revocation, a checkpoint covering entries 2 and 3 dated just before it",
            1,
            "entry 3",
        ),
        backdated,
        revoked,
    )
    head = export(entries[:2], {1: [note(entries, 1)], 2: [note(entries, 2)]})
    yield (
        case("revoked-before-ok", "checkpoints dated before the revocation verify", 0, None),
        head,
        revoked,
    )
    offset = keyring((KEY_A, {"valid_until": "2026-07-06T08:10:00+07:00"}))
    yield (
        {
            **case(
                "keyring-offset-instant",
                "a keyring bound written with an offset",
                1,
                "unverifiable",
            ),
            "decision": "D5",
        },
        head,
        offset,
    )
    upper = keyring((KEY_A, {}))
    upper = upper.replace(KEY_A.verifier.key_id, KEY_A.verifier.key_id.upper())
    yield (
        {
            **case(
                "keyring-uppercase-key-id", "a keyring key_id in uppercase hex", 1, "unverifiable"
            ),
            "decision": "D10",
        },
        head,
        upper,
    )
    foreign = keyring((KEY_A, {})).replace(KEY_A.verifier.name, KEY_B.verifier.name)
    yield (
        {
            **case("keyring-foreign-name", "a keyring entry names another key", 1, "unverifiable"),
            "decision": "D14",
        },
        head,
        foreign,
    )


def build() -> dict[str, bytes]:
    """Return every vector file by name, the manifest included."""
    files: dict[str, bytes] = {"contoh.pem": KEY_A.verifier.public_pem()}
    cases: list[Case] = []
    for case, lines in [*_export_cases(), *_entry_cases(), *_checkpoint_cases()]:
        files[f"{case['name']}.jsonl"] = b"".join(line + b"\n" for line in lines)
        cases.append({**case, "export": f"{case['name']}.jsonl", "keys": "contoh.pem"})
    for case, lines, ring in _key_cases():
        files[f"{case['name']}.jsonl"] = b"".join(line + b"\n" for line in lines)
        files[f"{case['name']}.keyring.json"] = ring.encode() + b"\n"
        cases.append(
            {**case, "export": f"{case['name']}.jsonl", "keys": f"{case['name']}.keyring.json"}
        )
    manifest = {"format": "pelayanan-audit-vectors", "version": 1, "cases": cases}
    files["manifest.json"] = json.dumps(manifest, indent=1, ensure_ascii=False).encode() + b"\n"
    return files


# --- the tests ---------------------------------------------------------------------------


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auditor_verify_standalone_vectors", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


standalone = _load_script()
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
    if case["exit"]:
        first = err.splitlines()[0]
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
