"""The key ring that seals personal data at rest, and the key behind its blind indexes.

Sealing is AES-256-GCM (``cryptography``'s ``AESGCM``) with a random 96-bit nonce; the field class
is the associated data, so a sealed ID number pasted into a mobile column fails to open. A sealed
value reads ``pii1:<kid>:<base64(nonce ‖ ciphertext ‖ tag)>``: the key id travels with the value,
several keys can be loaded, the first seals, and ``lendhub keys rotate`` re-seals values whose
kid is not the first's. A blind index is HMAC-SHA256 over the class and the normalised value
under a separate key, so equal values can be found without decrypting anything.

One ring is installed per process (``install``) before any sealed column is read or written,
because SQLAlchemy column types have no other way to reach it; the runtime does this at start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KeyRing", "KeyRingError", "current", "install", "load_or_create_key_file"]

log = logging.getLogger(__name__)

PREFIX = "pii1"
NONCE_BYTES = 12


class KeyRingError(Exception):
    """Keys are missing or malformed, or a sealed value cannot be opened with any loaded key."""


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError):
        raise KeyRingError(f"{what} is not base64") from None
    if len(raw) != 32:
        raise KeyRingError(f"{what} must be 32 bytes (base64 of 32 random bytes), got {len(raw)}")
    return raw


class KeyRing:
    """Sealing keys (newest first) and the blind-index key."""

    def __init__(self, keys: Sequence[tuple[str, bytes]], index_key: bytes) -> None:
        if not keys:
            raise KeyRingError("at least one PII key is needed")
        if len(index_key) != 32:
            raise KeyRingError("the blind-index key must be 32 bytes")
        kids = [kid for kid, _ in keys]
        if len(set(kids)) != len(kids) or not all(kid.isalnum() for kid in kids):
            raise KeyRingError("PII key ids must be distinct and alphanumeric")
        self._keys = {kid: _Key(kid, AESGCM(raw)) for kid, raw in keys}
        self._raw = [raw for _, raw in keys]
        self.current_kid = kids[0]
        self._index_key = index_key

    @classmethod
    def from_setting(cls, keys: str, index_key: str) -> KeyRing:
        """From ``LENDHUB_PII_KEYS`` (``kid:base64,…``, newest first) and ``LENDHUB_PII_INDEX_KEY``."""
        parsed = []
        for position, part in enumerate(p for p in keys.split(",") if p.strip()):
            kid, sep, text = part.strip().partition(":")
            if not sep:
                raise KeyRingError(f"LENDHUB_PII_KEYS entry {position + 1} must be KID:BASE64KEY")
            parsed.append((kid, _decode_key(text, f"LENDHUB_PII_KEYS entry {kid!r}")))
        return cls(parsed, _decode_key(index_key, "LENDHUB_PII_INDEX_KEY"))

    @staticmethod
    def generate_key() -> str:
        """A new random key, base64."""
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")

    @property
    def kids(self) -> list[str]:
        """Loaded key ids, newest first."""
        return list(self._keys)

    def fingerprints(self, label: str) -> list[str]:
        """HMAC-SHA256 of ``label`` under each sealing key, newest first: tells keys apart, reveals none."""
        return [hmac.new(raw, label.encode("utf-8"), hashlib.sha256).hexdigest() for raw in self._raw]

    def index_fingerprint(self, label: str) -> str:
        """HMAC-SHA256 of ``label`` under the blind-index key."""
        return hmac.new(self._index_key, label.encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, field_class: str) -> str:
        """Encrypt ``plaintext`` under the newest key, bound to ``field_class``."""
        key = self._keys[self.current_kid]
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext, field_class.encode("utf-8"))
        return f"{PREFIX}:{key.kid}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str, field_class: str) -> bytes:
        """Decrypt a value made by ``seal`` for the same ``field_class``."""
        prefix, _, rest = token.partition(":")
        kid, _, body = rest.partition(":")
        if prefix != PREFIX or not body:
            raise KeyRingError("not a sealed value")
        key = self._keys.get(kid)
        if key is None:
            raise KeyRingError(f"sealed with key {kid!r}, which is not loaded (see LENDHUB_PII_KEYS)")
        try:
            raw = base64.b64decode(body, validate=True)
            return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field_class.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise KeyRingError(f"a sealed {field_class} value cannot be opened (tampered or moved)") from None

    @staticmethod
    def kid_of(token: str) -> str | None:
        """The key id a sealed value names, without opening it."""
        prefix, _, rest = token.partition(":")
        return rest.partition(":")[0] if prefix == PREFIX else None

    def blind_index(self, field_class: str, normalised: str) -> str:
        """A stable digest for exact-match search; equal inputs give equal digests."""
        message = field_class.encode("utf-8") + b"\x00" + normalised.encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


_installed: KeyRing | None = None


def install(ring: KeyRing) -> None:
    """Make ``ring`` the process's key ring (the runtime does this before touching the database)."""
    global _installed
    _installed = ring


def current() -> KeyRing:
    """The installed ring; a clear error when none is, instead of storing clear data."""
    if _installed is None:
        raise KeyRingError("no PII key ring is installed; start a Runtime (or call core.pii.install)")
    return _installed


def load_or_create_key_file(path: Path) -> KeyRing:
    """The embedded default: keys kept in a JSON file under ``var/`` (mode 0600), made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"keys": [["k1", KeyRing.generate_key()]], "index_key": KeyRing.generate_key()}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2)
            log.warning("generated PII keys at %s; back the file up, or set LENDHUB_PII_KEYS", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = [(str(kid), _decode_key(str(text), f"{path} key {kid}")) for kid, text in data["keys"]]
        return KeyRing(keys, _decode_key(str(data["index_key"]), f"{path} index_key"))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyRingError(f"{path} is not a LendHub PII key file: {exc}") from None


def add_key_to_file(path: Path) -> str:
    """Put a new key in front of the key file's ring (for ``lendhub keys rotate --new-key``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    taken = {str(kid) for kid, _ in data["keys"]}
    number = len(taken) + 1
    while f"k{number}" in taken:
        number += 1
    kid = f"k{number}"
    data["keys"].insert(0, [kid, KeyRing.generate_key()])
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)
    return kid
