"""Signature schemes shared by webhook sources: pure functions on raw bytes, no I/O, no clock.

Each check raises the :mod:`plugins.sdk.webhooks` rejection that says what is wrong (which
header, which check) without echoing a secret or the payload, so the hub can answer with a
precise problem+json and an operator can debug "no matching signature" without guessing.

* **Standard Webhooks 1.0** (and Svix, which signs the same way under ``svix-`` headers):
  ``webhook-signature`` holds space-separated ``v1,<b64 HMAC-SHA256>`` and/or
  ``v1a,<b64 ed25519>`` entries over ``webhook-id.webhook-timestamp.body``. Several secrets or
  public keys may be active at once (rotation); any match is enough.
* **DocuSign Connect**: ``X-DocuSign-Signature-1`` … ``-N``, each ``base64(HMAC-SHA256(key, body))``;
  one header matching one configured key is enough.
* **WeChat-style callback crypto** (企业微信 WXBizMsgCrypt, 钉钉 DingCallbackCrypto, 用友):
  ``msg_signature = sha1_hex(sorted(token, timestamp, nonce, encrypt))``; AES-256-CBC with
  key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 over 32-byte blocks, plaintext =
  random(16) || len (4 bytes, big-endian) || message || owner (corpId / appKey / suiteKey).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .webhooks import (
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookRejected,
    standard_webhook_key,
)

__all__ = [
    "CallbackCrypto",
    "CallbackCryptoError",
    "StandardWebhookMessage",
    "docusign_signature",
    "ed25519_public_key",
    "generate_ed25519_keypair",
    "generate_standard_webhook_secret",
    "msg_signature",
    "sign_standard_webhook_v1a",
    "verify_docusign",
    "verify_standard_webhook",
]

_HEADER_PREFIXES = ("webhook-", "svix-")
_MAX_ID = 255
"""Longest ``webhook-id`` accepted: it becomes the inbox's dedupe key."""
_MAX_ENTRIES = 20
"""Most ``webhook-signature`` entries checked: bounds the work one request can cause."""
_DOCUSIGN_HEADER = re.compile(r"^x-docusign-signature-(\d{1,3})$")


# -- Standard Webhooks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardWebhookMessage:
    """What a verified Standard Webhooks request identifies: its id (the dedupe key) and timestamp."""

    msg_id: str
    timestamp: int


def _b64(raw: str, *, prefix: str, what: str) -> bytes:
    text = raw.removeprefix(prefix)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is {prefix!r} followed by base64") from None


def generate_standard_webhook_secret(nbytes: int = 32) -> str:
    """A new random ``whsec_`` secret (the spec asks for 24–64 random bytes)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a Standard Webhooks secret has 24 to 64 random bytes")
    return "whsec_" + base64.b64encode(os.urandom(nbytes)).decode()


def _private_key(secret_key: str) -> Ed25519PrivateKey:
    raw = _b64(secret_key, prefix="whsk_", what="an ed25519 secret key")
    # 32 bytes is the bare seed; 64 is libsodium's seed || public key.
    if len(raw) not in (32, 64):
        raise ValueError("an ed25519 secret key is 32 (seed) or 64 (seed and public key) bytes")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


def _public_key(public_key: str) -> Ed25519PublicKey:
    raw = _b64(public_key, prefix="whpk_", what="an ed25519 public key")
    if len(raw) != 32:
        raise ValueError("an ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def generate_ed25519_keypair() -> tuple[str, str]:
    """A new ``(whsk_…, whpk_…)`` pair for ``v1a``; the partner keeps the first, we trust the second."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    public = key.public_key().public_bytes_raw()
    return "whsk_" + base64.b64encode(seed).decode(), "whpk_" + base64.b64encode(public).decode()


def ed25519_public_key(secret_key: str) -> str:
    """The ``whpk_`` public key of a ``whsk_`` secret key."""
    public = _private_key(secret_key).public_key().public_bytes_raw()
    return "whpk_" + base64.b64encode(public).decode()


