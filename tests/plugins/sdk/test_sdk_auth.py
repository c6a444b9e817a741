"""Authenticators on HttpConnector against respx: what goes on the wire, and what the log keeps."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging

import httpx
import pytest
import respx
from sdk_helpers import API_KEY, DemoConnector, Factory, FakeClock

from plugins.sdk import (
    ApiKey,
    Authenticator,
    AuthError,
    BasicAuth,
    HmacSigner,
    MemoryCache,
    MemoryCallRecorder,
    OAuth2ClientCredentials,
    SharedState,
    SigningInput,
    VendorContractError,
    token_expired,
)

REPORT = "https://api.demo.test/v1/reports"
TOKEN_URL = "https://api.demo.test/v1/oauth/token"
PASSWORD = "pw-Hunter2-very-secret"
CLIENT_SECRET = "cs_4f1e9a7b2c8d"
SIGNING_SECRET = "whsec-0123456789abcdef"


def _rows(recorder: MemoryCallRecorder) -> str:
    return " ".join(f"{r.url} {r.request_body} {r.response_body}" for r in recorder.records)


class BasicDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return BasicAuth("acct-1", PASSWORD)


async def test_basic_auth_header_and_masking(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(200, json={"echo": PASSWORD}))
    caplog.set_level(logging.DEBUG, logger="lendhub.sdk.http")
    await make(BasicDemo).request("GET", "/reports", operation="fetch_report")
    sent = route.calls.last.request.headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"acct-1:{PASSWORD}".encode()).decode()
    assert PASSWORD not in _rows(recorder) and "***" in _rows(recorder)
    assert PASSWORD not in caplog.text and sent.split()[1] not in caplog.text


class HeaderKeyDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return ApiKey("partner-key-778899", header="X-Partner", prefix="Key ")


class QueryKeyDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return ApiKey(self.config.api_key.get_secret_value(), param="ak")


async def test_api_key_in_a_header_is_sent_and_masked(
    make: Factory, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    caplog.set_level(logging.DEBUG, logger="lendhub.sdk.http")
    connector = make(HeaderKeyDemo)
    await connector.request("GET", "/reports", operation="fetch_report")
    assert route.calls.last.request.headers["x-partner"] == "Key partner-key-778899"
    assert connector.masker.headers({"X-Partner": "Key partner-key-778899"}) == {"X-Partner": "***"}
    assert "partner-key-778899" not in caplog.text


async def test_api_key_in_the_query_is_sent_and_masked(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    await make(QueryKeyDemo).request("GET", "/reports", operation="fetch_report", params={"q": "1"})
    assert route.calls.last.request.url.params["ak"] == API_KEY
    assert route.calls.last.request.url.params["q"] == "1"
    assert recorder.records[0].url == f"{REPORT}?q=1&ak=***"


def test_api_key_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="header or a param"):
        ApiKey("k", header=None)
    with pytest.raises(ValueError, match="non-empty"):
        ApiKey("")


# -- OAuth2 client credentials -------------------------------------------------------------------


class OAuthDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return OAuth2ClientCredentials(TOKEN_URL, "client-1", CLIENT_SECRET, scope="reports", skew=60)


class TokenServer:
    """The vendor's token endpoint: hands out tok-1, tok-2, … and checks the client's Basic auth."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.issued: list[str] = []
        self.expires_in = expires_in

    def __call__(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"client-1:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        assert request.content == b"grant_type=client_credentials&scope=reports"
        self.issued.append(f"tok-{len(self.issued) + 1}-abcdef")
        body = {"access_token": self.issued[-1], "token_type": "Bearer", "expires_in": self.expires_in}
        return httpx.Response(200, json=body)


def _bearer(request: httpx.Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


@pytest.fixture
def tokens(router: respx.MockRouter) -> TokenServer:
    server = TokenServer()
    router.post(TOKEN_URL).mock(side_effect=server)
    return server


@pytest.fixture
def clocked(make: Factory, clock: FakeClock) -> Factory:
    """The factory with a cache on the fake clock, so token expiry follows the test's time."""
    make.state = SharedState(make.state.breakers, make.state.rates, make.state.locks, MemoryCache(clock))
    return make


async def test_oauth2_token_is_fetched_once_and_cached(
    clocked: Factory, router: respx.MockRouter, tokens: TokenServer, recorder: MemoryCallRecorder
) -> None:
    api = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = clocked(OAuthDemo)
    for _ in range(3):
        await connector.request("GET", "/reports", operation="fetch_report")
    assert tokens.issued == ["tok-1-abcdef"]
    assert [_bearer(call.request) for call in api.calls] == ["tok-1-abcdef"] * 3
    rows = _rows(recorder)
    assert "tok-1-abcdef" not in rows and CLIENT_SECRET not in rows
    assert [r.operation for r in recorder.records] == ["oauth2_token"] + ["fetch_report"] * 3


async def test_oauth2_token_is_refetched_skew_seconds_before_expiry(
    clocked: Factory, router: respx.MockRouter, tokens: TokenServer, clock: FakeClock
) -> None:
    router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = clocked(OAuthDemo)
    await connector.request("GET", "/reports", operation="fetch_report")
    clock.advance(3600 - 60 - 1)
    await connector.request("GET", "/reports", operation="fetch_report")
    assert len(tokens.issued) == 1
    clock.advance(2)  # inside the skew: counted as expired
    await connector.request("GET", "/reports", operation="fetch_report")
    assert len(tokens.issued) == 2


async def test_oauth2_concurrent_calls_fetch_one_token(
    make: Factory, router: respx.MockRouter, tokens: TokenServer
) -> None:
    router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = make(OAuthDemo)
    await asyncio.gather(*(connector.request("GET", "/reports", operation="fetch_report") for _ in range(5)))
    assert tokens.issued == ["tok-1-abcdef"]


async def test_oauth2_tokens_are_per_instance(
    make: Factory, router: respx.MockRouter, tokens: TokenServer
) -> None:
    api = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    first = make(OAuthDemo)
    second = OAuthDemo(first.config, instance="other-lender", http=make.http, state=make.state)
    await first.request("GET", "/reports", operation="fetch_report")
    await second.request("GET", "/reports", operation="fetch_report")
    assert [_bearer(call.request) for call in api.calls] == ["tok-1-abcdef", "tok-2-abcdef"]


async def test_oauth2_expired_token_answer_refreshes_once_and_resends(
    make: Factory, router: respx.MockRouter, tokens: TokenServer, recorder: MemoryCallRecorder
) -> None:
    expired = httpx.Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    api = router.post(REPORT).mock(side_effect=[expired, httpx.Response(200, json={"ok": 1})])
    response = await make(OAuthDemo).request("POST", "/reports", operation="create_report", json={})
    assert response.json() == {"ok": 1}
    assert [_bearer(call.request) for call in api.calls] == ["tok-1-abcdef", "tok-2-abcdef"]
    reports = [r for r in recorder.records if r.operation == "create_report"]
    assert [(r.attempt, r.status_code) for r in reports] == [(1, 401), (2, 200)]


async def test_oauth2_refreshes_only_once(
    make: Factory, router: respx.MockRouter, tokens: TokenServer
) -> None:
    api = router.get(REPORT).mock(return_value=httpx.Response(401, json={"error": "invalid_token"}))
    with pytest.raises(AuthError):
        await make(OAuthDemo).request("GET", "/reports", operation="fetch_report")
    assert api.call_count == 2 and len(tokens.issued) == 2


async def test_oauth2_other_401s_are_not_retried(
    make: Factory, router: respx.MockRouter, tokens: TokenServer
) -> None:
    api = router.get(REPORT).mock(return_value=httpx.Response(401, json={"error": "insufficient_scope"}))
    with pytest.raises(AuthError):
        await make(OAuthDemo).request("GET", "/reports", operation="fetch_report")
    assert api.call_count == 1 and len(tokens.issued) == 1


async def test_oauth2_rejected_client_fails_without_calling_the_api(
    make: Factory, router: respx.MockRouter
) -> None:
    router.post(TOKEN_URL).mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    api = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(AuthError):
        await make(OAuthDemo).request("GET", "/reports", operation="fetch_report")
    assert api.call_count == 0


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (401, {"WWW-Authenticate": 'Bearer realm="x", error="invalid_token"'}, b"", True),
        (401, {}, b'{"error": "invalid_token"}', True),
        (401, {}, b'{"code": 40101, "message": "access token expired"}', True),
        (401, {}, b'{"error": "invalid_client"}', False),
        (401, {}, b"<html>no</html>", False),
        (403, {}, b'{"error": "invalid_token"}', False),
    ],
)
def test_token_expired(status: int, headers: dict[str, str], body: bytes, expected: bool) -> None:
    assert token_expired(httpx.Response(status, headers=headers, content=body)) is expected


