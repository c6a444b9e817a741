"""Retry policy details the end-to-end tests left unpinned: the Retry-After cap on its own, the
backoff formula and jitter window, which methods count as idempotent, two attempts, a JSON scalar
2xx body and an HTTP 300."""

from __future__ import annotations

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import (
    AuthError,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from plugins.sdk.retry import (
    IDEMPOTENT_METHODS,
    RetryPolicy,
    classify_status,
    parse_retry_after,
    rate_limit_delay,
)

REPORT = "https://api.demo.test/v1/reports"
NOW = 1_700_000_000.0


async def test_retry_after_beyond_max_retry_after_fails_at_once_even_well_inside_the_deadline(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    # 45 s is far inside the 600 s deadline: only the 30 s cap can refuse to wait.
    route = router.get(REPORT).mock(return_value=httpx.Response(429, headers={"Retry-After": "45"}))
    with pytest.raises(RateLimited) as caught:
        await make(max_retry_after=30, total_timeout=600).request("GET", "/reports", operation="x")
    assert caught.value.retry_after == 45
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_retry_after_equal_to_max_retry_after_is_honoured(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200, json={})]
    )
    await make(max_retry_after=30, total_timeout=600).request("GET", "/reports", operation="x")
    assert route.call_count == 2
    assert clock.sleeps == [30.0]


def test_backoff_window_starts_at_backoff_initial_and_doubles_per_attempt_up_to_backoff_max() -> None:
    policy = RetryPolicy(backoff_initial=0.2, backoff_max=5.0, rng=lambda: 1.0)
    windows = [policy.backoff(attempt, TransientError("x")) for attempt in range(1, 8)]
    assert windows == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 0.0), (0.25, 0.2), (0.5, 0.4), (0.999, 0.7992)])
def test_backoff_is_full_jitter_the_draw_times_the_window(draw: float, expected: float) -> None:
    policy = RetryPolicy(backoff_initial=0.2, backoff_max=5.0, rng=lambda: draw)
    assert policy.backoff(3, TransientError("x")) == pytest.approx(expected)  # window 0.8


def test_rate_limited_without_retry_after_falls_back_to_the_jittered_window() -> None:
    policy = RetryPolicy(backoff_initial=0.2, backoff_max=5.0, rng=lambda: 0.5)
    assert policy.backoff(2, RateLimited("x", retry_after=None)) == pytest.approx(0.2)
    assert policy.backoff(2, RateLimited("x", retry_after=7)) == 7.0


async def test_backoff_sleeps_follow_the_formula_end_to_end(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get(REPORT).mock(side_effect=[httpx.Response(503)] * 3 + [httpx.Response(200, json={})])
    # The factory's rng is 0.5: waits are half of 1.0, 2.0 and then the 3.0 cap.
    await make(max_attempts=4, backoff_initial=1.0, backoff_max=3.0).request("GET", "/reports", operation="x")
    assert clock.sleeps == pytest.approx([0.5, 1.0, 1.5])


def test_idempotent_methods_are_exactly_the_safe_and_idempotent_ones() -> None:
    assert frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}) == IDEMPOTENT_METHODS


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "OPTIONS", "TRACE"])
async def test_idempotent_methods_are_retried_without_an_idempotency_key(
    make: Factory, router: respx.MockRouter, method: str
) -> None:
    route = router.route(method=method, url=REPORT).mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError):
        await make().request(method, "/reports", operation="x")
    assert route.call_count == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_non_idempotent_methods_are_not_retried_without_an_idempotency_key(
    make: Factory, router: respx.MockRouter, method: str
) -> None:
    route = router.route(method=method, url=REPORT).mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError):
        await make().request(method, "/reports", operation="x")
    assert route.call_count == 1


async def test_max_attempts_two_makes_exactly_two_attempts(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(503))
    with pytest.raises(TransientError):
        await make(max_attempts=2).request("GET", "/reports", operation="x")
    assert route.call_count == 2
    assert len(clock.sleeps) == 1


async def test_max_attempts_two_succeeds_on_the_second_attempt(
    make: Factory, router: respx.MockRouter
) -> None:
    route = router.get(REPORT).mock(side_effect=[httpx.Response(503), httpx.Response(200, json=[1])])
    response = await make(max_attempts=2).request("GET", "/reports", operation="x")
    assert response.json() == [1]
    assert route.call_count == 2


@pytest.mark.parametrize("body", ["42", "-1.5", '"ok"', "true", "null", "  7  "])
async def test_2xx_json_scalar_body_is_accepted(make: Factory, router: respx.MockRouter, body: str) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(200, text=body))
    response = await make().request("GET", "/reports", operation="x")
    assert response.status_code == 200
    assert route.call_count == 1


async def test_http_300_is_a_vendor_contract_error_tried_once(
    make: Factory, router: respx.MockRouter
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(300))
    with pytest.raises(VendorContractError) as caught:
        await make().request("GET", "/reports", operation="x")
    assert caught.value.status_code == 300
    assert route.call_count == 1


