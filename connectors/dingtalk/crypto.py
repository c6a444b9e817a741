"""钉钉 callback crypto (DingCallbackCrypto): the WeChat-style scheme shared with 企业微信.

The implementation lives in :mod:`plugins.sdk.webhook_verifiers` because 企业微信 and 用友 use
the same bytes; this module keeps the names the connector, its simulator and its tests use.

* ``msg_signature = sha1_hex("".join(sorted([token, timestamp, nonce, encrypt])))``.
* key = base64decode(EncodingAESKey + "=") (43 chars → 32 bytes), IV = key[:16], PKCS#7 over
  **32-byte** blocks; plaintext = random(16) || len(msg) (4 bytes, big-endian) || msg || ownerKey.
"""

from __future__ import annotations

from plugins.sdk.webhook_verifiers import CallbackCrypto, CallbackCryptoError
from plugins.sdk.webhook_verifiers import msg_signature as signature

__all__ = ["CallbackCrypto", "CallbackCryptoError", "signature"]
