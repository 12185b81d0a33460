"""The personal-data vault: a master key, per-subject data keys, sealed field values.

Key hierarchy (see docs/privacy.md):

* the **master key** (32 bytes) is supplied by the host app: the library keeps it only
  in memory, and a store records only its *fingerprint* (an HKDF-derived value from
  which the key cannot be recovered) so that a store is never opened with another key
  (`Vault.bind`).  Where the key lives is the host's choice: a key management service,
  or a file written by `write_master_key` (the command line keeps one in the store's
  key folder, ``DB.keys/vault-master.key``, mode 0600, folder 0700).  HKDF-SHA256
  derives from it a *wrapping key* and an *index key*;
* each **data subject** has its own random 256-bit data key, stored only wrapped
  (AES-256-GCM under the wrapping key, the subject id and key id bound as associated
  data); destroying that wrapped key erases the subject everywhere at once;
* each **personal field value** is sealed with AES-256-GCM under its subject's data key,
  with the ledger, request, field, subject and key id bound as associated data, so a
  sealed value cannot be moved to another request or field; a keyed commitment
  (HMAC-SHA256 under a key derived from the data key) allows equality checks and dies
  with the key;
* NIK numbers are indexed by HMAC-SHA256 under the index key (never by a bare hash: a
  16-digit number is found by brute force; docs/sources.md on UU 27/2022).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pelayanan.audit.canonical import canonical_json
from pelayanan.audit.keys import make_private_folder, warn_if_exposed, write_private_file
from pelayanan.exceptions import PrivacyError, VaultKeyMismatchError
from pelayanan.store.vault import VaultFingerprintStore, VaultStore, WrappedKey

__all__ = [
    "ALGORITHM",
    "MASTER_KEY_FILE",
    "SubjectKey",
    "Vault",
    "generate_master_key",
    "is_sealed",
    "load_master_key",
    "new_subject_id",
    "write_master_key",
]

#: The cipher named in every sealed value.
ALGORITHM = "AES-256-GCM"
#: The file name of the master key in a store's key folder (``PATH.keys/``).
MASTER_KEY_FILE = "vault-master.key"

_SEALED_KEYS = frozenset({"alg", "ct", "kid", "mac", "nonce", "subject"})
_NIK_NOISE = re.compile(r"[\s.\-]")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _encode(strings: list[str]) -> bytes:
    try:
        return _ENCODER.encode(strings).encode("utf-8")
    except UnicodeEncodeError:
        return canonical_json(strings)  # raises the typed error for lone surrogates


def _plaintext(value: Any) -> bytes:
    """Encode a value as canonical JSON (strings, the common case, without the walk)."""
    if isinstance(value, str):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # canonical_json raises the typed error for lone surrogates
    return canonical_json(value)


def _derive(master: bytes, purpose: str) -> bytes:
    info = f"pelayanan/vault/v1/{purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def generate_master_key() -> bytes:
    """Return a new random 32-byte master key (in memory: save it with `write_master_key`).

    Returns:
        The key bytes.
    """
    return secrets.token_bytes(32)


def write_master_key(key: bytes, path: str | os.PathLike[str]) -> Path:
    """Write *key* to *path*, readable by its owner only (mode 0600); return the path.

    A folder created for it is readable by its owner only (mode 0700), whatever the umask.

    Args:
        key: the 32-byte master key (from `generate_master_key`).
        path: the key file (``DB.keys/vault-master.key`` is where the command line looks).

    Returns:
        The path written.

    Raises:
        PrivacyError: the key is not 32 bytes or the file cannot be written.
    """
    if len(key) != 32:
        msg = "a vault master key is 32 bytes"
        raise PrivacyError(msg)
    target = Path(path)
    try:
        make_private_folder(target.parent)
        write_private_file(target, key, exclusive=False)
    except OSError as exc:
        msg = f"cannot write the vault master key to {target}: {exc.strerror}"
        raise PrivacyError(msg) from None
    return target


def load_master_key(path: str | os.PathLike[str] | None = None, *, env: str | None = None) -> bytes:
    """Read the vault master key from a file written by `write_master_key`, or from an
    environment variable.

    Give exactly one source.  The variable holds the key as base64 text (44 characters;
    ``base64 < vault-master.key`` prints it), for containers and CI secrets where no key
    file is mounted.  Warns with `KeyFilePermissionWarning` when other users can read the
    file.

    Args:
        path: the key file (``vault-master.key`` in a key folder).
        env: the name of an environment variable holding the key as base64.

    Returns:
        The 32-byte master key.

    Raises:
        PrivacyError: neither or both sources given, the variable is unset or not base64,
            the file cannot be read, or the key is not 32 bytes.
    """
    if env is not None and path is None:
        return _master_key_from_env(env)
    if path is None or env is not None:
        msg = "give the vault master key's file (path=...) or its environment variable (env=...)"
        raise PrivacyError(msg)
    warn_if_exposed(path, "vault master key")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"cannot read the vault master key {path}: {exc.strerror}"
        raise PrivacyError(msg) from None
    return _sized_key(data, str(path))


def _master_key_from_env(env: str) -> bytes:
    """Decode the base64 master key held by environment variable *env*."""
    text = os.environ.get(env, "").strip()
    if not text:
        msg = f"environment variable {env} is unset or empty; set it to the base64 master key"
        raise PrivacyError(msg)
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        msg = f"environment variable {env} is not base64 text (base64 < vault-master.key)"
        raise PrivacyError(msg) from None
    return _sized_key(data, f"environment variable {env}")


def _sized_key(data: bytes, source: str) -> bytes:
    """Return *data* if it is a master key's 32 bytes, else refuse naming *source*."""
    if len(data) != 32:
        msg = f"{source} is not a vault master key (a 32-byte key; found {len(data)} bytes)"
        raise PrivacyError(msg)
    return data


