"""Signing, JSON encoding and the error-mapping table of the HTTP scorer (respx at the HTTP edge)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from connectors.http_scorer.client import encode_json, sign, signed_headers
from connectors.http_scorer.connector import HttpScorer
from connectors.http_scorer.models import HttpScorerConfig
from plugins.sdk import (
    AuthError,
    ConnectorError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from schemas.canonical.risk import RiskDecision, RiskInput

BASE = "https://scorer.test"
OK = {"score": 700, "band": "B", "model": {"name": "m", "version": "1"}}

# The protocol's test vector (README): secret "test-secret", timestamp 1700000000.
VECTOR_BODY = b'{"request_id":"APP-1"}'
VECTOR_SIG = "a17848e5e493d53e2be650c7079f9d69f313a7618409ab328e3e721cf339f157"
VECTOR_EMPTY_SIG = "02135fb92b9e5ac01b6ffb10fb1ce695acf10403dc760ecd132a9fd9d96d71d1"


def test_signature_matches_the_documented_vector() -> None:
    assert sign("test-secret", "1700000000", VECTOR_BODY) == VECTOR_SIG
    assert sign("test-secret", "1700000000", b"") == VECTOR_EMPTY_SIG
    assert signed_headers(key_id="k1", secret="test-secret", timestamp=1700000000, body=VECTOR_BODY) == {
        "X-LendHub-Key-Id": "k1",
        "X-LendHub-Timestamp": "1700000000",
        "X-LendHub-Signature": f"v1={VECTOR_SIG}",
    }


def test_encode_json_keeps_decimals_exact_and_utf8() -> None:
    body = encode_json(
        {"a": Decimal("0.10"), "b": Decimal("1E+3"), "n": "张三", "f": True, "x": None, "l": [1]}
    )
    assert body == '{"a":0.10,"b":1000,"n":"张三","f":true,"x":null,"l":[1]}'.encode()
    with pytest.raises(ValueError):
        encode_json({"a": Decimal("NaN")})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make(
    http: httpx.AsyncClient, recorder: MemoryCallRecorder, sleeps: list[float], **cfg: Any
) -> HttpScorer:
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    config = HttpScorerConfig(
        base_url=BASE, signing_secret="s3cret-value-xyz", backoff_initial=0.01, backoff_max=0.02, **cfg
    )
    return HttpScorer(config, http=http, recorder=recorder, sleep=fake_sleep, clock=FakeClock())


def err(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{code} happened"}}


# (responses in order) → (error class or None for success, attempts, vendor code)
TABLE: list[
    tuple[str, list[tuple[int, Any, dict[str, str]]], type[ConnectorError] | None, int, str | None]
] = [
    ("invalid signature 401", [(401, err("invalid_signature"), {})], AuthError, 1, "invalid_signature"),
    ("stale timestamp 401", [(401, err("stale_timestamp"), {})], AuthError, 1, "stale_timestamp"),
    ("unknown key 401", [(401, err("unknown_key"), {})], AuthError, 1, "unknown_key"),
    ("quota 402", [(402, err("quota_exhausted"), {})], QuotaExhausted, 1, "quota_exhausted"),
    ("not found 404", [(404, err("subject_not_found"), {})], NotFound, 1, "subject_not_found"),
    ("invalid 422", [(422, err("invalid_request"), {})], InvalidRequest, 1, "invalid_request"),
    ("quota inside 200", [(200, err("quota_exhausted"), {})], QuotaExhausted, 1, "quota_exhausted"),
    ("unknown code inside 200", [(200, err("weird"), {})], VendorContractError, 1, "weird"),
    ("bare 403", [(403, {"message": "forbidden"}, {})], AuthError, 1, None),
    ("html 200", [(200, "<html>proxy</html>", {})], VendorContractError, 1, None),
    ("missing score", [(200, {"band": "A"}, {})], VendorContractError, 1, None),
    ("503 x3", [(503, err("model_unavailable"), {})] * 3, TransientError, 3, "model_unavailable"),
    (
        "model reloading inside 200 then ok",
        [(200, err("model_unavailable"), {}), (200, OK, {})],
        None,
        2,
        None,
    ),
    ("503 503 ok", [(503, {}, {}), (503, {}, {}), (200, OK, {})], None, 3, None),
    ("429 then ok", [(429, err("rate_limited"), {"Retry-After": "2"}), (200, OK, {})], None, 2, None),
    ("429 x3", [(429, {}, {"Retry-After": "1"})] * 3, RateLimited, 3, None),
]


@pytest.mark.parametrize(
    ("answers", "error", "attempts", "code"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
async def test_error_mapping(
    answers: list[tuple[int, Any, dict[str, str]]],
    error: type[ConnectorError] | None,
    attempts: int,
    code: str | None,
) -> None:
    recorder = MemoryCallRecorder()
    sleeps: list[float] = []
    responses = [
        httpx.Response(status, text=body, headers={"content-type": "text/html", **headers})
        if isinstance(body, str)
        else httpx.Response(status, json=body, headers=headers)
        for status, body, headers in answers
    ]
    async with respx.mock(assert_all_called=False) as mock, httpx.AsyncClient() as http:
        route = mock.post(f"{BASE}/v1/score").mock(side_effect=responses)
        scorer = make(http, recorder, sleeps)
        risk_input = RiskInput(application_id="APP-1", features={"x": 1})
        if error is None:
            assert isinstance(await scorer.score(risk_input), RiskDecision)
        else:
            with pytest.raises(error) as caught:
                await scorer.score(risk_input)
            assert caught.value.vendor_code == code
            assert "s3cret-value-xyz" not in str(caught.value)
    assert route.call_count == attempts
    assert [r.attempt for r in recorder.records] == list(range(1, attempts + 1))
    if answers[0][0] == 429 and error is None:
        assert 2 in sleeps


async def test_request_is_signed_over_the_exact_body_with_idempotency_key() -> None:
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(f"{BASE}/v1/score").mock(return_value=httpx.Response(200, json=OK))
        scorer = make(http, MemoryCallRecorder(), [])
        await scorer.score(RiskInput(application_id="APP-7", features={"dti": Decimal("0.25")}))
    sent = route.calls.last.request
    assert sent.headers["X-LendHub-Timestamp"] == "1700000000"
    assert sent.headers["X-LendHub-Key-Id"] == "lendhub"
    assert sent.headers["X-LendHub-Signature"] == "v1=" + sign("s3cret-value-xyz", "1700000000", sent.content)
    assert sent.content == b'{"request_id":"APP-7","features":{"dti":0.25}}'
    assert sent.headers["Idempotency-Key"].startswith("score-APP-7-")


async def test_feature_that_cannot_be_placed_is_invalid_request_and_nothing_is_sent() -> None:
    async with respx.mock(assert_all_called=False) as mock, httpx.AsyncClient() as http:
        route = mock.post(f"{BASE}/v1/score").mock(return_value=httpx.Response(200, json=OK))
        # The mapping puts a feature inside request_id, which is already a string.
        scorer = make(http, MemoryCallRecorder(), [], feature_fields={"x": "request_id.x"})
        with pytest.raises(InvalidRequest, match="already a value"):
            await scorer.score(RiskInput(application_id="A", features={"x": 1}))
    assert route.call_count == 0
