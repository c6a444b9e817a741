"""HttpConnector end to end against respx: retries, waits, limits, egress and the call log."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest
import respx
from sdk_helpers import API_KEY, DemoConnector, Factory, FakeClock

from plugins.sdk import (
    AuthError,
    CircuitOpen,
    ConnectorError,
    EgressDenied,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

REPORT = "https://api.demo.test/v1/reports"


async def test_request_retries_503_twice_then_succeeds(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    route = router.get(REPORT).mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": True})]
    )
    response = await make().request("GET", "/reports", operation="fetch_report")
    assert response.json() == {"ok": True}
    assert route.call_count == 3
    assert [r.attempt for r in recorder.records] == [1, 2, 3]
    assert [r.status_code for r in recorder.records] == [503, 503, 200]
    assert [r.error_class for r in recorder.records] == ["TransientError", "TransientError", None]


async def test_each_attempt_is_recorded_with_its_details(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, clock: FakeClock
) -> None:
    async def slow_then_ok(request: httpx.Request) -> httpx.Response:
        clock.advance(0.25)
        return httpx.Response(200, json={"ok": 1})

    router.get(REPORT).mock(side_effect=[httpx.Response(502), slow_then_ok])
    connector = make(cost_per_call=Decimal("1.50"))
    await connector.request("GET", "reports", operation="fetch_report")
    first, second = recorder.records
    assert (first.connector, first.instance, first.operation) == ("demo-bureau", "main", "fetch_report")
    assert (first.attempt, first.status_code, first.error_class) == (1, 502, "TransientError")
    assert (second.attempt, second.status_code, second.error_class) == (2, 200, None)
    assert second.latency_ms == pytest.approx(250.0)
    assert second.cost_units == Decimal("1.50")
    assert second.method == "GET" and second.url == REPORT
    assert second.response_body == '{"ok":1}'
    assert second.started_at.tzinfo is UTC
    assert second.started_at > first.started_at


async def test_429_retry_after_seconds_is_honoured_on_the_clock(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})]
    )
    start = clock.now
    await make().request("GET", "/reports", operation="fetch_report")
    assert route.call_count == 2
    assert clock.sleeps == [2.0]
    assert clock.now - start >= 2.0


async def test_429_retry_after_http_date_is_honoured(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    when = datetime.fromtimestamp(clock.now + 5, UTC)
    router.get(REPORT).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json={}),
        ]
    )
    await make().request("GET", "/reports", operation="fetch_report")
    assert clock.sleeps == [pytest.approx(5.0)]


async def test_429_retry_after_beyond_cap_fails_at_once(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        await make(max_retry_after=30).request("GET", "/reports", operation="fetch_report")
    assert caught.value.retry_after == 120
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_429_retry_after_beyond_deadline_fails_at_once(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(429, headers={"Retry-After": "20"}))
    with pytest.raises(RateLimited):
        await make(max_retry_after=60, total_timeout=10).request("GET", "/reports", operation="x")
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_400_is_one_attempt_and_invalid_request(make: Factory, router: respx.MockRouter) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(400, json={"error": "bad id"}))
    with pytest.raises(InvalidRequest) as caught:
        await make().request("GET", "/reports", operation="fetch_report")
    assert route.call_count == 1
    message = str(caught.value)
    assert "demo-bureau/main" in message and "fetch_report" in message
    assert caught.value.status_code == 400 and caught.value.connector == "demo-bureau"


async def test_read_timeout_is_transient_and_stays_within_deadline(
    make: Factory, router: respx.MockRouter, clock: FakeClock, recorder: MemoryCallRecorder
) -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        # Each attempt burns its whole read timeout, as capped by the remaining deadline.
        clock.advance(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("timed out", request=request)

    router.get(REPORT).mock(side_effect=time_out)
    start = clock.now
    connector = make(read_timeout=4.0, total_timeout=10.0, max_attempts=10, backoff_initial=1.0)
    with pytest.raises(TransientError) as caught:
        await connector.request("GET", "/reports", operation="fetch_report")
    assert type(caught.value) is TransientError
    assert "ReadTimeout" in str(caught.value)
    assert clock.now - start <= 10.0
    assert 1 < len(recorder.records) < 10
    assert all(r.status_code is None and r.error_class == "TransientError" for r in recorder.records)


async def test_attempt_timeout_is_capped_by_the_remaining_deadline(
    make: Factory, router: respx.MockRouter
) -> None:
    seen: list[dict[str, float]] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={})

    router.get(REPORT).mock(side_effect=capture)
    await make(read_timeout=15, total_timeout=3).request("GET", "/reports", operation="x")
    await make(read_timeout=2, connect_timeout=1, total_timeout=30).request("GET", "/reports", operation="x")
    assert seen[0]["read"] == pytest.approx(3.0) and seen[0]["connect"] == pytest.approx(3.0)
    assert seen[1] == {"connect": 1.0, "read": 2.0, "write": 2.0, "pool": 1.0}


async def test_post_without_idempotency_key_is_not_retried(make: Factory, router: respx.MockRouter) -> None:
    route = router.post(REPORT).mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError):
        await make().request("POST", "/reports", operation="create", json={"a": 1})
    assert route.call_count == 1


async def test_post_with_idempotency_key_is_retried_with_the_header(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder
) -> None:
    route = router.post(REPORT).mock(side_effect=[httpx.Response(503), httpx.Response(201, json={"id": 1})])
    await make().request("POST", "/reports", operation="create", json={"a": 1}, idempotency_key="idem-42")
    assert route.call_count == 2
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {"idem-42"}
    assert [r.idempotency_key for r in recorder.records] == ["idem-42", "idem-42"]


async def test_post_is_retried_when_the_connection_was_refused(
    make: Factory, router: respx.MockRouter
) -> None:
    route = router.post(REPORT).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})]
    )
    await make().request("POST", "/reports", operation="create", json={})
    assert route.call_count == 2


async def test_idempotency_header_name_is_overridable(make: Factory, router: respx.MockRouter) -> None:
    class Renamed(DemoConnector):
        idempotency_header = "X-Request-Nonce"

    route = router.post(REPORT).mock(return_value=httpx.Response(200, json={}))
    await make(Renamed).request("POST", "/reports", operation="create", idempotency_key="k1")
    assert route.calls.last.request.headers["X-Request-Nonce"] == "k1"


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.com/steal", "https://api.demo.test.evil.com/x", "ftp://api.demo.test/x"],
)
async def test_undeclared_host_is_denied_before_sending(
    make: Factory, router: respx.MockRouter, recorder: MemoryCallRecorder, url: str
) -> None:
    route = router.route().mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(EgressDenied) as caught:
        await make().request("GET", url, operation="fetch_report")
    assert route.call_count == 0
    assert not router.calls
    assert "demo-bureau/main" in str(caught.value)
    assert recorder.records[0].error_class == "EgressDenied" and recorder.records[0].status_code is None


@pytest.mark.parametrize(
    "url", ["https://files.cdn.demo.test/a.pdf", "https://API.DEMO.TEST/v1/x", "http://sim.local:8001/x"]
)
async def test_declared_and_configured_hosts_are_allowed(
    make: Factory, router: respx.MockRouter, url: str
) -> None:
    router.route().mock(return_value=httpx.Response(200, json={}))
    connector = make(base_url="http://sim.local:8001/", allow_insecure_http=True)
    await connector.request("GET", url, operation="fetch")
    assert len(router.calls) == 1


async def test_redirects_are_not_followed(make: Factory, router: respx.MockRouter) -> None:
    router.get(REPORT).mock(
        return_value=httpx.Response(302, headers={"Location": "https://evil.example.com/"})
    )
    with pytest.raises(VendorContractError):
        await make().request("GET", "/reports", operation="x")
    assert len(router.calls) == 1


async def test_html_answer_is_a_vendor_contract_error(make: Factory, router: respx.MockRouter) -> None:
    route = router.get(REPORT).mock(
        return_value=httpx.Response(
            200, text="<html>Gateway login</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(VendorContractError) as caught:
        await make().request("GET", "/reports", operation="fetch_report")
    assert "text/html" in str(caught.value)
    assert route.call_count == 1


async def test_json_with_a_wrong_content_type_is_accepted(make: Factory, router: respx.MockRouter) -> None:
    router.get(REPORT).mock(
        return_value=httpx.Response(200, text='{"a": 1}', headers={"content-type": "text/html"})
    )
    connector = make()
    response = await connector.request("GET", "/reports", operation="x")
    assert connector.response_json(response) == {"a": 1}


async def test_response_json_names_connector_and_content_type(
    make: Factory, router: respx.MockRouter
) -> None:
    router.get(REPORT).mock(
        return_value=httpx.Response(200, text="oops", headers={"content-type": "text/plain"})
    )
    connector = make()
    response = await connector.request("GET", "/reports", operation="x", expect_json=False)
    with pytest.raises(VendorContractError, match=r"demo-bureau/main.*text/plain"):
        connector.response_json(response)


async def test_classify_hook_maps_vendor_codes_inside_200(make: Factory, router: respx.MockRouter) -> None:
    class Coded(DemoConnector):
        def classify(self, response: httpx.Response) -> ConnectorError | None:
            code = response.json().get("code") if response.status_code == 200 else None
            if code == "BUSY":
                return TransientError("vendor busy", vendor_code=code)
            if code == "NO_BALANCE":
                return QuotaExhausted("balance used up", vendor_code=code)
            return None

    route = router.get(REPORT).mock(
        side_effect=[
            httpx.Response(200, json={"code": "BUSY"}),
            httpx.Response(200, json={"code": "NO_BALANCE"}),
        ]
    )
    with pytest.raises(QuotaExhausted) as caught:
        await make(Coded).request("GET", "/reports", operation="fetch_report")
    assert route.call_count == 2
    assert caught.value.vendor_code == "NO_BALANCE" and caught.value.connector == "demo-bureau"
    assert str(caught.value).startswith("demo-bureau/main fetch_report")


async def test_concurrency_limit_is_respected(make: Factory, router: respx.MockRouter) -> None:
    in_flight = 0
    peak = 0
    # Each request is held until three are in flight together: the limit must let three through,
    # and any fourth that got in would show in the peak. Twelve make four full rounds.
    three = asyncio.Barrier(3)

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await three.wait()
        in_flight -= 1
        return httpx.Response(200, json={})

    router.get(REPORT).mock(side_effect=slow)
    connector = make(max_concurrency=3)
    async with asyncio.timeout(5):  # a limit below three would never fill the barrier
        await asyncio.gather(*(connector.request("GET", "/reports", operation="x") for _ in range(12)))
    assert peak == 3


async def test_rate_limit_spaces_calls_on_the_clock(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = make(rate_limit_per_second=2)
    for _ in range(4):
        await connector.request("GET", "/reports", operation="x")
    # A burst of two passes at once; each further call waits half a second.
    assert clock.sleeps == [pytest.approx(0.5), pytest.approx(0.5)]


async def test_rate_limit_wait_beyond_deadline_raises_rate_limited(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = make(rate_limit_per_second=0.01, total_timeout=5)
    await connector.request("GET", "/reports", operation="x")
    with pytest.raises(RateLimited, match="local rate limit"):
        await connector.request("GET", "/reports", operation="x")
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_recorder_failure_never_breaks_the_call(
    make: Factory, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def record(self, record: object) -> None:
            raise RuntimeError("database is down")

    router.get(REPORT).mock(return_value=httpx.Response(200, json={}))
    connector = make()
    connector.recorder = Broken()
    with caplog.at_level(logging.WARNING, logger="lendhub.sdk"):
        response = await connector.request("GET", "/reports", operation="fetch_report")
    assert response.status_code == 200
    assert "demo-bureau/main" in caplog.text and "RuntimeError" in caplog.text


# (status, body) -> error class, attempts (with max_attempts=3)
ERROR_TABLE = [
    (500, "", TransientError, 3),
    (502, "", TransientError, 3),
    (503, "<html>down</html>", TransientError, 3),
    (504, "", TransientError, 3),
    (408, "", TransientError, 3),
    (429, "", RateLimited, 3),
    (400, '{"msg": "bad"}', InvalidRequest, 1),
    (422, '{"msg": "bad"}', InvalidRequest, 1),
    (409, "", InvalidRequest, 1),
    (401, "", AuthError, 1),
    (403, "", AuthError, 1),
    (404, "", NotFound, 1),
    (410, "", NotFound, 1),
    (402, "", QuotaExhausted, 1),
    (200, "<html>maintenance</html>", VendorContractError, 1),
    (200, "not json at all", VendorContractError, 1),
    (301, "", VendorContractError, 1),
]


@pytest.mark.parametrize(("status", "body", "error", "attempts"), ERROR_TABLE)
async def test_error_mapping(
    make: Factory,
    router: respx.MockRouter,
    status: int,
    body: str,
    error: type[ConnectorError],
    attempts: int,
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(status, text=body))
    with pytest.raises(ConnectorError) as caught:
        await make().request("GET", "/reports", operation="fetch_report")
    assert type(caught.value) is error
    assert route.call_count == attempts


@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.RemoteProtocolError("eof")]
)
async def test_transport_errors_are_transient(
    make: Factory, router: respx.MockRouter, exc: Exception
) -> None:
    route = router.get(REPORT).mock(side_effect=exc)
    with pytest.raises(TransientError):
        await make().request("GET", "/reports", operation="fetch_report")
    assert route.call_count == 3


async def test_open_breaker_is_not_retried(make: Factory, router: respx.MockRouter) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(503))
    connector = make(breaker_failure_threshold=2, max_attempts=5)
    with pytest.raises(CircuitOpen):
        await connector.request("GET", "/reports", operation="x")
    assert route.call_count == 2


async def test_api_key_never_appears_in_plain_text_anywhere(make: Factory, router: respx.MockRouter) -> None:
    assert API_KEY not in repr(make().config)