def new_subject_id() -> str:
    """Return a new pseudonymous data-subject id (random; never derived from the person)."""
    return "subj-" + secrets.token_hex(10)


def is_sealed(value: Any) -> bool:
    """Return whether *value* is a sealed personal value (a ciphertext reference)."""
    return isinstance(value, Mapping) and set(value) == _SEALED_KEYS


class SubjectKey:
    """One data subject's unwrapped data key: seals and opens their field values.

    Args:
        subject: the data-subject id.
        kid: the key id.
        key: the 32-byte data key.
    """

    def __init__(self, subject: str, kid: str, key: bytes) -> None:
        self.subject = subject
        self.kid = kid
        self._aead = AESGCM(key)
        self._commit_key = hmac.digest(key, b"pelayanan/vault/v1/commit", "sha256")

    def __repr__(self) -> str:
        return f"SubjectKey(subject={self.subject!r}, kid={self.kid!r})"

    def _aad(self, ledger: str, request: str, field: str) -> bytes:
        # A JSON array of strings: unambiguous, and cheap on the act() hot path.
        return _encode([ledger, request, field, self.subject, self.kid])

    def _commit(self, field: str, plaintext: bytes) -> str:
        message = field.encode() + b"\x00" + plaintext
        return _b64(hmac.digest(self._commit_key, message, "sha256"))

    def commitment(self, field: str, value: Any) -> str:
        """Return the keyed commitment to *value* in *field* (HMAC-SHA256, base64url)."""
        return self._commit(field, _plaintext(value))

    def seal(self, value: Any, *, ledger: str, request: str, field: str) -> dict[str, str]:
        """Encrypt *value* for *field* of *request* in *ledger*; return the sealed reference.

        Raises:
            CanonicalEncodingError: the value is not canonical JSON (e.g. a float).
        """
        nonce = secrets.token_bytes(12)
        plaintext = _plaintext(value)
        ciphertext = self._aead.encrypt(nonce, plaintext, self._aad(ledger, request, field))
        return {
            "alg": ALGORITHM,
            "ct": _b64(ciphertext),
            "kid": self.kid,
            "mac": self._commit(field, plaintext),
            "nonce": _b64(nonce),
            "subject": self.subject,
        }

    def open(self, sealed: Mapping[str, Any], *, ledger: str, request: str, field: str) -> Any:
        """Decrypt a sealed reference made by `seal` with the same context.

        Raises:
            PrivacyError: the reference is not this subject's, or it does not decrypt
                (altered, or moved to another request or field).
        """
        if not is_sealed(sealed) or sealed["alg"] != ALGORITHM:
            msg = f"field {field!r} of request {request!r} holds no sealed personal value"
            raise PrivacyError(msg)
        if sealed["subject"] != self.subject or sealed["kid"] != self.kid:
            msg = f"field {field!r} of request {request!r} is sealed for another key"
            raise PrivacyError(msg)
        try:
            plaintext = self._aead.decrypt(
                _unb64(sealed["nonce"]),
                _unb64(sealed["ct"]),
                self._aad(ledger, request, field),
            )
        except (InvalidTag, ValueError):
            msg = f"field {field!r} of request {request!r} does not decrypt: it was altered"
            raise PrivacyError(msg) from None
        return json.loads(plaintext)

    def matches(self, sealed: Mapping[str, Any], *, field: str, value: Any) -> bool:
        """Return whether *sealed* commits to *value*, without decrypting it."""
        expected = self.commitment(field, value)
        return hmac.compare_digest(str(sealed.get("mac", "")), expected)