# -- HMAC ----------------------------------------------------------------------------------------


def _timestamped(s: SigningInput) -> bytes:
    return f"{s.method}\n{s.path}\n{s.query}\n{s.timestamp}\n{s.nonce}\n".encode() + s.body


class HmacDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return HmacSigner(
            SIGNING_SECRET,
            _timestamped,
            header="X-Sig",
            template="v1={signature}",
            timestamp_header="X-Ts",
            nonce_header="X-Nonce",
            static_headers={"X-Key-Id": "kid-1"},
        )


def _verify(request: httpx.Request) -> bool:
    message = "\n".join(
        [
            request.method,
            request.url.path,
            request.url.query.decode(),
            request.headers["x-ts"],
            request.headers["x-nonce"],
            "",
        ]
    ).encode()
    expected = hmac.new(SIGNING_SECRET.encode(), message + request.content, hashlib.sha256).hexdigest()
    return request.headers["x-sig"] == f"v1={expected}" and request.headers["x-key-id"] == "kid-1"


async def test_hmac_signs_each_attempt_afresh(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, clock: FakeClock
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if len(seen) == 1 else (200 if _verify(request) else 401), json={})

    router.post(REPORT).mock(side_effect=answer)
    await make(HmacDemo).request(
        "POST", "/reports", operation="create_report", json={"a": 1}, params={"v": "2"}, idempotency_key="k1"
    )
    assert len(seen) == 2 and all(_verify(r) for r in seen)
    assert seen[0].headers["x-ts"] == str(int(clock.now - clock.sleeps[0]))
    assert seen[1].headers["x-ts"] == str(int(clock.now))
    assert seen[0].headers["x-nonce"] != seen[1].headers["x-nonce"]
    assert SIGNING_SECRET not in _rows(recorder)


