"""Verifier details the vector and refusal tables left unpinned: a valid entry that is not last,
other headers before DocuSign's, the exact limits, and the AES padding and length checks with
fixed keys so the same branch runs every time."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from plugins.sdk import (
    CallbackCrypto,
    CallbackCryptoError,
    SignatureInvalid,
    Undecryptable,
    Unparsable,
    WebhookRejected,
    docusign_signature,
    generate_ed25519_keypair,
    generate_standard_webhook_secret,
    sign_standard_webhook,
    sign_standard_webhook_v1a,
    verify_docusign,
    verify_standard_webhook,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
BODY = b'{"type":"lead.created","data":{"id":"lead_1"}}'
BOGUS_V1 = "v1," + base64.b64encode(b"x" * 32).decode()
BOGUS_V1A = "v1a," + base64.b64encode(b"y" * 64).decode()


def headers(signature: str, *, msg_id: str = "msg_1") -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(TS), "webhook-signature": signature}


# -- Standard Webhooks ---------------------------------------------------------------------------


def test_standard_valid_v1_entry_followed_by_non_matching_ones_still_verifies() -> None:
    good = sign_standard_webhook(SECRET, "msg_1", TS, BODY)
    found = verify_standard_webhook(headers(f"{good} {BOGUS_V1} {BOGUS_V1}"), BODY, now=NOW, secrets=[SECRET])
    assert found.msg_id == "msg_1"


def test_standard_valid_v1a_entry_followed_by_a_non_matching_one_still_verifies() -> None:
    secret_key, public_key = generate_ed25519_keypair()
    good = sign_standard_webhook_v1a(secret_key, "msg_1", TS, BODY)
    found = verify_standard_webhook(headers(f"{good} {BOGUS_V1A}"), BODY, now=NOW, public_keys=[public_key])
    assert found.msg_id == "msg_1"


def test_standard_id_of_exactly_255_characters_is_accepted() -> None:
    msg_id = "m" * 255
    good = sign_standard_webhook(SECRET, msg_id, TS, BODY)
    assert (
        verify_standard_webhook(headers(good, msg_id=msg_id), BODY, now=NOW, secrets=[SECRET]).msg_id
        == msg_id
    )


def test_standard_exactly_20_signature_entries_are_checked() -> None:
    good = sign_standard_webhook(SECRET, "msg_1", TS, BODY)
    entries = " ".join([BOGUS_V1] * 19 + [good])
    verify_standard_webhook(headers(entries), BODY, now=NOW, secrets=[SECRET])
    with pytest.raises(SignatureInvalid, match="more than 20"):
        verify_standard_webhook(headers(f"{BOGUS_V1} {entries}"), BODY, now=NOW, secrets=[SECRET])


@pytest.mark.parametrize("nbytes", [24, 32, 64])
def test_generated_secret_sizes_24_to_64_bytes_are_allowed(nbytes: int) -> None:
    secret = generate_standard_webhook_secret(nbytes)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == nbytes


@pytest.mark.parametrize("nbytes", [23, 65])
def test_generated_secret_sizes_just_outside_24_to_64_bytes_are_refused(nbytes: int) -> None:
    with pytest.raises(ValueError, match="24 to 64"):
        generate_standard_webhook_secret(nbytes)


# -- DocuSign Connect ----------------------------------------------------------------------------


def test_docusign_other_headers_before_the_signature_headers_are_skipped() -> None:
    hdrs = {
        "content-type": "application/json",
        "x-authorization-digest": "HMACSHA256",
        "x-docusign-signature-x": "lookalike",
        "x-docusign-signature-1": docusign_signature("key-a", BODY),
    }
    assert verify_docusign(hdrs, BODY, keys=["key-a"]) == 1


def test_docusign_three_digit_header_number_is_accepted() -> None:
    assert (
        verify_docusign({"x-docusign-signature-999": docusign_signature("k", BODY)}, BODY, keys=["k"]) == 999
    )


def test_docusign_lowest_matching_header_number_wins_whatever_the_header_order() -> None:
    sig = docusign_signature("k", BODY)
    hdrs = {"x-docusign-signature-3": sig, "x-docusign-signature-2": sig}
    assert verify_docusign(hdrs, BODY, keys=["k"]) == 2


# -- WeChat-style callback crypto ----------------------------------------------------------------

TOKEN = "tok"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
OWNER = "wwcorp123"


def raw_encrypt(plain: bytes, *, key_text: str = AES_KEY) -> str:
    """AES-256-CBC of ``plain`` exactly as given: no padding added, so tests choose the last byte."""
    key = base64.b64decode(key_text + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def refusal(box: CallbackCrypto, encrypted: str) -> CallbackCryptoError:
    with pytest.raises(CallbackCryptoError) as caught:
        box.decrypt(encrypted)
    return caught.value


def test_fixed_keys_are_valid_encoding_aes_keys() -> None:
    assert len(AES_KEY) == 43 and len(OTHER_KEY) == 43


@pytest.mark.parametrize("message", ["", "a", "x" * 11, "x" * 12, "x" * 43])
def test_round_trip_for_every_padding_length_class(message: str) -> None:
    # 16 + 4 + len(message) + 9 bytes of owner: 11 bytes leaves one pad byte, 12 bytes a full block of 32.
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    assert box.decrypt(box.encrypt(message, random16=b"r" * 16)) == message


def test_full_block_of_padding_is_accepted() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    plain = b"r" * 16 + (3).to_bytes(4, "big") + b"abc" + OWNER.encode()  # 32 bytes
    assert box.decrypt(raw_encrypt(plain + bytes([32]) * 32)) == "abc"


@pytest.mark.parametrize("last", [0, 33, 255])
def test_pad_byte_outside_1_to_32_is_bad_padding(last: int) -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    plain = b"r" * 16 + (3).to_bytes(4, "big") + b"abc" + OWNER.encode() + b"p" * 31 + bytes([last])
    error = refusal(box, raw_encrypt(plain))
    assert (error.code, str(error)) == (-40007, "bad padding: wrong EncodingAESKey")


def test_padding_leaving_fewer_than_20_bytes_is_bad_padding() -> None:
    # 48 bytes with a pad of 30 leaves 18: too short for random(16) and the length prefix.
    box = CallbackCrypto(TOKEN, AES_KEY, "")
    error = refusal(box, raw_encrypt(b"r" * 16 + b"\x00" * 2 + bytes([30]) * 30))
    assert (error.code, str(error)) == (-40007, "bad padding: wrong EncodingAESKey")


def test_padding_leaving_exactly_20_bytes_is_an_empty_message() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, "")
    assert box.decrypt(raw_encrypt(b"r" * 16 + b"\x00" * 4 + bytes([28]) * 28)) == ""


@pytest.mark.parametrize("size", [16, 48])
def test_whole_aes_blocks_not_whole_32_byte_blocks_reach_the_padding_check(size: int) -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    error = refusal(box, raw_encrypt(b"\x00" * size))
    assert (error.code, str(error)) == (-40007, "bad padding: wrong EncodingAESKey")


@pytest.mark.parametrize("size", [1, 15, 17, 31])
def test_ciphertext_not_whole_aes_blocks_has_the_wrong_length(size: int) -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    error = refusal(box, base64.b64encode(b"\x00" * size).decode())
    assert (error.code, str(error)) == (-40007, "encrypt has the wrong length")


def test_empty_ciphertext_has_the_wrong_length() -> None:
    error = refusal(CallbackCrypto(TOKEN, AES_KEY, OWNER), "")
    assert (error.code, str(error)) == (-40007, "encrypt has the wrong length")


def test_other_fixed_key_is_refused_as_bad_padding() -> None:
    encrypted = CallbackCrypto(TOKEN, OTHER_KEY, OWNER).encrypt("x" * 40, random16=b"r" * 16)
    error = refusal(CallbackCrypto(TOKEN, AES_KEY, OWNER), encrypted)
    assert (error.code, str(error)) == (-40007, "bad padding: wrong EncodingAESKey")


def test_length_prefix_one_past_the_message_is_refused() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, "")
    plain = b"r" * 16 + (4).to_bytes(4, "big") + b"abc"  # 23 bytes, pad 9
    error = refusal(box, raw_encrypt(plain + bytes([9]) * 9))
    assert (error.code, str(error)) == (-40007, "length prefix exceeds the message")


def padding_of(encrypted: str, key_text: str = AES_KEY) -> int:
    key = base64.b64decode(key_text + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    return plain[-1]


@pytest.mark.parametrize(("size", "pad"), [(34, 1), (35, 32), (33, 2)])
def test_one_byte_and_full_block_padding_round_trip(size: int, pad: int) -> None:
    # 16 random + 4 length + message + 9 bytes of owner: 34 bytes of message make 63, one pad byte.
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    encrypted = box.encrypt("x" * size, random16=b"r" * 16)
    assert padding_of(encrypted) == pad
    assert box.decrypt(encrypted) == "x" * size


def test_ciphertext_with_non_base64_characters_is_refused_not_cleaned() -> None:
    box = CallbackCrypto(TOKEN, AES_KEY, OWNER)
    good = box.encrypt("hello", random16=b"r" * 16)
    error = refusal(box, good[:8] + "!" + good[8:])  # would decode to the same bytes if "!" were dropped
    assert (error.code, str(error)) == (-40007, "encrypt is not base64")


def test_docusign_signature_with_non_base64_characters_is_skipped_not_cleaned() -> None:
    sig = docusign_signature("k", BODY)
    with pytest.raises(SignatureInvalid, match="no valid X-DocuSign-Signature-N header"):
        verify_docusign({"x-docusign-signature-1": sig[:4] + "*" + sig[4:]}, BODY, keys=["k"])


def test_generated_secret_is_32_random_bytes_by_default() -> None:
    secret = generate_standard_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_ed25519_keys_without_base64_padding_are_accepted() -> None:
    secret_key, public_key = generate_ed25519_keypair()  # 32 bytes: 43 characters and one "="
    assert secret_key.endswith("=") and public_key.endswith("=")
    bare_secret, bare_public = secret_key.rstrip("="), public_key.rstrip("=")
    signature = sign_standard_webhook_v1a(bare_secret, "msg_1", TS, BODY)
    assert signature == sign_standard_webhook_v1a(secret_key, "msg_1", TS, BODY)
    found = verify_standard_webhook(headers(signature), BODY, now=NOW, public_keys=[bare_public])
    assert found.msg_id == "msg_1"


def test_ed25519_keys_with_non_base64_characters_are_a_config_error() -> None:
    secret_key, public_key = generate_ed25519_keypair()
    garbled_public = public_key[:10] + "!" + public_key[10:]
    with pytest.raises(ValueError, match="an ed25519 public key is 'whpk_' followed by base64"):
        verify_standard_webhook(headers(BOGUS_V1A), BODY, now=NOW, public_keys=[garbled_public])
    with pytest.raises(ValueError, match="an ed25519 secret key is 'whsk_' followed by base64"):
        sign_standard_webhook_v1a(secret_key[:10] + "!" + secret_key[10:], "msg_1", TS, BODY)


@pytest.mark.parametrize(
    ("code", "kind"),
    [(-40001, SignatureInvalid), (-40002, Unparsable), (-40005, Undecryptable), (-40007, Undecryptable)],
)
def test_rejection_keeps_the_message_for_the_problem_detail(code: int, kind: type[WebhookRejected]) -> None:
    rejection = CallbackCryptoError("owner key (corpId/appKey) does not match", code).rejection()
    assert type(rejection) is kind
    assert str(rejection) == "owner key (corpId/appKey) does not match"