@attrs.frozen
class _Keys:
    wrap: AESGCM
    index: bytes
    fingerprint: str


def _fingerprint(master: bytes) -> str:
    # A separate HKDF purpose: the fingerprint reveals nothing of the wrapping or index keys.
    return "v1:" + _derive(master, "fingerprint")[:16].hex()


class Vault:
    """Wrap and unwrap per-subject data keys under the host's master key.

    Args:
        master_key: 32 bytes supplied by the host app (e.g. from a key management
            service or `load_master_key`).  The vault keeps it in memory only; call
            `bind` with the store so that the store is never used with another key.

    Raises:
        PrivacyError: the master key is not 32 bytes.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            msg = "the vault master key must be 32 bytes (see generate_master_key)"
            raise PrivacyError(msg)
        self._keys = _Keys(
            AESGCM(_derive(master_key, "wrap")),
            _derive(master_key, "index"),
            _fingerprint(master_key),
        )

    def __repr__(self) -> str:
        return f"Vault(<master key {self.fingerprint}>)"

    @property
    def fingerprint(self) -> str:
        """Return the master key's fingerprint (``v1:`` and 32 hex digits; not the key)."""
        return self._keys.fingerprint

    def bind(self, store: object) -> None:
        """Check that *store* is sealed under this master key; record it at first use.

        A store that records no fingerprint yet records this one, after checking that
        any subject key it already holds unwraps under this key (a store made before
        fingerprints existed).

        Args:
            store: a store with a vault (`VaultStore`, `VaultFingerprintStore`).

        Raises:
            VaultKeyMismatchError: the store's personal data is sealed under another key.
            PrivacyError: the store has no vault, or cannot record a fingerprint.
        """
        if not isinstance(store, VaultFingerprintStore):
            msg = f"{store!r} cannot record a vault key fingerprint; use a store with a vault"
            raise PrivacyError(msg)
        recorded = store.vault_fingerprint(None)
        if recorded is None:
            if isinstance(store, VaultStore):
                self._check_existing_keys(store)
            recorded = store.vault_fingerprint(self.fingerprint) or ""
        if not hmac.compare_digest(recorded, self.fingerprint):
            raise VaultKeyMismatchError(recorded, self.fingerprint)

    def _check_existing_keys(self, store: VaultStore) -> None:
        """Refuse a key under which a live subject key of *store* does not unwrap."""
        for subject in store.vault_subjects():
            wrapped = store.vault_key(subject)
            if wrapped is None:
                continue  # erased
            try:
                self.unwrap(wrapped)
            except PrivacyError:
                raise VaultKeyMismatchError(
                    "(the key the store's subject keys are wrapped under)", self.fingerprint
                ) from None
            return

    @staticmethod
    def _wrap_aad(subject: str, kid: str) -> bytes:
        return b"pelayanan/vault/v1/wrap\x00" + subject.encode() + b"\x00" + kid.encode()

    def new_key(self, subject: str, *, at: dt.datetime) -> tuple[WrappedKey, SubjectKey]:
        """Make a data key for *subject*; return it wrapped (to store) and usable."""
        kid = "k-" + secrets.token_hex(6)
        key = secrets.token_bytes(32)
        nonce = secrets.token_bytes(12)
        wrapped = self._keys.wrap.encrypt(nonce, key, self._wrap_aad(subject, kid))
        return WrappedKey(subject, kid, nonce, wrapped, at), SubjectKey(subject, kid, key)

    def unwrap(self, wrapped: WrappedKey) -> SubjectKey:
        """Unwrap a stored data key.

        Raises:
            PrivacyError: it does not unwrap (another master key, or altered).
        """
        try:
            key = self._keys.wrap.decrypt(
                wrapped.nonce, wrapped.wrapped, self._wrap_aad(wrapped.subject, wrapped.kid)
            )
        except InvalidTag:
            msg = (
                f"the key of subject {wrapped.subject!r} does not unwrap: wrong vault master "
                "key, or the vault was altered"
            )
            raise PrivacyError(msg) from None
        return SubjectKey(wrapped.subject, wrapped.kid, key)

    def index_tag(self, kind: str, value: str) -> str:
        """Return the keyed index tag of an identifying value (e.g. a NIK).

        NIK values are compared without spaces, dots and dashes.
        """
        normal = _NIK_NOISE.sub("", value) if kind == "nik" else value.strip()
        message = kind.encode() + b"\x00" + normal.encode()
        return hmac.new(self._keys.index, message, hashlib.sha256).hexdigest()
