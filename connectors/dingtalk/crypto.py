"""钉钉 callback crypto (DingCallbackCrypto): SHA-1 ``msg_signature`` and AES-256-CBC payloads.

Both sides use it: the simulator to push callbacks exactly as 钉钉 does and to check the
encrypted ``success`` reply, and the receiver to verify, decrypt and answer.

* ``msg_signature = sha1_hex("".join(sorted([token, timestamp, nonce, encrypt])))``.
* key = base64decode(EncodingAESKey + "=") (43 chars → 32 bytes), IV = key[:16], PKCS#7 over
  **32-byte** blocks; plaintext = random(16) || len(msg) (4 bytes, big-endian) || msg || ownerKey.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["CallbackCrypto", "CallbackCryptoError", "signature"]

_BLOCK = 32


class CallbackCryptoError(ValueError):
    """A callback or reply failing verification; ``code`` is DingCallbackCrypto's error number."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The ``msg_signature`` over the four strings, sorted."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class CallbackCrypto:
    """Encrypts, decrypts and signs for one app.

    Args:
        token: the callback token (签名 Token).
        aes_key: the 43-character EncodingAESKey.
        owner_key: appKey (企业内部应用事件订阅), corpId or suiteKey; checked on decryption.
    """

    def __init__(self, token: str, aes_key: str, owner_key: str) -> None:
        if len(aes_key) != 43:
            raise CallbackCryptoError("EncodingAESKey must be 43 characters", -40004)
        try:
            self._key = base64.b64decode(aes_key + "=")
        except (binascii.Error, ValueError):
            raise CallbackCryptoError("EncodingAESKey is not base64", -40004) from None
        self.token = token
        self.owner_key = owner_key

    def encrypt(self, message: str, *, random16: bytes | None = None) -> str:
        """Encrypt ``message`` for this owner; ``random16`` is random unless a test pins it."""
        data = message.encode()
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(data)) + data + self.owner_key.encode()
        pad = _BLOCK - len(plain) % _BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """Decrypt and check the owner key.

        Raises:
            CallbackCryptoError: -40007 undecryptable, -40005 owner key mismatch.
        """
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackCryptoError("encrypt is not base64", -40007) from None
        if not raw or len(raw) % 16:
            raise CallbackCryptoError("encrypt has the wrong length", -40007)
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or len(plain) < 20 + pad:
            raise CallbackCryptoError("bad padding: wrong EncodingAESKey", -40007)
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        message, owner = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise CallbackCryptoError("length prefix exceeds the message", -40007)
        if not hmac.compare_digest(owner, self.owner_key.encode()):
            raise CallbackCryptoError("owner key (appKey/corpId) does not match", -40005)
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CallbackCryptoError("message is not UTF-8", -40007) from None

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Check a ``msg_signature``.

        Raises:
            CallbackCryptoError: -40001 when it does not match.
        """
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise CallbackCryptoError("msg_signature does not match", -40001)

    def reply(self, message: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The JSON reply a receiver returns: ``message`` (``"success"``) encrypted and signed."""
        encrypt = self.encrypt(message)
        return {
            "msg_signature": signature(self.token, timestamp, nonce, encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }
