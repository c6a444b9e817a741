"""飞书 event-subscription crypto: the AES-256-CBC body encryption and the X-Lark-Signature.

Both sides use it: the simulator to push callbacks exactly as 飞书 does, and the receiver
(:meth:`connectors.feishu.connector.FeishuApproval.open_event`) to verify and decrypt them.

* key = SHA-256(encrypt_key); body = ``{"encrypt": base64(iv || AES-256-CBC(key, iv, pkcs7(json)))}``
  with a random 16-byte IV and 16-byte PKCS#7 blocks.
* ``X-Lark-Signature = sha256_hex(X-Lark-Request-Timestamp + X-Lark-Request-Nonce + encrypt_key + raw body)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["EventCryptoError", "decrypt", "encrypt", "sign", "verify_signature"]


class EventCryptoError(ValueError):
    """A callback that fails verification or decryption; the receiver answers 4xx and keeps nothing."""


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode()).digest()


def encrypt(plaintext: bytes, encrypt_key: str, *, iv: bytes | None = None) -> str:
    """Encrypt an event body the way 飞书 does; ``iv`` is random unless a test pins it."""
    iv = iv if iv is not None else os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def decrypt(encrypted: str, encrypt_key: str) -> bytes:
    """Decrypt the ``encrypt`` field of an event body.

    Raises:
        EventCryptoError: not base64, wrong length, or wrong key (bad padding).
    """
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise EventCryptoError("encrypt is not base64") from None
    if len(raw) < 32 or len(raw) % 16:
        raise EventCryptoError("encrypt has the wrong length for AES-256-CBC")
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise EventCryptoError("decryption failed: wrong encrypt key or corrupted body") from None


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """The ``X-Lark-Signature`` of a raw request body."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def verify_signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes, signature: str) -> None:
    """Check ``X-Lark-Signature`` in constant time.

    Raises:
        EventCryptoError: the signature does not match the raw body.
    """
    if not hmac.compare_digest(sign(timestamp, nonce, encrypt_key, body), signature.lower()):
        raise EventCryptoError("X-Lark-Signature does not match the body")