def classify(response: httpx.Response, **kw: object) -> object:
    return classify_status(response, prefix="demo/main fetch", connector="demo", now=NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (429, RateLimited, "demo/main fetch: HTTP 429 rate limited"),
        (500, TransientError, "demo/main fetch: HTTP 500"),
        (503, TransientError, "demo/main fetch: HTTP 503"),
        (599, TransientError, "demo/main fetch: HTTP 599"),
        (408, TransientError, "demo/main fetch: HTTP 408"),
        (401, AuthError, "demo/main fetch: HTTP 401 credentials rejected"),
        (403, AuthError, "demo/main fetch: HTTP 403 credentials rejected"),
        (404, NotFound, "demo/main fetch: HTTP 404 not found"),
        (410, NotFound, "demo/main fetch: HTTP 410 not found"),
        (402, QuotaExhausted, "demo/main fetch: HTTP 402 quota or balance exhausted"),
        (400, InvalidRequest, "demo/main fetch: HTTP 400 request rejected"),
        (409, InvalidRequest, "demo/main fetch: HTTP 409 request rejected"),
        (499, InvalidRequest, "demo/main fetch: HTTP 499 request rejected"),
        (300, VendorContractError, "demo/main fetch: unexpected HTTP 300"),
        (399, VendorContractError, "demo/main fetch: unexpected HTTP 399"),
        (101, VendorContractError, "demo/main fetch: unexpected HTTP 101"),
    ],
)
def test_classify_status_table_sets_class_message_connector_and_status(
    status: int, kind: type[Exception], message: str
) -> None:
    error = classify(httpx.Response(status))
    assert type(error) is kind
    assert str(error) == message
    assert (error.connector, error.status_code) == ("demo", status)  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [200, 201, 299])
def test_classify_status_2xx_html_is_a_contract_error_by_default(status: int) -> None:
    error = classify(httpx.Response(status, content=b"<html>"))
    assert type(error) is VendorContractError
    assert str(error) == "demo/main fetch: expected JSON, got no content type (6 bytes)"
    assert (error.connector, error.status_code) == ("demo", status)  # type: ignore[attr-defined]
    typed = classify(httpx.Response(status, text="<p>", headers={"Content-Type": "text/html"}))
    assert str(typed) == "demo/main fetch: expected JSON, got text/html (3 bytes)"
    assert classify(httpx.Response(status, content=b"<html>"), expect_json=False) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",  # nothing to judge
        b'  {"truncated": ',  # starts like JSON: left to the JSON parser, which names the problem
        b"[1, 2",
        b"\n[",
        b" 42 ",
    ],
)
def test_classify_status_2xx_accepts_empty_and_json_looking_bodies(body: bytes) -> None:
    assert classify(httpx.Response(200, content=body)) is None


def test_classify_status_204_is_never_judged_as_json() -> None:
    assert classify(httpx.Response(204, content=b"<html>")) is None
    assert type(classify(httpx.Response(205, content=b"<html>"))) is VendorContractError


def test_classify_status_429_carries_the_requested_wait() -> None:
    error = classify(httpx.Response(429, headers={"Retry-After": "12"}))
    assert isinstance(error, RateLimited) and error.retry_after == 12.0
    assert classify(httpx.Response(429)).retry_after is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("0.4", 0.4),
        ("-5", 0.0),  # a negative delay means "now"
        (" 3 ", 3.0),
        ("Tue, 14 Nov 2023 22:13:20 GMT", 0.0),  # exactly now
        ("Tue, 14 Nov 2023 22:13:20 +0000", 0.0),
        ("Tue, 14 Nov 2023 22:13:20 -0000", None),  # RFC 2822 "-0000": a date without a zone
        ("Tue, 14 Nov 2023 22:13:50 GMT", 30.0),
        ("Tue, 14 Nov 2023 22:12:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_values(value: str | None, expected: float | None) -> None:
    got = parse_retry_after(value, now=NOW)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_rate_limit_delay_reads_lower_case_names_from_a_plain_mapping() -> None:
    assert rate_limit_delay({"retry-after": "5", "ratelimit-reset": "9"}, now=NOW) == 5.0
    assert rate_limit_delay({"ratelimit-reset": "9"}, now=NOW) == 9.0
    assert rate_limit_delay({"x-ratelimit-reset": str(int(NOW) + 4)}, now=NOW) == 4.0
    assert rate_limit_delay({"retry-after": "soon", "x-ratelimit-reset": "2"}, now=NOW) == 2.0
    assert rate_limit_delay({}, now=NOW) is None


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.backoff_initial, policy.backoff_max, policy.max_retry_after) == (
        3,
        0.2,
        5.0,
        30.0,
    )


async def test_a_wait_that_ends_exactly_at_the_deadline_is_not_taken() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, sleep=clock.sleep, clock=clock)
    calls: list[int] = []

    async def attempt(number: int) -> None:
        calls.append(number)
        raise RateLimited("x", retry_after=10)

    with pytest.raises(RateLimited):
        await policy.run(attempt, idempotent=True, deadline=clock.now + 10)
    assert (calls, clock.sleeps) == ([1], [])
    calls.clear()
    with pytest.raises(RateLimited):
        await policy.run(attempt, idempotent=True, deadline=clock.now + 10.001)
    assert (calls, clock.sleeps) == ([1, 2], [10.0])


async def test_attempts_are_numbered_from_one_and_the_first_error_is_not_resent() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=4, sleep=clock.sleep, clock=clock, rng=lambda: 0.0)
    calls: list[int] = []

    async def attempt(number: int) -> str:
        calls.append(number)
        if number < 3:
            raise TransientError(f"attempt {number}")
        return "done"

    assert await policy.run(attempt, idempotent=True, deadline=clock.now + 60) == "done"
    assert calls == [1, 2, 3]