def _signed_content(msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    return msg_id.encode() + b"." + str(timestamp).encode() + b"." + body


def sign_standard_webhook_v1a(secret_key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1a,<base64>`` ed25519 signature of Standard Webhooks over ``id.timestamp.body``."""
    signature = _private_key(secret_key).sign(_signed_content(msg_id, timestamp, body))
    return "v1a," + base64.b64encode(signature).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    for prefix in _HEADER_PREFIXES:
        value = headers.get(prefix + name)
        if value:
            return value.strip()
    raise SignatureInvalid(f"the webhook-{name} header is missing")


def verify_standard_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    secrets: Sequence[str] = (),
    public_keys: Sequence[str] = (),
    tolerance_seconds: int = 300,
) -> StandardWebhookMessage:
    """Verify a Standard Webhooks request on its raw bytes.

    ``v1`` entries are checked against ``secrets`` (``whsec_``), ``v1a`` entries against
    ``public_keys`` (``whpk_``); entries of other versions are ignored as the spec says. The
    signature is checked before the timestamp, so a refusal for the timestamp means an authentic
    message outside the window: a replay or a wrong clock.

    Args:
        headers: lower-case header names; ``svix-*`` names are accepted where ``webhook-*`` are absent.
        body: the raw body.
        now: the receiver's clock.
        secrets: active HMAC secrets; several during a rotation.
        public_keys: trusted ed25519 public keys.
        tolerance_seconds: how far ``webhook-timestamp`` may be from ``now``, both ways.

    Raises:
        SignatureInvalid: a header missing or malformed, or no entry matching an active key.
        TimestampOutOfTolerance: authentic but too old or too new.
        ValueError: a configured secret or key is malformed (a configuration error, not the partner's).
    """
    msg_id = _header(headers, "id")
    raw_timestamp = _header(headers, "timestamp")
    signature_header = _header(headers, "signature")
    if len(msg_id) > _MAX_ID:
        raise SignatureInvalid(f"the webhook-id header is longer than {_MAX_ID} characters")
    if "." in msg_id:
        raise SignatureInvalid("the webhook-id header must not contain '.'")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise SignatureInvalid("the webhook-timestamp header is not an integer of Unix seconds")
    keys = [standard_webhook_key(secret) for secret in secrets]
    if not all(keys):
        raise ValueError("a configured Standard Webhooks secret is empty")
    verifiers = [_public_key(key) for key in public_keys]
    signed = _signed_content(msg_id, raw_timestamp, body)
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    entries = signature_header.split()
    if len(entries) > _MAX_ENTRIES:
        raise SignatureInvalid(f"the webhook-signature header has more than {_MAX_ENTRIES} entries")
    if not entries or any(entry.count(",") != 1 for entry in entries):
        raise SignatureInvalid("the webhook-signature header is not space-separated 'version,base64' entries")
    matched = checked = False
    for entry in entries:
        version, encoded = entry.split(",")
        if version not in ("v1", "v1a"):
            continue
        checked = True
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureInvalid(f"a {version} entry of webhook-signature is not base64") from None
        if version == "v1":
            # Compare against every key without short-circuiting on the secret that matched.
            matched |= any([hmac.compare_digest(given, digest) for digest in expected])
        else:
            matched |= any([_ed25519_ok(key, given, signed) for key in verifiers])
    if not checked:
        raise SignatureInvalid("the webhook-signature header has no v1 or v1a entry")
    if not matched:
        raise SignatureInvalid("no webhook-signature entry matches an active secret or public key")
    skew = int(raw_timestamp) - int(now.timestamp())
    if skew < -tolerance_seconds:
        raise TimestampOutOfTolerance(f"webhook-timestamp is older than {tolerance_seconds} s")
    if skew > tolerance_seconds:
        raise TimestampOutOfTolerance(f"webhook-timestamp is more than {tolerance_seconds} s in the future")
    return StandardWebhookMessage(msg_id=msg_id, timestamp=int(raw_timestamp))


def _ed25519_ok(key: Ed25519PublicKey, signature: bytes, signed: bytes) -> bool:
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return False
    return True


# -- DocuSign Connect ----------------------------------------------------------------------------


def docusign_signature(key: str, body: bytes) -> str:
    """``base64(HMAC-SHA256(key, body))``, the value of one ``X-DocuSign-Signature-N`` header."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def verify_docusign(headers: Mapping[str, str], body: bytes, *, keys: Sequence[str]) -> int:
    """Check DocuSign Connect HMAC headers; return the ``N`` of the first header that matched.

    Args:
        headers: lower-case header names.
        body: the raw body, line endings included.
        keys: the Connect HMAC keys configured as active; any may match any header.

    Raises:
        SignatureInvalid: no ``X-DocuSign-Signature-N`` header, or none matches a configured key.
    """
    given: list[tuple[int, bytes]] = []
    for name, value in headers.items():
        found = _DOCUSIGN_HEADER.match(name)
        if found is None:
            continue
        try:
            given.append((int(found.group(1)), base64.b64decode(value.strip(), validate=True)))
        except (binascii.Error, ValueError):
            continue  # one garbled header must not hide a good one beside it
    if not given:
        raise SignatureInvalid("no valid X-DocuSign-Signature-N header")
    digests = [hmac.new(key.encode(), body, hashlib.sha256).digest() for key in keys]
    for number, signature in sorted(given):
        if any([hmac.compare_digest(signature, digest) for digest in digests]):
            return number
    raise SignatureInvalid("no X-DocuSign-Signature-N header matches a configured Connect HMAC key")


# -- WeChat-style callback crypto (企业微信, 钉钉) -------------------------------------------------

_BLOCK = 32


class CallbackCryptoError(ValueError):
    """A callback or reply failing the WeChat-style checks; ``code`` is the vendor library's number.

    ``-40001`` signature, ``-40002`` parse, ``-40004`` bad EncodingAESKey, ``-40005`` owner
    (corpId/appKey) mismatch, ``-40007`` decryption. :meth:`rejection` maps it onto the hub's tree.
    """

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def rejection(self) -> WebhookRejected:
        """The :class:`WebhookRejected` the hub answers with for this failure."""
        kind: type[WebhookRejected]
        if self.code == -40001:
            kind = SignatureInvalid
        elif self.code == -40002:
            kind = Unparsable
        else:
            kind = Undecryptable
        return kind(str(self))


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The SHA-1 ``msg_signature`` over the four strings, sorted."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class CallbackCrypto:
    """Encrypts, decrypts and signs WeChat-style callbacks for one app (both sides use it).

    Args:
        token: the callback token (签名 Token).
        aes_key: the 43-character EncodingAESKey.
        owner_key: 企业微信 corpId (receiveid), 钉钉 appKey / corpId / suiteKey; checked on decryption.
    """

    def __init__(self, token: str, aes_key: str, owner_key: str) -> None:
        if len(aes_key) != 43:
            raise CallbackCryptoError("EncodingAESKey must be 43 characters", -40004)
        try:
            self._key = base64.b64decode(aes_key + "=", validate=True)
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
            raise CallbackCryptoError("owner key (corpId/appKey) does not match", -40005)
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CallbackCryptoError("message is not UTF-8", -40007) from None

    def verify(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Check a ``msg_signature`` in constant time.

        Raises:
            CallbackCryptoError: -40001 when it does not match.
        """
        expected = msg_signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise CallbackCryptoError("msg_signature does not match", -40001)

    def reply(self, message: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The 钉钉 JSON reply: ``message`` (``"success"``) encrypted and signed."""
        encrypt = self.encrypt(message)
        return {
            "msg_signature": msg_signature(self.token, timestamp, nonce, encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }

    def reply_xml(self, message: str, timestamp: str, nonce: str) -> str:
        """The 企业微信 passive reply: ``<xml>`` with Encrypt, MsgSignature, TimeStamp and Nonce."""
        encrypt = self.encrypt(message)
        signature = msg_signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{escape(timestamp)}</TimeStamp>"
            f"<Nonce>{escape(nonce)}</Nonce></xml>"
        )
