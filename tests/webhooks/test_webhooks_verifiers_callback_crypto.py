"""The WeChat-style callback crypto shared by 企业微信 and 钉钉: the official vector, round trips, refusals."""

from __future__ import annotations

import base64
import os
from xml.etree import ElementTree

import pytest

import connectors.dingtalk.crypto as dingtalk_crypto
from plugins.sdk import (
    CallbackCrypto,
    CallbackCryptoError,
    SignatureInvalid,
    Undecryptable,
    Unparsable,
    WebhookRejected,
    msg_signature,
)

# Official DingTalk-Callback-Crypto test vector (vendors.md §5.1 and Appendix C).
TOKEN, AES_KEY, OWNER = "mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b"
TS, NONCE = "1608001896814", "WL4PK6yA"
ENCRYPT = (
    "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK"
    "+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3"
)
SIGNATURE = "03044561471240d4a14bb09372dfcfd4fd0e40cb"


def test_official_vector() -> None:
    assert msg_signature(TOKEN, TS, NONCE, ENCRYPT) == SIGNATURE
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    box.verify(SIGNATURE, TS, NONCE, ENCRYPT)
    box.verify(SIGNATURE.upper(), TS, NONCE, ENCRYPT)
    assert box.decrypt(ENCRYPT) == '{"EventType":"check_url"}'


def test_dingtalk_connector_uses_the_sdk_implementation() -> None:
    assert dingtalk_crypto.CallbackCrypto is CallbackCrypto
    assert dingtalk_crypto.CallbackCryptoError is CallbackCryptoError
    assert dingtalk_crypto.signature is msg_signature


def test_round_trip_with_pinned_random_and_unicode() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, "wwcorp123")
    message = "<xml><Event>sys_approval_change</Event><SpName>贷款审批</SpName></xml>"
    encrypted = box.encrypt(message, random16=b"0" * 16)
    assert encrypted == box.encrypt(message, random16=b"0" * 16)
    assert box.decrypt(encrypted) == message
    assert box.decrypt(box.encrypt("")) == ""
    assert box.decrypt(box.encrypt("x" * 5000)) == "x" * 5000


def test_json_reply_decrypts_to_success() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    reply = box.reply("success", "1700000000000", "n0nce")
    box.verify(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"])
    assert box.decrypt(reply["encrypt"]) == "success"


def test_xml_reply_decrypts_to_success() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, "wwcorp123")
    root = ElementTree.fromstring(box.reply_xml("success", "1700000000", "a<b&c"))
    fields = {child.tag: child.text or "" for child in root}
    assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert fields["Nonce"] == "a<b&c"
    box.verify(fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    assert box.decrypt(fields["Encrypt"]) == "success"


def _raw_encrypt(key_text: str, plain: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(key_text + "=")
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


OTHER_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
GOOD = CallbackCrypto(TOKEN, AES_KEY, OWNER).encrypt("hello")


@pytest.mark.parametrize(
    ("case", "action", "code", "rejection"),
    [
        ("wrong signature", lambda b: b.verify("0" * 40, TS, NONCE, ENCRYPT), -40001, SignatureInvalid),
        ("non-ascii signature", lambda b: b.verify("签名", TS, NONCE, ENCRYPT), -40001, SignatureInvalid),
        ("tampered encrypt", lambda b: b.verify(SIGNATURE, TS, NONCE, ENCRYPT[:-4] + "AAA="), -40001, SignatureInvalid),
        ("other nonce", lambda b: b.verify(SIGNATURE, TS, "x", ENCRYPT), -40001, SignatureInvalid),
        ("not base64", lambda b: b.decrypt("%%%"), -40007, Undecryptable),
        ("empty", lambda b: b.decrypt(""), -40007, Undecryptable),
        ("not whole blocks", lambda b: b.decrypt(base64.b64encode(b"x" * 20).decode()), -40007, Undecryptable),
        ("other key", lambda b: b.decrypt(CallbackCrypto(TOKEN, OTHER_KEY, OWNER).encrypt("x" * 40)), -40007, Undecryptable),
        ("other owner", lambda b: b.decrypt(CallbackCrypto(TOKEN, AES_KEY, "intruder").encrypt("hi")), -40005, Undecryptable),
        ("length prefix lies", lambda b: b.decrypt(_raw_encrypt(AES_KEY, b"r" * 16 + b"\xff\xff\xff\xff" + b"m" * 11)), -40007, Undecryptable),
        ("not utf-8", lambda b: b.decrypt(_raw_encrypt(AES_KEY, b"r" * 16 + b"\x00\x00\x00\x02" + b"\xff\xfe" + OWNER.encode())), -40007, Undecryptable),
        ("short aes key", lambda b: CallbackCrypto(TOKEN, "abc", OWNER), -40004, Undecryptable),
        ("aes key not base64", lambda b: CallbackCrypto(TOKEN, "!" * 43, OWNER), -40004, Undecryptable),
    ],
)  # fmt: skip
def test_refusals(case: str, action: object, code: int, rejection: type[WebhookRejected]) -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    with pytest.raises(CallbackCryptoError) as caught:
        action(box)  # type: ignore[operator]
    assert caught.value.code == code
    assert isinstance(caught.value.rejection(), rejection)
    assert "hello" not in str(caught.value)


def test_parse_code_maps_to_unparsable() -> None:
    assert isinstance(CallbackCryptoError("body is not JSON", -40002).rejection(), Unparsable)
