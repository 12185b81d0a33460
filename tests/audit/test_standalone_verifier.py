"""The standalone verifier of examples/auditor gives the library's verdict on every input.

``verify_standalone.py`` is written from docs/audit-format.md alone; these tests run it
on the spec's test vectors and on tampered exports (every byte changed, lines deleted,
duplicated, swapped, cut, checkpoints re-signed) and require it to accept exactly what
`pelayanan.audit.export.verify_export` accepts.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import importlib.util
import io
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from log_support import T0, build_signed_store
from pelayanan.audit.checkpoint import Checkpoint
from pelayanan.audit.export import verify_export, write_export
from pelayanan.audit.keyring import Keyring
from pelayanan.audit.keys import SigningKey, generate_key_pair
from pelayanan.exceptions import PelayananError
from pelayanan.store import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "auditor" / "verify_standalone.py"
DOC = ROOT / "docs" / "audit-format.md"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("auditor_verify_standalone", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


standalone = _load_script()


def test_the_script_imports_nothing_from_pelayanan() -> None:
    imports = [
        line.split()[1]
        for line in SCRIPT.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from "))
    ]
    assert imports
    assert not [name for name in imports if name.split(".")[0] == "pelayanan"]


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    """The JSON block between the vector markers of docs/audit-format.md."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- vectors:begin -->", 1)[1].split("<!-- vectors:end -->", 1)[0]
    loaded: dict[str, Any] = json.loads(block.strip().removeprefix("```json").removesuffix("```"))
    return loaded


@pytest.fixture(scope="module")
def vector_key(vectors: dict[str, Any]) -> SigningKey:
    """The spec's test-only key (seed 00 01 ... 1f)."""
    seed = bytes.fromhex(vectors["private_key_seed"])
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


def _trusted(key: SigningKey) -> Any:
    """Return the standalone verifier's view of *key*'s public half."""
    return standalone.TrustedKey(Ed25519PublicKey.from_public_bytes(key.verifier.public_key))


def _verdicts(
    data: bytes, key: SigningKey, tmp: Path, keyring: str | None = None
) -> tuple[bool, bool]:
    """Return (library accepts, standalone accepts) for *data*, trusting *key* or *keyring*."""
    path = tmp / "export.jsonl"
    path.write_bytes(data)
    library_keys: list[Any] = list(Keyring.from_json(keyring).keys) if keyring else [key.verifier]
    alone_keys = standalone.keyring_keys(json.loads(keyring)) if keyring else [_trusted(key)]
    try:
        verify_export(path, library_keys, jobs=1)
        library = True
    except PelayananError:
        library = False
    try:
        standalone.verify(data, alone_keys)
        alone = True
    except standalone.RejectedError:
        alone = False
    return library, alone


def _same(data: bytes, key: SigningKey, tmp: Path, keyring: str | None = None) -> bool:
    library, alone = _verdicts(data, key, tmp, keyring)
    assert library == alone, f"library accepts: {library}, standalone: {alone}\n{data!r}"
    return library


def _build(key: SigningKey, ledger: str, size: int, every: int) -> MemoryStore:
    """Append *size* entries to *ledger*, signing a checkpoint after every *every*."""
    return build_signed_store(
        key, ledger=ledger, size=size, every=every, seed=7, extra_data={"t": "ü\n"}
    )


def _export(store: MemoryStore) -> bytes:
    path_out = io.BytesIO()
    write_export(store, path_out, all_checkpoints=True)
    data: bytes = path_out.getvalue()
    return data


@pytest.fixture(scope="module")
def key() -> SigningKey:
    """A fresh ledger key."""
    return generate_key_pair()


@pytest.fixture(scope="module")
def two_ledgers(key: SigningKey) -> bytes:
    """An export of two ledgers, one checkpointed per entry, one every third entry."""
    return _export(_build(key, "kota", 5, 1)) + _export(_build(key, "desa", 7, 3))


def test_vector_export_accepted(
    vectors: dict[str, Any], vector_key: SigningKey, tmp_path: Path
) -> None:
    data = vectors["export"].encode("utf-8")
    assert _same(data, vector_key, tmp_path)
    trusted = _trusted(vector_key)
    assert trusted.name == vectors["key_name"]
    assert trusted.key_id.hex() == vectors["key_id"]
    (summary,) = standalone.verify(data, [trusted])
    assert summary.endswith(vectors["roots"]["3"])


