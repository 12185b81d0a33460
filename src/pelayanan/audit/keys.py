"""Ed25519 ledger keys: generation, PEM files, key names and ids.

A key's *name* is derived from its public key (``pelayanan-`` and the first 16 hex
digits of SHA-256 of the raw public key), so an auditor holding only the public PEM can
tell which checkpoints it signed.  The 4-byte *key hash* is the C2SP signed-note key ID:
SHA-256(name || 0x0A || 0x01 || public key)[:4].  Private key bytes never appear in a
repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import warnings
from pathlib import Path

import attrs
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pelayanan.exceptions import KeyFilePermissionWarning, KeyMaterialError

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "SigningKey",
    "VerifierKey",
    "generate_key_pair",
    "load_key_dir",
    "load_private_key",
    "load_public_key",
    "load_signing_key",
    "make_private_folder",
    "warn_if_exposed",
    "write_key_pair",
    "write_private_file",
]

#: File names used by ``pelayanan keys generate`` and the demo's ``PATH.keys/`` folder.
PRIVATE_KEY_FILE = "ledger-private.pem"
PUBLIC_KEY_FILE = "ledger-public.pem"

_ED25519_ALG = b"\x01"  # C2SP signed-note signature type for Ed25519


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _name_for(raw_public: bytes) -> str:
    return "pelayanan-" + hashlib.sha256(raw_public).hexdigest()[:16]


@attrs.frozen(repr=False)
class VerifierKey:
    """A public ledger key that checks checkpoint signatures."""

    public_key: bytes
    name: str = attrs.field()

    @name.default
    def _default_name(self) -> str:
        return _name_for(self.public_key)

    @property
    def key_hash(self) -> bytes:
        """Return the 4-byte C2SP key ID."""
        return hashlib.sha256(self.name.encode() + b"\n" + _ED25519_ALG + self.public_key).digest()[
            :4
        ]

    @property
    def key_id(self) -> str:
        """Return the key ID as 8 hex digits."""
        return self.key_hash.hex()

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether *signature* is this key's Ed25519 signature of *message*."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def vkey(self) -> str:
        """Return the C2SP verifier key string ``name+hash+base64(type||key)``."""
        blob = base64.b64encode(_ED25519_ALG + self.public_key).decode()
        return f"{self.name}+{self.key_id}+{blob}"

    def public_pem(self) -> bytes:
        """Return the public key as SubjectPublicKeyInfo PEM."""
        return Ed25519PublicKey.from_public_bytes(self.public_key).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"VerifierKey(name={self.name!r}, key_id={self.key_id!r})"


@attrs.frozen(repr=False)
class SigningKey:
    """A private ledger key that signs checkpoints."""

    _private: Ed25519PrivateKey

    @property
    def verifier(self) -> VerifierKey:
        """Return the matching public key."""
        return VerifierKey(_raw_public(self._private.public_key()))

    @property
    def name(self) -> str:
        """Return the key name used in signature lines."""
        return self.verifier.name

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of *message*."""
        return self._private.sign(message)

    def private_pem(self, passphrase: bytes | None = None) -> bytes:
        """Return the private key as PKCS#8 PEM, encrypted when *passphrase* is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def __repr__(self) -> str:
        return f"SigningKey(name={self.name!r}, key_id={self.verifier.key_id!r})"


def make_private_folder(directory: str | os.PathLike[str]) -> Path:
    """Create a key folder readable by its owner only (mode 0700, whatever the umask).

    An existing folder is left as it is.

    Returns:
        The folder.

    Raises:
        OSError: the folder cannot be created.
    """
    folder = Path(directory)
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(stat.S_IRWXU)
    return folder


def write_private_file(
    path: str | os.PathLike[str], data: bytes, *, exclusive: bool = True
) -> Path:
    """Write secret *data* to *path*, readable by its owner only (mode 0600, whatever the umask).

    Args:
        path: the file.
        data: the bytes (a private key).
        exclusive: refuse to replace an existing file (``FileExistsError``).

    Returns:
        The file.

    Raises:
        OSError: the file exists (with *exclusive*) or cannot be written.
    """
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(target, flags | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        # The mode given to open() is narrowed by the umask and ignored for a file that
        # exists: set it outright.
        if hasattr(os, "fchmod"):
            os.fchmod(handle.fileno(), stat.S_IRUSR | stat.S_IWUSR)
        handle.write(data)
    return target


def warn_if_exposed(path: str | os.PathLike[str], what: str) -> None:
    """Warn (`KeyFilePermissionWarning`) when users other than the owner can read *path*.

    Args:
        path: a secret key file.
        what: what the file holds, for the message.
    """
    if os.name != "posix":
        return  # Windows permissions are ACLs, not mode bits
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            KeyFilePermissionWarning(
                f"{path}: the {what} can be read by other users (mode "
                f"{stat.S_IMODE(mode):04o}); run chmod 600 on it"
            ),
            stacklevel=3,
        )


def generate_key_pair() -> SigningKey:
    """Generate a new Ed25519 ledger key (in memory: save it with `write_key_pair`).

    Returns:
        The new signing key; ``key.verifier`` is its public half.
    """
    return SigningKey(Ed25519PrivateKey.generate())


def load_private_key(path: str | os.PathLike[str], passphrase: bytes | None = None) -> SigningKey:
    """Load a private ledger key from a PEM file.

    Args:
        path: the PEM file (``ledger-private.pem`` in a key folder).
        passphrase: the passphrase of an encrypted key.

    Returns:
        The signing key.

    Raises:
        KeyMaterialError: the file is missing, unreadable, encrypted without a (right)
            passphrase, or not an Ed25519 private key.
    """
    data = _read(path)
    warn_if_exposed(path, "ledger private key")
    return _parse_private(data, passphrase, str(path))


def load_signing_key(
    path: str | os.PathLike[str] | None = None,
    *,
    env: str | None = None,
    passphrase: bytes | None = None,
) -> SigningKey:
    """Load the ledger's signing key from a PEM file or from an environment variable.

    Give exactly one source.  An environment variable holds the PEM text itself (as
    written by `write_key_pair` into ``ledger-private.pem``), which suits containers and
    CI secrets where no key file is mounted::

        key = load_signing_key("office.db.keys/ledger-private.pem")
        key = load_signing_key(env="PELAYANAN_LEDGER_KEY")

    Args:
        path: a private key PEM file.
        env: the name of an environment variable holding the private key PEM text.
        passphrase: the passphrase of an encrypted key.

    Returns:
        The signing key.

    Raises:
        KeyMaterialError: neither or both sources given, the variable is unset or empty,
            or the PEM is unreadable, encrypted without a (right) passphrase, or not an
            Ed25519 private key.
    """
    if path is not None and env is None:
        return load_private_key(path, passphrase)
    if env is None or path is not None:
        msg = "give the signing key's PEM file (path=...) or its environment variable (env=...)"
        raise KeyMaterialError(msg)
    text = os.environ.get(env, "").strip()
    if not text:
        msg = f"environment variable {env} is unset or empty; set it to the private key PEM text"
        raise KeyMaterialError(msg)
    return _parse_private(text.encode("ascii", "replace") + b"\n", passphrase, f"${env}")


def _parse_private(data: bytes, passphrase: bytes | None, where: str) -> SigningKey:
    """Parse PEM *data* into a signing key; *where* names its source in messages."""
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        msg = (
            f"{where}: the key is encrypted; pass its passphrase (passphrase=...)"
            if passphrase is None
            else f"{where}: the key is not encrypted; pass no passphrase="
        )
        raise KeyMaterialError(msg) from None
    except (ValueError, UnsupportedAlgorithm):
        msg = f"{where}: not a PEM private key, or the passphrase is wrong"
        raise KeyMaterialError(msg) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _not_ed25519(where)
    return SigningKey(key)


def load_public_key(path: str | os.PathLike[str]) -> VerifierKey:
    """Load a public ledger key from a PEM file.

    Args:
        path: the PEM file (``ledger-public.pem`` in a key folder).

    Returns:
        The public key, to pass to a verifier.

    Raises:
        KeyMaterialError: the file is missing, unreadable or not an Ed25519 public key.
    """
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        msg = f"{path}: not a PEM public key"
        raise KeyMaterialError(msg) from None
    if not isinstance(key, Ed25519PublicKey):
        raise _not_ed25519(path)
    return VerifierKey(_raw_public(key))


def _not_ed25519(path: str | os.PathLike[str]) -> KeyMaterialError:
    return KeyMaterialError(f"{path}: not an Ed25519 key (ledger keys are Ed25519)")


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read key file ({exc.strerror})"
        raise KeyMaterialError(msg) from None


def write_key_pair(
    key: SigningKey, directory: str | os.PathLike[str], *, passphrase: bytes | None = None
) -> tuple[Path, Path]:
    """Write *key* as ``ledger-private.pem`` (mode 0600) and ``ledger-public.pem``.

    The folder is created readable by its owner only (mode 0700) when missing.

    Args:
        key: the signing key.
        directory: the key folder (``DB.keys/`` is where the command line looks by default).
        passphrase: encrypts the private key PEM when given.

    Returns:
        The paths of the private and the public key file.

    Raises:
        KeyMaterialError: the directory cannot be written or already holds a key.
    """
    folder = Path(directory)
    private_path = folder / PRIVATE_KEY_FILE
    public_path = folder / PUBLIC_KEY_FILE
    try:
        make_private_folder(folder)
        if private_path.exists():
            msg = f"{private_path} exists already; refusing to overwrite a ledger key"
            raise KeyMaterialError(msg)
        write_private_file(private_path, key.private_pem(passphrase))
        public_path.write_bytes(key.verifier.public_pem())
    except OSError as exc:
        msg = f"{folder}: cannot write key files ({exc.strerror})"
        raise KeyMaterialError(msg) from None
    return private_path, public_path


def load_key_dir(directory: str | os.PathLike[str]) -> tuple[SigningKey | None, list[VerifierKey]]:
    """Load the ledger keys kept in *directory* (as written by `write_key_pair`).

    Args:
        directory: the key folder.

    Returns:
        The private key if present, and every public key found (``*public*.pem``).

    Raises:
        KeyMaterialError: the folder does not exist or a key file in it is invalid.
    """
    folder = Path(directory)
    if not folder.is_dir():
        msg = f"{folder}: no such key folder"
        raise KeyMaterialError(msg)
    private_path = folder / PRIVATE_KEY_FILE
    signing = load_private_key(private_path) if private_path.exists() else None
    publics = [load_public_key(p) for p in sorted(folder.glob("*public*.pem"))]
    return signing, publics