def test_hmac_sign_encodings() -> None:
    hexed = HmacSigner("s", _timestamped).sign(b"m")
    based = HmacSigner("s", _timestamped, encoding="base64", digest="sha1").sign(b"m")
    assert hexed == hmac.new(b"s", b"m", hashlib.sha256).hexdigest()
    assert based == base64.b64encode(hmac.new(b"s", b"m", hashlib.sha1).digest()).decode()
    with pytest.raises(ValueError):
        HmacSigner("s", _timestamped, digest="nope")


class BodyClientDemo(DemoConnector):
    def make_auth(self) -> Authenticator:
        return OAuth2ClientCredentials("/oauth/token", "client-1", CLIENT_SECRET, client_auth="body")


async def test_oauth2_client_secret_post_and_default_lifetime(
    clocked: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, clock: FakeClock
) -> None:
    token = router.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "tok-body-xyz"})
    )
    api = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = clocked(BodyClientDemo)
    await connector.request("GET", "/reports", operation="fetch_report")
    sent = token.calls.last.request
    assert "authorization" not in sent.headers
    assert (
        sent.content
        == f"grant_type=client_credentials&client_id=client-1&client_secret={CLIENT_SECRET}".encode()
    )
    assert _bearer(api.calls.last.request) == "tok-body-xyz"
    clock.advance(300 - 60 - 1)  # no expires_in: default_expires_in (300) less the skew
    await connector.request("GET", "/reports", operation="fetch_report")
    assert token.call_count == 1
    clock.advance(2)
    await connector.request("GET", "/reports", operation="fetch_report")
    assert token.call_count == 2
    rows = _rows(recorder)
    assert CLIENT_SECRET not in rows and "tok-body-xyz" not in rows


async def test_oauth2_answer_without_a_token_is_a_contract_error(
    make: Factory, router: respx.MockRouter
) -> None:
    router.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"token_type": "Bearer"}))
    api = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(VendorContractError, match="no access_token"):
        await make(OAuthDemo).request("GET", "/reports", operation="fetch_report")
    assert api.call_count == 0


async def test_api_key_in_the_query_is_masked_in_httpx_own_log(
    make: Factory, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    caplog.set_level(logging.DEBUG)
    await make(QueryKeyDemo).request("GET", "/reports", operation="fetch_report")
    assert "HTTP Request" in caplog.text
    assert API_KEY not in caplog.text
