"""Encryption at rest for connector and webhook secrets.

Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``: authenticated, so a tampered or
foreign ciphertext is refused rather than decrypted into garbage. Several keys may be given; the
first encrypts and all decrypt, which is how an operator rotates the key without downtime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "SecretBoxError", "generate_key"]


class SecretBoxError(Exception):
    """A key is malformed or a ciphertext cannot be decrypted with any configured key."""


def generate_key() -> str:
    """A new random key in the form ``LENDHUB_SECRET_KEY`` expects."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Seals a mapping of secret names to values into one opaque string, and opens it again."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretBoxError("at least one key is needed")
        self._keys = [key.strip().encode("ascii", "replace") for key in keys]
        try:
            self._fernet = MultiFernet([Fernet(key) for key in self._keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise SecretBoxError(
                "a secret key must be 32 url-safe base64-encoded bytes (see `lendhub secret-key`)"
            ) from exc

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        """Build from a comma list of keys, newest first."""
        return cls([part for part in value.split(",") if part.strip()])

    def fingerprints(self, label: str) -> list[str]:
        """HMAC-SHA256 of ``label`` under each key, newest first: tells keys apart, reveals none."""
        return [hmac.new(key, label.encode("utf-8"), hashlib.sha256).hexdigest() for key in self._keys]

    def seal(self, secrets: Mapping[str, str]) -> str:
        """Encrypt ``secrets`` (name → plain value) into a token safe to store."""
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode("utf-8")).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """Decrypt a token made by ``seal`` with any configured key."""
        try:
            plain = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise SecretBoxError("stored secrets cannot be decrypted with the configured key(s)") from exc
        value = json.loads(plain)
        if not isinstance(value, dict):
            raise SecretBoxError("stored secrets are not a mapping")
        return {str(k): str(v) for k, v in value.items()}

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretBoxError("stored secrets cannot be decrypted with the configured key(s)") from exc
