"""DocuSign Connect HMAC: X-DocuSign-Signature-1..N over the raw body, any configured key."""

from __future__ import annotations

import pytest

from plugins.sdk import SignatureInvalid, docusign_signature, verify_docusign

# Vector from the contract card (vendors.md §4.4), computed with the documented algorithm.
VECTOR_KEY = "connect-secret"
VECTOR_BODY = b'{"event":"envelope-completed"}'
VECTOR_SIGNATURE = "xG3QzadR51huypNDPNAvWP6Sf0bwOkHSQknvqNQ4AqU="

BODY = b'{"event":"envelope-completed","data":{"envelopeId":"e-1"}}\r\n'
KEY_A, KEY_B, KEY_C = "key-a/AAAA+xyz=", "key-b", "key-c"


def test_card_vector() -> None:
    assert docusign_signature(VECTOR_KEY, VECTOR_BODY) == VECTOR_SIGNATURE
    assert verify_docusign({"x-docusign-signature-1": VECTOR_SIGNATURE}, VECTOR_BODY, keys=[VECTOR_KEY]) == 1


def test_any_of_n_headers_matching_any_key_is_enough() -> None:
    hdrs = {
        "x-docusign-signature-1": docusign_signature(KEY_A, BODY),
        "x-docusign-signature-2": docusign_signature(KEY_B, BODY),
        "x-docusign-signature-3": docusign_signature(KEY_C, BODY),
        "x-authorization-digest": "HMACSHA256",
    }
    assert verify_docusign(hdrs, BODY, keys=[KEY_C]) == 3
    assert verify_docusign(hdrs, BODY, keys=["unknown", KEY_B]) == 2
    # A garbled header beside a good one does not hide it.
    hdrs["x-docusign-signature-1"] = "%%%"
    assert verify_docusign(hdrs, BODY, keys=[KEY_B]) == 2


def test_line_endings_are_part_of_the_signed_bytes() -> None:
    hdrs = {"x-docusign-signature-1": docusign_signature(KEY_A, BODY)}
    with pytest.raises(SignatureInvalid):
        verify_docusign(hdrs, BODY.replace(b"\r\n", b"\n"), keys=[KEY_A])


SIG_A = docusign_signature(KEY_A, BODY)


@pytest.mark.parametrize(
    ("case", "hdrs", "body", "keys", "reason"),
    [
        ("no header", {}, BODY, [KEY_A], "no valid X-DocuSign-Signature-N"),
        ("wrong key", {"x-docusign-signature-1": SIG_A}, BODY, [KEY_B], "matches"),
        ("tampered body", {"x-docusign-signature-1": SIG_A}, BODY + b" ", [KEY_A], "matches"),
        ("not base64", {"x-docusign-signature-1": "not base64!"}, BODY, [KEY_A], "no valid"),
        ("lookalike header name", {"x-docusign-signature": SIG_A}, BODY, [KEY_A], "no valid"),
        ("header number too long", {"x-docusign-signature-1000": SIG_A}, BODY, [KEY_A], "no valid"),
        ("hex instead of base64", {"x-docusign-signature-1": "ab" * 32}, BODY, [KEY_A], "matches"),
        ("no keys configured", {"x-docusign-signature-1": SIG_A}, BODY, [], "matches"),
    ],
)
def test_refusals(case: str, hdrs: dict[str, str], body: bytes, keys: list[str], reason: str) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify_docusign(hdrs, body, keys=keys)
    assert reason in str(caught.value)
    assert KEY_A not in str(caught.value)
