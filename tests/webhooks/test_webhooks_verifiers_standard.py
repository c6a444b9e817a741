"""Standard Webhooks v1 (HMAC) and v1a (ed25519) verification against the spec's libraries and vectors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks.webhooks
import svix.webhooks

from plugins.sdk import (
    SignatureInvalid,
    StandardWebhookMessage,
    TimestampOutOfTolerance,
    WebhookRejected,
    ed25519_public_key,
    generate_ed25519_keypair,
    generate_standard_webhook_secret,
    sign_standard_webhook,
    sign_standard_webhook_v1a,
    verify_standard_webhook,
)

# The vector of standard-webhooks' own Python tests (libraries/python/tests/test_webhooks.py).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET = generate_standard_webhook_secret()
OTHER = generate_standard_webhook_secret()
BODY = (
    b'{"type":"lead.created","timestamp":"2026-03-01T11:59:58Z","data":{"id":"lead_1","phone":"13800000000"}}'
)


def headers(signature: str, *, msg_id: str = "msg_1", ts: int | str = TS) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_published_vector_signs_and_verifies() -> None:
    assert sign_standard_webhook(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE
    now = datetime.fromtimestamp(VECTOR_TS + 10, UTC)
    found = verify_standard_webhook(
        headers(VECTOR_SIGNATURE, msg_id=VECTOR_ID, ts=VECTOR_TS),
        VECTOR_BODY,
        now=now,
        secrets=[VECTOR_SECRET],
    )
    assert found == StandardWebhookMessage(msg_id=VECTOR_ID, timestamp=VECTOR_TS)


@pytest.mark.parametrize("library", [standardwebhooks.webhooks.Webhook, svix.webhooks.Webhook])
def test_partner_signing_with_the_real_libraries_verifies(library: type) -> None:
    signature = library(SECRET).sign("msg_lib", NOW, BODY.decode())
    found = verify_standard_webhook(headers(signature, msg_id="msg_lib"), BODY, now=NOW, secrets=[SECRET])
    assert found.msg_id == "msg_lib"


def test_what_we_sign_verifies_with_the_official_library() -> None:
    wh = standardwebhooks.webhooks.Webhook(SECRET)
    # The library checks against the real clock, so sign for now.
    now = int(datetime.now(UTC).timestamp())
    signature = sign_standard_webhook(SECRET, "msg_out", now, BODY)
    assert wh.verify(BODY, headers(signature, msg_id="msg_out", ts=now))["data"]["id"] == "lead_1"


def test_svix_prefixed_headers_are_accepted() -> None:
    signature = sign_standard_webhook(SECRET, "msg_svix", TS, BODY)
    svix_headers = {"svix-id": "msg_svix", "svix-timestamp": str(TS), "svix-signature": signature}
    assert verify_standard_webhook(svix_headers, BODY, now=NOW, secrets=[SECRET]).msg_id == "msg_svix"


def test_rotation_several_signatures_one_valid_and_several_secrets() -> None:
    old_sig = sign_standard_webhook(OTHER, "msg_1", TS, BODY)
    new_sig = sign_standard_webhook(SECRET, "msg_1", TS, BODY)
    bogus = "v1," + base64.b64encode(b"x" * 32).decode()
    # The partner signs with both; we know only the new one.
    verify_standard_webhook(headers(f"{bogus} {old_sig} {new_sig}"), BODY, now=NOW, secrets=[SECRET])
    # We hold two (rotation window); the partner signs with the old one only.
    verify_standard_webhook(headers(old_sig), BODY, now=NOW, secrets=[SECRET, OTHER])
    # Unknown versions are skipped, as the spec says.
    verify_standard_webhook(headers(f"v2,abc {new_sig}"), BODY, now=NOW, secrets=[SECRET])


def test_tolerance_is_configurable_and_inclusive() -> None:
    for offset in (-300, 300):
        sig = sign_standard_webhook(SECRET, "msg_1", TS + offset, BODY)
        verify_standard_webhook(headers(sig, ts=TS + offset), BODY, now=NOW, secrets=[SECRET])
    sig = sign_standard_webhook(SECRET, "msg_1", TS - 3600, BODY)
    verify_standard_webhook(
        headers(sig, ts=TS - 3600), BODY, now=NOW, secrets=[SECRET], tolerance_seconds=3600
    )
    with pytest.raises(TimestampOutOfTolerance):
        verify_standard_webhook(
            headers(sig, ts=TS - 3600), BODY, now=NOW, secrets=[SECRET], tolerance_seconds=60
        )


def test_v1a_keys_sign_and_verify() -> None:
    secret_key, public_key = generate_ed25519_keypair()
    assert secret_key.startswith("whsk_") and public_key.startswith("whpk_")
    assert ed25519_public_key(secret_key) == public_key
    signature = sign_standard_webhook_v1a(secret_key, "msg_a", TS, BODY)
    assert signature.startswith("v1a,")
    found = verify_standard_webhook(
        headers(signature, msg_id="msg_a"), BODY, now=NOW, public_keys=[public_key]
    )
    assert found.msg_id == "msg_a"
    # libsodium-style 64-byte secret keys (seed || public) are accepted too.
    raw = base64.b64decode(secret_key.removeprefix("whsk_"))
    long_key = "whsk_" + base64.b64encode(raw + base64.b64decode(public_key[5:])).decode()
    assert sign_standard_webhook_v1a(long_key, "msg_a", TS, BODY) == signature
    # A v1 and a v1a entry side by side: either key kind verifies.
    both = f"{sign_standard_webhook(SECRET, 'msg_a', TS, BODY)} {signature}"
    verify_standard_webhook(headers(both, msg_id="msg_a"), BODY, now=NOW, secrets=[SECRET])
    verify_standard_webhook(headers(both, msg_id="msg_a"), BODY, now=NOW, public_keys=[public_key])


GOOD = sign_standard_webhook(SECRET, "msg_1", TS, BODY)
_, STRANGER_PK = generate_ed25519_keypair()
V1A_SK, V1A_PK = generate_ed25519_keypair()
V1A = sign_standard_webhook_v1a(V1A_SK, "msg_1", TS, BODY)


@pytest.mark.parametrize(
    ("case", "hdrs", "body", "secrets", "public_keys", "error", "reason"),
    [
        ("wrong secret", headers(GOOD), BODY, [OTHER], [], SignatureInvalid, "no webhook-signature entry"),
        ("tampered body", headers(GOOD), BODY + b" ", [SECRET], [], SignatureInvalid, "no webhook-signature entry"),
        ("other message id", headers(GOOD, msg_id="msg_2"), BODY, [SECRET], [], SignatureInvalid, "no webhook"),
        ("missing id", {"webhook-timestamp": str(TS), "webhook-signature": GOOD}, BODY, [SECRET], [], SignatureInvalid, "webhook-id"),
        ("missing timestamp", {"webhook-id": "msg_1", "webhook-signature": GOOD}, BODY, [SECRET], [], SignatureInvalid, "webhook-timestamp"),
        ("missing signature", {"webhook-id": "msg_1", "webhook-timestamp": str(TS)}, BODY, [SECRET], [], SignatureInvalid, "webhook-signature"),
        ("empty signature", headers("  "), BODY, [SECRET], [], SignatureInvalid, "webhook-signature"),
        ("no comma", headers("v1" + GOOD[3:]), BODY, [SECRET], [], SignatureInvalid, "version,base64"),
        ("two commas", headers(GOOD + ",x"), BODY, [SECRET], [], SignatureInvalid, "version,base64"),
        ("not base64", headers("v1,!!!not-base64!!!"), BODY, [SECRET], [], SignatureInvalid, "not base64"),
        ("only other versions", headers("v2,abc v0,def"), BODY, [SECRET], [], SignatureInvalid, "no v1 or v1a"),
        ("secret pasted as signature", headers("v1," + SECRET), BODY, [SECRET], [], SignatureInvalid, "not base64"),
        ("timestamp not integer", headers(GOOD, ts="16e8"), BODY, [SECRET], [], SignatureInvalid, "not an integer"),
        ("timestamp negative", headers(GOOD, ts="-5"), BODY, [SECRET], [], SignatureInvalid, "not an integer"),
        ("timestamp unicode digits", headers(GOOD, ts="١٢٣"), BODY, [SECRET], [], SignatureInvalid, "not an integer"),
        ("id too long", headers(GOOD, msg_id="m" * 256), BODY, [SECRET], [], SignatureInvalid, "longer than 255"),
        ("too many entries", headers(" ".join([GOOD] * 21)), BODY, [SECRET], [], SignatureInvalid, "more than 20"),
        ("dot in id", headers(GOOD, msg_id="msg.1"), BODY, [SECRET], [], SignatureInvalid, "must not contain"),
        ("stale", headers(sign_standard_webhook(SECRET, "msg_1", TS - 301, BODY), ts=TS - 301), BODY, [SECRET], [], TimestampOutOfTolerance, "older"),
        ("future", headers(sign_standard_webhook(SECRET, "msg_1", TS + 301, BODY), ts=TS + 301), BODY, [SECRET], [], TimestampOutOfTolerance, "future"),
        ("v1a wrong key", headers(V1A), BODY, [], [STRANGER_PK], SignatureInvalid, "no webhook-signature entry"),
        ("v1a tampered", headers(V1A), BODY + b"x", [], [V1A_PK], SignatureInvalid, "no webhook-signature entry"),
        ("v1a checked as v1", headers("v1" + V1A[3:]), BODY, [SECRET], [V1A_PK], SignatureInvalid, "no webhook-signature entry"),
        ("v1a short signature", headers("v1a," + base64.b64encode(b"short").decode()), BODY, [], [V1A_PK], SignatureInvalid, "no webhook-signature entry"),
        ("v1 with no secrets", headers(GOOD), BODY, [], [V1A_PK], SignatureInvalid, "no webhook-signature entry"),
    ],
)  # fmt: skip
def test_refusals(
    case: str,
    hdrs: dict[str, str],
    body: bytes,
    secrets: list[str],
    public_keys: list[str],
    error: type[WebhookRejected],
    reason: str,
) -> None:
    with pytest.raises(error) as caught:
        verify_standard_webhook(hdrs, body, now=NOW, secrets=secrets, public_keys=public_keys)
    message = str(caught.value)
    assert reason in message
    assert SECRET.removeprefix("whsec_") not in message and "13800000000" not in message
    assert caught.value.status == 401


@pytest.mark.parametrize("bad", ["v1,whsec_abc", "whsec_***", "whsec_", "whsk_abc"])
def test_malformed_configured_secret_is_a_config_error(bad: str) -> None:
    with pytest.raises(ValueError):
        verify_standard_webhook(
            headers(GOOD),
            BODY,
            now=NOW,
            secrets=[bad] if bad != "whsk_abc" else [],
            public_keys=[bad] if bad == "whsk_abc" else [],
        )


def test_generated_secrets_are_random_and_sized() -> None:
    assert generate_standard_webhook_secret() != generate_standard_webhook_secret()
    assert len(base64.b64decode(generate_standard_webhook_secret(24)[6:])) == 24
    with pytest.raises(ValueError):
        generate_standard_webhook_secret(8)


def test_timestamp_window_uses_the_given_clock() -> None:
    later = NOW + timedelta(minutes=6)
    with pytest.raises(TimestampOutOfTolerance):
        verify_standard_webhook(headers(GOOD), BODY, now=later, secrets=[SECRET])
