"""Retry policy details the end-to-end tests left unpinned: the Retry-After cap on its own, the
backoff formula and jitter window, which methods count as idempotent, two attempts, a JSON scalar
2xx body and an HTTP 300."""

from __future__ import annotations

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import RateLimited, TransientError, VendorContractError
from plugins.sdk.retry import IDEMPOTENT_METHODS, RetryPolicy

REPORT = "https://api.demo.test/v1/reports"


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