def test_vector_pieces(vectors: dict[str, Any]) -> None:
    frontier = standalone.MerkleFrontier()
    assert frontier.root().hex() == vectors["roots"]["0"]
    for n, (line, leaf) in enumerate(zip(vectors["entries"], vectors["leaf_hashes"], strict=True)):
        data = line.encode("utf-8")
        assert standalone.parse_canonical(data) == json.loads(line)
        assert standalone.leaf_hash(data).hex() == leaf
        frontier.append(bytes.fromhex(leaf))
        assert frontier.root().hex() == vectors["roots"][str(n + 1)]


def test_every_byte_of_the_vector_export(
    vectors: dict[str, Any], vector_key: SigningKey, tmp_path: Path
) -> None:
    data = vectors["export"].encode("utf-8")
    rejected = 0
    for position in range(len(data)):
        for flip in (0x01, 0x20):
            changed = data[:position] + bytes([data[position] ^ flip]) + data[position + 1 :]
            rejected += not _same(changed, vector_key, tmp_path)
    # Every change is caught: no byte of this export is ignored by the format.
    assert rejected == 2 * len(data)


def test_intact_two_ledger_export(two_ledgers: bytes, key: SigningKey, tmp_path: Path) -> None:
    assert _same(two_ledgers, key, tmp_path)


def test_deleted_duplicated_and_cut_lines(
    two_ledgers: bytes, key: SigningKey, tmp_path: Path
) -> None:
    lines = two_ledgers.splitlines(keepends=True)
    for i in range(len(lines)):
        # A checkpoint line left out or repeated may still verify (exports are thinned);
        # an entry or header line never does.
        deleted = _same(b"".join(lines[:i] + lines[i + 1 :]), key, tmp_path)
        duplicated = _same(b"".join(lines[: i + 1] + lines[i:]), key, tmp_path)
        if not lines[i].startswith(b'{"checkpoint"'):
            assert not deleted
            assert not duplicated
        _same(b"".join(lines[:i]), key, tmp_path)


def test_swapped_lines(two_ledgers: bytes, key: SigningKey, tmp_path: Path) -> None:
    lines = two_ledgers.splitlines(keepends=True)
    for i, j in itertools.combinations(range(len(lines)), 2):
        swapped = list(lines)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        _same(b"".join(swapped), key, tmp_path)


def test_resigned_with_another_key(key: SigningKey, tmp_path: Path) -> None:
    other = generate_key_pair()
    theirs = _export(_build(other, "kota", 5, 1))
    assert not _same(theirs, key, tmp_path)
    ours = _export(_build(key, "kota", 5, 1)).splitlines(keepends=True)
    forged = theirs.splitlines(keepends=True)
    # Same entries, each checkpoint line in turn replaced by the other key's signature.
    for i, line in enumerate(ours):
        if line.startswith(b'{"checkpoint"'):
            assert not _same(b"".join([*ours[:i], forged[i], *ours[i + 1 :]]), key, tmp_path)


def test_time_going_backwards(key: SigningKey, tmp_path: Path) -> None:
    lines = _export(_build(key, "kota", 3, 1)).splitlines(keepends=True)
    entry = json.loads(lines[2])
    entry["time"] = "2026-07-06T00:59:00.000000Z"
    lines[2] = standalone.canonical(entry).encode() + b"\n"
    # The changed entry breaks the chain and its checkpoint: both verifiers refuse it.
    assert not _same(b"".join(lines), key, tmp_path)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_byte_substitutions(data: st.DataObject, tmp_path_factory: Any) -> None:
    key = generate_key_pair()
    export = _export(_build(key, "kota", 4, 2))
    position = data.draw(st.integers(0, len(export) - 1))
    value = data.draw(st.integers(0, 255))
    changed = export[:position] + bytes([value]) + export[position + 1 :]
    _same(changed, key, tmp_path_factory.mktemp("sub"))


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=4), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(
    data=st.dictionaries(
        st.text(st.characters(exclude_categories=["Cs"]), max_size=4), _JSON_VALUES, max_size=4
    )
)
def test_canonical_encoding_agrees_on_any_data(data: dict[str, Any], tmp_path_factory: Any) -> None:
    # Keys and strings range over all of Unicode, so the UTF-16 member order (which differs
    # from code point order above U+E000), escapes and non-ASCII text are all exercised.
    key = generate_key_pair()
    store = MemoryStore()
    body = {"time": "2026-07-06T01:00:00.000000Z", "kind": "note", "data": data}
    store.append("kota", body, time=T0, sign=lambda cp: cp.sign(key))
    assert _same(_export(store), key, tmp_path_factory.mktemp("canon"))


