"""The keyring: which ledger keys exist, when each may sign, and which were revoked.

A key folder (``pelayanan keys generate --out DIR``, or the demo's ``PATH.keys/``) holds
``keyring.json`` beside the PEM files::

    {"format": "pelayanan-keyring", "version": 1, "keys": [
      {"name": "pelayanan-…", "key_id": "1a2b3c4d", "public_key": "<base64 raw Ed25519>",
       "valid_from": "2026-07-06T00:45:00.000000Z", "valid_until": null,
       "revoked_at": null, "revocation_reason": null}, …]}

A checkpoint is accepted only when a trusted key signed it, the checkpoint's time lies in
``[valid_from, valid_until)`` of that key, and the key was not revoked at or before that
time.  Rotation ends the validity of the active key and starts a new one, so old
checkpoints keep verifying and new ones carry the new key.  The private key of the
active key is ``ledger-private.pem``; retired private keys are kept as
``<name>-private.pem`` (delete them when your retention rules allow).  The keyring holds
public material only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from pelayanan.audit._document import read_document
from pelayanan.audit.checkpoint import Checkpoint, SignedCheckpoint
from pelayanan.audit.entry import format_time, parse_time
from pelayanan.audit.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SigningKey,
    VerifierKey,
    generate_key_pair,
    load_private_key,
    write_key_pair,
)
from pelayanan.exceptions import InvalidArgumentError, KeyMaterialError

__all__ = [
    "KEYRING_FILE",
    "Keyring",
    "KeyringSigner",
    "TrustedKey",
    "as_trusted",
    "create_key_folder",
    "load_keyring",
    "revoke_key",
    "rotate_key_folder",
    "save_keyring",
    "trusted_from",
]

KEYRING_FILE = "keyring.json"
_FORMAT = "pelayanan-keyring"
_VERSION = 1


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        msg = "key validity instants must be timezone-aware"
        raise KeyMaterialError(msg)
    return value.astimezone(dt.UTC)


@attrs.frozen
class TrustedKey:
    """A public ledger key with the period in which its signatures count.

    Attributes:
        key: the public key.
        valid_from: the first instant it may sign (``None``: no lower bound).
        valid_until: the instant its validity ends, exclusive (``None``: open).
        revoked_at: when it was revoked; checkpoints at or after it are refused.
        revocation_reason: why it was revoked (free text, public).
    """

    key: VerifierKey
    valid_from: dt.datetime | None = attrs.field(default=None, converter=_utc)
    valid_until: dt.datetime | None = attrs.field(default=None, converter=_utc)
    revoked_at: dt.datetime | None = attrs.field(default=None, converter=_utc)
    revocation_reason: str | None = None

    @property
    def name(self) -> str:
        """Return the key name used in signature lines."""
        return self.key.name

    def refusal_at(self, when: dt.datetime) -> str | None:
        """Return why a signature made at *when* does not count, or ``None`` if it does.

        Args:
            when: the time a checkpoint states.

        Returns:
            A reason naming the key and the bound it violates, or ``None``.
        """
        if self.revoked_at is not None and when >= self.revoked_at:
            why = f" ({self.revocation_reason})" if self.revocation_reason else ""
            return f"key {self.name} was revoked at {format_time(self.revoked_at)}{why}"
        if self.valid_from is not None and when < self.valid_from:
            return f"key {self.name} is valid only from {format_time(self.valid_from)}"
        if self.valid_until is not None and when >= self.valid_until:
            return f"key {self.name} was valid only until {format_time(self.valid_until)}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the keyring JSON object of this key."""
        return {
            "name": self.name,
            "key_id": self.key.key_id,
            "public_key": base64.b64encode(self.key.public_key).decode(),
            "valid_from": _fmt(self.valid_from),
            "valid_until": _fmt(self.valid_until),
            "revoked_at": _fmt(self.revoked_at),
            "revocation_reason": self.revocation_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrustedKey:
        """Read a keyring JSON object.

        Raises:
            KeyMaterialError: a field is missing or malformed, or the name or key id do
                not belong to the public key.
        """
        try:
            raw = base64.b64decode(str(data["public_key"]), validate=True)
            if len(raw) != 32:
                raise ValueError("public_key is not 32 bytes")
            key = VerifierKey(raw)
            if data.get("name") != key.name or data.get("key_id") != key.key_id:
                raise ValueError(f"name or key_id does not match the public key of {key.name}")
            reason = data.get("revocation_reason")
            return cls(
                key,
                valid_from=_parse(data.get("valid_from")),
                valid_until=_parse(data.get("valid_until")),
                revoked_at=_parse(data.get("revoked_at")),
                revocation_reason=None if reason is None else str(reason),
            )
        except (KeyError, ValueError, TypeError, binascii.Error) as exc:
            msg = f"keyring entry is malformed: {exc}"
            raise KeyMaterialError(msg) from None


def _fmt(value: dt.datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _parse(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"instant {value!r} is not a string")
    return parse_time(value)


def as_trusted(key: VerifierKey | TrustedKey) -> TrustedKey:
    """Return *key* as a `TrustedKey` (a bare public key is trusted without limits)."""
    return key if isinstance(key, TrustedKey) else TrustedKey(key)


@attrs.frozen
class Keyring:
    """The keys of a key folder, oldest first; the last unrevoked, open-ended one is active."""

    keys: tuple[TrustedKey, ...] = ()

    def active(self, when: dt.datetime | None = None) -> TrustedKey | None:
        """Return the newest key that may sign at *when* (now-independent if ``None``).

        Args:
            when: the signing time; ``None`` picks the newest key with no end of validity
                and no revocation.
        """
        for trusted in reversed(self.keys):
            if when is None:
                if trusted.valid_until is None and trusted.revoked_at is None:
                    return trusted
            elif trusted.refusal_at(when) is None:
                return trusted
        return None

    def get(self, name: str) -> TrustedKey:
        """Return the key called *name*.

        Raises:
            KeyMaterialError: no key of that name is in the keyring.
        """
        for trusted in self.keys:
            if name in (trusted.name, trusted.key.key_id):
                return trusted
        msg = f"no key {name!r} in the keyring"
        raise KeyMaterialError(msg)

    def add(self, key: VerifierKey, *, valid_from: dt.datetime) -> Keyring:
        """Return the keyring with *key* added, valid from *valid_from*, open-ended.

        Raises:
            KeyMaterialError: the key is already in the keyring.
        """
        if any(t.key == key for t in self.keys):
            msg = f"key {key.name} is already in the keyring"
            raise KeyMaterialError(msg)
        return Keyring((*self.keys, TrustedKey(key, valid_from=valid_from)))

    def rotate(self, new: VerifierKey, *, at: dt.datetime) -> Keyring:
        """Return the keyring where every open-ended key ends at *at* and *new* starts.

        Raises:
            KeyMaterialError: *at* lies before the start of the key it would end.
        """
        when = _utc(at)
        assert when is not None
        ended = []
        for trusted in self.keys:
            if trusted.valid_until is None and trusted.revoked_at is None:
                if trusted.valid_from is not None and when < trusted.valid_from:
                    msg = f"cannot end key {trusted.name} before its start"
                    raise KeyMaterialError(msg)
                ended.append(attrs.evolve(trusted, valid_until=when))
            else:
                ended.append(trusted)
        return Keyring(tuple(ended)).add(new, valid_from=when)

    def revoke(self, name: str, *, at: dt.datetime, reason: str) -> Keyring:
        """Return the keyring with key *name* revoked from *at* on.

        Raises:
            KeyMaterialError: no such key, or it is revoked already.
        """
        target = self.get(name)
        if target.revoked_at is not None:
            msg = f"key {target.name} is revoked already"
            raise KeyMaterialError(msg)
        return Keyring(
            tuple(
                attrs.evolve(t, revoked_at=at, revocation_reason=reason) if t is target else t
                for t in self.keys
            )
        )

    def to_json(self) -> str:
        """Return the ``keyring.json`` text."""
        doc = {
            "format": _FORMAT,
            "version": _VERSION,
            "keys": [t.to_dict() for t in self.keys],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """Parse ``keyring.json`` text.

        Raises:
            KeyMaterialError: the text is not a keyring of a known version.
        """
        doc = read_document(
            text,
            fmt=_FORMAT,
            what="keyring",
            wrong_format="not a pelayanan keyring (format field missing)",
            error=KeyMaterialError,
        )
        if doc.get("version") != _VERSION or not isinstance(doc.get("keys"), list):
            msg = f"unsupported keyring version {doc.get('version')!r}"
            raise KeyMaterialError(msg)
        return cls(tuple(TrustedKey.from_dict(item) for item in doc["keys"]))


def load_keyring(directory: str | os.PathLike[str]) -> Keyring | None:
    """Load ``keyring.json`` from a key folder; ``None`` when the folder has none.

    Raises:
        KeyMaterialError: the file exists but cannot be read or parsed.
    """
    path = Path(directory) / KEYRING_FILE
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read keyring ({exc.strerror})"
        raise KeyMaterialError(msg) from None
    try:
        return Keyring.from_json(text)
    except KeyMaterialError as exc:
        msg = f"{path}: {exc}"
        raise KeyMaterialError(msg) from None


def save_keyring(keyring: Keyring, directory: str | os.PathLike[str]) -> Path:
    """Write ``keyring.json`` into a key folder atomically; return its path.

    Raises:
        KeyMaterialError: the folder cannot be written.
    """
    path = Path(directory) / KEYRING_FILE
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(keyring.to_json(), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        msg = f"{path}: cannot write keyring ({exc.strerror})"
        raise KeyMaterialError(msg) from None
    return path


def create_key_folder(
    directory: str | os.PathLike[str],
    *,
    valid_from: dt.datetime,
    passphrase: bytes | None = None,
    key: SigningKey | None = None,
) -> SigningKey:
    """Create a key folder: a new key pair and a keyring where it is valid from *valid_from*.

    Args:
        directory: the folder (created if missing).
        valid_from: the first instant the key may sign.
        passphrase: encrypts the private key PEM when given.
        key: use this key instead of generating one.

    Returns:
        The signing key.

    Raises:
        KeyMaterialError: the folder holds a key already or cannot be written.
    """
    signing = key if key is not None else generate_key_pair()
    write_key_pair(signing, directory, passphrase=passphrase)
    save_keyring(Keyring().add(signing.verifier, valid_from=valid_from), directory)
    return signing


def rotate_key_folder(
    directory: str | os.PathLike[str],
    *,
    at: dt.datetime,
    passphrase: bytes | None = None,
    key: SigningKey | None = None,
) -> tuple[TrustedKey, SigningKey]:
    """Rotate the active key of a key folder at *at*.

    The active pair is renamed ``<name>-private.pem`` / ``<name>-public.pem``, a new pair
    takes the names ``ledger-private.pem`` / ``ledger-public.pem``, and the keyring ends the
    old key's validity at *at* where the new key's begins.

    Args:
        directory: the key folder.
        at: the rotation instant.
        passphrase: encrypts the new private key PEM when given.
        key: use this key instead of generating one.

    Returns:
        The retired key (with its validity now closed) and the new signing key.

    Raises:
        KeyMaterialError: the folder has no keyring or no active key.
    """
    folder = Path(directory)
    keyring = load_keyring(folder)
    if keyring is None:
        msg = f"{folder}: no {KEYRING_FILE}; create the folder with 'pelayanan keys generate'"
        raise KeyMaterialError(msg)
    old = keyring.active()
    if old is None:
        msg = f"{folder}: the keyring has no active key to rotate"
        raise KeyMaterialError(msg)
    signing = key if key is not None else generate_key_pair()
    updated = keyring.rotate(signing.verifier, at=at)
    try:
        for suffix, current in (("private", PRIVATE_KEY_FILE), ("public", PUBLIC_KEY_FILE)):
            source = folder / current
            if source.exists():
                source.replace(folder / f"{old.name}-{suffix}.pem")
    except OSError as exc:
        msg = f"{folder}: cannot retire the old key files ({exc.strerror})"
        raise KeyMaterialError(msg) from None
    write_key_pair(signing, folder, passphrase=passphrase)
    save_keyring(updated, folder)
    return updated.get(old.name), signing


def revoke_key(
    directory: str | os.PathLike[str], name: str, *, at: dt.datetime, reason: str
) -> TrustedKey:
    """Revoke key *name* (a name or key id) of a key folder from *at* on.

    Returns:
        The revoked key.

    Raises:
        KeyMaterialError: no keyring, no such key, or revoked already.
    """
    folder = Path(directory)
    keyring = load_keyring(folder)
    if keyring is None:
        msg = f"{folder}: no {KEYRING_FILE}; nothing to revoke"
        raise KeyMaterialError(msg)
    updated = keyring.revoke(name, at=at, reason=reason)
    save_keyring(updated, folder)
    return updated.get(name)


class KeyringSigner:
    """Sign checkpoints with the key the keyring makes valid at each checkpoint's time.

    Args:
        keyring: the keys and their validity.
        private_keys: the private keys available (at least the active one).

    Raises:
        KeyMaterialError: none of *private_keys* is in the keyring.
    """

    def __init__(self, keyring: Keyring, private_keys: Iterable[SigningKey]) -> None:
        self.keyring = keyring
        self._private = {k.name: k for k in private_keys}
        self._folder: Path | None = None
        self._passphrase: bytes | None = None
        if not any(t.name in self._private for t in keyring.keys):
            msg = "none of the given private keys is in the keyring"
            raise KeyMaterialError(msg)

    def __repr__(self) -> str:
        return f"KeyringSigner(keys={sorted(self._private)!r})"

    @classmethod
    def from_folder(
        cls, directory: str | os.PathLike[str], *, passphrase: bytes | None = None
    ) -> KeyringSigner:
        """Load the active private key and the keyring of a key folder.

        Raises:
            KeyMaterialError: the folder lacks a keyring or the private key.
        """
        folder = Path(directory)
        keyring = load_keyring(folder)
        private = load_private_key(folder / PRIVATE_KEY_FILE, passphrase)
        if keyring is None:
            keyring = Keyring((TrustedKey(private.verifier),))
        signer = cls(keyring, [private])
        signer._folder = folder
        signer._passphrase = passphrase
        return signer

    def reload(self) -> None:
        """Re-read the key folder this signer was loaded from (after a rotation).

        Private keys loaded before stay available, so checkpoints dated inside an old
        key's validity can still be signed by it.

        Raises:
            KeyMaterialError: the signer was not loaded from a folder, or the folder's
                keys cannot be read.
        """
        if self._folder is None:
            msg = "this signer was not loaded from a key folder; build a new one"
            raise KeyMaterialError(msg)
        fresh = KeyringSigner.from_folder(self._folder, passphrase=self._passphrase)
        self.keyring = fresh.keyring
        self._private.update(fresh._private)

    def __call__(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        """Sign *checkpoint* with the newest key valid at its time.

        Raises:
            KeyMaterialError: no key whose private half is loaded is valid at that time
                (rotated, expired or revoked): a checkpoint it signed would not verify.
        """
        for trusted in reversed(self.keyring.keys):
            private = self._private.get(trusted.name)
            if private is not None and trusted.refusal_at(checkpoint.time) is None:
                return checkpoint.sign(private)
        msg = (
            f"no loaded ledger key is valid at {format_time(checkpoint.time)}; "
            "rotate to a new key ('pelayanan keys rotate') and reload it"
        )
        raise KeyMaterialError(msg)


def trusted_from(keys: Sequence[VerifierKey | TrustedKey]) -> tuple[TrustedKey, ...]:
    """Return *keys* as trusted keys (bare public keys without limits)."""
    return tuple(as_trusted(k) for k in keys)