def test_utf16_member_order() -> None:
    # U+1F600 is written as the surrogates D83D DE00, which sort before U+FB01 in UTF-16.
    assert standalone.canonical({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'
    assert standalone.canonical({"a": "\u001f\u007f/\u2028"}) == '{"a":"\\u001f\u007f/\u2028"}'
    with pytest.raises(ValueError, match="floats"):
        standalone.canonical({"a": 1.5})


def _rotated_export(old: SigningKey, new: SigningKey) -> bytes:
    """Four entries a minute apart: checkpoints by *old* for two, then by *new*."""
    store = MemoryStore()
    for i in range(4):
        when = T0 + dt.timedelta(minutes=i)
        body = {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": "note", "n": i}
        sign = functools.partial(Checkpoint.sign, key=old if i < 2 else new)
        store.append("kota", body, time=when, sign=sign)
    return _export(store)


@pytest.mark.parametrize(
    ("old_bounds", "new_from", "accepted"),
    [
        ((None, "2026-07-06T01:02:00.000000Z", None), "2026-07-06T01:02:00.000000Z", True),
        ((None, "2026-07-06T01:01:00.000000Z", None), "2026-07-06T01:01:00.000000Z", False),
        ((None, None, "2026-07-06T01:01:00.000000Z"), "2026-07-06T01:02:00.000000Z", False),
        (("2026-07-06T01:00:30.000000Z", None, None), None, False),
        ((None, None, None), "2026-07-06T01:03:00.000000Z", False),
    ],
)
def test_keyring_validity(
    key: SigningKey,
    tmp_path: Path,
    old_bounds: tuple[str | None, str | None, str | None],
    new_from: str | None,
    accepted: bool,
) -> None:
    new = generate_key_pair()
    entries = []
    for signer, (start, until, revoked) in ((key, old_bounds), (new, (new_from, None, None))):
        entries.append(
            {
                "name": signer.name,
                "key_id": signer.verifier.key_id,
                "public_key": base64.b64encode(signer.verifier.public_key).decode(),
                "valid_from": start,
                "valid_until": until,
                "revoked_at": revoked,
                "revocation_reason": "lost" if revoked else None,
            }
        )
    keyring = json.dumps({"format": "pelayanan-keyring", "version": 1, "keys": entries})
    assert _same(_rotated_export(key, new), key, tmp_path, keyring) is accepted


def test_keyring_with_a_foreign_name_is_refused(key: SigningKey) -> None:
    item = {"name": "pelayanan-0000000000000000", "key_id": key.verifier.key_id}
    item["public_key"] = base64.b64encode(key.verifier.public_key).decode()
    with pytest.raises(ValueError, match="name or key_id"):
        standalone.keyring_keys({"format": "pelayanan-keyring", "version": 1, "keys": [item]})


@pytest.mark.parametrize(
    "header",
    [
        b'{"format":"pelayanan-audit-export","ledger":"kota","size":1.5,"version":1}',
        b'{"format":"pelayanan-audit-export","ledger":"kota","size":-1,"version":1}',
        b'{"format":"pelayanan-audit-export","size":3,"ledger":"kota","version":1}',
        b'{"format":"pelayanan-audit-export","ledger":"kota","size":3,"version":2}',
    ],
)
def test_malformed_headers(
    two_ledgers: bytes, key: SigningKey, tmp_path: Path, header: bytes
) -> None:
    lines = two_ledgers.split(b"\n")
    assert not _same(b"\n".join([header, *lines[1:]]), key, tmp_path)
